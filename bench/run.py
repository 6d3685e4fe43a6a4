#!/usr/bin/env python3
"""Every performance figure of jobc (issue 15) as a ratio next to its target.

    python bench/run.py [--rounds 11] [--python PY] [--constraints FILE] [--tiny] [--startup] [--no-peer]
                        [--pythons 3.9,3.13] [--slurm | --slurm-only] [--write]

Builds a regular (not editable) install of this checkout in `bench/.work/venv-<python>` (the dependencies
resolved from pyproject.toml; `--constraints FILE` pins them, to measure a bound), then times fresh processes
round-robin, so that a busy moment of the machine slows every figure of a round alike and the ratios hold.
`--slurm` adds the runtime overhead of the generated script under a real Slurm that the test harness starts
(bench/slurm_overhead.py; root only); `--slurm-only` measures that alone; `--startup` only start-up and the
in-process app spec; `--pythons 3.9,3.13` adds the start-up rows (`--help`, cold compile) of each of those
Pythons (pyenv builds, or interpreter paths), each in a venv of its own built the same way. The peer,
bfabric-app-runner 0.9.1, is installed into a Python >= 3.12 venv of its own. `--write` puts the table into bench/README.md. It reports;
it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work"
PEER_VERSION = "0.9.1"
PYENV = Path("/root/.pyenv/versions")
sys.path.insert(0, str(ROOT / "bench"))

import slurm_overhead  # noqa: E402  (bench/slurm_overhead.py: the generated script under the real Slurm)
import specs  # noqa: E402  (bench/specs.py: the generated specs)
from startup_parts import ONE_MODEL  # noqa: E402  (the floor and one pydantic model, ending as jobc ends)


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def venv_for(python: str, constraints: str | None) -> Path:
    """A venv holding a regular install of this checkout (jobc reinstalled each run, its dependencies kept)."""
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    venv = WORK / (f"venv-{version}" + (f"-{Path(constraints).stem}" if constraints else ""))
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if not (venv / "bin" / "python").exists():
        log(f"bench: building {venv}")
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    extra = ["-c", constraints] if constraints else []
    source = Path(tempfile.mkdtemp(prefix="jobc-bench-src-"))  # a copy: no build/ left in the checkout
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([*pip, *extra, str(source)], check=True, stderr=subprocess.DEVNULL)
    subprocess.run([*pip, "--no-deps", "--force-reinstall", str(source)], check=True, stderr=subprocess.DEVNULL)
    shutil.rmtree(source, ignore_errors=True)
    return venv


def run_once(argv: list[str], cwd: Path, expect: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode not in expect:
        sys.exit(f"bench: {' '.join(argv)} exited {proc.returncode}: {err[:800]}")
    return elapsed, usage.ru_maxrss / 1024


class Cases:
    """Commands timed round-robin: every round runs each once."""

    def __init__(self) -> None:
        self.argv: dict[str, tuple[list[str], Path, tuple[int, ...], int]] = {}
        self.times: dict[str, list[float]] = {}
        self.rss: dict[str, float] = {}

    def add(self, name: str, argv: list[str], cwd: Path, expect=(0,), every: int = 1) -> None:
        self.argv[name] = (argv, cwd, expect, every)
        self.times[name] = []

    def run(self, rounds: int) -> None:
        for argv, cwd, expect, every in self.argv.values():  # warm the page cache and the .pyc files
            if every == 1:
                run_once(argv, cwd, expect)
        for i in range(rounds):
            for name, (argv, cwd, expect, every) in self.argv.items():
                if i % every == 0:
                    elapsed, rss = run_once(argv, cwd, expect)
                    self.times[name].append(elapsed)
                    self.rss[name] = max(self.rss.get(name, 0.0), rss)
            log(f"bench: round {i + 1}/{rounds}")

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])


def in_process(python: Path, code: str, cwd: Path) -> dict:
    proc = subprocess.run([str(python), "-c", code], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench: in-process measurement failed: {proc.stderr[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# "first" runs from before the measured side's imports to the end of its first call: bfabric-app-runner builds its
# pydantic models when they are imported, jobc when they are first used, and either way a program pays it once.
TIMER = """
import json, statistics, time
START = time.perf_counter()
def timed(fn, n):
    fn(); first = time.perf_counter() - START
    runs = []
    for _ in range(n):
        start = time.perf_counter(); fn(); runs.append(time.perf_counter() - start)
    return first, statistics.median(runs)
