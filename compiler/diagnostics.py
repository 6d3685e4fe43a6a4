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
    hint: str | None = None  # what to write instead, where a common mistake is recognised
    code: str | None = None  # None: the message registry's code for the text (compiler/messages.py)

    @property
    def resolved_code(self) -> str | None:
        from .messages import code_of

        return self.code or code_of(self.message, self.severity)

    def text(self) -> str:
        """`field.path: message [CODE]` (the path is left out for the whole spec)."""
        field = format_path(self.path)
        code = self.resolved_code
        body = f"{field}: {self.message}" if field else self.message
        return f"{body} [{code}]" if code else body

    def render(self, where: str) -> str:
        """`where: field.path: message [CODE]`, and a `where: hint: ...` line when there is a hint."""
        prefix = f"{where}: " if where else ""
        label = "" if self.severity == "error" else f"{self.severity}: "
        line = f"{prefix}{label}{self.text()}"
        return f"{line}\n{prefix}hint: {self.hint}" if self.hint else line


class SpecError(Exception):
    """An invalid spec: carries every diagnostic found, in source order."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        self.source_map = None  # set by compile_spec, to turn field paths into positions
        super().__init__("\n".join(d.render("") for d in self.diagnostics))


class SourceError(SpecError):
    """The spec could not be parsed at all; carries an explicit line and column."""

    def __init__(self, message: str, line: int, col: int, hint: str | None = None):
        self.line, self.col = line, col
        super().__init__([Diagnostic((), message, hint=hint)])


def fail(diagnostics: Iterable[Diagnostic]) -> NoReturn:
    raise SpecError(diagnostics)


def error(path: FieldPath, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(tuple(path), message, hint=hint)


def warning(path: FieldPath, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(tuple(path), message, "warning", hint=hint)
