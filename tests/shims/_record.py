"""Shared by the shims: append one JSON object per call to the file named by $JOBC_SHIM_LOG.

Each record has `tool` and `argv` (the shim's arguments, without its own name),
plus what the tool is told through files or its environment. One `write` per
record on a file opened with O_APPEND, so concurrent tasks never mix lines.
"""

from __future__ import annotations

import json
import os
import sys


def record(tool: str, **extra) -> None:
    log = os.environ.get("JOBC_SHIM_LOG")
    if not log:
        print(f"{tool} (jobc test shim): JOBC_SHIM_LOG is not set", file=sys.stderr)
        sys.exit(97)
    entry = {
        "tool": tool,
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "node": os.environ.get("SLURMD_NODENAME", ""),
        **extra,
    }
    line = (json.dumps(entry) + "\n").encode()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def file_facts(path: str) -> dict:
    """Content and permission bits of a file the tool was pointed at (or why they are missing)."""
    try:
        st = os.stat(path)
        with open(path, encoding="utf-8", errors="replace") as fh:
            return {"path": path, "mode": format(st.st_mode & 0o7777, "04o"), "content": fh.read()}
    except OSError as exc:
        return {"path": path, "error": exc.strerror}


def run(argv: list[str], env: dict | None = None, cwd: str | None = None) -> int:
    """Run the contained command on the host, as the real tool would inside the container."""
    import subprocess

    if not argv:
        return 0
    try:
        return subprocess.run(argv, env=env, cwd=cwd).returncode
    except FileNotFoundError:
        print(f"shim: {argv[0]}: command not found", file=sys.stderr)
        return 127
