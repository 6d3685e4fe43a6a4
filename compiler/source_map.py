"""What every spec reader produces: plain data, a `SourceMap` of positions, and the checks both formats share.

The YAML reader (`source_yaml`) and the JSON reader (`source_json`) import from here and from nowhere else in
the package, so `source.load` can import just the one a spec needs; frontends and diagnostics use `Plain`,
`SourceMap` and `Source` without pulling in either reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, Callable

from .diagnostics import Diagnostic, FieldPath, SourceError, SpecError

MAX_DEPTH = 200
MAX_NODES = 200_000


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
    """Field path -> (line, col): one part (`_START`, `_END` or `_KEY`) of the spans of a `SourceMap`."""

    __slots__ = ("smap", "part")

    def __init__(self, smap: "SourceMap", part: int) -> None:
        self.smap, self.part = smap, part

    def _at(self, path: Any) -> tuple[int, int] | None:
        tree = self.smap.tree
        if tree is not None:
            return tree.at(path, self.part)
        span = self.smap.spans.get(path)
        return None if span is None else _parts(span)[self.part]

    def __getitem__(self, path: FieldPath) -> tuple[int, int]:
        at = self._at(path)
        if at is None:
            raise KeyError(path)
        return at

    def _put(self, path: FieldPath, at: tuple[int, int] | None) -> None:
        spans = self.smap.materialised()
        span = spans.get(path)
        parts = [None, None, None] if span is None else list(_parts(span))
        parts[self.part] = at
        if parts == [None, None, None]:
            del spans[path]
        else:
            spans[path] = _span(*parts)

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
        return (path for path, span in self.smap.items() if span is not None and _parts(span)[self.part])

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

    The three are views of `spans`, which keeps one `_span` per value: its start, its end and its key's place;
    or, for a spec read by the JSON reader or the YAML event reader, of `tree` (a `SpanTree`), until a view is
    written to."""

    __slots__ = ("spans", "tree", "positions", "key_positions", "end_positions")

    def __init__(self, positions: Any = (), key_positions: Any = (), end_positions: Any = ()) -> None:
        self.spans: dict[FieldPath, Any] = {}
        self.tree: SpanTree | None = None
        self.positions = Positions(self, _START)
        self.end_positions = Positions(self, _END)
        self.key_positions = Positions(self, _KEY)
        for view, items in ((self.positions, positions), (self.key_positions, key_positions)):
            for path, at in dict(items).items():
                view[path] = at
        for path, at in dict(end_positions).items():
            self.end_positions[path] = at

    def items(self) -> Iterator[tuple[FieldPath, Any]]:
        """(path, `_span`) of every value, in the document's order."""
        return self.tree.items() if self.tree is not None else iter(self.spans.items())

    def materialised(self) -> dict[FieldPath, Any]:
        """`spans`, holding the tree's spans first if there is a tree (a view is being written to: rare)."""
        if self.tree is not None:
            tree, self.tree = self.tree, None
            self.spans.update(tree.items())
        return self.spans

    def translate(self, at: Callable[[int, int], tuple[int, int]]) -> None:
        """Every position (line, col) replaced by `at(line, col)`, in place: the YAML reader's own lines made
        the editor's (`source_yaml`), once, right after reading."""

        def packed(word: int) -> int:
            line, col = at(word >> 32, word & _WORD)
            return line << 32 | col

        if self.tree is not None:
            nodes = self.tree.nodes
            for i in range(len(nodes)):
                if i % 4 != 3 and nodes[i]:
                    nodes[i] = packed(nodes[i])
            return
        for path, span in self.spans.items():
            start, end, key = (None if part is None else at(*part) for part in _parts(span))
            self.spans[path] = _span(start, end, key)

    def end_of(self, path: FieldPath) -> tuple[int, int] | None:
        return self.end_positions.get(tuple(path))

    def locate(self, path: FieldPath, *, key: bool = False) -> tuple[int, int] | None:
        """Position of `path`, or of its nearest enclosing field that has one (`key`: of the key `path` is
        under, when it is under one)."""
        path = tuple(path)
        if self.tree is not None:
            return self.tree.locate(path, key)
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


