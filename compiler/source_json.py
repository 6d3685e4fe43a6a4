"""The JSON reader: a spec's text to plain data and positions.

The standard library's decoder keeps no positions, so its pure-Python scanner runs here with hooks that
record where each value starts and ends, and keys are found by walking back from their values. The positions
go into a `SpanTree`, as the YAML event reader's do: a field path and a dict entry per value cost most of the
reading time of a large spec (and most of its memory). It is a module of its own so that a YAML spec never
imports it.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
from typing import Any

from .diagnostics import FieldPath, SourceError
from .source_map import _WORD, MAX_DEPTH, Source, SourceMap, SpanTree, _check_key, _LineIndex

# A scanned value: (value, offset of its first character, offset just after it). A tuple, not a class: a large
# spec has a few hundred thousand of them, made and dropped while it is read.
_At = tuple


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
            return (value, idx, end), end

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


def load_json(text: str) -> Source:
    """Parse `text` as JSON."""
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
    if len(text) >= _WORD:  # a position would not fit the tree's 32 bits (and the text is 4 GiB or more)
        raise SourceError("spec too large: 4 GiB or more of JSON", 1, 1)
    smap = SourceMap()
    return Source(_TreeBuilder(smap, _LineIndex(text)).value(root, (), 0, 0), smap, "json")


class _TreeBuilder:
    """Plain data from the scanned values, and their positions into the source map's `SpanTree` (a value's
    number is its place in the document's order); the first problem met in that order is raised. The scanned
    values are emptied on the way."""

    def __init__(self, smap: SourceMap, lines: _LineIndex):
        import bisect

        self.tree = smap.tree = SpanTree()
        self.nodes, self.children = self.tree.nodes, self.tree.children
        self.text, self.starts, self.bisect = lines.text, lines.starts, bisect.bisect_right

    def packed(self, offset: int) -> int:
        """The (line, col) of `offset`, 1-based, as line << 32 | col."""
        line = self.bisect(self.starts, offset)
        return line << 32 | (offset - self.starts[line - 1] + 1)

    def value(self, at: _At, path: FieldPath, depth: int, key_at: int) -> Any:
        """The data of `at`, at `path`; its key (if any) at `key_at` (packed, else 0)."""
        value, offset, end = at
        if depth > MAX_DEPTH:
            raise SourceError(f"spec nested deeper than {MAX_DEPTH} levels", *_unpacked(self.packed(offset)))
        nodes = self.nodes
        slot = len(nodes)  # its four words; its number is slot // 4
        nodes.extend((self.packed(offset), self.packed(end), key_at, 0))
        if isinstance(value, _Pairs):
            members: list[int] = []
            out: dict = {}
            for j in range(len(value)):
                key, item = _take(value, j)
                key_packed = self.packed(_key_start(self.text, item[1]))
                _check_key(path, key, _unpacked(key_packed))
                if key in out:
                    first = nodes[4 * members[list(out).index(key)] + 2] >> 32
                    raise SourceError(f"duplicate key {key!r} (first defined on line {first})", *_unpacked(key_packed))
                members.append(len(nodes) // 4)
                out[key] = self.value(item, path + (key,), depth + 1, key_packed)
            self._close(slot, self.tree.shape(tuple(out)), members)
            return out
        if isinstance(value, list):
            members = []
            items = []
            for i in range(len(value)):
                members.append(len(nodes) // 4)
                items.append(self.value(_take(value, i), path + (i,), depth + 1, 0))
            self._close(slot, self.tree.shape(len(items)), members)
            return items
        return value

    def _close(self, slot: int, shape: int, members: list[int]) -> None:
        """A container's shape and its values' numbers, once they are read."""
        children = self.children
        self.nodes[slot + 3] = shape << 32 | len(children)
        children.extend(members)


def _take(items: list, i: int) -> Any:
    """`items[i]`, no longer held by `items`: the scanned values are let go while the data grows (both are as big
    as the spec)."""
    item, items[i] = items[i], None
    return item


def _unpacked(packed: int) -> tuple[int, int]:
    return packed >> 32, packed & _WORD


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
