"""Diagnostics: every problem jobc reports is a value with a field path.

The frontends and the passes never print. They collect `Diagnostic` values and
hand them to `fail()`, the single place that raises. The CLI turns field paths
into `file:line:col` with the source map of the spec and prints one line per
problem, so the same message text is used by every entry point and test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, NoReturn

FieldPath = tuple[Any, ...]  # str and int parts, and `InModule` where a module's file starts


@dataclass(frozen=True)
class InModule:
    """A field path part: what follows is in a module's file (DeepSquare `use`), not in the file before it.

    `("steps", 3, "use", InModule(...), "steps", 0)` is steps[0] of the module that steps[3].use brought in,
    so any diagnostic, from a frontend or a pass, is located in the module's own file and names the `use`.
    """

    file: str  # as messages show it
    source_map: Any = field(compare=False, hash=False, repr=False)
    script_name: str = field(default="", compare=False, hash=False)  # as the script's comments show it


def split_path(path: FieldPath) -> list[tuple["InModule | None", FieldPath]]:
    """The path cut at each `InModule`: (None, the spec's part), then (module, the module file's part)…"""
    if InModule not in map(type, path):  # a field of the spec itself (most paths): one scan in C
        return [(None, tuple(path))]
    parts: list[tuple[InModule | None, FieldPath]] = []
    module, start = None, 0
    for i, part in enumerate(path):
        if isinstance(part, InModule):
            parts.append((module, tuple(path[start:i])))
            module, start = part, i + 1
    parts.append((module, tuple(path[start:])))
    return parts


def format_path(path: FieldPath, start: str = "") -> str:
    """`("steps", 2, "run", "shell")` -> `steps[2].run.shell`; control characters in keys are shown escaped.
    `start`: the text of a path that `path` continues (the render's memo makes a step's from its parent's).

    A path into a module file shows the part inside that file. Called for every step of a script (its
    comment, its name, the header): an `InModule` starts the text again, without `split_path`'s list of
    parts, and a key is only escaped when it holds a control character."""
    out = start
    for part in path:
        if isinstance(part, str):
            if _CONTROL.search(part) is not None:
                part = _CONTROL.sub(lambda m: repr(m.group())[1:-1], part)
            out += f".{part}" if out else part
        elif isinstance(part, InModule):
            out = ""
        else:
            out += f"[{part}]"
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Diagnostic:
    """One problem (or warning) at a field path of the spec, worded for the user."""

    path: FieldPath
    message: str
    severity: str = "error"
    hint: str | None = None  # what to write instead, where a common mistake is recognised
    code: str | None = None  # None: the message registry's code for the text (compiler/messages.py)
    at_key: bool = False  # about the mapping key at `path` (an env name), so located at the key, not its value

    @property
    def resolved_code(self) -> str | None:
        from .messages import code_of

        return self.code or code_of(self.message, self.severity)

    def text(self, used_by: str = "") -> str:
        """`field.path: message (used by …) [CODE]` (the path is left out for the whole spec)."""
        field = format_path(self.path)
        code = self.resolved_code
        body = (f"{field}: {self.message}" if field else self.message) + used_by
        return f"{body} [{code}]" if code else body

    def render(self, where: str, used_by: str = "") -> str:
        """`where: field.path: message [CODE]`, and a `where: hint: ...` line when there is a hint."""
        prefix = f"{where}: " if where else ""
        label = "" if self.severity == "error" else f"{self.severity}: "
        line = f"{prefix}{label}{self.text(used_by)}"
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


def locate(diag: Diagnostic, spec: str, source_map: Any) -> tuple[str, tuple[int, int] | None, str]:
    """Where a diagnostic is: (file, its (line, col) or None, the `(used by …)` text naming the `use` steps
    that brought a module in, innermost first; empty for a field of the spec itself)."""
    key = diag.at_key or diag.message.startswith("unknown field")
    parts = split_path(diag.path)
    file, smap, path = spec, source_map, parts[-1][1]
    if parts[-1][0] is not None:
        file, smap = parts[-1][0].file, parts[-1][0].source_map
    pos = smap.locate(path, key=key) if smap else None
    used_by = []
    for i in range(len(parts) - 2, -1, -1):
        owner, sub = parts[i]
        where_file, where_map = (spec, source_map) if owner is None else (owner.file, owner.source_map)
        at = where_map.locate(sub) if where_map else None
        shown = f"{where_file}:{at[0]}:{at[1]}" if at else where_file
        used_by.append(f"{shown}: {format_path(sub)}")
    return file, pos, f" (used by {', used by '.join(used_by)})" if used_by else ""


def fail(diagnostics: Iterable[Diagnostic]) -> NoReturn:
    raise SpecError(diagnostics)


def error(path: FieldPath, message: str, hint: str | None = None, code: str | None = None) -> Diagnostic:
    """`code`: for a message whose text is not the registry's to match (one worded by git or by a library)."""
    return Diagnostic(tuple(path), message, hint=hint, code=code)


def warning(path: FieldPath, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(tuple(path), message, "warning", hint=hint)
