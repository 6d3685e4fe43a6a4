"""lower_loops: the loop variable, RangeLoop.values(), and the warning for empty ranges."""

from __future__ import annotations

import pytest

from jobc import ir
from jobc.diagnostics import format_path
from jobc.passes.lower_loops import lower_loops

from .helpers import SITE, job, loop, run


@pytest.mark.parametrize(
    "title, begin, end, increment, values",
    [
        ("reference example: 1 to 3", 1, 3, 1, [1, 2, 3]),
        ("both ends inclusive with a step", 0, 10, 5, [0, 5, 10]),
        ("end not on the step", 0, 9, 5, [0, 5]),
        ("single value", 4, 4, 1, [4]),
        ("single value counting down", 4, 4, -1, [4]),
        ("negative increment counts down (NOTES decision 7)", 10, 2, -4, [10, 6, 2]),
        ("counting down past the end", 10, 1, -4, [10, 6, 2]),
        ("negative numbers", -3, -1, 1, [-3, -2, -1]),
        ("increment away from the end: empty", 1, 3, -1, []),
        ("down range with a positive increment: empty", 3, 1, 1, []),
        ("int32 ends", 2**31 - 2, 2**31 - 1, 1, [2**31 - 2, 2**31 - 1]),
    ],
)
def test_range_values(title: str, begin: int, end: int, increment: int, values: list[int]) -> None:
    assert list(ir.RangeLoop(begin, end, increment).values()) == values


def test_default_increment_is_one() -> None:
    assert list(ir.RangeLoop(1, 3).values()) == [1, 2, 3]


@pytest.mark.parametrize(
    "title, over, variable",
    [
        ("items loop exports $item", ir.ItemsLoop(("a", "b")), "item"),
        ("range loop exports $index", ir.RangeLoop(1, 3), "index"),
    ],
)
def test_loop_variable(title: str, over, variable: str) -> None:
    assert lower_loops(job(loop(over, run())), SITE).steps[0].variable == variable


def test_nested_loops_get_their_own_variables() -> None:
    inner = loop(ir.ItemsLoop(("x",)), run(), path=("steps", 0, "for", "steps", 0))
    out = lower_loops(job(loop(ir.RangeLoop(1, 2), inner)), SITE)
    assert out.steps[0].variable == "index" and out.steps[0].steps[0].variable == "item"


@pytest.mark.parametrize(
    "title, over, warned",
    [
        ("empty range", ir.RangeLoop(1, 3, -1), True),
        ("counting down", ir.RangeLoop(10, 2, -4), False),
        ("empty items list is no warning", ir.ItemsLoop(()), False),
    ],
)
def test_empty_range_warning(title: str, over, warned: bool) -> None:
    out = lower_loops(job(loop(over, path=("steps", 2))), SITE)
    expected = [("steps[2].for.range", "warning", "runs no iteration: from 1 by -1 never reaches 3")] if warned else []
    assert [(format_path(w.path), w.severity, w.message) for w in out.warnings] == expected


def test_warnings_are_added_to_earlier_ones() -> None:
    from jobc.diagnostics import warning

    earlier = warning(("x",), "earlier")
    out = lower_loops(job(loop(ir.RangeLoop(5, 1)), warnings=(earlier,)), SITE)
    assert out.warnings[0] is earlier and len(out.warnings) == 2


@pytest.mark.parametrize(
    "command, warned",
    [
        ("echo {{ .Item }}", True),
        ("echo {{.Item}}", True),
        ('echo "$item"', False),
        ("echo '{{ item }}'", False),
    ],
)
def test_go_template_item_is_not_substituted_and_warned(command: str, warned: bool) -> None:
    body = run(command, path=("steps", 0, "for", "steps", 0))
    out = lower_loops(job(loop(ir.ItemsLoop(("a",)), body)), SITE)
    assert out.steps[0].steps[0].command == command
    expected = [("steps[0].for.steps[0].run.command", '{{ .Item }} is not substituted by jobc; use "$item"')]
    assert [(format_path(w.path), w.message) for w in out.warnings] == (expected if warned else [])
