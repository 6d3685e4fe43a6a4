"""Containers in the generated script: the exact fetch and srun lines, secrets kept off every argv.

The task-side enroot functions also run here, outside Slurm, against the enroot
shim (tests/shims/enroot): several tasks of one step on one node share one
container, created once and removed by the last task.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
from support import shellcheck_binary

from jobc import compile_spec
from jobc.site import site_from_dict

SHIMS = Path(__file__).resolve().parents[1] / "shims"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PASSWORD = "pa$$w0rd'\"`;x"

HEAD = """
resources: {tasks: 2, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}
env:
  - {key: JOB_VAR, value: job}
steps:
"""


def compile_steps(steps: str, *, redact: bool = False, site=None) -> str:
    return compile_spec(
        HEAD + textwrap.indent(textwrap.dedent(steps), "  "), name="job.yaml", redact=redact, site=site
    ).script


def step_lines(script: str, name: str) -> list[str]:
    """The lines of one step's subshell after `jobc_load_env`, up to its closing parenthesis, stripped."""
    lines = script.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == f"jobc_step {name}")
    opening = lines[start + 1]
    assert opening.strip() == "(" and lines[start + 2].strip() == "jobc_load_env", lines[start : start + 3]
    end = lines.index(opening.replace("(", ")"), start + 2)
    return [line.strip() for line in lines[start + 3 : end]]


def srun_command(lines: list[str]) -> str:
    """The srun line and its continuation lines, as one line."""
    i = next(i for i, line in enumerate(lines) if line.startswith("srun "))
    j = i
    while lines[j].endswith(" \\"):
        j += 1
    return " ".join(line.removesuffix(" \\") for line in lines[i : j + 1])


