"""Where the script goes: `-o` onto symlinks, FIFOs, devices and directories; a full disk or a closed pipe.

Exit codes (README, CLI reference): 2 when `-o` names something that cannot be written (nothing is
written), 74 when writing fails part way, on stdout or `-o` (one `jobc:` line, no traceback).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support import CliRunner, disk_full

from jobc.cli import run as app

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

INVALID = "resources: {tasks: 0, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}\nsteps: []\n"


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result


def jobc(*args: str, cwd: Path, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "JOBC_SITE"}
    return subprocess.run(
        [sys.executable, "-m", "jobc", *args],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JOBC_SITE", raising=False)
    Path("job.yaml").write_text(HELLO)
    Path("secret.yaml").write_text(WITH_SECRET)
    Path("bad.yaml").write_text(INVALID)
    return tmp_path


def expected_script() -> str:
    result = invoke("compile", "job.yaml")
    assert result.exit_code == 0
    return result.stdout


def test_dash_o_dash_is_standard_output_and_an_empty_name_is_a_usage_error(here: Path) -> None:
    """`-o -` is standard output, as the spec `-` is standard input; `-o ''` named nothing (it failed as
    "Is a directory", exit code 74)."""
    result = invoke("compile", "job.yaml", "-o", "-")
    assert result.exit_code == 0 and result.stdout == expected_script() and not Path("-").exists()
    result = invoke("compile", "job.yaml", "-o", "")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("jobc: -o: must name a file; leave it out, or give -o -, for standard output [E0601]\n")
    result = invoke("compile", "job.yaml", "-o", "-", "--check")
    assert result.exit_code == 2 and "--check and --diff compare with the scripts written" in result.stderr


# --- -o onto a symlink: the file it points to, atomically --------------------------------------------------------


def test_output_onto_a_symlink_writes_its_target_and_keeps_the_link(here: Path) -> None:
    Path("scripts").mkdir()
    Path("scripts/real.sh").write_text("old\n")
    os.symlink("scripts/real.sh", "link.sh")
    result = invoke("compile", "job.yaml", "-o", "link.sh")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "link.sh\n"
    assert os.readlink("link.sh") == "scripts/real.sh"
    assert Path("scripts/real.sh").read_text() == expected_script()
    assert sorted(os.listdir("scripts")) == ["real.sh"]  # the temporary file was in the target's directory
    assert sorted(os.listdir(here)) == ["bad.yaml", "job.yaml", "link.sh", "scripts", "secret.yaml"]


def test_output_onto_a_symlink_is_atomic_in_the_targets_directory(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("scripts").mkdir()
    Path("scripts/real.sh").write_text("old\n")
    os.symlink(str(here / "scripts/real.sh"), "link.sh")
    renamed = []
    real_replace = os.replace

    def replace(src, dst):
        renamed.append((os.path.dirname(src), dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    assert invoke("compile", "job.yaml", "-o", "link.sh").exit_code == 0
    assert renamed == [(str(here / "scripts"), str(here / "scripts/real.sh"))]
    assert os.path.islink("link.sh")


def test_output_onto_a_dangling_symlink_creates_its_target(here: Path) -> None:
    os.symlink("new.sh", "link.sh")
    assert invoke("compile", "job.yaml", "-o", "link.sh").exit_code == 0
    assert os.path.islink("link.sh") and Path("new.sh").read_text() == expected_script()


def test_output_onto_a_chain_of_symlinks_with_secrets_is_private(here: Path) -> None:
    Path("real.sh").write_text("old\n")
    os.chmod("real.sh", 0o644)
    os.symlink("real.sh", "one")
    os.symlink("one", "two")
    assert invoke("compile", "secret.yaml", "-o", "two").exit_code == 0
    assert os.path.islink("two") and os.path.islink("one")
    assert stat.S_IMODE(os.stat("real.sh").st_mode) == 0o600
    assert "very-secret-value" in Path("real.sh").read_text()


def test_invalid_spec_leaves_a_symlinks_target_alone(here: Path) -> None:
    Path("real.sh").write_text("previous script\n")
    os.symlink("real.sh", "link.sh")
    result = invoke("compile", "bad.yaml", "-o", "link.sh")
    assert result.exit_code == 2 and result.stdout == ""
    assert Path("real.sh").read_text() == "previous script\n" and os.path.islink("link.sh")


def test_output_onto_a_symlink_loop_is_a_clean_error(here: Path) -> None:
    os.symlink("loop", "loop")
    result = invoke("compile", "job.yaml", "-o", "loop")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "jobc: loop: cannot write: Too many levels of symbolic links [E0604]\n"


def test_output_onto_a_symlink_to_a_directory_is_a_clean_error(here: Path) -> None:
    Path("out").mkdir()
    os.symlink("out", "link")
    result = invoke("compile", "job.yaml", "-o", "link")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "jobc: link: cannot write: Is a directory [E0604]\n"
    assert os.listdir("out") == [] and os.path.islink("link")


# --- -o onto a FIFO or a device: straight to it ------------------------------------------------------------------


def test_output_onto_a_fifo_writes_into_it(here: Path) -> None:
    os.mkfifo("pipe")
    os.chmod("pipe", 0o644)
    received = []
    reader = threading.Thread(target=lambda: received.append(Path("pipe").read_text()))
    reader.start()
    result = invoke("compile", "secret.yaml", "-o", "pipe")
    reader.join(30)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "pipe\n"
    assert stat.S_ISFIFO(os.lstat("pipe").st_mode)
    assert stat.S_IMODE(os.lstat("pipe").st_mode) == 0o644  # its mode is left alone
    assert received and received[0].startswith("#!") and "very-secret-value" in received[0]


def test_output_onto_a_character_device_writes_into_it(here: Path) -> None:
    before = os.stat("/dev/null")
    result = invoke("compile", "secret.yaml", "-o", "/dev/null")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "/dev/null\n"
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev, after.st_mode) == (
        before.st_ino,
        before.st_rdev,
        before.st_mode,
    )


def test_output_onto_dev_stdout_is_the_script_on_stdout(here: Path) -> None:
    proc = jobc("compile", "job.yaml", "-o", "/dev/stdout", cwd=here)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected_script() + "/dev/stdout\n"


def test_output_onto_a_symlink_to_a_device_writes_into_the_device(here: Path) -> None:
    os.symlink("/dev/null", "null")
    assert invoke("compile", "job.yaml", "-o", "null").exit_code == 0
    assert os.path.islink("null") and stat.S_ISCHR(os.stat("/dev/null").st_mode)


# --- a full disk or a closed pipe: one line, exit code 74 --------------------------------------------------------


def test_stdout_onto_a_full_disk_exits_74_with_one_line(here: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = jobc("compile", "job.yaml", cwd=here, stdout=full)
    assert proc.returncode == 74
    assert proc.stderr == "jobc: <stdout>: cannot write: No space left on device [E0604]\n"


def test_output_onto_a_full_device_exits_74_with_one_line(here: Path) -> None:
    proc = jobc("compile", "job.yaml", "-o", "/dev/full", cwd=here)
    assert proc.returncode == 74 and proc.stdout == ""
    assert proc.stderr == "jobc: /dev/full: cannot write: No space left on device [E0604]\n"


def test_output_file_onto_a_full_disk_exits_74_and_keeps_the_old_file(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("job.sh").write_text("previous script\n")

    disk_full(monkeypatch)
    result = invoke("compile", "job.yaml", "-o", "job.sh")
    assert result.exit_code == 74 and result.stdout == ""
    assert result.stderr == "jobc: job.sh: cannot write: No space left on device [E0604]\n"
    assert Path("job.sh").read_text() == "previous script\n"
    assert sorted(os.listdir(here)) == ["bad.yaml", "job.sh", "job.yaml", "secret.yaml"]


def closed_pipe_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return jobc(*args, cwd=cwd, stdout=write_end)
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ["compile", "job.yaml"],
        ["schema"],
        ["compile", "job.yaml", "-o", "job.sh"],
        ["--help"],
        ["--version"],
        ["schema", "--help"],
        ["__complete", "comp"],
    ],
)
def test_closed_pipe_on_stdout_exits_74_with_one_line_and_no_traceback(here: Path, args: list[str]) -> None:
    proc = closed_pipe_run(*args, cwd=here)
    assert proc.returncode == 74
    assert proc.stderr == "jobc: <stdout>: cannot write: Broken pipe [E0604]\n"


def test_cannot_create_the_output_is_exit_2(here: Path) -> None:
    if os.geteuid() == 0:
        result = invoke("compile", "job.yaml", "-o", "/proc/jobc.sh")
        assert result.exit_code == 2 and result.stderr.startswith("jobc: /proc/jobc.sh: cannot write: ")
    else:
        Path("ro").mkdir(mode=0o500)
        result = invoke("compile", "job.yaml", "-o", "ro/job.sh")
        assert result.exit_code == 2 and result.stderr == "jobc: ro/job.sh: cannot write: Permission denied [E0604]\n"
    assert len(result.stderr.splitlines()) == 1


# --- a script of many megabytes: written a megabyte at a time, whole -------------------------------------------

BIG = "".join(f"echo 'line {i}' # é\n" for i in range(150_000))  # 3.3 million characters: four chunks


def test_a_script_of_several_megabytes_reaches_stdout_and_a_file_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from jobc.output import _CHUNK, write_file, write_stdout

    assert len(BIG) > 3 * _CHUNK
    write_stdout(BIG)
    assert capsys.readouterr().out == BIG
    write_file(str(tmp_path / "big.sh"), BIG, private=False)
    assert (tmp_path / "big.sh").read_bytes() == BIG.encode()


def test_a_full_disk_after_the_first_megabyte_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills after the first chunk: one error, the temporary file removed, the old script kept."""
    import jobc.output as output

    target = tmp_path / "job.sh"
    target.write_text("previous script\n")
    written: list[int] = []

    class FillingUp:
        def __init__(self, stream) -> None:
            self.stream = stream

        def write(self, text: str) -> None:
            if written:
                raise OSError(28, "No space left on device")
            written.append(len(text))
            self.stream.write(text)

    real = output._write_text
    monkeypatch.setattr(output, "_write_text", lambda stream, text: real(FillingUp(stream), text))
    with pytest.raises(output.WriteError, match=r"job\.sh: cannot write: No space left on device"):
        output.write_file(str(target), BIG, private=False)
    assert written == [output._CHUNK]
    assert target.read_text() == "previous script\n" and sorted(os.listdir(tmp_path)) == ["job.sh"]


