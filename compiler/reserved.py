"""Environment names the generated script sets or relies on, so a spec cannot redefine them.

One list for both places a user can name a variable: the job's and steps' `env`
(rejected at compile time, with a located error) and the `KEY=value` lines steps
append to `$DEEPSQUARE_ENV` (ignored at run time, with a log line).
"""

from __future__ import annotations

import re

RESERVED_NAMES = (
    "PATH",
    "LD_PRELOAD",
    "IFS",
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
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
RESERVED_PREFIXES = ("DEEPSQUARE_", "SLURM_", "JOBC_")

# The same rule as a bash extended regular expression, for the script's `[[ $key =~ … ]]`.
RESERVED_PATTERN = "^(" + "|".join(RESERVED_NAMES + tuple(p + "[A-Za-z0-9_]*" for p in RESERVED_PREFIXES)) + ")$"


def is_reserved(name: str) -> bool:
    return bool(re.fullmatch(RESERVED_PATTERN[1:-1], name))


def describe() -> str:
    return ", ".join(RESERVED_NAMES + tuple(p + "*" for p in RESERVED_PREFIXES))
