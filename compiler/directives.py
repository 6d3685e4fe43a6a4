"""`#SBATCH` directives: which ones the spec's resources own, and how a value is written on the line.

Shared by the site profile, the command line, the bfabric frontend (submitter
parameters) and the backend, so each checks a directive by the same rule.
"""

from __future__ import annotations

import re

# Directives that the spec's resources decide; a profile or flag may not override them.
RESOURCE_DIRECTIVES = (
    "ntasks",
    "cpus-per-task",
    "mem-per-cpu",
    "gpus-per-task",
    "mem",
    "gpus",
    "mem-per-gpu",
    "cpus-per-gpu",
    "ntasks-per-node",
    "gres",
    "wrap",
)

_PLAIN = re.compile(r"[A-Za-z0-9_./:@%,+=-]+\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class DirectiveError(ValueError):
    pass


def sbatch_value(value: str) -> str:
    """A value for `#SBATCH --key=VALUE`, following sbatch's tokenizer.

    An unquoted `#` ends the line, an unquoted space is an error, backslashes are
    dropped, and quotes of either kind group: so plain values stay plain, others
    are wrapped in the quote they do not contain, and the rest is refused.
    """
    if _CONTROL.search(value):
        raise DirectiveError("must not contain newlines or other control characters")
    if _SURROGATE.search(value):
        raise DirectiveError("must be valid UTF-8 text")
    if _PLAIN.match(value):
        return value
    if "\\" in value:
        raise DirectiveError("must not contain a backslash (sbatch drops them)")
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    raise DirectiveError("cannot contain both kinds of quotes")
