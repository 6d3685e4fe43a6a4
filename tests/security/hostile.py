"""Hostile strings and canaries, shared by the injection tests (through bash, and through the real Slurm).

Every hostile value embeds at least one canary: a command that, if it ever runs, creates a file in
CANARY_DIR. The recording shims (shims/shim.py) are linked under each tool's name in BIN_DIR.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import strategies as st

SHIM = Path(__file__).resolve().parent / "shims" / "shim.py"
TOOLS = [
    "srun",
    "scancel",
    "squeue",
    "s5cmd",
    "curl",
    "enroot",
    "apptainer",
    "docker",
    "wg-quick",
    "bore",
    "dpsproxy",
    "slirp4netns",
    "unshare",
    "mount",
    "probe",
    "dispatch",
]

# The canaries: fixed at import, since the strategies (built at import) embed the path.
CANARY_DIR = tempfile.mkdtemp(prefix="jobc-canary-")
BIN_DIR = tempfile.mkdtemp(prefix="jobc-sec-bin-")
for _tool in TOOLS:
    os.symlink(SHIM, os.path.join(BIN_DIR, _tool))
atexit.register(shutil.rmtree, CANARY_DIR, True)
atexit.register(shutil.rmtree, BIN_DIR, True)
PROBE = os.path.join(BIN_DIR, "probe")
DISPATCH = os.path.join(BIN_DIR, "dispatch")

_C = CANARY_DIR
PAYLOADS = [
    f"$(touch {_C}/dollar)",
    f"`touch {_C}/tick`",
    f"; touch {_C}/semi",
    f" && touch {_C}/and",
    f"|touch {_C}/pipe",
    f"\ntouch {_C}/newline\n",
    f"\rtouch {_C}/cr",
    f"'; touch {_C}/sq; '",
    f'"; touch {_C}/dq; "',
    f"'$(touch {_C}/sq-dollar)'",
    f'"$(touch {_C}/dq-dollar)"',
    f"${{x:-$(touch {_C}/brace)}}",
    f"\\'; touch {_C}/bs-sq #",
    f'\\"; touch {_C}/bs-dq #',
    f"<(touch {_C}/procsub)",
    f"$'\\x27'; touch {_C}/ansi",
    f"\nEOF\ntouch {_C}/heredoc-eof\nEOF\n",
    f"\nJOBC_EOF\ntouch {_C}/heredoc-jobc\n",
    f"\n#SBATCH --x\ntouch {_C}/sb\n",
    f"%(touch {_C}/pct)s",
    f"\t; touch {_C}/tab",
    f"*; touch {_C}/glob",
    f"\\\ntouch {_C}/continuation",
    f"\r\ntouch {_C}/crlf\r\n",
]
ATOMS = list("'\"\\$`!*?[]{}();&|<>#~%,=: \t\n\r") + [
    "$(",
    "${",
    "$((",
    "))",
    "$HOME",
    "${HOME}",
    "~root",
    "\\n",
    "'\"'",
    "**/",
    "-",
    "--",
    "-n",
    "-e",
    "EOF",
    "\nEOF\n",
    "JOBC_EOF",
    "\nJOBC_EOF\n",
    "é",
    "日本語",
    "\u2028",
    "\x7f",
    "\x1b[31m",
    "\U0001f600",
    "\\\\",
    "%s",
    "%%",
    "%j",
    "#!",
    "=x",
    "a=b",
    "IFS=",
    "\x01",
    "\x0b",
    "\x0c",
    "\r\n",
]
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
_CHUNK = st.one_of(st.sampled_from(PAYLOADS), st.sampled_from(ATOMS), _TEXT)
_SHORT = st.tuples(st.sampled_from(PAYLOADS), st.lists(_CHUNK, max_size=10)).map(lambda t: t[0] + "".join(t[1]))
_LONG = st.tuples(st.sampled_from(PAYLOADS), st.integers(300, 3000), st.sampled_from(ATOMS + ["x"])).map(
    lambda t: t[0] + t[2] * (t[1] // len(t[2])) + t[0]
)
HOSTILE = st.one_of(_SHORT, _SHORT, _SHORT, _LONG)
HOSTILE_SHORT = st.lists(_CHUNK, min_size=0, max_size=6).flatmap(
    lambda parts: st.sampled_from(PAYLOADS).map(lambda p: p + "".join(parts))
)


def no(chars: str, text: str, by: str = "_") -> str:
    return "".join(by if c in chars else c for c in text)


def no_space_control(text: str) -> str:
    return "".join("_" if (c.isspace() or ord(c) < 32 or c == "\x7f") else c for c in text)


def trim_bytes(text: str, limit: int) -> str:
    while len(text.encode()) > limit:
        text = text[:-1]
    return text


def check_canaries() -> None:
    fired = os.listdir(CANARY_DIR)
    assert not fired, f"INJECTION: canary {fired} created"
