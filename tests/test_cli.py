"""The `jobc` command line: commands, output files, exit codes, start-up imports."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support import CliRunner, disk_full

import jobc
from jobc import passes
from jobc.cli import run as app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

HELLO = """\
resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}
steps:
  - name: hello
    run:
      command: echo "hello"
"""

WITH_SECRET = """\
resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}
output:
  s3:
    region: us-east-1
    bucketUrl: s3://bucket
    path: /out
    accessKeyId: AKIAEXAMPLE
    secretAccessKey: very-secret-value
    endpointUrl: https://s3.example.org
steps:
  - run:
      command: echo hi > "$DEEPSQUARE_OUTPUT/x"
"""

INVALID = """\
resources: {tasks: 0, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}
steps:
  - run: {command: x, shell: /bin/zsh}
"""


def invoke(*args: str, input: str | None = None):
    result = CliRunner().invoke(app, list(args), input=input)
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JOBC_SITE", raising=False)
    Path("job.yaml").write_text(HELLO)
    Path("secret.yaml").write_text(WITH_SECRET)
    Path("bad.yaml").write_text(INVALID)
    return tmp_path


def jobc_process(
    *args: str, cwd: Path, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`python -m jobc ARGS` without the caller's JOBC_SITE (`env`: the variables to run with instead)."""
    env = {k: v for k, v in (os.environ if env is None else env).items() if k != "JOBC_SITE"}
    return subprocess.run(
        [sys.executable, "-m", "jobc", *args], cwd=cwd, input=input, capture_output=True, text=True, env=env, timeout=60
    )


# --- help and version ---------------------------------------------------------------------------


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout == f"jobc {jobc.__version__}\n"


def test_help() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("compile", "validate", "schema"):
        assert command in result.stdout


