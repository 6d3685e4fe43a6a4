"""The JSON reader: a spec's text to plain data and positions.

The standard library's decoder keeps no positions. A valid text is decoded by its C scanner, then read once
more as a stream of tokens (a string, a bracket, a number or a literal: one per scalar and per key, two per
container), in the same order as the data is walked: each token gives the place of its value or key. The
positions go into a `SpanTree`, as the YAML event reader's do. A text the C scanner refuses is scanned again by
the pure-Python one, with hooks, which words its problem and places it (`_problem`). It is a module of its own so
that a YAML spec never imports it.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from typing import Any

from .diagnostics import FieldPath, SourceError
from .source_map import _WORD, MAX_DEPTH, Source, SourceMap, SpanTree, _check_key, _LineIndex

# The tokens of a valid JSON text that start a value or a key; `,` `:` and whitespace are skipped. A string is
# written as runs of plain characters between escapes, not one alternative per character: a third faster.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]|[^\s,:\[\]{}"]+', re.S)


class _Pairs(list):
    """Keys in source order, duplicates kept so they can be reported."""


def load_json(text: str) -> Source:
    """Parse `text` as JSON."""
    if text.startswith("\ufeff"):  # a byte order mark: accepted, as the YAML reader does; editors do not show it
        text = text[1:]
    try:
        data = json.loads(text, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        raise _problem(text) from None
    if len(text) >= _WORD:  # a position would not fit the tree's 32 bits (and the text is 4 GiB or more)
        raise SourceError("spec too large: 4 GiB or more of JSON", 1, 1)
    smap = SourceMap()
    return Source(_TreeBuilder(smap, _LineIndex(text)).value(data, (), 0, 0), smap, "json")


class _TreeBuilder:
    """Plain data from the decoded values, and their positions, from the text's tokens, into the source map's
    `SpanTree` (a value's number is its place in the document's order); the first problem met in that order is
    raised. The decoded values are emptied on the way: they and the data are as big as the spec."""

    def __init__(self, smap: SourceMap, lines: _LineIndex):
        import bisect

        self.tree = smap.tree = SpanTree()
        self.nodes, self.children = self.tree.nodes, self.tree.children
        self.next_token = _TOKEN.finditer(lines.text).__next__
        self.keys: set[str] = set()  # the keys already checked (`_check_key`)
        self.starts, self.bisect = lines.starts, bisect.bisect_right

    def packed(self, offset: int) -> int:
        """The (line, col) of `offset`, 1-based, as line << 32 | col."""
        line = self.bisect(self.starts, offset)
        return line << 32 | (offset - self.starts[line - 1] + 1)

    def value(self, value: Any, path: FieldPath, depth: int, key_at: int) -> Any:
        """The data of `value`, at `path`; its key (if any) at `key_at` (packed, else 0)."""
        token = self.next_token()
        if depth > MAX_DEPTH:
            raise SourceError(f"spec nested deeper than {MAX_DEPTH} levels", *_unpacked(self.packed(token.start())))
        nodes = self.nodes
        slot = len(nodes)  # its four words (its end and shape come last); its number is slot // 4
        nodes.extend((self.packed(token.start()), 0, key_at, 0))
        if type(value) is _Pairs:
            members: list[int] = []
            out: dict = {}
            next_token, packed, keys = self.next_token, self.packed, self.keys
            scalars_here = depth < MAX_DEPTH
            for j in range(len(value)):
                key, item = value[j]
                value[j] = None  # let go of the decoded pair: it and the data are as big as the spec
                key_packed = packed(next_token().start())
                if key not in keys:  # a key met for the first time: checked once for all its occurrences
                    _check_key(path, key, _unpacked(key_packed))
                    keys.add(key)
                if key in out:
                    first = nodes[4 * members[list(out).index(key)] + 2] >> 32
                    raise SourceError(f"duplicate key {key!r} (first defined on line {first})", *_unpacked(key_packed))
                members.append(len(nodes) // 4)
                kind = type(item)
                if scalars_here and kind is not _Pairs and kind is not list:  # `value`'s last case, written out
                    start, end = next_token().span()
                    at = packed(start)
                    nodes.extend((at, at + end - start, key_packed, 0))  # a scalar's token is on one line
                    out[key] = item
                else:
                    out[key] = self.value(item, path + (key,), depth + 1, key_packed)
            self._close(slot, self.tree.shape(tuple(out)), members)
            return out
        if type(value) is list:
            members = []
            for i in range(len(value)):
                members.append(len(nodes) // 4)
                value[i] = self.value(value[i], path + (i,), depth + 1, 0)
            self._close(slot, self.tree.shape(len(value)), members)
            return value
        nodes[slot + 1] = nodes[slot] + token.end() - token.start()  # a scalar's token is on one line
        return value

    def _close(self, slot: int, shape: int, members: list[int]) -> None:
        """A container's end (its closing bracket is the next token), its shape and its values' numbers."""
        children = self.children
        self.nodes[slot + 1] = self.packed(self.next_token().end())
        self.nodes[slot + 3] = shape << 32 | len(children)
        children.extend(members)


def _unpacked(packed: int) -> tuple[int, int]:
    return packed >> 32, packed & _WORD


def _problem(text: str) -> SourceError:
    """The problem of a text the C scanner refused, as the pure-Python scanner finds it: its words, its place."""
    try:
        root_end = _PurePythonDecoder().scan_once(text, _skip_ws(text, 0))[1]
    except json.JSONDecodeError as exc:
        message, line, col = _json_problem(text, exc)
        return SourceError(f"invalid JSON: {message}", line, col)
    except StopIteration as exc:
        line, col = _line_col(text, exc.value)
        return SourceError("invalid JSON: expecting a value", line, col)
    except _IntTooLong as exc:
        line, col = _line_col(text, exc.offset or 0)
        return SourceError(f"invalid JSON: integer too long ({exc.digits} characters)", line, col)
    except RecursionError:
        return SourceError("invalid JSON: nested too deeply", 1, 1)
    end = _skip_ws(text, root_end)
    line, col = _line_col(text, end)
    if end != len(text):
        return SourceError("invalid JSON: extra data after the document", line, col)
    return SourceError("invalid JSON: unreadable", line, col)  # both scanners read the same grammar: not met


class _PurePythonDecoder(json.JSONDecoder):
    """The stdlib decoder with its pure-Python scanner, noting where a too long integer starts."""

    def __init__(self) -> None:
        super().__init__(object_pairs_hook=_Pairs, parse_int=_parse_int)
        self.parse_object = self._object
        self.parse_array = self._array
        self.scan_once = self._wrap(json.scanner.py_make_scanner(self))

    @staticmethod
    def _wrap(scan_once):
        def scan(s, idx):
            try:
                return scan_once(s, idx)
            except _IntTooLong as exc:
                if exc.offset is None:  # the innermost value: the number itself starts here
                    exc.offset = idx
                raise

        return scan

    def _object(self, s_and_end, strict, scan_once, *rest):
        return json.decoder.JSONObject(s_and_end, strict, self._wrap(scan_once), *rest)

    def _array(self, s_and_end, scan_once, *rest):
        return json.decoder.JSONArray(s_and_end, self._wrap(scan_once), *rest)


class _IntTooLong(Exception):
    def __init__(self, digits: int):
        self.digits, self.offset = digits, None


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise _IntTooLong(len(text)) from None


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