class SpanTree:
    """The spans of a spec's values, numbered in the document's order, without a field path per value.

    A dict from field paths to spans cost ~190 bytes a value (the path's tuple, its int, the dict's slot):
    77 MB of a 100,000-step spec's 7 MB of YAML, more than its data. Here a value is four 64-bit words in
    `nodes` (its start, its end, its key's place, its shape and where its children's numbers start) and a
    32-bit word in `children`; a mapping's keys, shared by every mapping with the same keys, are in `shapes`.
    A path is found by walking from the top. Every position fits 32 bits (the reader checks the text's size).
    """

    __slots__ = ("nodes", "children", "shapes", "shape_ids", "_parent")

    def __init__(self) -> None:
        from array import array

        self.nodes = array("Q")  # per value: start, end, key (line << 32 | col, 0 for none), shape << 32 | first
        self.children = array("I")  # the numbers of each container's values, a container's together
        self.shapes: list[Any] = [None]  # by shape number: None (a scalar), a length (a list), key -> index (a mapping)
        self.shape_ids: dict[Any, int] = {}
        self._parent: tuple[Any, int] = ((), 0)  # the last path looked up but its last part, and its node

    def shape(self, of: Any) -> int:
        """The number of the shape of a list (its length) or of a mapping (the tuple of its keys)."""
        number = self.shape_ids.get(of)
        if number is None:
            number = self.shape_ids[of] = len(self.shapes)
            self.shapes.append(of if type(of) is int else {key: i for i, key in enumerate(of)})
        return number

    def node(self, path: Any) -> int | None:
        """The number of the value at `path`, or None. The steps of a script are looked up in the document's
        order, so the last path's parent is kept: a step after its sibling is found from their list, not from
        the top (a step 5 deep in the 10,000-step nested spec was a walk of 11 levels, three times)."""
        if not self.nodes:
            return None
        if type(path) is not tuple or not path:
            return self._walk(0, path)
        parent = path[:-1]
        if parent == self._parent[0]:
            number = self._parent[1]
        else:
            number = self._walk(0, parent)
            if number is not None:  # a path that misses is not kept: it says nothing of the next one
                self._parent = (parent, number)
        return None if number is None else self._walk(number, path[-1:])

    def _walk(self, number: int, parts: Any) -> int | None:
        nodes, shapes = self.nodes, self.shapes
        for part in parts:
            word = nodes[4 * number + 3]
            shape = shapes[word >> 32]
            if type(shape) is dict:
                index = shape.get(part) if isinstance(part, str) else None
            elif shape is not None and isinstance(part, int) and 0 <= part < shape:
                index = part
            else:
                return None
            if index is None:
                return None
            number = self.children[(word & _WORD) + index]
        return number

    def locate(self, path: FieldPath, key: bool) -> tuple[int, int] | None:
        """`SourceMap.locate` in one walk: the key's or the start's place of `path`, else of its parents'."""
        nodes = self.nodes
        number = self.node(path)
        if number is not None:
            packed = nodes[4 * number + _KEY] if key else 0
            packed = packed or nodes[4 * number + _START]
            if packed:
                return (packed >> 32, packed & _WORD)
        while path:
            path = path[:-1]
            number = self.node(path)
            packed = nodes[4 * number + _START] if number is not None else 0
            if packed:
                return (packed >> 32, packed & _WORD)
        return None

    def at(self, path: Any, part: int) -> tuple[int, int] | None:
        number = self.node(path)
        if number is None:
            return None
        packed = self.nodes[4 * number + part]
        return (packed >> 32, packed & _WORD) if packed else None

    def items(self) -> Iterator[tuple[FieldPath, Any]]:
        """(path, `_span`) of every value, in the document's order."""
        if not self.nodes:
            return
        nodes, shapes, children = self.nodes, self.shapes, self.children
        stack: list[tuple[FieldPath, int]] = [((), 0)]
        while stack:
            path, number = stack.pop()
            start, end, key, word = nodes[4 * number : 4 * number + 4]
            yield path, (key << 64 | start) << 64 | end
            shape, first = shapes[word >> 32], word & _WORD
            if shape is None:
                continue
            names = list(shape) if type(shape) is dict else range(shape)
            for index in reversed(range(len(names))):
                stack.append((path + (names[index],), children[first + index]))


@dataclass(frozen=True)
class Source:
    data: Any
    source_map: SourceMap
    fmt: str


class _LineIndex:
    """Offsets in a text to (line, col), both 1-based: both readers place their errors with it."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> tuple[int, int]:
        import bisect

        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


class _EditorLines:
    """PyYAML and libyaml count U+0085, U+2028 and U+2029 as line breaks (YAML 1.1); an editor, `sed -n`, grep
    and the JSON reader count newlines only. Their (line, col) of a text holding one, made the editor's."""

    def __init__(self, text: str):
        self.yaml_starts = [0] + [m.end() for m in re.finditer("\r\n|[\n\r\x85\u2028\u2029]", text)]
        self.editor = _LineIndex(text)

    def at(self, line: int, col: int) -> tuple[int, int]:
        if not 0 < line <= len(self.yaml_starts):
            return line, col
        return self.editor.at(self.yaml_starts[line - 1] + col - 1)
