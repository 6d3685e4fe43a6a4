"""The examples of examples/: golden scripts for the valid ones, exact diagnostics for the invalid ones.

- golden/<example file name>.sh is the script `jobc compile` prints for each valid example, kept
  with syrupy (`pytest --snapshot-update` rewrites golden/, and deletes a golden script whose
  example is gone). A diff there reads like the script a reviewer sees.
- examples/invalid/<name>.expected holds the exact stderr of `jobc compile <name>` run from
  examples/invalid/: exit code 2, nothing on stdout, no file behind `-o`.
- tests/data/reference_fragments.json holds every example of the Job Reference that is not a
  complete job (StepRun, Step, ContainerRun, ...); each compiles once wrapped in a minimal job,
  except the ones with "<TO FILL>" WireGuard keys, which are rejected with an exact message.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, GOLDEN, INVALID, REPO, example_id, specs_in, valid_examples
from support import golden_files

DATA = Path(__file__).resolve().parent / "data"
GOLDEN_TEST = "test_golden"

# Warnings (stderr) that a valid example is expected to print; every other valid example prints nothing.
DEPRECATED_MOUNTS = "are deprecated by DeepSquare's current schema: jobc still mounts them"
EXPECTED_WARNINGS = {
    "reference-job-full-corrected.json": (
        "reference-job-full-corrected.json:26:27: warning: continuousOutputSync: "
        "is not available with HTTP output: only the final upload happens [W0103]\n"
    ),
    "vnet-training-dashboard.yaml": (
        "vnet-training-dashboard.yaml:49:27: warning: steps[1].launch.steps[0].run.customNetworkInterfaces[0]"
        ".bore.secret: is handed to dpsproxy on its command line (the client takes it no other way): "
        "while the step runs, any user of the node can read it with ps [W0107]\n"
    ),
    "apptainer-private-registry.yaml": (
        f"apptainer-private-registry.yaml:22:11: warning: steps[0].run.container.mounts: {DEPRECATED_MOUNTS} [W0108]\n"
    ),
    "gpu-training.yaml": f"gpu-training.yaml:36:11: warning: steps[1].run.container.mounts: {DEPRECATED_MOUNTS} [W0108]\n",
}

# Printing a script that holds secrets to a pipe (not a terminal) reminds of -o and --redact.
SECRETS_WARNING = (
    "jobc: warning: this script holds secrets; write it with -o to get a file of mode 0600, "
    "or use --redact for review [W0105]\n"
)

# Invalid examples whose .expected file states the right output that jobc does not print yet, by file
# name, with the reason. strict: once jobc is fixed the test XPASSes, which fails: then remove the entry.
KNOWN_BUGS: dict[str, str] = {}


# --- golden scripts -------------------------------------------------------------------------------


@pytest.fixture
def golden(snapshot):
    return snapshot.use_extension(golden_files(GOLDEN, GOLDEN_TEST, "valid_example"))


def test_golden(valid_example: Path, golden, run_jobc) -> None:
    """The CLI, run from the example's directory as a user would, prints the golden script and only the expected warnings."""
    result = run_jobc("compile", valid_example.name, cwd=valid_example.parent)
    assert result.returncode == 0, result.stderr
    expected = EXPECTED_WARNINGS.get(valid_example.name, "")
    if "JOBC_SECRETS" in result.stdout or "AWS_SECRET_ACCESS_KEY" in result.stdout:
        expected += SECRETS_WARNING
    assert result.stderr == expected
    assert result.stdout == golden


def test_in_process_compile_matches_golden(valid_example: Path) -> None:
    """`jobc.compile_spec` (the library entry) gives the same bytes as the CLI."""
    from jobc import compile_spec

    script = compile_spec(valid_example.read_text(encoding="utf-8"), name=str(valid_example)).script
    assert script == (GOLDEN / f"{example_id(valid_example)}.sh").read_text(encoding="utf-8")


def test_examples_are_documented() -> None:
    """Every YAML example starts with a comment saying what it shows; JSON ones are the reference's or plain."""
    for example in valid_examples():
        if example.suffix != ".json":
            first = example.read_text(encoding="utf-8").splitlines()[0]
            assert first.startswith("# "), f"{example.name}: start with a comment saying what it shows"