"""

JOBC_APP = (
    TIMER
    + """
from jobc import compile_spec
from jobc.options import AppOptions, CompileOptions
text = open(SPEC).read()
options = CompileOptions(app=AppOptions(app_id=7, app_name="app", workunit_ref="1"))
first, warm = timed(lambda: compile_spec(text, name=SPEC, options=options), N)
print(json.dumps({"first": first, "warm": warm}))
"""
)

PEER_APP = (
    TIMER
    + """
import shlex
from pathlib import Path
from bfabric_app_runner.specs.app.app_spec import AppSpec
from bfabric_app_runner.commands.command_docker import _to_shell
def render():
    spec = AppSpec.load_yaml(Path(SPEC), app_id=7, app_name="app")
    out = []
    for version in spec.versions:
        for name in ("dispatch", "process", "collect"):
            command = getattr(version.commands, name, None)
            if command is None:
                continue
            if command.type == "docker":
                out.append(_to_shell(command, work_dir=Path("/work")))
            elif command.type == "exec":
                out.append(shlex.split(command.command))
            else:
                out.append(command.command)
    return out
first, warm = timed(render, N)
print(json.dumps({"first": first, "warm": warm}))
"""
)


def alternated(ours: Path, peer: Path | None, setup: str, cwd: Path, times: int) -> tuple[dict, dict]:
    """Medians of `times` in-process runs of each side, taken in turn, so that a busy moment does not fall on one."""
    runs: dict[str, list[dict]] = {"ours": [], "theirs": []}
    for _ in range(times):
        runs["ours"].append(in_process(ours, setup + JOBC_APP, cwd))
        if peer:
            runs["theirs"].append(in_process(peer, setup + PEER_APP, cwd))
    median = lambda side: {key: statistics.median(run[key] for run in runs[side]) for key in ("first", "warm")}
    return median("ours"), (median("theirs") if peer else {})


def interpreter(name: str) -> str:
    """A path, or a version such as 3.9: its newest pyenv build."""
    if os.sep in name:
        return name
    found = sorted(PYENV.glob(f"{name}.*/bin/python{name}"), key=lambda p: [int(x) for x in p.parts[-3].split(".")])
    if not found:
        sys.exit(f"bench: no Python {name} under {PYENV} (give a path to its interpreter instead)")
    return str(found[-1])


def startup_rows(cases: Cases, ms, versions: list[str]) -> list[tuple[str, str, str, str]]:
    """The start-up figures of each extra Python, next to the targets of the main rows."""
    rows = []
    for version in versions:
        compile_, floor, help_, bare = (f"{name}@{version}" for name in ("compile", "floor", "help", "bare"))
        compile_ratio = cases.median(compile_) / cases.median(floor)
        help_ratio = cases.median(help_) / cases.median(bare)
        rows.append(
            (
                f"Python {version}: cold `jobc compile` minimal job",
                ms(compile_),
                f"{compile_ratio:.2f}× its floor",
                "≤ 1.15× floor",
            )
        )
        rows.append((f"Python {version}: `jobc --help`", ms(help_), f"{help_ratio:.2f}× its bare", "≤ 3× bare"))
    return rows


def peer_python() -> Path | None:
    """A venv of a Python >= 3.12 with bfabric-app-runner 0.9.1."""
    for version in ("3.12", "3.13"):
        found = sorted(PYENV.glob(f"{version}.*/bin/python3"))
        if found:
            venv = WORK / f"peer-{PEER_VERSION}"
            if not (venv / "bin" / "python").exists():
                log(f"bench: building {venv}")
                subprocess.run([str(found[-1]), "-m", "venv", str(venv)], check=True)
                subprocess.run(
                    [str(venv / "bin" / "pip"), "install", "-q", f"bfabric-app-runner=={PEER_VERSION}"],
                    check=True,
                    stderr=subprocess.DEVNULL,
                )
            return venv / "bin" / "python"
    return None


def add_large(cases: Cases, jobc: list[str], tmp: Path, many_dir: Path, names: list[str], slow: int) -> None:
    """The large specs and the many-spec runs (left out by `--startup`)."""
    cases.add("flat-big", jobc + ["compile", "flat-big.yaml", "-o", "/dev/null"], tmp)
    cases.add("flat-bigger", jobc + ["compile", "flat-bigger.yaml", "-o", "/dev/null"], tmp, every=slow)
    cases.add("json-big", jobc + ["compile", "flat-big.json", "-o", "/dev/null"], tmp)
    cases.add("json-bigger", jobc + ["compile", "flat-bigger.json", "-o", "/dev/null"], tmp, every=slow)
    cases.add("nested-big", jobc + ["compile", "nested-big.yaml", "-o", "/dev/null"], tmp)
    cases.add("nested-bigger", jobc + ["compile", "nested-bigger.yaml", "-o", "/dev/null"], tmp, every=slow)
    cases.add("invalid-bigger", jobc + ["validate", "invalid-bigger.yaml"], tmp, expect=(2,), every=slow)
    cases.add("many-compile", jobc + ["compile", "--out-dir", str(tmp / "out"), *names], many_dir)
    cases.add("many-validate", jobc + ["validate", *names], many_dir)


def large_rows(cases: Cases, big: int, bigger: int, many: int) -> list[tuple[str, str, str, str]]:
    ms = lambda name: f"{cases.median(name) * 1000:.1f} ms"
    ratio = lambda a, b: cases.median(a) / cases.median(b)
    return [
        (f"{big:,} flat steps", ms("flat-big"), f"{ratio('flat-big', 'compile'):.2f}× minimal", "≤ 3× minimal"),
        (
            f"{bigger:,} flat steps",
            f"{ms('flat-bigger')}, {cases.rss['flat-bigger']:.0f} MB",
            f"{ratio('flat-bigger', 'flat-big'):.2f}× {big:,}",
            f"≤ 11× {big:,}, ≤ 300 MB",
        ),
        (f"{big:,} flat steps, JSON", ms("json-big"), f"{ratio('json-big', 'compile'):.2f}× minimal", "≤ 3× minimal"),
        (
            f"{bigger:,} flat steps, JSON",
            f"{ms('json-bigger')}, {cases.rss['json-bigger']:.0f} MB",
            f"{ratio('json-bigger', 'json-big'):.2f}× {big:,}",
            f"≤ 11× {big:,}, ≤ 300 MB",
        ),
        (
            f"{big:,} steps nested 5 deep",
            ms("nested-big"),
            f"{ratio('nested-big', 'compile'):.2f}× minimal",
            "≤ 3× minimal",
        ),
        (
            f"{bigger:,} steps nested 5 deep",
            f"{ms('nested-bigger')}, {cases.rss['nested-bigger']:.0f} MB",
            f"{ratio('nested-bigger', 'nested-big'):.2f}× {big:,}",
            f"≤ 11× {big:,}, ≤ 300 MB",
        ),
        (
            f"validate {bigger:,} steps, one error each 100",
            f"{ms('invalid-bigger')}, {cases.rss['invalid-bigger']:.0f} MB",
            f"{ratio('invalid-bigger', 'flat-big'):.2f}× {big:,} valid",
            f"≤ 11× {big:,} valid",
        ),
        (f"`compile` of {many} specs", ms("many-compile"), f"{ratio('many-compile', 'compile'):.2f}× one", "≤ 3× one"),
        (
            f"`validate` of {many} specs",
            ms("many-validate"),
            f"{ratio('many-validate', 'compile'):.2f}× one",
            "≤ 3× one",
        ),
    ]


def table(rows: list[tuple[str, str, str, str]]) -> str:
    head = ("figure", "measured", "ratio", "target")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def compiler_figures(args, rounds: int, venv: Path) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The figures of jobc itself: start-up, compile and validate times, the peer; (a note, the rows)."""
    big, bigger, many = (50, 500, 5) if args.tiny else (10_000, 100_000, 100)
    py = str(venv / "bin" / "python")
    jobc = [str(venv / "bin" / "jobc")]
    tmp = Path(tempfile.mkdtemp(prefix="jobc-bench-"))
    minimal = tmp / "minimal.json"
    shutil.copy(ROOT / "examples" / "reference-job-minimal.json", minimal)
    many_dir = tmp / "many"
    names: list[str] = []
    if not args.startup:
        specs.write_flat(tmp / "flat-big.yaml", big)
        specs.write_flat(tmp / "flat-bigger.yaml", bigger)
        specs.write_flat_json(tmp / "flat-big.json", big)
        specs.write_flat_json(tmp / "flat-bigger.json", bigger)
        specs.write_nested(tmp / "nested-big.yaml", big)
        specs.write_nested(tmp / "nested-bigger.yaml", bigger)
        specs.write_flat(tmp / "invalid-bigger.yaml", bigger, invalid=True)
        names = specs.write_many(many_dir, ROOT / "examples", many)
    completion = jobc + ["__complete", "bash", "2", "jobc", "comp"]
    has_completion = subprocess.run(jobc + ["completion", "bash"], capture_output=True).returncode == 0

    cases = Cases()
    cases.add("bare", [py, "-c", "pass"], tmp)
    cases.add("floor", [py, "-c", "import pydantic, jinja2, yaml"], tmp)
    cases.add("one-model", [py, "-c", ONE_MODEL], tmp)
    cases.add("compile", jobc + ["compile", "minimal.json"], tmp)
    cases.add("help", jobc + ["--help"], tmp)
    cases.add("version", jobc + ["--version"], tmp)
    if has_completion:
        cases.add("completion", completion, tmp)
    extra = [(v, venv_for(interpreter(v), args.constraints)) for v in filter(None, args.pythons.split(","))]
    for version, other in extra:
        other_py = str(other / "bin" / "python")
        cases.add(f"bare@{version}", [other_py, "-c", "pass"], tmp)
        cases.add(f"floor@{version}", [other_py, "-c", "import pydantic, jinja2, yaml"], tmp)
        cases.add(f"compile@{version}", [str(other / "bin" / "jobc"), "compile", "minimal.json"], tmp)
        cases.add(f"help@{version}", [str(other / "bin" / "jobc"), "--help"], tmp)
    slow = 1 if args.tiny else 3
    if not args.startup:
        add_large(cases, jobc, tmp, many_dir, names, slow)
    cases.run(rounds)

    ms = lambda name: f"{cases.median(name) * 1000:.1f} ms"
    ratio = lambda a, b: cases.median(a) / cases.median(b)
    bare = cases.median("bare")
    rows = [
        ("`python -c pass` (for scale)", ms("bare"), "1", ""),
        ("`import pydantic, jinja2, yaml` (the floor)", ms("floor"), f"{ratio('floor', 'bare'):.2f}× bare", ""),
        (
            "the floor and one pydantic model, ending as jobc ends (for scale)",
            ms("one-model"),
            f"{ratio('one-model', 'floor'):.2f}× floor",
            "",
        ),
        (
            "cold `jobc compile` minimal job",
            ms("compile"),
            f"{ratio('compile', 'floor'):.2f}× floor ({ratio('compile', 'one-model'):.2f}× one model)",
            "≤ 1.15× floor",
        ),
        ("`jobc --help`", ms("help"), f"{ratio('help', 'bare'):.2f}× bare", "≤ 3× bare"),
        ("`jobc --version`", ms("version"), f"{ratio('version', 'bare'):.2f}× bare", "≤ 3× bare"),
        (
            "completion (`jobc comp<TAB>`)",
            ms("completion") if has_completion else "none",
            f"{ratio('completion', 'bare'):.2f}× bare" if has_completion else "–",
            "≤ 3× bare",
        ),
    ]
    rows += startup_rows(cases, ms, [version for version, _ in extra])
    if not args.startup:
        rows += large_rows(cases, big, bigger, many)
    app_spec = str(tmp / "app.yaml")  # every field of a docker command, with the section 0.9.1 requires
    every_field = (ROOT / "examples" / "bfabric" / "docker-every-field.yaml").read_text(encoding="utf-8")
    Path(app_spec).write_text('bfabric: {app_runner: "0.9.1"}\n' + every_field, encoding="utf-8")
    n = 3 if args.tiny else 50
    setup = f"SPEC = {app_spec!r}; N = {n}\n"
    peer = None if args.no_peer else peer_python()
    ours, theirs = alternated(Path(py), peer, setup, tmp, 1 if args.tiny else 3)
    if peer:
        rows.append(
            (
                "app spec in-process: jobc vs bfabric-app-runner 0.9.1 (warm; import + first call)",
                f"{ours['warm'] * 1000:.2f} vs {theirs['warm'] * 1000:.2f} ms; "
                f"{ours['first'] * 1000:.1f} vs {theirs['first'] * 1000:.1f} ms",
                f"{theirs['warm'] / ours['warm']:.1f}× faster; {theirs['first'] / ours['first']:.1f}×",
                "≥ 25× faster",
            )
        )
    else:
        rows.append(("app spec in-process (jobc; peer skipped)", f"{ours['warm'] * 1000:.2f} ms", "–", "≥ 25× faster"))

    version = subprocess.run([py, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True)
    deps = subprocess.run(
        [py, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"], capture_output=True, text=True
    ).stdout.split()
    wanted = ("pydantic", "pydantic_core", "jinja2", "pyyaml", "mako")
    shown = ", ".join(d for d in deps if d.split("==")[0].lower().replace("-", "_") in wanted)
    about = (
        f"Python {version.stdout.strip()}, {shown}; medians of {rounds} rounds"
        + ("" if args.startup else f" (the {bigger:,}-step figures: every {slow} rounds)")
        + f"; bare python {bare * 1000:.1f} ms"
    )
    shutil.rmtree(tmp, ignore_errors=True)
    return about, rows


def slurm_figures(args, rounds: int, venv: Path) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The generated script under a real Slurm of the test harness: (a note, the rows)."""
    steps, outside_runs = (3, 1) if args.tiny else (50, rounds)
    cluster = slurm_overhead.start_cluster()
    try:
        return slurm_overhead.measure(cluster, [str(venv / "bin" / "jobc")], steps, rounds, outside_runs)
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, help="default 11 (--tiny: 1)")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the measured install")
    parser.add_argument("--pythons", default="", help="comma-separated: start-up rows of these Pythons too")
    parser.add_argument("--constraints", help="pip constraints file for the dependencies (to measure a bound)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: checks that the bench runs")
    parser.add_argument(
        "--startup", action="store_true", help="only start-up and the in-process app spec (no large specs)"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip bfabric-app-runner")
    parser.add_argument("--here", action="store_true", help="measure the jobc of this interpreter (no venv built)")
    parser.add_argument("--slurm", action="store_true", help="also the generated script under a real Slurm (root)")
    parser.add_argument("--slurm-only", action="store_true", help="only the generated script under a real Slurm")
    parser.add_argument("--write", action="store_true", help="write the table into bench/README.md")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.tiny else 11)
    venv = Path(sys.executable).parent.parent if args.here else venv_for(args.python, args.constraints)
    notes, rows = [], []
    if not args.slurm_only:
        note, more = compiler_figures(args, rounds, venv)
        notes.append(note)
        rows += more
    if args.slurm or args.slurm_only:
        note, more = slurm_figures(args, rounds, venv)
        notes.append(note)
        rows += more
    text = "\n".join(notes) + "\n\n" + table(rows)
    print(text)
    if args.write:
        readme = ROOT / "bench" / "README.md"
        old = readme.read_text(encoding="utf-8") if readme.exists() else ""
        marker = "<!-- bench table -->"
        head = old.split(marker)[0] if marker in old else old
        readme.write_text(head.rstrip("\n") + f"\n\n{marker}\n{text}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
