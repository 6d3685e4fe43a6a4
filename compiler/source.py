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

import functools
import json
import json.decoder
import json.scanner
import re
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
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


_HALF = (1 << 64) - 1  # a packed position: line << 32 | col; 0 for none
_WORD = (1 << 32) - 1
_START, _END, _KEY = 0, 1, 2


def _span(start: tuple[int, int] | None, end: tuple[int, int] | None, key: tuple[int, int] | None = None) -> Any:
    """Where a value starts and ends and where its key is, as one int (key << 128 | start << 64 | end: a fraction
    of three tuples' memory, and a large spec has a few hundred thousand values); a triple of tuples for a
    position beyond 32 bits."""
    if all(at is None or (at[0] <= _WORD and at[1] <= _WORD) for at in (start, end, key)):
        return ((key[0] << 32 | key[1] if key else 0) << 64 | (start[0] << 32 | start[1] if start else 0)) << 64 | (
            end[0] << 32 | end[1] if end else 0
        )
    return (start, end, key)


def _packed(line: int, col: int, end_line: int, end_col: int, key_line: int = 0, key_col: int = 0) -> Any:
    """`_span` of positions given as numbers (a key's as 0, 0 when there is none), for the readers' loops."""
    if (line | col | end_line | end_col | key_line | key_col) <= _WORD:
        return ((key_line << 32 | key_col) << 64 | line << 32 | col) << 64 | end_line << 32 | end_col
    return _span((line, col), (end_line, end_col), (key_line, key_col) if key_line else None)


def _parts(span: Any) -> tuple[Any, Any, Any]:
    """(start, end, key) of a `_span`, each (line, col) or None."""
    if type(span) is not int:
        return span
    parts = []
    for packed in (span >> 64 & _HALF, span & _HALF, span >> 128):
        parts.append((packed >> 32, packed & _WORD) if packed else None)
    return parts[0], parts[1], parts[2]


class Positions(MutableMapping):
    """Field path -> (line, col): one part (`_START`, `_END` or `_KEY`) of the spans of `SourceMap.spans`."""

    __slots__ = ("spans", "part")

    def __init__(self, spans: dict[FieldPath, Any], part: int) -> None:
        self.spans, self.part = spans, part

    def _at(self, path: Any) -> tuple[int, int] | None:
        span = self.spans.get(path)
        return None if span is None else _parts(span)[self.part]

    def __getitem__(self, path: FieldPath) -> tuple[int, int]:
        at = self._at(path)
        if at is None:
            raise KeyError(path)
        return at

    def _put(self, path: FieldPath, at: tuple[int, int] | None) -> None:
        span = self.spans.get(path)
        parts = [None, None, None] if span is None else list(_parts(span))
        parts[self.part] = at
        if parts == [None, None, None]:
            del self.spans[path]
        else:
            self.spans[path] = _span(*parts)

    def __setitem__(self, path: FieldPath, at: tuple[int, int]) -> None:
        line, col = at
        self._put(path, (line, col))

    def __delitem__(self, path: FieldPath) -> None:
        if path not in self:
            raise KeyError(path)
        self._put(path, None)

    def __contains__(self, path: object) -> bool:
        return self._at(path) is not None

    def __iter__(self) -> Iterator[FieldPath]:
        return (path for path, span in self.spans.items() if span is not None and _parts(span)[self.part])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def get(self, path: FieldPath, default: Any = None) -> Any:
        at = self._at(path)
        return default if at is None else at

    def __repr__(self) -> str:
        return f"Positions({dict(self.items())!r})"


class SourceMap:
    """Field path -> (line, col), both 1-based: where each value starts (`positions`), where each mapping
    key is (`key_positions`) and where each value ends, just after it (`end_positions`).

    The three are views of `spans`, which keeps one `_span` per value: its start, its end and its key's place."""

    __slots__ = ("spans", "positions", "key_positions", "end_positions")

    def __init__(self, positions: Any = (), key_positions: Any = (), end_positions: Any = ()) -> None:
        self.spans: dict[FieldPath, Any] = {}
        self.positions = Positions(self.spans, _START)
        self.end_positions = Positions(self.spans, _END)
        self.key_positions = Positions(self.spans, _KEY)
        for view, items in ((self.positions, positions), (self.key_positions, key_positions)):
            for path, at in dict(items).items():
                view[path] = at
        for path, at in dict(end_positions).items():
            self.end_positions[path] = at

    def end_of(self, path: FieldPath) -> tuple[int, int] | None:
        return self.end_positions.get(tuple(path))

    def locate(self, path: FieldPath, *, key: bool = False) -> tuple[int, int] | None:
        """Position of `path`, or of its nearest enclosing field that has one."""
        path = tuple(path)
        if key and path in self.key_positions:
            return self.key_positions[path]
        positions = self.positions
        while True:
            at = positions.get(path)
            if at is not None:
                return at
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

    fast = _fast_loader()
    if fast is not None:
        smap = SourceMap()
        loader = fast(text)
        try:
            return Source(_EventBuilder(loader, smap, len(text)).document(), smap, "yaml")
        except (_Unusual, SourceError, yaml.YAMLError, RecursionError):
            pass  # composed below: the tree's builder finds the same data, or the problem, and words it
        finally:
            loader.dispose()
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
    return yaml.compose(text, Loader=_pure_loader())


