"""Reading a spec file into plain data plus a map from field paths to positions.

YAML goes through PyYAML's `compose()`, so every node keeps its mark; JSON goes
through the standard library's pure-Python scanner with hooks that record where
each value starts. Both produce the same thing: plain dicts/lists/scalars and a
`SourceMap`.

YAML traps are closed here rather than in the models:
- duplicate keys are errors (PyYAML would silently keep the last one);
- only `true`/`false`, `null`/`~`/empty and decimal integers are typed; every
  other plain scalar (`on`, `NO`, `1.10`, `12:30`, `0x1F`) stays a string;
- a plain scalar that looks like an int or bool is a `Plain`, which keeps its
  source text, so a string field receives exactly what the user wrote.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Diagnostic, FieldPath, SourceError, SpecError

MAX_DEPTH = 200
MAX_NODES = 200_000

_INT = re.compile(r"[-+]?[0-9]+\Z")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = {"", "~", "null", "Null", "NULL"}


class _BadKey(SourceError):
    """A mapping key that no field could ever have: located at the key, with its field path."""

    def __init__(self, path: FieldPath, message: str, line: int, col: int):
        self.line, self.col = line, col
        SpecError.__init__(self, [Diagnostic(path, message)])


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_key(path: FieldPath, key: str, at: tuple[int, int]) -> None:
    """A lone surrogate (JSON's `"\\ud800"`, YAML's `"\\ud800"`) in a key cannot be printed or compared."""
    if _SURROGATE.search(key):
        shown = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", key)
        raise _BadKey(
            path + (shown,), "a key must be valid Unicode text (a lone surrogate such as \\ud800 is not)", *at
        )


@dataclass(frozen=True)
class Plain:
    """An unquoted YAML scalar typed as int or bool, with the text the user wrote."""

    text: str
    value: int | bool


@dataclass
class SourceMap:
    """Field path -> (line, col), both 1-based."""

    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    end_positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)  # just after each value

    def end_of(self, path: FieldPath) -> tuple[int, int] | None:
        return self.end_positions.get(tuple(path))

    def locate(self, path: FieldPath, *, key: bool = False) -> tuple[int, int] | None:
        """Position of `path`, or of its nearest enclosing field that has one."""
        path = tuple(path)
        if key and path in self.key_positions:
            return self.key_positions[path]
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None
            path = path[:-1]


@dataclass(frozen=True)
class Source:
    """A parsed spec: its data, where each value was written, and its format (json or yaml)."""

    data: Any
    source_map: SourceMap
    fmt: str


def load(text: str, fmt: str) -> Source:
    """Parse `text` as `fmt` ("json" or "yaml")."""
    if fmt == "json":
        return _load_json(text)
    return _load_yaml(text)


def guess_format(name: str, text: str) -> str:
    lowered = name.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    return "json" if text.lstrip().startswith(("{", "[")) else "yaml"


# --- YAML -----------------------------------------------------------------------


def _load_yaml(text: str) -> Source:
    import yaml

    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        hint = _tab_hint(text, line)
        if "'\\t'" in problem:
            problem, hint = "a tab character here; YAML indents with spaces only", None
        raise SourceError(f"invalid YAML: {problem}", line, col, hint) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, such as NUL
        line, col = _LineIndex(text).at(exc.position)
        name = "NUL" if exc.character == 0 else f"#x{exc.character:04x}"
        raise SourceError(f"invalid YAML: the {name} character is not allowed", line, col) from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise SourceError(f"invalid YAML: {first}", 1, 1) from None
    except RecursionError:
        raise SourceError("invalid YAML: nested too deeply", 1, 1) from None
    smap = SourceMap()
    if node is None:
        return Source(None, smap, "yaml")
    builder = _YamlBuilder(smap, len(text), release=_ANCHOR.search(text) is None)
    return Source(builder.build(node, (), 0), smap, "yaml")


# An anchor (`&name`; PyYAML and libyaml take letters, digits, `-` and `_`): without one no node is shared.
_ANCHOR = re.compile(r"&[0-9A-Za-z_-]")


def _compose(text: str) -> Any:
    """The node tree: libyaml's parser where PyYAML has it (30 times faster, the same nodes and marks); on any
    error the pure-Python parser reads it again, so that every message and position is PyYAML's own."""
    import yaml

    fast = _fast_loader()
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except (yaml.YAMLError, RecursionError):
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _fast_loader() -> Any:
    """libyaml's loader, with a resolver that tags every plain scalar `str` (or `merge`, for `<<`).

    `_yaml_scalar` types plain scalars itself and treats every tag PyYAML's resolver could give one alike, so
    the regular expressions that resolver tries on each of them (a third of the loading time) would be wasted.
    """
    import yaml

    base = getattr(yaml, "CSafeLoader", None)
    if base is None:
        return None

    class Loader(base):
        def resolve(self, kind, value, implicit):
            if kind is yaml.ScalarNode and implicit[0]:
                return _MERGE if value == "<<" else _STR
            return super().resolve(kind, value, implicit)

    return Loader


