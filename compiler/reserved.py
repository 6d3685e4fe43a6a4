"""Environment names the generated script sets or relies on, so a spec cannot redefine them.

One list for both places a user can name a variable: the job's and steps' `env`
(rejected at compile time, with a located error) and the `KEY=value` lines steps
append to `$DEEPSQUARE_ENV` (ignored at run time, with a log line).
"""

from __future__ import annotations

import re

SCRIPT_NAMES = (
    "PATH",
    "LD_PRELOAD",
    "IFS",
    "ENV",
    "SHELLOPTS",
    "HOME",
    "STORAGE_PATH",
    "NTASKS",
    "CPUS_PER_TASK",
    "MEM_PER_CPU",
    "GPUS_PER_TASK",
    "GPUS",
    "CPUS",
    "MEM",
)
SCRIPT_PREFIXES = ("DEEPSQUARE_", "SLURM_", "JOBC_")

# Bash's own variables that are read-only (an `export UID=…` ends the job under `set -e`) or change how
# bash runs the script: FUNCNEST caps its nested helpers, GLOBIGNORE and POSIXLY_CORRECT change expansion,
# TMOUT times out its `read`s, EXECIGNORE hides commands, CDPATH redirects `cd`.
BASH_NAMES = (
    "BASH",
    "BASHOPTS",
    "BASHPID",
    "CDPATH",
    "EUID",
    "EXECIGNORE",
    "FUNCNAME",
    "FUNCNEST",
    "GLOBIGNORE",
    "GLOBSORT",
    "GROUPS",
    "LINENO",
    "OPTERR",
    "OPTIND",
    "PIPESTATUS",
    "POSIXLY_CORRECT",
    "PPID",
    "PS4",
    "RANDOM",
    "SECONDS",
    "SRANDOM",
    "TMOUT",
    "UID",
)
BASH_PREFIXES = ("BASH_",)

RESERVED_NAMES = SCRIPT_NAMES + BASH_NAMES
RESERVED_PREFIXES = SCRIPT_PREFIXES + BASH_PREFIXES

# The same rule as a bash extended regular expression, for the script's `[[ $key =~ … ]]`.
RESERVED_PATTERN = "^(" + "|".join(RESERVED_NAMES + tuple(p + "[A-Za-z0-9_]*" for p in RESERVED_PREFIXES)) + ")$"


def is_reserved(name: str) -> bool:
    return bool(re.fullmatch(RESERVED_PATTERN[1:-1], name))


def describe() -> str:
    script = ", ".join(SCRIPT_NAMES + tuple(p + "*" for p in SCRIPT_PREFIXES))
    shell = ", ".join(BASH_NAMES + tuple(p + "*" for p in BASH_PREFIXES))
    return f"for the script itself ({script}) or by bash ({shell})"
