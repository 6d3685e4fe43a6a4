"""Shell quoting, by construction.

The Jinja environment finalizes every `{{ value }}` through `finalize`: a plain
string is quoted with `shlex.quote`, so no user value can become shell syntax.
Only `Sh` values (shell text that one of these helpers built) pass unchanged.

Other contexts have their own rules:
- `#SBATCH` lines: sbatch's own tokenizer, not the shell's (`jobc.directives`);
- comments (`comment`): a newline would end the comment and start code;
- site paths (`site_path`): `${NAME}` may refer to the job's environment, and
  nothing else in the string is special.
"""

from __future__ import annotations

import re
import shlex
from functools import lru_cache
from typing import Any


class Sh(str):
    """Shell text that is safe as it is (produced by this module)."""


# A newline inside a quoted value travels as NUL while the script is assembled, so that indenting a
# block never touches the inside of a string; `restore_newlines` puts it back. NUL cannot occur in a
# spec string (the frontends reject it) nor in a bash script.
QUOTED_NEWLINE = "\x00"

# sbatch refuses a script that holds "\r\n" anywhere ("DOS line breaks"), so a carriage return in a value
# is written as $'\r' between two single-quoted parts (or double-quoted parts: site paths).
_CR_IN_SINGLE_QUOTES = "'$'\\r''"
_CR_IN_DOUBLE_QUOTES = "\"$'\\r'\""


def restore_newlines(script: str) -> str:
    return script.replace(QUOTED_NEWLINE, "\n")


# shlex.quote's own test of a word that needs no quotes (`shlex._find_unsafe`): such a word holds no quote,
# newline or carriage return either, so it is written as it is without the replacements below.
_NEEDS_QUOTES = re.compile(r"[^\w@%+=:,./-]", re.ASCII).search


def quote(value: Any) -> Sh:
    """`value` as one shell word; a plain word (most of a script's: names, paths, numbers) costs one search."""
    kind = type(value)
    if kind is Sh:
        return value
    if kind is str and value and _NEEDS_QUOTES(value) is None:
        return Sh(value)
    if isinstance(value, Sh):
        return value
    if isinstance(value, bool):
        raise TypeError("booleans have no shell rendering; decide in the template")
    if isinstance(value, int):
        return Sh(str(value))
    if not isinstance(value, str):
        raise TypeError(f"cannot render {type(value).__name__} into a script")
    return Sh(shlex.quote(value).replace("\n", QUOTED_NEWLINE).replace("\r", _CR_IN_SINGLE_QUOTES))


def finalize(value: Any) -> Any:
    if value is None:
        raise TypeError("a template rendered None: a pass left a field unset")
    return quote(value)


def words(values: Any) -> Sh:
    """Quote each value and join them with spaces (an argv)."""
    return Sh(" ".join(map(quote, values)))


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL_OR_SURROGATE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def comment(value: str) -> Sh:
    """Text safe inside a `# comment`: control characters shown escaped, on one line."""
    if _CONTROL_OR_SURROGATE.search(value) is None:
        return Sh(value)
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], value)
    return Sh(_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


_SITE_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@lru_cache(maxsize=64)
def site_path(value: str) -> Sh:
    """A double-quoted string where only `${NAME}` expands (site profile paths; a compile writes the same few
    each time: quoting them anew was a sixth of the render of a minimal job)."""
    out = []
    pos = 0
    for match in _SITE_VAR.finditer(value):
        out.append(_dq_literal(value[pos : match.start()]))
        out.append("${" + match.group(1) + "}")
        pos = match.end()
    out.append(_dq_literal(value[pos:]))
    return Sh('"' + "".join(out) + '"')


def _dq_literal(text: str) -> str:
    return re.sub(r'([\\"$`])', r"\\\1", text).replace("\n", QUOTED_NEWLINE).replace("\r", _CR_IN_DOUBLE_QUOTES)


def heredoc(text: str, name: str = "JOBC_END") -> tuple[Sh, Sh] | None:
    """`text` as the body of a quoted heredoc (`<<'NAME'`), for a multi-line command a reviewer can read.

    Returns the delimiter word and the body with its terminator line, or None when `text` cannot be written
    this way (a carriage return: sbatch refuses a script holding CR LF). The terminator is the first of
    NAME, NAME_1, NAME_2… that is not a line of `text`, so the choice is deterministic. Lines travel as
    QUOTED_NEWLINE, so indenting a block never touches them.
    """
    if "\r" in text:
        return None
    lines = set(text.split("\n"))
    end = name
    n = 0
    while end in lines:
        n += 1
        end = f"{name}_{n}"
    body = text if text.endswith("\n") else text + "\n"
    return Sh(f"'{end}'"), Sh((body + end).replace("\n", QUOTED_NEWLINE))
