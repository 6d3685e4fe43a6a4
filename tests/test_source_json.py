"""source_json: the data and the positions of any valid JSON text, however it is laid out.

The reader decodes with the C scanner and takes the positions from the text's tokens; here every position it
records is checked against the text itself: a value starts where its encoding starts, ends just after it, and
a key's place is the opening quote of that key.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from jobc.source import load

_TEXT = st.text(alphabet=st.sampled_from(["a", "é", '"', "\\", "\n", "\t", "\u2028", "😀", " ", ":", ",", "{", "]"]))
_SCALARS = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False) | _TEXT
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4), max_leaves=25
)
_LAYOUTS = st.fixed_dictionaries(
    {
        "indent": st.sampled_from([None, 0, 2, "\t"]),
        "ensure_ascii": st.booleans(),
        "separators": st.tuples(st.sampled_from([",", ", ", " ,\n "]), st.sampled_from([":", ": ", " :\n"])),
    }
)


def _offset(text: str, at: tuple[int, int]) -> int:
    line, col = at
    return sum(len(row) + 1 for row in text.split("\n")[: line - 1]) + col - 1


def _at(value, path):
    for part in path:
        value = value[part]
    return value


@given(_VALUES, _LAYOUTS, st.sampled_from(["", " ", "\n", "\r\n\t"]))
def test_every_position_points_at_its_value_or_key_in_the_text(value, layout, around) -> None:
    text = around + json.dumps(value, **layout) + around
    src = load(text, "json")
    assert src.data == value
    smap = src.source_map
    paths = [path for path, _ in smap.items()]
    assert len(paths) == len(set(paths))
    for path in paths:
        start = _offset(text, smap.positions[path])
        end = _offset(text, smap.end_positions[path])
        assert json.loads(text[start:end]) == _at(value, path), path
        if path and isinstance(path[-1], str):
            key = _offset(text, smap.key_positions[path])
            written = json.dumps(path[-1], ensure_ascii=layout["ensure_ascii"])
            assert text[key : key + len(written)] == written, path
        else:
            assert path not in smap.key_positions