def test_a_streamed_compile_renders_the_same_script_in_chunks_once() -> None:
    """`compile_spec(stream=True)`, as the CLI writes: the chunks are the script, rendered as they are taken, with
    Python's cyclic collector as it was; they can be taken once."""
    import gc

    from jobc import _CHUNK, compile_spec

    text = HELLO + "".join(f"  - run: {{command: echo 'step {i}'}}\n" for i in range(6000))
    whole = compile_spec(text).script
    streamed = compile_spec(text, stream=True)
    assert streamed.script is None
    assert gc.isenabled()
    chunks = list(streamed.chunks())
    assert gc.isenabled()
    assert "".join(chunks) == whole and len(chunks) > 1 and all(len(c) >= _CHUNK for c in chunks[:-1])
    with pytest.raises(RuntimeError):
        streamed.chunks()
    assert list(compile_spec(text).chunks()) == [whole]


def test_a_streamed_compile_finds_every_problem_before_the_first_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `#SBATCH` directives are checked when the script's rendering starts: still inside `compile_spec`, so
    that a problem is reported and nothing written."""
    from jobc import compile_spec
    from jobc.backend import render
    from jobc.diagnostics import Diagnostic, SpecError

    def refused(job, site):
        raise SpecError([Diagnostic((), "refused")])

    monkeypatch.setattr(render, "sbatch_directives", refused)
    with pytest.raises(SpecError) as info:
        compile_spec(HELLO, stream=True)
    assert info.value.diagnostics[0].message == "refused" and info.value.source_map is not None


def test_a_spec_text_given_in_a_list_is_let_go_once_read() -> None:
    """The CLI hands `compile_spec` its text in a list, which the compile empties: the same script, and no
    reference to a large spec's text left while the script is rendered."""
    from jobc import compile_spec

    held = [HELLO]
    assert compile_spec(held, stream=True).chunks is not None and held == []
    held = [HELLO]
    assert compile_spec(held).script == compile_spec(HELLO).script and held == []
