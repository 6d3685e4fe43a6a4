"""Run a compiled app script under plain bash with a fake `srun`, to see the argv each step gets.

The fake srun (the site profile's `tools.srun`) records the argv after `--`, NUL-separated, in the log
directory, named `<n>-<step name>`. For dispatch it runs $JOBC_FAKE_LAYOUT (bash) in the work directory
(the last argument), to create the chunk directories; a step named in $JOBC_FAKE_FAIL (`name=code`)
exits with that code. Everything else in the script runs for real: run-time words, chunk listing,
exit codes.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from jobc import compile_spec
from jobc.options import AppOptions, CompileOptions
from jobc.site import site_from_dict

FAKE_SRUN = r"""#!/bin/bash
set -eu
name=
while (( $# )); do
  case $1 in
    --job-name=*) name=${1#--job-name=} ;;
    --) shift; break ;;
  esac
  shift
done
n=$(find "$JOBC_FAKE_LOG" -mindepth 1 -maxdepth 1 | wc -l)
printf '%s\0' "$@" > "$JOBC_FAKE_LOG/$n-$name"
if [[ $name == dispatch ]]; then
  (cd -- "${*: -1}" && eval "${JOBC_FAKE_LAYOUT-}")
fi
if [[ ${JOBC_FAKE_FAIL-} == "$name="* ]]; then
  exit "${JOBC_FAKE_FAIL#*=}"
fi
"""

# The site's enroot and apptainer on the batch side: `import --output FILE SOURCE` and `pull FILE SOURCE`
# record their argv (like srun's) and make FILE, so the step that runs the image can start.
FAKE_FETCH = r"""#!/bin/bash
set -eu
n=$(find "$JOBC_FAKE_LOG" -mindepth 1 -maxdepth 1 | wc -l)
printf '%s\0' "$@" > "$JOBC_FAKE_LOG/$n-${0##*/}-$1"
case $1 in
  import) : > "$3" ;;
  pull) : > "$2" ;;
esac
"""

ONE_CHUNK = "mkdir -p chunk-1 && : > chunk-1/inputs.yml"


@dataclass
class Ran:
    rc: int
    stderr: str
    steps: list[tuple[str, list[str]]] = field(default_factory=list)
    script: str = ""
    dirs: dict[str, Path] = field(default_factory=dict)

    def argv(self, name: str, index: int = 0) -> list[str]:
        return [argv for step, argv in self.steps if step == name][index]


def make_dirs(root: Path) -> dict[str, Path]:
    dirs = {name: root / name for name in ("work", "home", "log", "storage")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    return {name: Path(os.path.realpath(path)) for name, path in dirs.items()}


def compile_app(
    root: Path, spec: str, *, options: dict | None = None, site: dict | None = None, spec_file: str = "app.yaml"
) -> tuple[str, dict]:
    """The script for `spec`, with the fake srun and storage under `root`; work dir root/work unless given."""
    dirs = make_dirs(root)
    tools = {}
    for name, text in (("srun", FAKE_SRUN), ("enroot", FAKE_FETCH), ("apptainer", FAKE_FETCH)):
        tools[name] = root / name
        tools[name].write_text(text)
        tools[name].chmod(0o755)
    data = {"paths": {"storage_root": str(dirs["storage"])}, "tools": {k: str(v) for k, v in tools.items()}}
    for section, values in (site or {}).items():
        data.setdefault(section, {}).update(values)
    profile = site_from_dict(data)
    opts = {"workunit_ref": "42", "app_id": 1, "app_name": "app", "work_dir": str(dirs["work"]), **(options or {})}
    return compile_spec(spec, name=spec_file, site=profile, options=CompileOptions(app=AppOptions(**opts))).script, dirs


def run_app(
    root: Path,
    spec: str,
    *,
    options: dict | None = None,
    site: dict | None = None,
    layout: str = ONE_CHUNK,
    fail: str = "",
    env: dict | None = None,
    spec_file: str = "app.yaml",
) -> Ran:
    script, dirs = compile_app(root, spec, options=options, site=site, spec_file=spec_file)
    path = root / "job.sh"
    path.write_text(script)
    run_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(dirs["home"]),
        "SLURM_JOB_ID": "1",
        "SLURM_SUBMIT_DIR": str(root),
        "JOBC_FAKE_LOG": str(dirs["log"]),
        "JOBC_FAKE_LAYOUT": layout,
        "JOBC_FAKE_FAIL": fail,
        "LC_ALL": "C.UTF-8",
        **(env or {}),
    }
    done = subprocess.run(["bash", str(path)], env=run_env, capture_output=True, text=True, timeout=60)
    steps = []
    for record in sorted(dirs["log"].iterdir(), key=lambda p: int(p.name.split("-", 1)[0])):
        steps.append((record.name.split("-", 1)[1], engine_argv(record.read_bytes().decode().split("\0")[:-1])))
    return Ran(done.returncode, done.stderr, steps, script, dirs)


# A docker or podman step runs `jobc_engine ENGINE run …` through jobc_task; jobc_engine adds `--name` and runs
# the rest. The steps are recorded as the engine's own argv (what bfabric-app-runner would run), without it.
ENGINE_RUNNER = ["bash", "-c", 'jobc_task "$@"', "jobc-task", "jobc_engine"]


def engine_argv(argv: list[str]) -> list[str]:
    return argv[len(ENGINE_RUNNER) :] if argv[: len(ENGINE_RUNNER)] == ENGINE_RUNNER else argv