def _pure_loader() -> Any:
    """PyYAML's own loader, refusing flow collections nested deeper than jobc takes. Its scanner does work
    in proportion to the flow depth at every token: 10,000 `[` took it 2.4 s (5 s on Python 3.9) before it gave
    up with Python's recursion limit, and libyaml hands such texts over to it."""
    import yaml

    class Loader(yaml.SafeLoader):
        def fetch_flow_collection_start(self, TokenClass):
            if self.flow_level >= MAX_DEPTH:
                raise RecursionError(f"flow collections nested deeper than {MAX_DEPTH}")
            super().fetch_flow_collection_start(TokenClass)

    return Loader


@functools.lru_cache(maxsize=None)
def _fast_loader() -> Any:
    """libyaml's loader, with a resolver that tags every plain scalar `str` (or `merge`, for `<<`).

    `_yaml_scalar` types plain scalars itself and treats every tag PyYAML's resolver could give one alike, so
    the regular expressions that resolver tries on each of them (a third of the loading time) would be wasted.
    The class is made once, at the first load (making a class costs as much as loading a small spec).
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


class _Unusual(Exception):
    """The event reader met what only the node tree handles (an anchor, an alias, a merge key, a problem)."""


class _EventBuilder:
    """Plain data and positions straight from the parser's events, without the node tree (which weighs as
    much as the data: the peak of a large spec's loading). It takes a spec without anchors, aliases and merge
    keys, that loads without a problem; on anything else it gives up (`_Unusual`) and the tree is composed,
    so that every such spec, and every message, is exactly as `_YamlBuilder` makes it."""

    def __init__(self, loader: Any, smap: SourceMap, text_size: int):
        import yaml

        self.get, self.check = loader.get_event, loader.check_event
        self.resolve = loader.resolve
        self.scalar_node = yaml.ScalarNode
        self.scalar, self.alias = yaml.ScalarEvent, yaml.AliasEvent
        self.sequence, self.sequence_end = yaml.SequenceStartEvent, yaml.SequenceEndEvent
        self.mapping, self.mapping_end = yaml.MappingStartEvent, yaml.MappingEndEvent
        self.count = 0
        self.max_nodes = max(MAX_NODES, text_size // 4)
        self.spans = smap.spans
        self.names: dict[str, str] = {}

    def document(self) -> Any:
        import yaml

        self.get()  # the stream's start
        if self.check(yaml.StreamEndEvent):
            return None
        self.get()  # the document's start
        data = self.node(self.get(), (), 0, 0, 0)
        self.get()  # the document's end
        if not self.check(yaml.StreamEndEvent):
            raise _Unusual  # a second document: the composer words it
        return data

    def _tag(self, event: Any) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(self.scalar_node, event.value, event.implicit)
        return tag

    def node(self, event: Any, path: FieldPath, depth: int, key_line: int, key_col: int) -> Any:
        """The value of `event`, at `path`; its key (if any) at `key_line`, `key_col`."""
        self.count += 1
        if self.count > self.max_nodes or depth > MAX_DEPTH or event.anchor is not None:
            raise _Unusual
        start = event.start_mark
        kind = type(event)
        if kind is self.scalar:
            end = event.end_mark
            self.spans[path] = _packed(
                start.line + 1, start.column + 1, end.line + 1, end.column + 1, key_line, key_col
            )
            return _scalar(event.value, event.style, self._tag(event), start)
        if kind is self.alias:
            raise _Unusual
        self.spans[path] = None  # its end is known at the end event; set now to keep the composed tree's order
        if kind is self.sequence:
            items = []
            while not self.check(self.sequence_end):
                items.append(self.node(self.get(), path + (len(items),), depth + 1, 0, 0))
            result: Any = items
        elif kind is self.mapping:
            result = self._mapping(path, depth)
        else:
            raise _Unusual
        end = self.get().end_mark
        self.spans[path] = _packed(start.line + 1, start.column + 1, end.line + 1, end.column + 1, key_line, key_col)
        return result

    def _mapping(self, path: FieldPath, depth: int) -> dict:
        out: dict = {}
        names = self.names
        while not self.check(self.mapping_end):
            key_event = self.get()
            if type(key_event) is not self.scalar or key_event.anchor is not None:
                raise _Unusual
            if self._tag(key_event) == _MERGE:
                raise _Unusual
            key = names.setdefault(key_event.value, key_event.value)
            if key in out or _SURROGATE.search(key):
                raise _Unusual
            mark = key_event.start_mark
            out[key] = self.node(self.get(), path + (key,), depth + 1, mark.line + 1, mark.column + 1)
        return out


class _YamlBuilder:
    """Plain data and positions from the node tree. With `release` (no node is shared: the text has no
    anchor), each node is let go once built, so that the tree shrinks while the data grows (the tree of a
    large spec is as big as its data)."""

    def __init__(self, smap: SourceMap, text_size: int, release: bool = False):
        import yaml

        self.smap = smap
        self.release = release
        self.count = 0
        self.max_nodes = max(MAX_NODES, text_size // 4)  # aliases may not expand a spec far beyond its text
        self.active: set[int] = set()
        self.scalar, self.sequence, self.mapping = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode
        self.spans = smap.spans
        self.names: dict[str, str] = {}  # one string per distinct key: libyaml makes one per occurrence

    def build(self, node: Any, path: FieldPath, depth: int, key: Any = None) -> Any:
        """The value of `node`, at `path`; `key`: its key's node, if any."""
        self.count += 1
        if self.count > self.max_nodes:
            raise SourceError(f"spec too large: more than {self.max_nodes} values (YAML aliases expand)", *_mark(node))
        if depth > MAX_DEPTH:
            raise SourceError(f"spec nested deeper than {MAX_DEPTH} levels", *_mark(node))
        start, end = node.start_mark, node.end_mark
        if path not in self.spans:
            at = key.start_mark if key is not None else None
            self.spans[path] = _packed(
                start.line + 1,
                start.column + 1,
                end.line + 1,
                end.column + 1,
                *((at.line + 1, at.column + 1) if at else ()),
            )
        if isinstance(node, self.scalar):
            return _yaml_scalar(node)
        if id(node) in self.active:
            raise SourceError("recursive YAML alias", *_mark(node))
        self.active.add(id(node))
        try:
            if isinstance(node, self.sequence):
                items = node.value
                if self.release:
                    node.value = []
                    return [self.build(_take(items, i), path + (i,), depth + 1) for i in range(len(items))]
                return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(items)]
            if isinstance(node, self.mapping):
                return self._mapping(node, path, depth)
        finally:
            self.active.discard(id(node))
        raise SourceError("unsupported YAML node", *_mark(node))

    def _mapping(self, node: Any, path: FieldPath, depth: int) -> dict:
        out: dict = {}
        pairs = self._flatten(node, frozenset())
        release = self.release
        if release:
            node.value = []
        names = self.names
        for i in range(len(pairs)):
            key_node, value_node = _take(pairs, i) if release else pairs[i]
            key = names.setdefault(key_node.value, key_node.value)
            if _SURROGATE.search(key):
                _check_key(path, key, _mark(key_node))
            if key in out:
                line, col = _mark(key_node)
                first = self.smap.key_positions.get(path + (key,), (0, 0))
                raise SourceError(f"duplicate key {key!r} (first defined on line {first[0]})", line, col)
            out[key] = self.build(value_node, path + (key,), depth + 1, key_node)
        return out

    def _flatten(self, node: Any, inside: frozenset[int]) -> list[tuple[Any, Any]]:
        """The (key, value) nodes of a mapping with YAML 1.1 merge keys (`<<: *a`, `!!merge <<:`) applied.

        A merge is shallow: a merged key's value is the one written in the merged mapping (so its position is
        there too), unless the mapping writes that key itself (anywhere in it) or an earlier merged mapping has
        it. `<<: [*a, *b]` merges several, the first winning, as PyYAML's safe_load does.
        """
        import yaml

        pairs = node.value
        if not any(k.tag == _MERGE for k, _ in pairs):  # most mappings: as written, once their keys are checked
            for key_node, _ in pairs:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise SourceError("mapping keys must be plain strings", *_mark(key_node))
            return pairs
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
    return _scalar(node.value, node.style, node.tag, node.start_mark)


def _scalar(text: str, style: str | None, tag: str, start: Any) -> Any:
    if style:  # quoted or block scalar: always a string (plain: None, or "" from libyaml)
        return text
    if tag not in (
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
            raise SourceError(f"integer too long ({len(text)} characters)", start.line + 1, start.column + 1) from None
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
