"""What every spec reader produces: plain data, a `SourceMap` of positions, and the checks both formats share.

The YAML reader (`source_yaml`) and the JSON reader (`source_json`) import from here and from nowhere else in
the package, so `source.load` can import just the one a spec needs; frontends and diagnostics use `Plain`,
`SourceMap` and `Source` without pulling in either reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

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