def test_reference_complete_jobs_are_examples() -> None:
    """The four complete jobs of the Job Reference, the invalid "Job (full)" and its corrected version."""
    names = {p.name for p in specs_in(EXAMPLES)} | {f"invalid/{p.name}" for p in specs_in(INVALID)}
    for name in (
        "reference-job-minimal.json",
        "reference-async-await.json",
        "reference-fire-and-forget-safe.json",
        "reference-fire-and-forget-unsafe.json",
        "reference-job-full-corrected.json",
        "invalid/reference-job-full.json",
    ):
        assert name in names


def test_golden_dir_holds_only_golden_scripts() -> None:
    """golden/ has one .sh per valid example and no other file (syrupy also reports orphans as unused)."""
    expected = {f"{example_id(p)}.sh" for p in valid_examples()}
    assert {p.name for p in GOLDEN.iterdir() if p.is_file()} == expected
    assert not list((REPO / "tests").glob("**/__snapshots__")), "no other snapshot files"


# --- invalid examples -----------------------------------------------------------------------------


def test_invalid(invalid_example: Path, run_jobc, tmp_path: Path, request) -> None:
    """Exit code 2, exactly the .expected diagnostics on stderr, nothing on stdout, nothing written."""
    if invalid_example.name in KNOWN_BUGS:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_BUGS[invalid_example.name], strict=True))
    expected = invalid_example.with_suffix(".expected").read_text(encoding="utf-8")

    result = run_jobc("compile", invalid_example.name, cwd=INVALID)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == expected

    out = tmp_path / "out.sh"
    result = run_jobc("compile", invalid_example.name, "-o", str(out), cwd=INVALID)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == expected
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [], "no temporary file left behind either"


def test_every_invalid_example_has_its_expected_file() -> None:
    specs = {p.stem for p in specs_in(INVALID)}
    expected = {p.stem for p in INVALID.glob("*.expected")}
    assert specs == expected
    assert {p.name for p in INVALID.iterdir()} == {p.name for p in specs_in(INVALID)} | {f"{s}.expected" for s in specs}


# --- fragments of the Job Reference ---------------------------------------------------------------

FRAGMENTS = json.loads((DATA / "reference_fragments.json").read_text(encoding="utf-8"))["fragments"]

KEY = "1VrF1EI6rd9SxkMQGdXXgJ+CshJL5d/NsC7pEX8hmAs="  # a valid WireGuard key for the wrappers' own fields
WG_KEY_MESSAGE = "must be a WireGuard key: 44 characters of base64 ending in '=' (as printed by wg genkey) [E0307]"
NIC = "steps[0].run.customNetworkInterfaces[0]"

# The fragments with "<TO FILL>" keys, and exactly what jobc says about them once wrapped.
REJECTED = {
    "StepRun (with a Wireguard tunnel)": [
        f"{NIC}.wireguard.privateKey: {WG_KEY_MESSAGE}",
        f"{NIC}.wireguard.peers[0].publicKey: {WG_KEY_MESSAGE}",
        f"{NIC}.wireguard.peers[0].preSharedKey: {WG_KEY_MESSAGE}",
    ],
    "StepRun (full)": [
        f"{NIC}.wireguard.privateKey: {WG_KEY_MESSAGE}",
        f"{NIC}.wireguard.peers[0].publicKey: {WG_KEY_MESSAGE}",
        f"{NIC}.wireguard.peers[0].preSharedKey: {WG_KEY_MESSAGE}",
    ],
    "NetworkInterface (wireguard)": [
        f"{NIC}.wireguard.privateKey: {WG_KEY_MESSAGE}",
        f"{NIC}.wireguard.peers[0].publicKey: {WG_KEY_MESSAGE}",
        f"{NIC}.wireguard.peers[0].preSharedKey: {WG_KEY_MESSAGE}",
    ],
    "Wireguard": [
        f"{NIC}.wireguard.privateKey: {WG_KEY_MESSAGE}",
        f"{NIC}.wireguard.peers[0].publicKey: {WG_KEY_MESSAGE}",
        f"{NIC}.wireguard.peers[0].preSharedKey: {WG_KEY_MESSAGE}",
    ],
    "WireguardPeer": [
        f"{NIC}.wireguard.peers[0].publicKey: {WG_KEY_MESSAGE}",
        f"{NIC}.wireguard.peers[0].preSharedKey: {WG_KEY_MESSAGE}",
    ],
}

