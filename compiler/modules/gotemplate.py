"""The part of Go's text/template that module files use, rendered with every position kept.

The grid runs module.yaml through text/template with sprig, the data being `{Job, Step}` (the calling job and
its `use` step) under Go's field names. jobc supports what module files are seen to use, and refuses the rest
with a located error rather than guessing:

- `{{ .Job.Resources.MemPerCPU }}`, `{{ .Step.Name }}`: field access by Go name (`.` alone is the data);
  values print as Go prints them (a missing pointer as `<nil>`); a whole mapping or list must go through toYaml;
- pipelines `a | f b`, string literals ("…", `…`) and integers as arguments;
- functions `toYaml`, `indent`, `nindent`, `quote`, `squote`, `default`;
- trim markers `{{-` and `-}}`, comments `{{/* … */}}`.

Actions (`if`, `range`, `with`, …), parentheses, variables and other functions are errors. An action on a YAML
comment line (`# {{ .Job }}` in the example module) is left as written: Go would expand it into the comment,
where a multi-line value would turn into YAML.

`render` returns the text and a map from each position of it back to the template, so that a problem found
in the rendered YAML points at the line of the file the author wrote (a value an action produced points at
the action).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any, Callable

SUPPORTED = "field access such as .Job.Resources.MemPerCPU, toYaml, indent, nindent, quote, squote, default"
_KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue", "nil"}


class TemplateProblem(Exception):
    def __init__(self, message: str, line: int, col: int):
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


@dataclass(frozen=True)
class GoStruct:
    """A Go struct of the template data: `fields` maps each Go name to (YAML name, value)."""

    type_name: str
    fields: dict[str, tuple[str, Any]] = field(hash=False, compare=False)

    def plain(self) -> dict:
        """What yaml.v3 marshals: the YAML names, absent (nil) fields left out."""
        return {name: _plain(value) for name, value in self.fields.values() if value is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, GoStruct):
        return value.plain()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass
class Rendered:
    text: str
    _pieces: list[tuple[int, int, bool]]  # (output offset, template offset, literal?)
    _out_lines: list[int]
    _src_lines: list[int]

    def position(self, line: int, col: int) -> tuple[int, int]:
        """The template's (line, col) of the rendered text's (line, col), all 1-based."""
        offset = self._out_lines[min(line, len(self._out_lines)) - 1] + col - 1
        i = max(bisect.bisect_right([p[0] for p in self._pieces], offset) - 1, 0)
        out_start, src_start, literal = self._pieces[i] if self._pieces else (0, 0, True)
        src = src_start + (offset - out_start if literal else 0)
        src_line = bisect.bisect_right(self._src_lines, src)
        return src_line, src - self._src_lines[src_line - 1] + 1


def render(text: str, data: Any) -> Rendered:
    src_lines = _line_starts(text)

    def at(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(src_lines, offset)
        return line, offset - src_lines[line - 1] + 1

    pieces: list[tuple[str, int, bool]] = []
    pos = 0
    trim_next = False
    while True:
        start = text.find("{{", pos)
        literal_end = len(text) if start < 0 else start
        literal_start = pos
        literal = text[literal_start:literal_end]
        if trim_next:
            stripped = literal.lstrip(" \t\r\n")
            literal_start += len(literal) - len(stripped)
            literal = stripped
            trim_next = False
        if start < 0:
            pieces.append((literal, literal_start, True))
            break
        end = text.find("}}", start + 2)
        if end < 0:
            raise TemplateProblem("{{ is never closed by }}", *at(start))
        inner = text[start + 2 : end]
        line_start = text.rfind("\n", 0, start) + 1
        if text[line_start:start].lstrip().startswith("#"):  # a YAML comment line: left as written
            pieces.append((literal, literal_start, True))
            pieces.append((text[start : end + 2], start, True))
            pos = end + 2
            continue
        trim_before = inner.startswith("-") and inner[1:2] in (" ", "\t", "\n", "\r")
        trim_after = inner.endswith("-") and inner[-2:-1] in (" ", "\t", "\n", "\r")
        if trim_before:
            literal = literal.rstrip(" \t\r\n")
            inner = inner[1:]
        if trim_after:
            inner = inner[:-1]
            trim_next = True
        pieces.append((literal, literal_start, True))
        body = inner.strip()
        if body.startswith("/*"):
            if not body.endswith("*/"):
                raise TemplateProblem("a comment {{/* … */}} must end with */ right before }}", *at(start))
        else:
            value = _evaluate(body, data, at(start))
            pieces.append((value, start, False))
        pos = end + 2
    out, offsets, total = [], [], 0
    for piece, src, is_literal in pieces:
        if piece:
            offsets.append((total, src, is_literal))
            out.append(piece)
            total += len(piece)
    rendered = "".join(out)
    return Rendered(rendered, offsets, _line_starts(rendered), src_lines)


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


_TOKEN = re.compile(
    r"""\s*(?:(?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)|(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<raw>`[^`]*`)"""
    r"""|(?P<int>-?[0-9]+)|(?P<pipe>\|)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<other>\S))"""
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "a": "\a", "b": "\b", "f": "\f"}


def _evaluate(body: str, data: Any, where: tuple[int, int]) -> str:
    if not body:
        raise TemplateProblem("empty action {{ }}", *where)
    commands: list[list[tuple[str, Any]]] = [[]]
    for match in _TOKEN.finditer(body):
        kind = match.lastgroup
        text = match.group(kind) if kind else ""
        if kind == "pipe":
            commands.append([])
        elif kind == "other":
            what = "variables" if text == "$" else "parentheses" if text in "()" else repr(text)
            raise TemplateProblem(f"{what} in a template action are not supported (jobc supports {SUPPORTED})", *where)
        elif kind == "string":
            commands[-1].append(("value", re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text[1:-1])))
        elif kind == "raw":
            commands[-1].append(("value", text[1:-1]))
        elif kind == "int":
            commands[-1].append(("value", int(text)))
        elif kind == "field":
            commands[-1].append(("field", text))
        elif kind == "name":
            if text in _KEYWORDS:
                raise TemplateProblem(f"{{{{ {text} }}}} is not supported by jobc (it supports {SUPPORTED})", *where)
            if text in ("true", "false"):
                commands[-1].append(("value", text == "true"))
            else:
                commands[-1].append(("name", text))
    piped: Any = _NOTHING
    for command in commands:
        if not command:
            raise TemplateProblem("an empty command in a pipeline", *where)
        piped = _command(command, piped, data, where)
    return _print(piped, where)


_NOTHING = object()


def _command(command: list, piped: Any, data: Any, where: tuple[int, int]) -> Any:
    kind, head = command[0]
    args = [_operand(part, data, where) for part in command[1:]]
    if piped is not _NOTHING:
        args.append(piped)
    if kind != "name":
        if args:
            raise TemplateProblem("only a function takes arguments (jobc supports " + SUPPORTED + ")", *where)
        return _operand(command[0], data, where)
    function = _FUNCTIONS.get(head)
    if function is None:
        raise TemplateProblem(f"function {head!r} is not supported by jobc (it supports {SUPPORTED})", *where)
    arity = _ARITY[head]
    if arity is not None and len(args) != arity:
        raise TemplateProblem(f"{head} takes {arity} argument{'s' if arity > 1 else ''}, not {len(args)}", *where)
    try:
        return function(*args)
    except _BadArgument as exc:
        raise TemplateProblem(f"{head}: {exc}", *where) from None


def _operand(part: tuple[str, Any], data: Any, where: tuple[int, int]) -> Any:
    kind, value = part
    if kind == "value":
        return value
    if kind == "name":
        raise TemplateProblem(f"{value!r} can only start a command (jobc supports {SUPPORTED})", *where)
    current, walked = data, ""
    for name in [n for n in value.split(".") if n]:
        if current is None:
            raise TemplateProblem(f"{walked} is not set (nil), so it has no field {name}", *where)
        if not isinstance(current, GoStruct):
            raise TemplateProblem(f"{walked or '.'} is not a struct: it has no field {name}", *where)
        if name not in current.fields:
            known = ", ".join(current.fields)
            raise TemplateProblem(f"{current.type_name} has no field {name} (Go names: {known})", *where)
        current = current.fields[name][1]
        walked += "." + name
    return current


def _print(value: Any, where: tuple[int, int]) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (GoStruct, list)):
        what = "list" if isinstance(value, list) else value.type_name
        raise TemplateProblem(
            f"prints a whole {what}: pipe it to toYaml (such as {{{{ .Step.Use.Steps | toYaml }}}})", *where
        )
    return str(value)


class _BadArgument(Exception):
    pass


def _text(value: Any) -> str:
    if isinstance(value, (GoStruct, list)):
        raise _BadArgument("needs text, not a whole mapping or list (use toYaml first)")
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _BadArgument("the first argument must be a number of spaces")
    return value


def _empty(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value is False
        or value == 0
        or value == []
        or (isinstance(value, GoStruct) and not any(v is not None for _, v in value.fields.values()))
    )


def _to_yaml(value: Any) -> str:
    import yaml

    if _empty(value):
        return ""
    dumped = yaml.safe_dump(_plain(value), default_flow_style=False, sort_keys=False, allow_unicode=True, width=2**31)
    return dumped.removesuffix("\n").removesuffix("\n...")


def _indent(count: Any, text: Any) -> str:
    pad = " " * _count(count)
    return pad + _text(text).replace("\n", "\n" + pad)


def _go_quote(text: str) -> str:
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[c])
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "toYaml": _to_yaml,
    "indent": _indent,
    "nindent": lambda count, text: "\n" + _indent(count, text),
    "quote": lambda *values: " ".join(_go_quote(_text(v)) for v in values if v is not None),
    "squote": lambda *values: " ".join("'" + _text(v) + "'" for v in values if v is not None),
    "default": lambda fallback, value: fallback if _empty(value) else value,
}
_ARITY: dict[str, int | None] = {"toYaml": 1, "indent": 2, "nindent": 2, "quote": None, "squote": None, "default": 2}
