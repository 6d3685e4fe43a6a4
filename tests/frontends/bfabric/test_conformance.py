"""Conformance with bfabric-app-runner 0.9.1: the argv each command runs is the one its own models render.

For every app spec of the corpus (corpus.py), both sides start from the same YAML text:

- jobc compiles it into a script; the script runs under bash with a fake `srun` (fake_srun.py: the
  site profile's `tools.srun`) that records the argv after `--` (and, for dispatch, creates one chunk
  directory), so the argv is the one the real step would get, after bash expanded the run-time words;
- bfabric-app-runner 0.9.1 loads it with its own models and Mako (`bfabric_argv.py`, run by Python 3.12
  in .venv-bfabric/), and renders each command (`to_shell()`).

jobc's argv is 0.9.1's plus the arguments the runner appends ($workunit_ref $work_dir, $chunk_dir,
$workunit_ref $chunk_dir), except for the documented fix: 0.9.1 `shlex.quote`s mount paths and env values
inside the argument, so `a b` arrives as `'a b'`; jobc passes them as written.

The venv is created once with /root/.pyenv/versions/3.12.1/bin/python3.12 (or $JOBC_PYTHON312) and cached
in .venv-bfabric/ at the top of the repository. Without that interpreter the test fails, it never skips.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from .corpus import CASES, Case
from .fake_srun import make_dirs, run_app

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
VENV = REPO / ".venv-bfabric"
PACKAGE = "bfabric-app-runner==0.9.1"
PYTHON312 = Path(os.environ.get("JOBC_PYTHON312", "/root/.pyenv/versions/3.12.1/bin/python3.12"))
WORKUNIT = "42"


@pytest.fixture(scope="session")
def bfabric_python() -> Path:
    """Python 3.12 with bfabric-app-runner 0.9.1, in .venv-bfabric/ (created once, then reused)."""
    python = VENV / "bin" / "python"
    ready = VENV / ".jobc-ready"
    lock_path = (
        Path(tempfile.gettempdir()) / f"jobc-venv-bfabric-{hashlib.sha256(str(VENV).encode()).hexdigest()[:12]}.lock"
    )
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and ready.exists() and ready.read_text() == PACKAGE + "\n":
            return python
        if not PYTHON312.exists():
            pytest.fail(
                f"the bfabric conformance test needs Python 3.12 for bfabric-app-runner 0.9.1: {PYTHON312} "
                "does not exist (install it, e.g. `pyenv install 3.12.1`, or set JOBC_PYTHON312 to a "
                "python3.12)",
                pytrace=False,
            )
        shutil.rmtree(VENV, ignore_errors=True)
        for argv in (
            [str(PYTHON312), "-m", "venv", str(VENV)],
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", PACKAGE],
        ):
            done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                pytest.fail(f"creating {VENV} failed: {' '.join(argv)}\n{done.stdout}{done.stderr}", pytrace=False)
        ready.write_text(PACKAGE + "\n")
    return python


@pytest.fixture(scope="module")
def cases_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("conformance")


def _dirs(root: Path, case: Case) -> dict[str, Path]:
    return make_dirs(root / case.id)


def _spec_file(root: Path, case: Case) -> Path:
    """The spec as a file in its own directory (through a symlinked one: both sides resolve it)."""
    real = root / case.id / "app-real"
    real.mkdir(parents=True, exist_ok=True)
    (real / "app.yaml").write_text(case.spec)
    link = root / case.id / "app"
    if not link.exists():
        link.symlink_to(real)
    return link / "app.yaml"


def jobc_argvs(root: Path, case: Case) -> dict[str, list[str]]:
    """Compile `case` and run the script with the fake srun: the argv of each step, by step name."""
    options = {"app_version": case.version, "app_id": case.app_id, "app_name": case.app_name, "workunit_ref": WORKUNIT}
    ran = run_app(root / case.id, case.spec, options=options, spec_file=str(_spec_file(root, case)))
    assert ran.rc == 0, ran.stderr
    return dict(ran.steps)


def bfabric_argvs(python: Path, root: Path, cases: list[Case]) -> list[dict]:
    """0.9.1's argvs for every case, in one run of bfabric_argv.py (each case in its work dir, with its HOME)."""
    payload = []
    for case in cases:
        dirs = _dirs(root, case)
        payload.append(
            {
                "spec_file": str(_spec_file(root, case)),
                "path": os.environ["PATH"],
                "app_id": case.app_id,
                "app_name": case.app_name,
                "version": case.version,
                "work_dir": str(dirs["work"]),
                "home": str(dirs["home"]),
            }
        )
    env = {"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8"}
    ran = subprocess.run(
        [str(python), str(HERE / "bfabric_argv.py")],
        input=json.dumps(payload),
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


@pytest.fixture(scope="module")
def reference(bfabric_python, cases_dir) -> dict[str, dict]:
    results = bfabric_argvs(bfabric_python, cases_dir, CASES)
    assert len(results) == len(CASES)
    return {case.id: result for case, result in zip(CASES, results)}


def appended(case_dirs: dict[str, Path]) -> dict[str, list[str]]:
    """The arguments bfabric-app-runner's Runner appends (jobc passes the chunk directory as an absolute path)."""
    work = str(case_dirs["work"])
    chunk = f"{work}/chunk-1"
    return {"dispatch": [WORKUNIT, work], "process": [chunk], "collect": [WORKUNIT, chunk]}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_argv_matches_bfabric_app_runner(case: Case, reference, cases_dir) -> None:
    ours = jobc_argvs(cases_dir, case)
    theirs = reference[case.id]
    assert list(ours) == list(theirs), "jobc ran other steps than bfabric-app-runner would"
    args = appended(_dirs(cases_dir, case))
    for name, rendered in theirs.items():
        if "python_env" in rendered:
            made, ours[name] = python_env(ours[name])
            assert made == rendered["python_env"], f"{name}: jobc's python_env differs from bfabric-app-runner's"
        if "env" in rendered:
            env, ours[name] = command_env(ours[name])
            assert env == rendered["env"], f"{name}: jobc's environment changes differ from bfabric-app-runner's"
        assert ours[name] == rendered["fixed"] + args[name], f"{name}: jobc's argv differs from bfabric-app-runner's"
        if name in case.needs_fix:
            assert rendered["real"] != rendered["fixed"], f"{name}: expected 0.9.1 to quote values twice here"
        else:
            assert rendered["real"] == rendered["fixed"], f"{name}: no value needs quoting, the fix must not matter"


def command_env(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """The changes `env -- K=v… ARGV` makes to the environment the step starts with, and ARGV."""
    base = {"PATH": os.environ["PATH"]}
    env = dict(base)
    if argv[:2] == ["env", "--"]:
        argv = argv[2:]
        while argv and "=" in argv[0]:
            key, _, value = argv.pop(0).partition("=")
            env[key] = value
    return {k: v for k, v in env.items() if base.get(k) != v}, argv


def python_env(argv: list[str]) -> tuple[dict, list[str]]:
    """`bash -c 'jobc_python_env "$@"' jobc-python-env PYVER PYLOCK REFRESH N DEP… N ENTRY… N K=V… -- ARGV`:
    what the environment is made from, as 0.9.1's model has it, and ARGV."""
    assert argv[:4] == ["bash", "-c", 'jobc_python_env "$@"', "jobc-python-env"], argv
    pyver, pylock, refresh, *rest = argv[4:]
    groups = []
    for _ in range(3):
        n = int(rest[0])
        groups.append(rest[1 : 1 + n])
        rest = rest[1 + n :]
    assert rest[0] == "--"
    deps, entries, assignments = groups
    made = {
        "python_version": pyver,
        "pylock": pylock,
        "local_extra_deps": deps,
        "prepend_paths": entries,
        "env": dict(a.split("=", 1) for a in assignments),
        "refresh": refresh == "1",
    }
    return made, rest[1:]


def test_corpus_covers_every_docker_field() -> None:
    """Every field of CommandDocker and MountOptions appears in the corpus with a non-default value."""
    from jobc.frontends.bfabric.models import CommandDocker, MountOptions

    text = "\n".join(case.spec for case in CASES)
    for name in list(CommandDocker.model_fields) + list(MountOptions.model_fields):
        assert f"{name}:" in text, name
    assert "engine: podman" in text and "share_bfabric_config: false" in text
