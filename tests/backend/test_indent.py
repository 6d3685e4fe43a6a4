"""`steps.indent`: every line that is not blank (empty or whitespace only) gets the pad."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jobc.backend.steps import indent as _indent


def _by_lines(text: str, width: int) -> str:
    return "\n".join(line if not line or line.isspace() else " " * width + line for line in text.split("\n"))


@given(
    st.text(alphabet=st.sampled_from(["\n", "a", " ", "\t", "\xa0", "\r", "\x00", "\u2028", "b"])), st.integers(1, 8)
)
def test_indent_pads_the_lines_that_are_not_blank(text: str, width: int) -> None:
    assert _indent(text, width) == _by_lines(text, width)


def test_consecutive_empty_lines_stay_empty() -> None:
    assert _indent("a\n\n\n\nb\n", 2) == "  a\n\n\n\n  b\n"
    assert _indent("\n\na", 4) == "\n\n    a"
    assert _indent(" \t\na", 2) == " \t\n  a"