def test_command_help() -> None:
    result = invoke("compile", "--help")
    assert result.exit_code == 0 and "--sbatch" in result.stdout and "--output" in result.stdout


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["compile", "--help"], ["completion", "bash"], ["__complete", "compile", "--s"]],
)
def test_help_version_and_completion_import_no_heavy_module(args: list[str], tmp_path: Path) -> None:
    """Neither pydantic, jinja2, yaml nor mako (nor a CLI framework): these answer in a few milliseconds."""
    probe = (
        "import sys\n"
        f"sys.argv = ['jobc', *{args!r}]\n"
        "from jobc.cli import command\n"
        "code = command(sys.argv[1:])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'pydantic_core', 'jinja2', 'yaml', 'mako', 'typer', 'click', 'argparse'))\n"
        "print(repr(heavy), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == "[]"


def test_compile_of_a_job_without_use_imports_no_module_machinery(tmp_path: Path) -> None:
    """`jobc.modules` (git, the module cache, Go templates) and the module file's models are a `use`'s cost."""
    probe = (
        "import sys\n"
        f"sys.argv = ['jobc', 'compile', {str(EXAMPLES / 'reference-job-minimal.json')!r}, '-o', 'out.sh']\n"
        "from jobc.cli import command\n"
        "code = command(sys.argv[1:])\n"
        "assert not code, code\n"
        "print(repr(sorted(m for m in sys.modules if m.startswith(('jobc.modules', 'jobc.frontends.module_models')))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.sh").read_text().startswith("#!")
    assert proc.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(("setting", "loaded"), [(None, False), ("", True)])
def test_compile_loads_no_pydantic_plugin_unless_the_user_asks(setting, loaded, tmp_path: Path) -> None:
    """A distribution on the path with a `pydantic` entry point (as a tracing package installs one): jobc does
    not import it; with `PYDANTIC_DISABLE_PLUGINS` set by the user (here to nothing: every plugin), pydantic
    loads it as usual, which shows the plugin is found."""
    site = tmp_path / "site"
    (site / "probe_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "probe_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: probe-plugin\nVersion: 1.0\n"
    )
    (site / "probe_plugin-1.0.dist-info" / "entry_points.txt").write_text("[pydantic]\nprobe = probe_plugin:plugin\n")
    marker = tmp_path / "plugin-imported"
    (site / "probe_plugin.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "class Plugin:\n    def new_schema_validator(self, *args, **kwargs):\n        return None, None, None\n"
        "plugin = Plugin()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [env.get("PYTHONPATH")])])
    if setting is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = setting
    proc = jobc_process("compile", str(EXAMPLES / "reference-job-minimal.json"), "-o", "out.sh", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert marker.exists() is loaded


# --- compile --------------------------------------------------------------------------------------


def test_compile_to_stdout(here: Path) -> None:
    result = invoke("compile", "job.yaml")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("#!")
    assert "#SBATCH --ntasks=1" in result.stdout
    assert result.stderr == ""


def test_compile_from_stdin(here: Path) -> None:
    result = invoke("compile", "-", input=HELLO)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("#!") and "#SBATCH --job-name=jobc" in result.stdout.splitlines()
    assert 'echo "hello"' in result.stdout


def test_compile_json_from_stdin_is_recognised(here: Path) -> None:
    spec = '{"resources": {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 1, "gpusPerTask": 0}, "steps": []}'
    assert invoke("compile", "-", input=spec).exit_code == 0


def test_stdin_diagnostics_name_stdin(here: Path) -> None:
    result = invoke("validate", "-", input=INVALID)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "<stdin>:1:20: resources.tasks: must be at least 1 [E0301]"


def test_output_file_is_written_and_its_path_printed(here: Path) -> None:
    result = invoke("compile", "job.yaml", "-o", "job.sh")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "job.sh\n"
    assert Path("job.sh").read_text() == invoke("compile", "job.yaml").stdout
    assert sorted(os.listdir(here)) == ["bad.yaml", "job.sh", "job.yaml", "secret.yaml"]  # no temporary file left


def test_output_path_works_in_command_substitution(here: Path) -> None:
    """`sbatch "$(jobc compile job.yaml -o job.sh)"`: stdout is exactly the path."""
    script = f'path="$({sys.executable} -m jobc compile job.yaml -o "out dir.sh")"; test -s "$path" && echo "[$path]"'
    proc = subprocess.run(["bash", "-c", script], cwd=here, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[out dir.sh]\n"


def test_output_file_mode_follows_umask_without_secrets(here: Path) -> None:
    old = os.umask(0o022)
    try:
        assert invoke("compile", "job.yaml", "-o", "job.sh").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat("job.sh").st_mode) == 0o644


def test_output_file_with_secrets_is_private(here: Path) -> None:
    result = invoke("compile", "secret.yaml", "-o", "job.sh")
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(os.stat("job.sh").st_mode) == 0o600


def test_output_file_replaces_an_existing_one(here: Path) -> None:
    Path("job.sh").write_text("old\n")
    assert invoke("compile", "job.yaml", "-o", "job.sh").exit_code == 0
    assert Path("job.sh").read_text().startswith("#!")


def test_invalid_spec_does_not_create_the_output(here: Path) -> None:
    result = invoke("compile", "bad.yaml", "-o", "job.sh")
    assert result.exit_code == 2 and result.stdout == ""
    assert not Path("job.sh").exists()
    assert sorted(os.listdir(here)) == ["bad.yaml", "job.yaml", "secret.yaml"]


def test_invalid_spec_does_not_truncate_an_existing_output(here: Path) -> None:
    Path("job.sh").write_text("previous script\n")
    result = invoke("compile", "bad.yaml", "-o", "job.sh")
    assert result.exit_code == 2
    assert Path("job.sh").read_text() == "previous script\n"


def test_output_into_a_missing_directory_is_a_clean_error(here: Path) -> None:
    result = invoke("compile", "job.yaml", "-o", "no/such/dir/job.sh")
    assert result.exit_code == 2
    assert result.stderr == "jobc: no/such/dir/job.sh: cannot write: No such file or directory [E0604]\n"


def test_compile_reports_every_problem_in_source_order(here: Path) -> None:
    result = invoke("compile", "bad.yaml")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "bad.yaml:1:20: resources.tasks: must be at least 1 [E0301]",
        "bad.yaml:3:30: steps[0].run.shell: must be one of /bin/bash, /bin/ash, /bin/sh, ENTRYPOINT [E0203]",
    ]


def test_warnings_go_to_stderr_and_the_script_still_compiles(here: Path) -> None:
    Path("warn.yaml").write_text(
        HELLO + "  - for: {parallel: false, range: {begin: 1, end: 3, increment: -1}, steps: []}\n"
    )
    result = invoke("compile", "warn.yaml")
    assert result.exit_code == 0 and result.stdout.startswith("#!")
    assert (
        result.stderr
        == "warn.yaml:6:35: warning: steps[1].for.range: runs no iteration: from 1 by -1 never reaches 3 [W0101]\n"
    )


# --- sbatch directives and the site profile -------------------------------------------------------


def test_sbatch_directive(here: Path) -> None:
    result = invoke("compile", "job.yaml", "--sbatch", "partition=gpu", "--sbatch", "--time=01:00:00")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "#SBATCH --partition=gpu" in lines and "#SBATCH --time=01:00:00" in lines


@pytest.mark.parametrize(
    "flag, message",
    [
        ("ntasks=4", "jobc: --sbatch ntasks: set by the spec's resources, not by a directive [E0601]"),
        ("mem=4G", "jobc: --sbatch mem: set by the spec's resources, not by a directive [E0601]"),
        ("partition", "jobc: --sbatch 'partition': expected key=value, such as partition=gpu [E0601]"),
        ("Bad_Key=1", "jobc: --sbatch 'Bad_Key=1': expected key=value, such as partition=gpu [E0601]"),
        ("comment=a\nb", "jobc: --sbatch comment: must not contain newlines or other control characters [E0601]"),
    ],
)
def test_bad_sbatch_flags_are_usage_errors(here: Path, flag: str, message: str) -> None:
    result = invoke("compile", "job.yaml", "--sbatch", flag)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == message + "\n"


def test_site_profile(here: Path) -> None:
    Path("site.toml").write_text('[sbatch]\npartition = "debug"\n[tools]\nsrun = "/opt/slurm/bin/srun"\n')
    result = invoke("compile", "job.yaml", "--site", "site.toml")
    assert result.exit_code == 0, result.stderr
    assert "#SBATCH --partition=debug" in result.stdout.splitlines()
    assert "/opt/slurm/bin/srun" in result.stdout


def test_site_profile_from_the_environment(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("site.toml").write_text('[sbatch]\naccount = "lab"\n')
    monkeypatch.setenv("JOBC_SITE", "site.toml")
    assert "#SBATCH --account=lab" in invoke("compile", "job.yaml").stdout.splitlines()


@pytest.mark.parametrize(
    "profile, message",
    [
        ("[paths]\nnope = 1\n", "site.toml:2:1: paths.nope: unknown key (known: "),
        ("[tool]\nsrun = 'x'\n", "site.toml:1:1: tool: unknown section; did you mean tools? (known: "),
        ("[tools]\nsrun = 1\n", "site.toml:2:1: tools.srun: must be a string [E0702]"),
        ("[options]\nsync_interval = true\n", "site.toml:2:1: options.sync_interval: must be an integer [E0702]"),
        ("tools = 1\n", "site.toml:1:1: tools: must be a table [E0702]"),
        (
            "[sbatch]\nntasks = 2\n",
            "site.toml:2:1: sbatch.ntasks: set by the spec's resources, not by a directive [E0702]",
        ),
        (
            "[paths\n",
            "site.toml:1:7: invalid TOML: Expected ']' at the end of a table declaration [E0703]",
        ),
        ("[paths]\nstorage_root = [1,\n", "site.toml:3:1: invalid TOML: Invalid value [E0703]"),  # at the end
        ('[paths]\nstorage_root = "x', "site.toml:2:18: invalid TOML: Unterminated string [E0703]"),
        (
            "[options]\ncontainer_runtime = 'singularity'\n",
            "site.toml:2:1: options.container_runtime: must be one of docker, apptainer, enroot [E0702]",
        ),
    ],
)
def test_bad_site_profile_is_a_clean_error(here: Path, profile: str, message: str) -> None:
    Path("site.toml").write_text(profile)
    result = invoke("compile", "job.yaml", "--site", "site.toml")
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    if message.endswith("(known: "):  # the list of known keys grows with the profile
        assert result.stderr.startswith(message)
    else:
        assert result.stderr == message + "\n"


def test_every_problem_of_a_site_profile_at_once(here: Path) -> None:
    """`unknown section [path]` used to hide the `sync_intervall` typo: now both, located, with a suggestion."""
    Path("site.toml").write_text(
        '[path]\nstorage_root = "/x"\n\n[options]\n  sync_intervall = 30\nlogger = "x"\n[tools]\nsrun = ""\n'
    )
    result = invoke("validate", "job.yaml", "--site", "site.toml")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "site.toml:1:1: path: unknown section; did you mean paths? (known: options, paths, sbatch, tools) [E0701]",
        "site.toml:5:3: options.sync_intervall: unknown key; did you mean sync_interval? (known: container_runtime, "
        "docker_args, launch_grace, logger, podman_args, s3_retries, sync_interval) [E0701]",
        "site.toml:6:1: options.logger: must be a list [E0702]",
        "site.toml:8:1: tools.srun: must be a non-empty string without NUL [E0702]",
    ]


def test_missing_site_profile(here: Path) -> None:
    result = invoke("validate", "job.yaml", "--site", "nope.toml")
    assert result.exit_code == 2
    assert result.stderr == "jobc: nope.toml: cannot read site profile: No such file or directory [E0604]\n"


# --- validate ---------------------------------------------------------------------------------------


def test_validate_reports_every_file(here: Path) -> None:
    Path("bad2.json").write_text('{"resources": {"tasks": 1}, "steps": []}')
    result = invoke("validate", "bad.yaml", "job.yaml", "missing.yaml", "bad2.json")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "bad.yaml:1:20: resources.tasks: must be at least 1 [E0301]",
        "bad.yaml:3:30: steps[0].run.shell: must be one of /bin/bash, /bin/ash, /bin/sh, ENTRYPOINT [E0203]",
        "job.yaml: ok",
        "jobc: missing.yaml: No such file or directory [E0604]",
        "bad2.json:1:15: resources: give gpus (the job's GPUs), or the Job Reference's gpusPerTask [E0202]",
        "bad2.json:1:15: resources.cpusPerTask: is required [E0202]",
        "bad2.json:1:15: resources.memPerCpu: is required [E0202]",
    ]


def test_validate_ok(here: Path) -> None:
    result = invoke("validate", "job.yaml", "secret.yaml")
    assert result.exit_code == 0 and result.stderr == "job.yaml: ok\nsecret.yaml: ok\n"


def test_validate_does_not_print_secrets(here: Path) -> None:
    Path("leak.yaml").write_text(WITH_SECRET.replace("bucketUrl: s3://bucket", "bucketUrl: s3://bucket/"))
    result = invoke("validate", "leak.yaml")
    assert result.exit_code == 2 and "very-secret-value" not in result.stderr


# --- exit codes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["compile"],
        ["compile", "job.yaml", "--no-such-option"],
        ["no-such-command"],
        ["validate"],
        ["compile", "missing.yaml"],
        ["compile", "job.yaml", "extra.yaml"],
    ],
)
def test_usage_errors_exit_2(here: Path, args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.stdout + result.stderr


def test_not_utf8_is_a_clean_error(here: Path) -> None:
    Path("latin1.yaml").write_bytes(HELLO.replace("hello", "h\xe9llo").encode("latin-1"))
    result = invoke("compile", "latin1.yaml")
    assert result.exit_code == 2 and result.stderr == "jobc: latin1.yaml: not UTF-8 text [E0604]\n"


def test_internal_error_exits_70_with_one_line(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(job, site):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(passes, "PASSES", passes.PASSES[:2] + (broken,))
    result = invoke("compile", "job.yaml", "-o", "job.sh")
    assert result.exit_code == 70
    assert result.stdout == ""
    assert result.stderr == (
        "jobc: internal error (a bug in jobc; please report it with the spec): RuntimeError: boom second line\n"
    )
    assert not Path("job.sh").exists()


def test_internal_error_in_a_subprocess_has_no_traceback(here: Path) -> None:
    probe = (
        "import sys, jobc.passes as p\n"
        "def broken(job, site):\n    raise ZeroDivisionError('x')\n"
        "p.PASSES = (broken,)\n"
        "sys.argv = ['jobc', 'compile', 'job.yaml']\n"
        "from jobc.cli import main\nmain()\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=here, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 70
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_python_dash_m_jobc(here: Path) -> None:
    proc = jobc_process("compile", "job.yaml", cwd=here)
    assert proc.returncode == 0 and proc.stdout.startswith("#!")
    proc = jobc_process("compile", "bad.yaml", cwd=here)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_large_script_reaches_a_pipe_whole_from_the_console_command(tmp_path: Path) -> None:
    """The command ends without the interpreter's teardown (`cli.leave`): a script far larger than a pipe's
    buffer still arrives byte for byte, with exit code 0."""
    steps = "".join(f"  - name: s{i}\n    run:\n      command: echo {i}\n" for i in range(2000))
    spec = "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}\nsteps:\n" + steps
    (tmp_path / "big.yaml").write_text(spec)
    proc = jobc_process("compile", "big.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout) > 500_000
    assert proc.stdout == jobc.compile_spec(spec, name="big.yaml").script


def test_leave_flushes_what_is_buffered_and_skips_the_teardown() -> None:
    """`leave(code)`: the buffered output goes out, the code is kept, and what a teardown runs (here an
    `atexit` function) does not run."""
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('teardown ran'))\n"
        "sys.stdout.write('buffered output')\n"
        "sys.stderr.write('buffered error')\n"
        "from jobc.cli import leave\n"
        "leave(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=_BUFFERED, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "buffered output", "buffered error")


def test_leave_with_a_flush_that_fails_is_a_failed_write_one_line_and_exit_code_74() -> None:
    probe = "import os, sys\nfrom jobc.cli import leave\nsys.stdout.write('lost')\nos.close(1)\nleave(0)\n"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=_BUFFERED, timeout=60)
    assert proc.returncode == 74, proc.stderr
    assert proc.stderr.startswith("jobc: <stdout>: cannot write: Bad file descriptor") and proc.stderr.count("\n") == 1


_BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # the output waits for a flush


# --- schema: tests/test_schema.py ----------------------------------------------------------------------


# --- writing the output ----------------------------------------------------------------------------


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("job.sh").write_text("previous script\n")

    disk_full(monkeypatch)
    result = invoke("compile", "job.yaml", "-o", "job.sh")
    assert result.exit_code == 74  # an I/O error, not a usage error and result.stdout == ""
    assert result.stderr == "jobc: job.sh: cannot write: No space left on device [E0604]\n"
    assert Path("job.sh").read_text() == "previous script\n"
    assert sorted(os.listdir(here)) == ["bad.yaml", "job.sh", "job.yaml", "secret.yaml"]


def test_output_onto_a_directory_is_a_clean_error(here: Path) -> None:
    Path("out").mkdir()
    result = invoke("compile", "job.yaml", "-o", "out")
    assert result.exit_code == 2
    assert result.stderr == "jobc: out: cannot write: Is a directory [E0604]\n"
    assert sorted(os.listdir(here)) == ["bad.yaml", "job.yaml", "out", "secret.yaml"]


def test_redacted_output_is_not_private(here: Path) -> None:
    old = os.umask(0o022)
    try:
        result = invoke("compile", "secret.yaml", "--redact", "-o", "job.sh")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(os.stat("job.sh").st_mode) == 0o644
    assert "very-secret-value" not in Path("job.sh").read_text()


def test_secrets_are_in_the_private_script_but_not_on_stdout_when_redacted(here: Path) -> None:
    assert "very-secret-value" not in invoke("compile", "secret.yaml", "--redact").stdout
