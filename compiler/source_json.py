"""The JSON reader: a spec's text to plain data and positions.

The standard library's decoder keeps no positions, so its pure-Python scanner runs here with hooks that
record where each value starts and ends, and keys are found by walking back from their values. It is a
module of its own so that a YAML spec never imports it.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
from dataclasses import dataclass
from typing import Any

from .diagnostics import FieldPath, SourceError
from .source_map import MAX_DEPTH, Source, SourceMap, _check_key, _LineIndex


@dataclass(frozen=True)
class _At:
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
