#!/usr/bin/env python3
"""Start-up time of the `jobc` command, each run a fresh process.

Prints the median (and min/max) wall time of N runs, after a few warm-up runs,
of a cold `jobc compile` of a typical example next to `python -c pass` (the
floor), the import of the heavy libraries alone, `jobc --help` and
`jobc --version`. No assertions: it only reports.

    python bench/bench_startup.py [--runs 20] [--warmup 2] [--example examples/parameter-sweep.yaml]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TYPICAL = ("parameter-sweep.yaml", "gpu-training.yaml", "reference-job-minimal.json")


def jobc_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m jobc`."""
    script = Path(sys.executable).with_name("jobc")
    if script.exists():
        return [str(script)]
    found = shutil.which("jobc")
    return [found] if found else [sys.executable, "-m", "jobc"]


def typical_example() -> Path:
    for name in TYPICAL:
        path = ROOT / "examples" / name
        if path.exists():
            return path
    found = sorted((ROOT / "examples").glob("*.*"))
    if not found:
        sys.exit("bench_startup: no example in examples/; give one with --example")
    return found[0]


def measure(argv: list[str], runs: int, warmup: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if k != "JOBC_SITE"}
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"bench_startup: {' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[:500]}")
        if i >= warmup:
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--example", type=Path, default=None)
    args = parser.parse_args()
    example = args.example or typical_example()
    jobc = jobc_command()
    shown = os.path.relpath(example, ROOT)
    cases = [
        ("python3 -c pass", [sys.executable, "-c", "pass"]),
        ("import typer, pydantic, jinja2, yaml", [sys.executable, "-c", "import typer, pydantic, jinja2, yaml"]),
        ("jobc --version", jobc + ["--version"]),
        ("jobc --help", jobc + ["--help"]),
        (f"jobc validate {shown}", jobc + ["validate", str(example)]),
        (f"jobc compile {shown}", jobc + ["compile", str(example)]),
    ]
    print(f"{args.runs} runs after {args.warmup} warm-ups, {sys.executable} ({sys.version.split()[0]})")
    width = max(len(name) for name, _ in cases)
    print(f"{'command':<{width}}  {'median':>8}  {'min':>8}  {'max':>8}")
    for name, argv in cases:
        times = measure(argv, args.runs, args.warmup)
        ms = [t * 1000 for t in times]
        print(f"{name:<{width}}  {statistics.median(ms):>6.1f}ms  {min(ms):>6.1f}ms  {max(ms):>6.1f}ms", flush=True)


if __name__ == "__main__":
    main()