def shellcheck(script: str, tmp_path: Path) -> None:
    binary = shellcheck_binary()
    path = tmp_path / "job.sh"
    path.write_text(script)
    result = subprocess.run(
        [binary, "--shell=bash", "--severity=style", "--norc", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


ENROOT_PRIVATE = """
- name: private
  run:
    container:
      image: team/app:1.0
      registry: registry.example.org
      username: john
      password: '%s'
      mounts:
        - {hostDir: /data/ref, containerDir: /ref, options: ro}
        - {hostDir: /scratch, containerDir: /scratch, options: rw}
    workDir: /app
    env:
      - {key: STEP_VAR, value: step}
    command: ./run --all
""" % PASSWORD.replace("'", "''")


def caches(flag: str) -> str:
    """The grid's cache mounts under /deepsquare and the variables naming them, as a container's options."""
    mounts = {
        "DEEPSQUARE_SHARED_TMP": "/deepsquare/tmp",
        "DEEPSQUARE_SHARED_WORLD_TMP": "/deepsquare/world-tmp",
        "DEEPSQUARE_DISK_TMP": "/deepsquare/disk/tmp",
        "DEEPSQUARE_DISK_WORLD_TMP": "/deepsquare/disk/world-tmp",
    }
    env = {"DEEPSQUARE_TMP": "/deepsquare/tmp", **mounts}
    return " ".join(
        [f'{flag} "${var}:{target}"' for var, target in mounts.items()]
        + [f"--env {var}={target}" for var, target in env.items()]
    )


def test_enroot_private_registry_fetch_and_srun_lines():
    script = compile_steps(ENROOT_PRIVATE)
    lines = step_lines(script, "private")
    image = (
        '"$JOBC_IMAGE_CACHE"/team_app_1.0-'
        + re.search(r"team_app_1\.0-([0-9a-f]{12})\.sqsh", script).group(1)
        + ".sqsh"
    )
    assert lines[:4] == [
        "export STEP_VAR=step",
        f"jobc_enroot_import 'docker://john@registry.example.org#team/app:1.0' {image} registry.example.org john "
        "'steps[0].run.container.password'",
        "export JOBC_WORKDIR=/app",
        "export JOBC_CONTAINER_ENV='JOB_VAR STEP_VAR'",
    ]
    assert srun_command(lines) == (
        'srun --job-name=private --ntasks=1 --cpus-per-task=1 --mem-per-cpu=512M --chdir="$STORAGE_PATH" '
        f"-- bash -c 'jobc_task \"$@\"' jobc-task jobc_enroot {image} ENROOT_MOUNT_HOME=n --no-entrypoint --rw "
        f'--mount "$STORAGE_PATH:$STORAGE_PATH" {caches("--mount")} --mount /data/ref:/ref:ro --mount /scratch:/scratch '
        "-- /bin/sh -c 'cd -- \"$JOBC_WORKDIR\" && exec \"$@\"' jobc-workdir /bin/sh -c './run --all'"
    )
    assert "JOBC_IMAGE_CACHE=" in script


def test_enroot_password_is_only_in_the_secrets_table_and_read_by_builtins():
    script = compile_steps(ENROOT_PRIVATE)
    quoted = "'pa$$w0rd'\"'\"'\"`;x'"
    assert script.count(PASSWORD) == 0 and script.count(quoted) == 1
    table = re.search(r"\ndeclare -A JOBC_SECRETS=\(\n(.*?)\n\)\n", script, re.S).group(1).split("\n")
    assert table == [f"  ['steps[0].run.container.password']={quoted}"]
    readers = [line.strip() for line in script.split("\n") if "JOBC_SECRETS[" in line and "declare" not in line]
    assert readers and all(line.startswith(("printf ", "export APPTAINER_DOCKER_PASSWORD=")) for line in readers), (
        readers
    )
    # The netrc line is written by printf, a builtin, into a file under the job's private directory.
    assert (
        'printf \'machine %s login %s password %s\\n\' "$registry" "$user" "${JOBC_SECRETS[$key]}" '
        '> "$ENROOT_CONFIG_PATH/.credentials"'
    ) in script
    assert 'ENROOT_CONFIG_PATH=$(mktemp -d "$JOBC_RUN/enroot.XXXXXX")' in script and "umask 077" in script
    # The key that names the secret, not the secret, is what the fetch function gets.
    srun = srun_command(step_lines(script, "private"))
    assert "pa$$" not in srun


def test_enroot_netrc_is_written_0600_and_the_import_gets_it_in_its_environment(tmp_path):
    """Run the batch-side import function with the enroot shim: credentials file, once-only, tmp + mv."""
    script = compile_steps(ENROOT_PRIVATE)
    functions = script[script.index("jobc_log() {") : script.index("# ---- running the job")]
    log = tmp_path / "shims.jsonl"
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    cache = tmp_path / "cache"
    driver = textwrap.dedent("""
        set -euo pipefail
        SLURM_JOB_ID=42
        JOBC_RUN=$1
        eval "$(cat "$2")"
        jobc_enroot_import 'docker://john@registry.example.org#team/app:1.0' "$3/app.sqsh" registry.example.org john 'steps[0].run.container.password'
        jobc_enroot_import 'docker://john@registry.example.org#team/app:1.0' "$3/app.sqsh" registry.example.org john 'steps[0].run.container.password'
        ls -A "$JOBC_RUN"
    """)
    (tmp_path / "functions.sh").write_text(functions)
    result = subprocess.run(
        ["bash", "-c", driver, "driver", str(run), str(tmp_path / "functions.sh"), str(cache)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{SHIMS}:{os.environ['PATH']}", "JOBC_SHIM_LOG": str(log)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", "the credentials directory is removed after the import"
    (record,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert record["argv"][:2] == ["import", "--output"] and record["argv"][2].startswith(f"{cache}/app.sqsh.42.")
    assert record["argv"][3] == "docker://john@registry.example.org#team/app:1.0"
    assert record["credentials"]["mode"] == "0600"
    assert record["credentials"]["content"] == f"machine registry.example.org login john password {PASSWORD}\n"
    assert record["config_path"].startswith(f"{run}/enroot.")
    assert sorted(p.name for p in cache.iterdir()) == ["app.sqsh", "app.sqsh.lock"]


def test_docker_hub_credentials_also_cover_its_token_service():
    script = compile_steps("""
        - name: hub
          run:
            container: {image: ubuntu:24.04, username: john, password: pw}
            command: "true"
    """)
    assert "jobc_enroot_import 'docker://john@registry-1.docker.io#library/ubuntu:24.04'" in script
    assert "printf 'machine %s login %s password %s\\n' auth.docker.io" in script


def test_redact_replaces_every_container_secret():
    script = compile_steps(
        ENROOT_PRIVATE
        + """
- name: second
  run:
    container: {image: tool:2, apptainer: true, username: bob, password: hunter2-secret}
    command: "true"
""",
        redact=True,
    )
    assert "pa$$w0rd" not in script and "hunter2-secret" not in script
    assert "['steps[0].run.container.password']='<redacted: steps[0].run.container.password>'" in script
    assert "['steps[1].run.container.password']='<redacted: steps[1].run.container.password>'" in script


def test_apptainer_private_registry_lines():
    script = compile_steps("""
        - name: report
          run:
            container:
              image: analytics/report-builder:1.4.2
              registry: ghcr.io
              username: ci-bot
              password: ghp_secret
              apptainer: true
              mounts:
                - {hostDir: /shared/reference, containerDir: /reference, options: ro}
            mapRoot: true
            workDir: /opt/report
            command: ./build-report
    """)
    lines = step_lines(script, "report")
    image = re.search(r'"\$JOBC_IMAGE_CACHE"/analytics_report-builder_1\.4\.2-[0-9a-f]{12}\.sif', script).group(0)
    assert lines[0] == (
        f"jobc_apptainer_pull docker://ghcr.io/analytics/report-builder:1.4.2 {image} ci-bot "
        "'steps[0].run.container.password'"
    )
    assert srun_command(lines) == (
        'srun --job-name=report --ntasks=1 --cpus-per-task=1 --mem-per-cpu=512M --chdir="$STORAGE_PATH" '
        '-- apptainer exec --fakeroot --no-home --writable-tmpfs --pwd /opt/report --bind "$STORAGE_PATH:$STORAGE_PATH" '
        f"{caches('--bind')} --bind /shared/reference:/reference:ro {image} /bin/sh -c ./build-report"
    )
    assert "export APPTAINER_DOCKER_PASSWORD=${JOBC_SECRETS[$key]}" in script
    assert "ghp_secret" not in srun_command(lines)
    # An Apptainer-only job needs neither the enroot runner nor the network functions.
    assert "jobc_enroot()" not in script and "jobc_enroot_import()" not in script and "jobc_netns" not in script


def test_hosted_and_absolute_images_run_from_their_files_without_fetching():
    script = compile_steps("""
        - name: hosted
          run:
            container: {image: library/stable-diffusion:latest, registry: registry-1.deepsquare.run, deepsquareHosted: true, x11: true}
            command: "true"
        - name: from-input
          run:
            container: {image: /input/images/tool.sqsh, x11: true}
            workDir: results
            command: "true"
        - name: from-storage
          run:
            container: {image: /my.sif, apptainer: true}
            command: "true"
    """)
    hosted = step_lines(script, "hosted")
    assert srun_command(hosted).endswith(
        '-- apptainer exec --no-home --writable-tmpfs --pwd "$STORAGE_PATH" --bind "$STORAGE_PATH:$STORAGE_PATH" '
        f'{caches("--bind")} --bind "/tmp/.X11-unix":/tmp/.X11-unix "$JOBC_HOSTED_IMAGES"/library/stable-diffusion:latest /bin/sh -c true'
    )
    assert 'JOBC_HOSTED_IMAGES="/opt/software/deepsquare-hosted"' in script
    from_input = step_lines(script, "from-input")
    assert from_input[:2] == [
        'export JOBC_WORKDIR="$STORAGE_PATH"/results',
        "export JOBC_CONTAINER_ENV='JOB_VAR DISPLAY'",
    ]
    assert (
        'jobc_enroot "$DEEPSQUARE_INPUT"/images/tool.sqsh ENROOT_MOUNT_HOME=n --no-entrypoint --rw --mount "$STORAGE_PATH:$STORAGE_PATH" '
        f'{caches("--mount")} --mount "/tmp/.X11-unix":/tmp/.X11-unix --'
    ) in srun_command(from_input)
    assert '"$STORAGE_PATH"/my.sif /bin/sh -c true' in srun_command(step_lines(script, "from-storage"))
    assert "jobc_enroot_import" not in script and "jobc_apptainer_pull" not in script
    assert "JOBC_SECRETS" not in script


def test_site_profile_names_the_tools_and_the_x11_directory():
    site = site_from_dict(
        {
            "tools": {"enroot": "/opt/enroot/bin/enroot", "apptainer": "/opt/apptainer/bin/apptainer"},
            "paths": {"x11_socket_dir": "${HOME}/x11"},
        }
    )
    script = compile_steps(
        """
        - name: e
          run:
            container: {image: a:1, x11: true}
            command: "true"
        - name: a
          run:
            container: {image: a:1, apptainer: true}
            command: "true"
    """,
        site=site,
    )
    assert "/opt/enroot/bin/enroot start" in script and "/opt/enroot/bin/enroot import" in script
    assert "/opt/enroot/bin/enroot create" in script and "/opt/enroot/bin/enroot remove --force" in script
    assert "-- /opt/apptainer/bin/apptainer exec" in script and "/opt/apptainer/bin/apptainer pull" in script
    assert '--mount "${HOME}/x11":/tmp/.X11-unix' in script


def test_container_steps_in_a_launch_are_wrapped_once_by_jobc_task():
    script = compile_steps("""
        - name: bg
          launch:
            steps:
              - name: served
                run:
                  container: {image: srv:1}
                  command: serve
    """)
    srun = srun_command(step_lines(script, "served"))
    assert srun.count("jobc_task") == 1
    assert "-- bash -c 'jobc_task \"$@\"' jobc-task jobc_enroot " in srun


def test_the_env_file_rule_matches_jobc_load_env():
    """jobc_enroot passes the keys jobc_load_env exported: both use the one reserved-name rule."""
    from jobc.backend.render import RESERVED_CASE

    script = compile_steps(ENROOT_PRIVATE)
    assert script.count("$line =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]") == 2
    assert script.count(f"      {RESERVED_CASE}) ") == 2


def test_generated_container_scripts_pass_shellcheck(tmp_path):
    for steps in (
        ENROOT_PRIVATE,
        """
        - name: a
          run:
            container: {image: a:1, apptainer: true, username: u, password: p, x11: true,
                        mounts: [{hostDir: /h, containerDir: /c, options: ro}]}
            mapRoot: true
            workDir: w
            command: echo "$HOME"
        - name: b
          for:
            parallel: true
            items: [x, y]
            steps:
              - run:
                  container: {image: /input/b.sqsh}
                  command: echo "$item"
    """,
    ):
        shellcheck(compile_steps(steps), tmp_path)
        shellcheck(compile_steps(steps, redact=True), tmp_path)


def task_functions(script: str) -> str:
    """The task-side functions of a generated script, to run outside Slurm."""
    return script[script.index("# In a step:") : script.index("# ---- running the job")]


def write_enroot_task(tmp_path: Path) -> None:
    """functions.sh (the task side of a one-container-step job) and the image img.sqsh, in tmp_path."""
    script = compile_steps("""
        - name: c
          run:
            container: {image: /img.sqsh}
            command: "true"
    """)
    (tmp_path / "functions.sh").write_text(task_functions(script))
    (tmp_path / "img.sqsh").write_text("squashfs")


def run_enroot_driver(tmp_path: Path, driver: str, *, step_id: str, path: str = ""):
    """Run `driver` (bash: $1 the task functions, $2 the image) as task SLURM_JOB_ID 7 on node n1, with the
    enroot shim (and `path` before it) on PATH: its result, the shim's log and the node's TMPDIR."""
    log = tmp_path / "shims.jsonl"
    node_tmp = tmp_path / "tmp"
    node_tmp.mkdir()
    env = {
        **os.environ,
        "PATH": f"{path}{SHIMS}:{os.environ['PATH']}",
        "JOBC_SHIM_LOG": str(log),
        "TMPDIR": str(node_tmp),
        "SLURM_JOB_ID": "7",
        "SLURM_STEP_ID": step_id,
        "SLURMD_NODENAME": "n1",
    }
    result = subprocess.run(
        ["bash", "-c", driver, "driver", str(tmp_path / "functions.sh"), str(tmp_path / "img.sqsh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    return result, log, node_tmp


@pytest.mark.parametrize("tasks", [1, 4])
def test_enroot_tasks_on_one_node_share_one_container(tmp_path, tasks):
    """Concurrent jobc_enroot calls of one step: one create, every task starts, one remove, no lock left."""
    write_enroot_task(tmp_path)
    log = tmp_path / "shims.jsonl"
    node_tmp = tmp_path / "tmp"
    node_tmp.mkdir()
    driver = textwrap.dedent("""
        eval "$(cat "$1")"
        for task in $(seq 1 "$2"); do
          SLURM_PROCID=$task jobc_enroot "$3" --rw -- sh -c 'sleep 0.2; echo "ran $SLURM_PROCID"' &
        done
        wait
    """)
    env = {
        **os.environ,
        "PATH": f"{SHIMS}:{os.environ['PATH']}",
        "JOBC_SHIM_LOG": str(log),
        "TMPDIR": str(node_tmp),
        "SLURM_JOB_ID": "7",
        "SLURM_STEP_ID": "3",
        "SLURMD_NODENAME": "node.1",
    }
    result = subprocess.run(
        ["bash", "-c", driver, "driver", str(tmp_path / "functions.sh"), str(tasks), str(tmp_path / "img.sqsh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split("\n")[:-1]) == sorted(f"ran {t}" for t in range(1, tasks + 1))
    records = [json.loads(line) for line in log.read_text().splitlines()]
    verbs = [r["argv"][0] for r in records]
    assert verbs.count("create") == 1 and verbs.count("remove") == 1 and verbs.count("start") == tasks
    assert verbs[0] == "create" and verbs[-1] == "remove"
    assert records[0]["argv"] == ["create", "--name", "jobc-7-3-node_1", str(tmp_path / "img.sqsh")]
    assert records[-1]["argv"] == ["remove", "--force", "jobc-7-3-node_1"]
    assert list((node_tmp / f"jobc-{os.getuid()}").iterdir()) == []


def test_enroot_container_is_removed_when_the_tasks_term_comes_after_its_command_ended(tmp_path):
    """Slurm signals a step's processes one by one: the container's command may end on its TERM before the
    task's shell gets its own. That TERM, arriving here while the release waits for the node's lock (a flock
    stand-in sends it), must not stop the release: the container is removed, and the task ends with 143."""
    write_enroot_task(tmp_path)
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir()
    flock = stand_ins / "flock"
    flock.write_text(
        textwrap.dedent(f"""\
            #!/bin/bash
            # The second lock is the release's: the container's command has ended, now the shell's TERM comes.
            echo x >> {tmp_path / "flocks"}
            if [[ $(wc -l < {tmp_path / "flocks"}) == 2 ]]; then kill -TERM "$PPID"; fi
            exec /usr/bin/flock "$@"
        """)
    )
    flock.chmod(0o755)
    driver = 'eval "$(cat "$1")"; (jobc_enroot "$2" --rw -- true); echo "task ended with $?"'
    result, log, node_tmp = run_enroot_driver(tmp_path, driver, step_id="4", path=f"{stand_ins}:")
    assert result.stdout == "task ended with 143\n", result.stderr
    assert (tmp_path / "flocks").read_text() == "x\nx\n"
    verbs = [json.loads(line)["argv"][0] for line in log.read_text().splitlines()]
    assert verbs == ["create", "start", "remove"], result.stderr
    assert list((node_tmp / f"jobc-{os.getuid()}").iterdir()) == []


def test_enroot_shim_gets_a_containers_own_variable_by_value_and_it_wins_over_the_same_name(tmp_path):
    """A container's own variable (bfabric docker `env`) reaches `enroot start` as `--env=KEY=VALUE`, never
    by name: so it is not exported on the batch side (where a PATH or SLURM_JOB_ID would be srun's), and
    the name is not passed a second time from jobc_enroot's own list."""
    write_enroot_task(tmp_path)
    driver = 'eval "$(cat "$1")"; jobc_enroot "$2" --rw --env=SLURM_JOB_ID=spec -- sh -c \'echo "$SLURM_JOB_ID"\''
    result, log, _ = run_enroot_driver(tmp_path, driver, step_id="5")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "spec\n"
    [start] = [r for r in map(json.loads, log.read_text().splitlines()) if r["argv"][0] == "start"]
    assert "SLURM_JOB_ID=spec" in start["env_keys"] and "SLURM_JOB_ID" not in start["env_keys"]