MINIMAL_JOB = {
    "resources": {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 1024, "gpusPerTask": 0},
    "steps": [{"name": "fragment", "run": {"command": "echo fragment"}}],
}


def _slirp(interface: dict) -> dict:
    return {"command": "echo fragment", "network": "slirp4netns", "customNetworkInterfaces": [interface]}


def wrap(kind: str, fragment: dict) -> dict:
    """The smallest job that puts `fragment` where the reference's type `kind` goes."""
    job = copy.deepcopy(MINIMAL_JOB)
    run = job["steps"][0]["run"]
    if kind == "JobResources":
        job["resources"] = fragment
    elif kind == "EnvVar":
        job["env"] = [fragment]
        run["env"] = [fragment]
    elif kind == "TransportData":
        job["input"] = job["output"] = fragment
    elif kind == "HTTPData":
        job["input"] = job["output"] = {"http": fragment}
    elif kind == "S3Data":
        job["input"] = job["output"] = {"s3": fragment}
    elif kind == "Step":
        job["steps"] = [fragment]
    elif kind == "StepRun":
        job["steps"][0]["run"] = fragment
    elif kind == "StepRunResources":
        run["resources"] = fragment
    elif kind == "ContainerRun":
        run["container"] = fragment
    elif kind == "Mount":
        run["container"] = {"image": "library/ubuntu:latest", "mounts": [fragment]}
    elif kind == "NetworkInterface":
        job["steps"][0]["run"] = _slirp(fragment)
    elif kind == "Wireguard":
        job["steps"][0]["run"] = _slirp({"wireguard": fragment})
    elif kind == "WireguardPeer":
        job["steps"][0]["run"] = _slirp(
            {"wireguard": {"address": ["10.0.0.2/24"], "privateKey": KEY, "peers": [fragment]}}
        )
    elif kind == "Bore":
        job["steps"][0]["run"] = _slirp({"bore": fragment})
    elif kind == "StepFor":
        job["steps"] = [{"name": "loop", "for": fragment}]
    elif kind == "ForRange":
        job["steps"] = [
            {
                "name": "loop",
                "for": {
                    "parallel": False,
                    "range": fragment,
                    "steps": [{"name": "print", "run": {"command": 'echo "$index"'}}],
                },
            }
        ]
    else:
        raise AssertionError(f"no wrapper for {kind}")
    return job


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


# Fragments the reference shows but jobc rejects: a contradiction in the reference, to be decided.
FRAGMENT_ISSUES: dict[str, str] = {}


def test_fragment_data_covers_every_kind() -> None:
    assert len(FRAGMENTS) == 32
    assert {f["kind"] for f in FRAGMENTS} == {
        "JobResources",
        "EnvVar",
        "TransportData",
        "HTTPData",
        "S3Data",
        "Step",
        "StepRun",
        "StepRunResources",
        "ContainerRun",
        "Mount",
        "NetworkInterface",
        "Wireguard",
        "WireguardPeer",
        "Bore",
        "StepFor",
        "ForRange",
    }
    assert set(REJECTED) <= {f["title"] for f in FRAGMENTS}


@pytest.mark.parametrize("fragment", FRAGMENTS, ids=[_slug(f["title"]) for f in FRAGMENTS])
def test_reference_fragments_compile(fragment: dict, request) -> None:
    if fragment["title"] in FRAGMENT_ISSUES:
        request.applymarker(pytest.mark.xfail(reason=FRAGMENT_ISSUES[fragment["title"]], strict=True))
    from jobc import compile_spec
    from jobc.diagnostics import SpecError

    text = json.dumps(wrap(fragment["kind"], fragment["fragment"]), indent=2, ensure_ascii=False)
    if fragment["title"] in REJECTED:
        with pytest.raises(SpecError) as caught:
            compile_spec(text, name="fragment.json")
        assert [d.render("") for d in caught.value.diagnostics] == REJECTED[fragment["title"]]
        return
    result = compile_spec(text, name="fragment.json")
    assert result.script.startswith("#!/bin/bash\n")
    mounts = '"mounts"' in text
    assert [w.message for w in result.warnings] == ([DEPRECATED_MOUNTS] if mounts else [])
