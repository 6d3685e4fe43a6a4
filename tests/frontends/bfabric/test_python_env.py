"""python_env and exec commands run for real under bash: the real `uv` (test extras) provisions the environment
from a local pylock.toml; srun is a stand-in that runs the step's command in its directory.

What is checked: argv[0] from the environment's bin/ or run by its python, env and PATH entries, the cache
(one environment per key, `.provisioned`, made once by two jobs at once), an interrupted provisioning that
does not poison the cache, refresh leaving nothing behind (also on failure), a missing uv.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from . import pylock_fixture as fx
from .fake_srun import compile_app

# Runs the command after `--` in the step's --chdir directory, like srun on one node.
EXEC_SRUN = r"""#!/bin/bash
set -eu
dir=.
while (( $# )); do
  case $1 in
    --chdir=*) dir=${1#--chdir=} ;;
    --) shift; break ;;
  esac
  shift
done
cd -- "$dir"
exec "$@"
"""

DISPATCH = """{type: exec, command: "bash -c 'mkdir -p \\"$2/c1\\" && : > \\"$2/c1/inputs.yml\\"' dispatch"}"""


def app(process: str, collect: str = "") -> str:
    text = f"versions:\n  - version: '1.0'\n    commands:\n      dispatch: {DISPATCH}\n      process: {process}\n"
    if collect:
        text += f"      collect: {collect}\n"
    return text + "    submitter: {name: slurm}\n"


def pyenv(command: str, **fields) -> str:
    body = {
        "type": "python_env",
        "pylock": "lock/pylock.toml",
        "python_version": fx.PYTHON_VERSION,
        "command": command,
        **fields,
    }
    return json.dumps(body)


def run(root: Path, spec: str, *, uv: str | None = None, jobs: int = 1) -> list[subprocess.CompletedProcess]:
    """Compile `spec` (at root/app.yaml, next to root/lock/) and run it `jobs` times at once."""
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "lock" / "pylock.toml").exists():
        fx.build(root / "lock")
    srun = root / "srun"
    srun.write_text(EXEC_SRUN)
    srun.chmod(0o755)
    (root / "app.yaml").write_text(spec)
    procs = []
    for n in range(jobs):
        job = root / f"job{n}"
        script, dirs = compile_app(
            job, spec, spec_file=str(root / "app.yaml"), site={"tools": {"srun": str(srun), "uv": uv or str(fx.UV)}}
        )
        (job / "job.sh").write_text(script)
        env = {
            "HOME": str(dirs["home"]),
            "SLURM_JOB_ID": str(n + 1),
            "SLURM_SUBMIT_DIR": str(job),
            "LC_ALL": "C.UTF-8",
            **fx.uv_env(root),
        }
        procs.append(
            subprocess.Popen(
                ["bash", str(job / "job.sh")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=300)
        out.append(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    return out


def envs(root: Path) -> list[Path]:
    base = root / "cache" / "jobc" / "python-envs"
    return sorted(p for p in base.iterdir() if p.is_dir() and p.name != "ephemeral") if base.exists() else []


def test_command_from_bin_or_run_by_python(tmp_path: Path) -> None:
    [done] = run(tmp_path, app(pyenv("jobcdemo-tool --x"), pyenv("-m jobcdemo")))
    assert done.returncode == 0, done.stderr
    [env] = envs(tmp_path)
    assert len(env.name) == 16 and (env / ".provisioned").exists()
    chunk = tmp_path / "job0" / "work"
    lines = [line for line in done.stdout.splitlines() if line.startswith(("tool", "module"))]
    assert lines[0].startswith(f"tool {env} --x ")  # bin/jobcdemo-tool
    assert lines[1].split()[:2] == ["module", str(env)]  # python -m jobcdemo: argv[0] not in bin/
    assert lines[1].endswith("/c1") and str(chunk) in lines[1]


def test_env_and_path_entries(tmp_path: Path) -> None:
    show = 'python -c \'import os, sys; print("ENV", os.environ["GREETING"], os.environ["PATH"])\''
    [done] = run(tmp_path, app(pyenv(show, env={"GREETING": "a 'b' $HOME"}, prepend_paths=["tools", "~/bin"])))
    assert done.returncode == 0, done.stderr
    [env] = envs(tmp_path)
    [line] = [line for line in done.stdout.splitlines() if line.startswith("ENV")]
    greeting, path = line[len("ENV ") :].rsplit(" ", 1)
    assert greeting == "a 'b' $HOME"
    home = tmp_path / "job0" / "home"
    assert path.split(":")[:3] == [f"{env}/bin", str(tmp_path / "tools"), f"{os.path.realpath(home)}/bin"]


def test_two_jobs_at_once_provision_once(tmp_path: Path) -> None:
    counter = tmp_path / "uv-calls"
    shim = tmp_path / "uv-shim"
    shim.write_text(f'#!/bin/bash\nprintf "%s\\n" "$1" >> {counter}\nsleep 0.5\nexec {fx.UV} "$@"\n')
    shim.chmod(0o755)
    results = run(tmp_path, app(pyenv("jobcdemo-tool")), uv=str(shim), jobs=2)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert counter.read_text().split().count("venv") == 1
    assert len(envs(tmp_path)) == 1
    assert sum("tool " in r.stdout for r in results) == 2


def test_interrupted_provisioning_does_not_poison_the_cache(tmp_path: Path) -> None:
    [first] = run(tmp_path, app(pyenv("jobcdemo-tool")))
    assert first.returncode == 0, first.stderr
    [env] = envs(tmp_path)
    (env / ".provisioned").unlink()  # as if the job was killed after `uv venv`
    (env / "bin" / "jobcdemo-tool").unlink()
    [again] = run(tmp_path, app(pyenv("jobcdemo-tool")))
    assert again.returncode == 0, again.stderr
    assert (env / ".provisioned").exists() and (env / "bin" / "jobcdemo-tool").exists()


def test_refresh_leaves_nothing_behind(tmp_path: Path) -> None:
    [done] = run(tmp_path, app(pyenv("jobcdemo-tool", refresh=True)))
    assert done.returncode == 0, done.stderr
    assert "tool " in done.stdout and "/ephemeral/env_" in done.stdout
    assert envs(tmp_path) == [] and list((tmp_path / "cache/jobc/python-envs/ephemeral").iterdir()) == []
    [failed] = run(tmp_path / "fail", app(pyenv("python -c 'raise SystemExit(3)'", refresh=True)))
    assert failed.returncode == 3, failed.stderr
    assert list((tmp_path / "fail/cache/jobc/python-envs/ephemeral").iterdir()) == []


def test_missing_uv_fails_with_one_line(tmp_path: Path) -> None:
    [done] = run(tmp_path, app(pyenv("jobcdemo-tool")), uv=str(tmp_path / "no-uv"))
    assert done.returncode == 127
    lines = [line for line in done.stderr.splitlines() if line.startswith("jobc: python_env")]
    assert lines == [f"jobc: python_env: uv not found (the site profile's tools.uv is {tmp_path / 'no-uv'})"]


def test_exec_env_and_path_for_real(tmp_path: Path) -> None:
    """exec: PATH entries first entry first in front of the job's PATH; an explicit env PATH wins."""
    (tmp_path / "bin").mkdir(parents=True)
    tool = tmp_path / "bin" / "show"
    tool.write_text('#!/bin/bash\nprintf "SHOW %s|%s|%s\\n" "$GREETING" "$PATH" "$*"\n')
    tool.chmod(0o755)
    process = json.dumps(
        {
            "type": "exec",
            "command": "show 'a b'",
            "env": {"GREETING": "x  y"},
            "prepend_paths": ["bin", "${app.dir}/bin"],
        }
    )
    collect = json.dumps({"type": "exec", "command": f"{tool} c", "env": {"PATH": "/only"}, "prepend_paths": ["bin"]})
    [done] = run(tmp_path, app(process, collect))
    assert done.returncode == 0, done.stderr
    shown = [line[5:].split("|") for line in done.stdout.splitlines() if line.startswith("SHOW ")]
    job_path = fx.uv_env(tmp_path)["PATH"]
    chunk = os.path.realpath(tmp_path / "job0" / "work" / "c1")
    # ${app.dir}/bin is the spec's bin once (0.9.1 would join the spec directory twice)
    assert shown[0] == ["x  y", f"{tmp_path}/bin:{tmp_path}/bin:{job_path}", f"a b {chunk}"]
    assert shown[1][1] == "/only"


def test_refresh_environment_is_removed_when_the_step_is_signalled(tmp_path: Path) -> None:
    """SIGTERM to the step (as scancel sends it to every process of the step): the environment goes too."""
    kill = "python -c 'import os, signal; os.kill(os.getppid(), signal.SIGTERM)'"
    [done] = run(tmp_path, app(pyenv(kill, refresh=True)))
    assert done.returncode == 143, done.stderr
    assert list((tmp_path / "cache/jobc/python-envs/ephemeral").iterdir()) == []


def test_variables_named_like_the_helpers_own_reach_the_command_and_change_nothing_else(tmp_path: Path) -> None:
    """`env` names that are jobc_python_env's locals (the lock file, the refresh mode, PATH's bookkeeping, the
    cache root) and HOSTNAME, part of the cache key: the command sees them, the helper does not."""
    names = ["pylock", "refresh", "path_set", "root", "env", "entries", "deps", "uv", "rc", "key", "fd", "HOSTNAME"]
    variables = {name: f"/nowhere/{name}" for name in names}
    printed = f"sys.argv[1:{len(names) + 1}]"  # the names; the step's own arguments follow
    show = f"python -c 'import os, sys; print(\"VARS\", *(os.environ[n] for n in {printed}))' " + " ".join(names)
    process = pyenv(show, env=variables, prepend_paths=["tools"])
    collect = pyenv(show, env=variables, refresh=True)
    [done] = run(tmp_path, app(process, collect))
    assert done.returncode == 0, done.stderr
    shown = [line.split()[1:] for line in done.stdout.splitlines() if line.startswith("VARS")]
    assert shown == [list(variables.values())] * 2
    [env] = envs(tmp_path)
    assert (env / ".provisioned").exists()
    assert list((tmp_path / "cache/jobc/python-envs/ephemeral").iterdir()) == []
