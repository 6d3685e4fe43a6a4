#!/usr/bin/env python3
"""Where the time of a cold `jobc compile` goes: each part's median over fresh processes.

    python bench/startup_parts.py [--python PY] [--runs 21]

Each run is a fresh interpreter that starts as `jobc` does (the cyclic collector off, pydantic's plugins off:
`jobc.cli.command`), imports pydantic, jinja2 and yaml (the floor of issue 15's target), defines and validates
one pydantic model (what any program validating with pydantic pays once: pydantic imports the rest of itself),
then imports jobc's modules in the order a compile needs them, compiles the minimal example twice and ends
as `jobc.cli.leave` ends. `bench/run.py` gives the ratios against the target; this says which part is whose.
`--python`: the interpreter of the install to measure (default: this one). It reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A process started and ended as `jobc.cli.command` and `leave` run a command, around the floor's imports and one
# model: `bench/run.py` times it whole (its "floor and one pydantic model" row); CHILD marks its parts and jobc's.
START = """
import gc, os, sys, time
gc.disable()
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
marks = [time.perf_counter()]
def mark():
    marks.append(time.perf_counter())
import pydantic, jinja2, yaml
mark()
class Model(pydantic.BaseModel):
    name: str
Model.model_validate({"name": "x"})
mark()
"""
END = """
sys.stdout.flush()
os._exit(0)
"""
ONE_MODEL = START + END

CHILD = (
    START
    + """
import jobc.ir
mark()
import jobc.frontends.fields
mark()
import jobc.frontends.deepsquare_models
mark()
import jobc.cli, jobc.cli_commands, jobc.frontends.deepsquare, jobc.passes, jobc.backend.render, jobc.source_json
mark()
from jobc import compile_spec
text = open(sys.argv[1], encoding="utf-8").read()
compile_spec(text, name=sys.argv[1])
mark()
compile_spec(text, name=sys.argv[1])
mark()
print(" ".join(str((b - a) * 1000) for a, b in zip(marks, marks[1:])))
"""
    + END
)

PARTS = (
    "`import pydantic, jinja2, yaml` (the floor's imports, without its start and its teardown)",
    "one pydantic model defined and validated (pydantic's own lazy imports, its plugin loader's included)",
    "`jobc.ir`: the IR's frozen dataclasses (and `jobc.diagnostics`, `jobc.walk`)",
    "`jobc.frontends.fields`: jobc's field types (and the parts of pydantic they import)",
    "`jobc.frontends.deepsquare_models`: the DeepSquare models' classes",
    "jobc's other modules: the CLI, the frontend, the passes, the backend, the JSON reader",
    "the first compile of the minimal job: the models' schemas built, the templates loaded",
    "a second compile of it, for scale: the work itself",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter of the measured install")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    spec = str(ROOT / "examples" / "reference-job-minimal.json")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([args.python, "-c", CHILD, spec], check=True, capture_output=True, env=env)  # .pyc files
    runs = []
    for _ in range(args.runs):
        out = subprocess.run([args.python, "-c", CHILD, spec], check=True, capture_output=True, text=True, env=env)
        runs.append([float(x) for x in out.stdout.split()])
    version = subprocess.run([args.python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True)
    print(f"Python {version.stdout.decode().strip()}; medians of {args.runs} fresh processes, in-process clock\n")
    print("| part of a cold compile | ms |\n|---|---|")
    for index, part in enumerate(PARTS):
        print(f"| {part} | {statistics.median(run[index] for run in runs):.1f} |")
    print(f"| all of the above but the second compile | {statistics.median(sum(run[:-1]) for run in runs):.1f} |")


if __name__ == "__main__":
    main()