def _tab_hint(text: str, line: int) -> str | None:
    """A tab near a YAML error is most often its cause: say where it is."""
    lines = text.split("\n")
    for number in (line, line - 1):
        if 0 < number <= len(lines) and "\t" in lines[number - 1]:
            return f"line {number} has a tab at column {lines[number - 1].index(chr(9)) + 1}: use spaces"
    return None


class _YamlBuilder:
    """Plain data and positions from the node tree. With `release` (no node is shared: the text has no
    anchor), each node is let go once built, so that the tree shrinks while the data grows (the tree of a
    large spec is as big as its data)."""

    def __init__(self, smap: SourceMap, text_size: int, release: bool = False):
        self.smap = smap
        self.release = release
        self.count = 0
        self.max_nodes = max(MAX_NODES, text_size // 4)  # aliases may not expand a spec far beyond its text
        self.active: set[int] = set()

    def build(self, node: Any, path: FieldPath, depth: int) -> Any:
        import yaml

        self.count += 1
        if self.count > self.max_nodes:
            raise SourceError(f"spec too large: more than {self.max_nodes} values (YAML aliases expand)", *_mark(node))
        if depth > MAX_DEPTH:
            raise SourceError(f"spec nested deeper than {MAX_DEPTH} levels", *_mark(node))
        self.smap.positions.setdefault(path, _mark(node))
        self.smap.end_positions.setdefault(path, (node.end_mark.line + 1, node.end_mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            return _yaml_scalar(node)
        if id(node) in self.active:
            raise SourceError("recursive YAML alias", *_mark(node))
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                items = node.value
                if self.release:
                    node.value = []
                    return [self.build(_take(items, i), path + (i,), depth + 1) for i in range(len(items))]
                return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(items)]
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path, depth)
        finally:
            self.active.discard(id(node))
        raise SourceError("unsupported YAML node", *_mark(node))

    def _mapping(self, node: Any, path: FieldPath, depth: int) -> dict:
        out: dict = {}
        pairs = self._flatten(node, frozenset())
        if self.release:
            node.value = []
        for i in range(len(pairs)):
            key_node, value_node = _take(pairs, i) if self.release else pairs[i]
            key = key_node.value
            _check_key(path, key, _mark(key_node))
            if key in out:
                line, col = _mark(key_node)
                first = self.smap.key_positions.get(path + (key,), (0, 0))
                raise SourceError(f"duplicate key {key!r} (first defined on line {first[0]})", line, col)
            inner = path + (key,)  # one tuple for both maps: a nested step's paths are long
            self.smap.key_positions[inner] = _mark(key_node)
            out[key] = self.build(value_node, inner, depth + 1)
        return out

    def _flatten(self, node: Any, inside: frozenset[int]) -> list[tuple[Any, Any]]:
        """The (key, value) nodes of a mapping with YAML 1.1 merge keys (`<<: *a`, `!!merge <<:`) applied.

        A merge is shallow: a merged key's value is the one written in the merged mapping (so its position is
        there too), unless the mapping writes that key itself (anywhere in it) or an earlier merged mapping has
        it. `<<: [*a, *b]` merges several, the first winning, as PyYAML's safe_load does.
        """
        import yaml

        explicit = {k.value for k, _ in node.value if k.tag != _MERGE and isinstance(k, yaml.ScalarNode)}
        out: list[tuple[Any, Any]] = []
        merged: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise SourceError("mapping keys must be plain strings", *_mark(key_node))
                out.append((key_node, value_node))
                continue
            if isinstance(value_node, yaml.MappingNode):
                sources = [value_node]
            elif isinstance(value_node, yaml.SequenceNode) and all(
                isinstance(v, yaml.MappingNode) for v in value_node.value
            ):
                sources = list(value_node.value)
            else:
                raise SourceError(
                    "a merge key (<<) takes a mapping or a list of mappings, such as <<: *defaults", *_mark(value_node)
                )
            for source in sources:
                if id(source) in inside or source is node:
                    raise SourceError("recursive YAML alias", *_mark(value_node))
                for merged_key, merged_value in self._flatten(source, inside | {id(node)}):
                    key = merged_key.value
                    if key not in explicit and key not in merged:
                        merged.add(key)
                        out.append((merged_key, merged_value))
        return out


def _take(items: list, i: int) -> Any:
    """`items[i]`, no longer held by `items`."""
    item, items[i] = items[i], None
    return item


_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"


def _mark(node: Any) -> tuple[int, int]:
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


def _yaml_scalar(node: Any) -> Any:
    text = node.value
    if node.style:  # quoted or block scalar: always a string (plain: None, or "" from libyaml)
        return text
    if node.tag not in (
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:timestamp",
    ):
        return text
    if text in _NULL:
        return None
    if text in _BOOL:
        return Plain(text, _BOOL[text])
    if _INT.match(text):
        try:
            return Plain(text, int(text))
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            raise SourceError(f"integer too long ({len(text)} characters)", *_mark(node)) from None
    return text


# --- JSON -----------------------------------------------------------------------


@dataclass(frozen=True)
class _At:
    """A JSON value with the offsets of its first and past-its-last characters."""

    value: Any
    offset: int
    end: int


class _PositionDecoder(json.JSONDecoder):
    """The stdlib decoder with its pure-Python scanner, recording value offsets."""

    def __init__(self) -> None:
        super().__init__(object_pairs_hook=self._pairs, parse_int=_parse_int)
        self.parse_object = self._object
        self.parse_array = self._array
        self.scan_once = self._wrap(json.scanner.py_make_scanner(self))

    @staticmethod
    def _wrap(scan_once):
        def scan(s, idx):
            try:
                value, end = scan_once(s, idx)
            except _IntTooLong as exc:
                if exc.offset is None:  # the innermost value: the number itself starts here
                    exc.offset = idx
                raise
            return _At(value, idx, end), end

        return scan

    def _object(self, s_and_end, strict, scan_once, *rest):
        return json.decoder.JSONObject(s_and_end, strict, self._wrap(scan_once), *rest)

    def _array(self, s_and_end, scan_once, *rest):
        return json.decoder.JSONArray(s_and_end, self._wrap(scan_once), *rest)

    @staticmethod
    def _pairs(pairs):
        return _Pairs(pairs)


class _IntTooLong(Exception):
    def __init__(self, digits: int):
        self.digits, self.offset = digits, None


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise _IntTooLong(len(text)) from None


class _Pairs(list):
    """Keys in source order, duplicates kept so they can be reported."""


def _load_json(text: str) -> Source:
    if text.startswith("\ufeff"):  # a byte order mark: accepted, as the YAML reader does; editors do not show it
        text = text[1:]
    decoder = _PositionDecoder()
    try:
        root, end = decoder.scan_once(text, _skip_ws(text, 0))
    except json.JSONDecodeError as exc:
        message, line, col = _json_problem(text, exc)
        raise SourceError(f"invalid JSON: {message}", line, col) from None
    except StopIteration as exc:
        line, col = _line_col(text, exc.value)
        raise SourceError("invalid JSON: expecting a value", line, col) from None
    except _IntTooLong as exc:
        line, col = _line_col(text, exc.offset or 0)
        raise SourceError(f"invalid JSON: integer too long ({exc.digits} characters)", line, col) from None
    except RecursionError:
        raise SourceError("invalid JSON: nested too deeply", 1, 1) from None
    end = _skip_ws(text, end)
    if end != len(text):
        line, col = _line_col(text, end)
        raise SourceError("invalid JSON: extra data after the document", line, col)
    smap = SourceMap()
    lines = _LineIndex(text)
    return Source(_unwrap(root, (), smap, lines, 0), smap, "json")


def _unwrap(at: _At, path: FieldPath, smap: SourceMap, lines: "_LineIndex", depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise SourceError(f"spec nested deeper than {MAX_DEPTH} levels", *lines.at(at.offset))
    smap.positions.setdefault(path, lines.at(at.offset))
    smap.end_positions.setdefault(path, lines.at(at.end))
    value = at.value
    if isinstance(value, _Pairs):
        out: dict = {}
        for key, item in value:
            key_at = lines.at(_key_start(lines.text, item.offset))
            _check_key(path, key, key_at)
            if key in out:
                first = smap.key_positions[path + (key,)]
                raise SourceError(f"duplicate key {key!r} (first defined on line {first[0]})", *key_at)
            inner = path + (key,)
            smap.key_positions[inner] = key_at
            out[key] = _unwrap(item, inner, smap, lines, depth + 1)
        return out
    if isinstance(value, list):
        return [_unwrap(item, path + (i,), smap, lines, depth + 1) for i, item in enumerate(value)]
    return value


def _key_start(text: str, value_offset: int) -> int:
    """Offset of the opening quote of the key whose value starts at `value_offset`.

    Walks back over `"key" : ` from the value. Inside a JSON string every `"` is
    escaped, so the opening quote is the first `"` before the closing one that is
    preceded by an even number of backslashes.
    """
    i = value_offset - 1
    while i >= 0 and text[i] in " \t\r\n":
        i -= 1
    i -= 1  # the colon
    while i >= 0 and text[i] in " \t\r\n":
        i -= 1
    end = i  # the closing quote
    i = end - 1
    while i >= 0:
        if text[i] == '"':
            slashes = 0
            while i - 1 - slashes >= 0 and text[i - 1 - slashes] == "\\":
                slashes += 1
            if slashes % 2 == 0:
                return i
        i -= 1
    return value_offset


# Python 3.13's json module names a trailing comma itself, at the comma; older ones report what they expected
# after it. jobc says the latter on every Python, so a message does not depend on the interpreter.
_TRAILING_COMMA = {
    "Illegal trailing comma before end of object": "Expecting property name enclosed in double quotes",
    "Illegal trailing comma before end of array": "Expecting value",
}


def _json_problem(text: str, exc: json.JSONDecodeError) -> tuple[str, int, int]:
    if exc.msg in _TRAILING_COMMA:
        line, col = _line_col(text, _skip_ws(text, exc.pos + 1))
        return _TRAILING_COMMA[exc.msg], line, col
    return exc.msg, exc.lineno, exc.colno


def _skip_ws(text: str, idx: int) -> int:
    return json.decoder.WHITESPACE.match(text, idx).end()


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return _LineIndex(text).at(offset)


class _LineIndex:
    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> tuple[int, int]:
        import bisect

        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1
