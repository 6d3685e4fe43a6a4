"""Writing the script: to standard output, or to the file named by `-o`.

`-o FILE`:
- a regular file, or nothing yet: written atomically (a temporary file in the same directory, renamed
  onto it), mode 0600 when the script holds secrets, else 0666 minus the umask;
- a symlink: the same, onto the file it points to (the link stays a link);
- a FIFO or a character or block device (`/dev/stdout`, `/dev/null`, a pipe): written straight to it,
  its mode left alone;
- a directory, or a path that cannot be created: `UsageError` (exit code 2), nothing written.

A failure while writing (a full disk, a closed pipe, an I/O error), on stdout or on `-o`, is a
`WriteError` (exit code 74, sysexits' EX_IOERR): one line naming the file (`<stdout>`) and the cause.
"""

from __future__ import annotations

import os
import stat
import sys

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: `jobc --help` writes through this module
if TYPE_CHECKING:
    from collections.abc import Iterable

EXIT_IOERR = 74
STDOUT = "<stdout>"


class UsageError(Exception):
    """`-o` names something that cannot be written (exit code 2)."""


class WriteError(Exception):
    """Writing the script failed part way (exit code 74)."""


def _cause(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _write_text(stream, text: str | Iterable[str]) -> None:
    """Write `text` (or its chunks, as `Compiled.chunks` renders them) to the text stream a megabyte at a
    time: given it whole, the stream encodes all of it at once, a second copy of the script in memory (35 MB
    for 100,000 flat steps) when memory peaks."""
    chunks = (text[start : start + _CHUNK] for start in range(0, len(text), _CHUNK)) if isinstance(text, str) else text
    for chunk in chunks:
        stream.write(chunk)


_CHUNK = 1 << 20


def write_stdout(text: str | Iterable[str]) -> None:
    """Write `text` to standard output and flush it, so that a failure is seen here and not at exit."""
    try:
        _write_text(sys.stdout, text)
        sys.stdout.flush()
    except OSError as exc:
        _silence_stdout()
        raise WriteError(f"{STDOUT}: cannot write: {_cause(exc)}") from None


def _silence_stdout() -> None:
    """After a failed write, point fd 1 at /dev/null: Python's final flush of stdout must not fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test runner's buffer)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def write_file(path: str, text: str | Iterable[str], *, private: bool) -> None:
    """Write `text` to `path` as `-o` does (see the module's docstring)."""
    try:
        st = os.stat(path)  # follows symlinks: what the path names in the end
    except FileNotFoundError:
        st = None  # nothing there yet, or a symlink to a file not created yet
    except OSError as exc:  # a symlink loop, a component that is not a directory, no permission
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path}: cannot write: Is a directory")
    if st is not None and (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        _write_straight(path, text)
    else:
        _write_atomically(path, os.path.realpath(path), text, private=private)


def _write_straight(path: str, text: str | Iterable[str]) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            _write_text(fh, text)
            fh.flush()
    except OSError as exc:
        raise WriteError(f"{path}: cannot write: {_cause(exc)}") from None


def _write_atomically(path: str, target: str, text: str | Iterable[str], *, private: bool) -> None:
    """Write through a temporary file in `target`'s directory, then rename it onto `target`. No fsync: the
    script is made again from its spec, and on the network file systems of login nodes an fsync per file
    was most of the time of `compile --out-dir` of many specs (decision 65); a write error still shows, at
    the latest when the file is closed."""
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(prefix=".jobc-", suffix=".tmp", dir=os.path.dirname(target))
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            _write_text(fh, text)
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException as exc:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):  # a full disk is not a bug in jobc
            raise WriteError(f"{path}: cannot write: {_cause(exc)}") from None
        raise
