"""Diagnostics: every problem jobc reports is a value with a field path.

The frontends and the passes never print. They collect `Diagnostic` values and
hand them to `fail()`, the single place that raises. The CLI turns field paths
into `file:line:col` with the source map of the spec and prints one line per
problem, so the same message text is used by every entry point and test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, NoReturn

FieldPath = tuple[str | int, ...]


def format_path(path: FieldPath) -> str:
    """`("steps", 2, "run", "shell")` -> `steps[2].run.shell`; control characters in keys are shown escaped."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = _CONTROL.sub(lambda m: repr(m.group())[1:-1], part)
            out += f".{part}" if out else part
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Diagnostic:
    path: FieldPath
    message: str
    severity: str = "error"

    def render(self, where: str) -> str:
        """One line: `where: field.path: message` (the path is left out for the whole spec)."""
        field = format_path(self.path)
        prefix = f"{where}: " if where else ""
        label = "" if self.severity == "error" else f"{self.severity}: "
        return f"{prefix}{label}{field}: {self.message}" if field else f"{prefix}{label}{self.message}"


class SpecError(Exception):
    """An invalid spec: carries every diagnostic found, in source order."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        self.source_map = None  # set by compile_spec, to turn field paths into positions
        super().__init__("\n".join(d.render("") for d in self.diagnostics))


class SourceError(SpecError):
    """The spec could not be parsed at all; carries an explicit line and column."""

    def __init__(self, message: str, line: int, col: int):
        self.line, self.col = line, col
        super().__init__([Diagnostic((), message)])


def fail(diagnostics: Iterable[Diagnostic]) -> NoReturn:
    raise SpecError(diagnostics)


def error(path: FieldPath, message: str) -> Diagnostic:
    return Diagnostic(tuple(path), message)


def warning(path: FieldPath, message: str) -> Diagnostic:
    return Diagnostic(tuple(path), message, "warning")
