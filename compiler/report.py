"""Printing diagnostics: for people (`file:line:col: path: message [CODE]`), as JSON, or as GitHub annotations.

The CLI hands every problem it meets to one `Reporter`, whatever its source (a spec, a site profile, a
command-line option); the reporter locates it, keeps each file's problems in source order, and prints
them on standard error:
- `human`: one line per problem, a `hint:` line where one helps, at most `MAX_PER_FILE` per file;
- `json`: at the end, one JSON list of objects (file, line, column, endLine, endColumn, path, code,
  severity, message, hint, usedBy), null where not known;
- `github`: one `::error file=…,line=…,col=…,title=CODE::message` workflow command per problem
  (`::warning` for warnings), which GitHub Actions shows on the diff.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, replace
from typing import Any, Iterable, TextIO

from .diagnostics import Diagnostic, format_path, locate, split_path

MAX_PER_FILE = 50


@dataclass(frozen=True)
class Located:
    """A diagnostic with the file and the line and column span it is reported at."""

    file: str | None  # None: the command line itself
    start: tuple[int, int] | None
    end: tuple[int, int] | None
    diagnostic: Diagnostic
    used_by: str = ""  # ` (used by job.yaml:5:7: steps[0].use)` for a problem in a module's file

    def as_json(self) -> dict[str, Any]:
        d = self.diagnostic
        return {
            "file": self.file,
            "line": self.start[0] if self.start else None,
            "column": self.start[1] if self.start else None,
            "endLine": self.end[0] if self.end else None,
            "endColumn": self.end[1] if self.end else None,
            "path": format_path(d.path) or None,
            "code": d.resolved_code,
            "severity": d.severity,
            "message": d.message,
            "hint": d.hint,
            "usedBy": self.used_by.removeprefix(" (used by ").removesuffix(")") or None,
        }


class Reporter:
    def __init__(self, fmt: str = "human", stream: TextIO | None = None):
        self.fmt = fmt
        self.stream = stream
        self.collected: list[Located] = []

    def _out(self) -> TextIO:
        return self.stream or sys.stderr

    def report(self, file: str | None, diagnostics: Iterable[Diagnostic], source_map=None, fallback=None) -> None:
        """Print (or keep, for JSON) the problems of one file, located with its source map, in source order (a
        module's problems where its `use` is)."""
        rows = []
        for diag in diagnostics:
            if _of_command_line(diag) or file is None:
                rows.append(((0, 0), Located(file, None, None, diag)))
                continue
            where, start, used_by = locate(diag, file, source_map)
            module, inside = split_path(diag.path)[-1]
            smap = module.source_map if module is not None else source_map
            end = smap.end_of(inside) if smap is not None and start == smap.positions.get(inside) else None
            order = source_map.locate(split_path(diag.path)[0][1], key=True) if used_by and source_map else start
            rows.append((order or start or fallback or (0, 0), Located(where, start or fallback, end, diag, used_by)))
        rows.sort(key=lambda row: row[0])
        located = [item for _, item in rows]
        if self.fmt == "json":
            self.collected += located
            return
        shown = located if self.fmt == "github" else located[:MAX_PER_FILE]
        for item in shown:
            self._out().write(self._line(item) + "\n")
        if len(located) > len(shown):
            self._out().write(f"…and {len(located) - len(shown)} more\n")

    def usage(self, message: str, code: str | None = None, severity: str = "error") -> None:
        """A problem of the command line or of a file as a whole: `jobc: [warning: ]message [CODE]`."""
        diag = Diagnostic((), message, severity, code=code)
        if self.fmt == "human":
            label = "warning: " if severity == "warning" else ""
            self._out().write(f"jobc: {label}{_shown(diag.text())}\n")
        else:
            self.report(None, [diag])

    def ok(self, file: str) -> None:
        if self.fmt == "human":
            self._out().write(f"{file}: ok\n")

    def finish(self) -> None:
        if self.fmt == "json":
            self._out().write(json.dumps([item.as_json() for item in self.collected], indent=2) + "\n")
            self.collected = []

    def _line(self, item: Located) -> str:
        if self.fmt == "github":
            return _github(item)
        file, diag = _shown(item.file), item.diagnostic
        if _of_command_line(diag) or not file:
            where = f"jobc: {file}" if file else "jobc"
        elif item.start:
            where = f"{file}:{item.start[0]}:{item.start[1]}"
        else:
            where = file
        if _CONTROL.search(diag.message + (diag.hint or "")):
            diag = replace(diag, message=_shown(diag.message), hint=_shown(diag.hint), code=diag.resolved_code)
        return diag.render(where, _shown(item.used_by))


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _shown(text: Any) -> Any:
    """`text` on one line: a file named `a<newline>b.yaml` is shown `a\\x0ab.yaml`, so that a problem stays
    one line (`file:line:col: …`) for the people and the tools that read them."""
    if not text or not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _of_command_line(diag: Diagnostic) -> bool:
    """A problem of an option (E06xx), found while compiling a spec: the option's, not the spec's at 1:1."""
    return not diag.path and (diag.resolved_code or "").startswith("E06")


def _github(item: Located) -> str:
    d = item.diagnostic
    props = []
    if item.file:
        props.append(f"file={_prop(item.file)}")
    if item.start:
        props.append(f"line={item.start[0]},col={item.start[1]}")
    if item.end:
        props.append(f"endLine={item.end[0]},endColumn={item.end[1]}")
    code = d.resolved_code
    if code:
        props.append(f"title={_prop(code)}")
    field = format_path(d.path)
    message = (f"{field}: {d.message}" if field else d.message) + item.used_by
    if d.hint:
        message += f"\nhint: {d.hint}"
    kind = "warning" if d.severity == "warning" else "error"
    return f"::{kind} {','.join(props)}::{_data(message)}"


def _data(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped (GitHub's toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    """A workflow command's property: also `:` and `,` escaped (`escapeProperty`)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")
