"""The specs the benchmark compiles: generated at a given size, written as YAML (block style, as people write)
or as JSON (indented, as the Job Reference's examples are)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

HEAD = "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}\nsteps:\n"
LEAVES = 10  # run steps in the innermost loop of a nested group


def _run_step(i: int, pad: str, invalid: bool) -> str:
    shell = "\n" + pad + "    shell: /bin/zsh" if invalid else ""
    return f'{pad}- name: step {i}\n{pad}  run:\n{pad}    command: echo "step {i}" > /dev/null{shell}\n'


def write_flat(path: Path, steps: int, *, invalid: bool = False) -> None:
    """`steps` run steps in a row; `invalid`: every 100th has a shell jobc refuses."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEAD)
        for i in range(steps):
            fh.write(_run_step(i, "  ", invalid and i % 100 == 0))


def write_flat_json(path: Path, steps: int) -> None:
    """The steps of `write_flat`, as JSON."""
    job = {
        "resources": {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 512, "gpusPerTask": 0},
        "steps": [{"name": f"step {i}", "run": {"command": f'echo "step {i}" > /dev/null'}} for i in range(steps)],
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(job, fh, indent=2)


def write_nested(path: Path, steps: int) -> None:
    """`steps` run steps in groups of 10, each group 5 deep: for > launch > for > launch > for > steps."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEAD)
        for group in range(max(1, steps // LEAVES)):
            pad = "  "
            for depth in range(5):
                if depth % 2 == 0:
                    fh.write(f"{pad}- name: loop {group}.{depth}\n{pad}  for:\n{pad}    parallel: false\n")
                    fh.write(f"{pad}    range: {{begin: 1, end: 2}}\n{pad}    steps:\n")
                    pad += "      "
                else:
                    fh.write(f"{pad}- name: launch {group}.{depth}\n{pad}  launch:\n{pad}    steps:\n")
                    pad += "      "
            for leaf in range(LEAVES):
                fh.write(_run_step(group * LEAVES + leaf, pad, False))


def write_many(directory: Path, examples: Path, count: int) -> list[str]:
    """`count` specs, the DeepSquare examples over and over (with their modules); their names, relative to
    `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    if (examples / "modules").is_dir():  # the modules the `use` examples load, beside them
        shutil.copytree(examples / "modules", directory / "modules", dirs_exist_ok=True)
    sources = sorted(p for p in examples.glob("*.*") if p.suffix in (".json", ".yaml", ".yml"))
    names = []
    for i in range(count):
        source = sources[i % len(sources)]
        name = f"{i:03d}-{source.name}"
        shutil.copy(source, directory / name)
        names.append(name)
    return names
