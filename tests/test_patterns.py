"""`patterns.Pattern`: compiled on first use, then the same answers as `re.compile`."""

import re
import subprocess
import sys

from jobc.patterns import Pattern


def test_compiled_on_first_use_only() -> None:
    pattern = Pattern(r"[a-z]+\Z", re.I)
    assert "match" not in vars(pattern)
    assert pattern.match("Abc") and not pattern.match("ab1")
    assert "match" in vars(pattern)  # kept: a pattern in a loop is not compiled or looked up again
    assert pattern.flags == re.compile(r"[a-z]+\Z", re.I).flags
    assert pattern.sub("x", "Abc") == "x"


def test_an_invalid_pattern_fails_when_used() -> None:
    pattern = Pattern("(")
    try:
        pattern.search("")
    except re.error:
        return
    raise AssertionError("an invalid pattern compiled")


def test_importing_the_field_types_compiles_none_of_their_patterns() -> None:
    code = (
        "from jobc.frontends import fields; from jobc.patterns import Pattern; "
        "ps = [v for v in vars(fields).values() if isinstance(v, Pattern)]; "
        "print(len(ps), sum('match' in vars(p) for p in ps))"
    )
    given, compiled = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(given) >= 10 and compiled == "0"
