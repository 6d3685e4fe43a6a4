"""source.py and its readers (source_yaml, source_json): JSON and YAML to plain data plus positions; YAML's traps."""

from __future__ import annotations

import random

import pytest

from jobc.diagnostics import SourceError
from jobc.source import MAX_DEPTH, Plain, SourceMap, guess_format, load


def err(text: str, fmt: str) -> tuple[str, int, int]:
    with pytest.raises(SourceError) as info:
        load(text, fmt)
    exc = info.value
    assert len(exc.diagnostics) == 1 and "\n" not in exc.diagnostics[0].message
    return exc.diagnostics[0].message, exc.line, exc.col


# --- JSON positions ---------------------------------------------------------------------------


def test_json_value_positions_are_line_and_column_of_the_value() -> None:
    text = '{\n  "a": {"b": [10, "x"]},\n  "c":\n    true\n}'
    src = load(text, "json")
    assert src.data == {"a": {"b": [10, "x"]}, "c": True}
    pos = src.source_map.positions
    assert pos[()] == (1, 1)
    assert pos[("a",)] == (2, 8)
    assert pos[("a", "b")] == (2, 14)
    assert pos[("a", "b", 0)] == (2, 15)
    assert pos[("a", "b", 1)] == (2, 19)
    assert pos[("c",)] == (4, 5)


def test_json_key_positions_are_the_opening_quote_of_the_key() -> None:
    text = '{"a\\"b" :\n  1, "c\\\\": {"d": 2}}'
    src = load(text, "json")
    assert src.data == {'a"b': 1, "c\\": {"d": 2}}
    keys = src.source_map.key_positions
    assert keys[('a"b',)] == (1, 2)
    assert keys[("c\\",)] == (2, 6)
    assert keys[("c\\", "d")] == (2, 14)


def test_json_positions_count_characters_not_bytes() -> None:
    src = load('{"é": "ü", "x": 1}', "json")
    assert src.source_map.positions[("x",)] == (1, 17)


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"a": 1, "a": 2}', ("duplicate key 'a' (first defined on line 1)", 1, 10)),
        ('{"a": 1,}', ("invalid JSON: Expecting property name enclosed in double quotes", 1, 9)),
        # Python 3.13 words trailing commas its own way, at the comma; jobc's message is the same on all
        ('{"a": 1,\n  }', ("invalid JSON: Expecting property name enclosed in double quotes", 2, 3)),
        ('{"a": [1, 2,]}', ("invalid JSON: Expecting value", 1, 13)),
        ("[1,\n]", ("invalid JSON: Expecting value", 2, 1)),
        ('{"a": 1} {}', ("invalid JSON: extra data after the document", 1, 10)),
        ("", ("invalid JSON: expecting a value", 1, 1)),
        ('{"a": "x\ny"}', ("invalid JSON: Invalid control character at", 1, 9)),
    ],
)
def test_json_errors(text: str, expected: tuple[str, int, int]) -> None:
    assert err(text, "json") == expected


def test_json_nesting_limit() -> None:
    deep = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    message, _, _ = err(deep, "json")
    assert "nested" in message


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_nesting_beyond_the_limit_is_placed_at_the_first_value_too_deep(fmt: str) -> None:
    """`[[[…]]]` is the same text in both formats, and both readers place it alike."""
    deep = "[" * (MAX_DEPTH + 50) + "]" * (MAX_DEPTH + 50)
    assert err(deep, fmt) == (f"spec nested deeper than {MAX_DEPTH} levels", 1, MAX_DEPTH + 2)


def test_json_duplicate_key_names_the_line_of_the_first() -> None:
    assert err('{"x": {"a": 1,\n  "b": 2,\n  "a": 3}}', "json") == ("duplicate key 'a' (first defined on line 1)", 3, 3)


def test_json_positions_are_kept_in_the_span_tree() -> None:
    src = load('{"steps": [\n  {"name": "a"},\n  {"name": "b", "run": {}}\n]}', "json")
    smap = src.source_map
    assert smap.tree is not None, "a JSON spec's positions are a SpanTree, as a YAML spec's"
    assert [path for path, _ in smap.items()] == [
        (),
        ("steps",),
        ("steps", 0),
        ("steps", 0, "name"),
        ("steps", 1),
        ("steps", 1, "name"),
        ("steps", 1, "run"),
    ]
    assert smap.end_of(("steps", 1)) == (3, 27)
    assert smap.locate(("steps", 1, "run", "command"), key=True) == (3, 24)  # its parent's value


def test_json_of_4_gib_or_more_is_refused_before_positions_overflow(monkeypatch) -> None:
    """A position is 32 bits of line and 32 of column; the limit is lowered here, a 4 GiB text is not made."""
    import jobc.source_json

    monkeypatch.setattr(jobc.source_json, "_WORD", 8)
    assert err('{"a": 1}', "json") == ("spec too large: 4 GiB or more of JSON", 1, 1)


# --- YAML -------------------------------------------------------------------------------------


def test_yaml_positions() -> None:
    src = load("a:\n  b: [1, x]\n  c:\n    - d: 1\n", "yaml")
    pos, keys = src.source_map.positions, src.source_map.key_positions
    assert pos[("a", "b", 1)] == (2, 10)
    assert pos[("a", "c", 0)] == (4, 7)  # a mapping starts at its first key
    assert keys[("a", "c")] == (3, 3)


@pytest.mark.parametrize("anchor", ["", "&v "])  # the event reader and, with an anchor, the node tree's builder
@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_yaml_positions_count_newlines_only_as_an_editor_and_the_json_reader_do(separator: str, anchor: str) -> None:
    """PyYAML breaks lines at U+2028, U+2029 and U+0085 too; a file holding one reported line 5 of 4."""
    text = f'a: "x{separator}y"\nb:\n  c: {anchor}[1, z{separator}w, q]\nd: 1\n'
    src = load(text, "yaml")
    pos, keys = src.source_map.positions, src.source_map.key_positions
    assert (pos[("b", "c", 2)], keys[("d",)], pos[("d",)]) == ((3, 15 + len(anchor)), (4, 1), (4, 4))
    assert src.source_map.end_of(("b", "c", 1)) == (3, 13 + len(anchor))
    assert err(f'a: "x{separator}y"\nb: [1\n', "yaml")[1:] == (3, 1)


@pytest.mark.parametrize(
    "text, value",
    [
        ("on", "on"),
        ("NO", "NO"),
        ("yes", "yes"),
        ("off", "off"),
        ("y", "y"),
        ("1.10", "1.10"),
        ("12:30", "12:30"),
        ("0x1F", "0x1F"),
        ("1e3", "1e3"),
        ("2001-12-14", "2001-12-14"),
        (".inf", ".inf"),
        (".nan", ".nan"),
        ("1_000", "1_000"),
        ("0o17", "0o17"),
        ("'007'", "007"),
        ('"true"', "true"),
        ("|\n  block\n", "block\n"),
        ("true", Plain("true", True)),
        ("False", Plain("False", False)),
        ("007", Plain("007", 7)),
        ("-3", Plain("-3", -3)),
        ("+12", Plain("+12", 12)),
        ("null", None),
        ("~", None),
        ("", None),
    ],
)
def test_yaml_scalars(text: str, value: object) -> None:
    assert load(f"v: {text}", "yaml").data == {"v": value}


def test_yaml_tagged_scalars_stay_text() -> None:
    assert load("v: !!int '12'", "yaml").data == {"v": "12"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a: 1\nb: 2\na: 3\n", ("duplicate key 'a' (first defined on line 1)", 3, 1)),
        ("x: {a: 1, a: 1}\n", ("duplicate key 'a' (first defined on line 1)", 1, 11)),
        ("b: &b {c: 1}\na:\n  <<: *b\n  c: 2\n  c: 3\n", ("duplicate key 'c' (first defined on line 4)", 5, 3)),
        ("a: {<<: 1}\n", ("a merge key (<<) takes a mapping or a list of mappings, such as <<: *defaults", 1, 9)),
        (
            "a: {<<: [{b: 1}, 2]}\n",
            ("a merge key (<<) takes a mapping or a list of mappings, such as <<: *defaults", 1, 9),
        ),
        ("a: &a {<<: *a}\n", ("recursive YAML alias", 1, 4)),
        ("? [a]\n: 1\n", ("mapping keys must be plain strings", 1, 3)),
        ("a: b\nc: \x00\n", ("invalid YAML: the NUL character is not allowed", 2, 4)),
        ("a: '\x07'\n", ("invalid YAML: the #x0007 character is not allowed", 1, 5)),
        ("a: [1\n", ("invalid YAML: expected ',' or ']', but got '<stream end>'", 2, 1)),
        ("a: b: c\n", ("invalid YAML: mapping values are not allowed here", 1, 5)),
    ],
)
def test_yaml_errors(text: str, expected: tuple[str, int, int]) -> None:
    assert err(text, "yaml") == expected


def test_yaml_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    message, _, _ = err("\n".join(lines) + "\n", "yaml")
    assert message.startswith("spec too large")


def test_yaml_aliases_are_copies_located_where_the_value_is_written() -> None:
    src = load("a: &x {k: 1}\nb: *x\n", "yaml")
    assert src.data == {"a": {"k": Plain("1", 1)}, "b": {"k": Plain("1", 1)}} and src.data["a"] is not src.data["b"]
    assert src.source_map.positions[("b", "k")] == (1, 11)  # at the anchor: that is where the text is


def test_yaml_nesting_limit() -> None:
    message, _, _ = err("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", "yaml")
    assert "nested" in message


@pytest.mark.parametrize("text", ["[" * 10_000, "a: " + "{b: " * 5_000, "[" * 1_001 + "a: b: c"])
def test_pure_python_yaml_parser_stops_reading_at_the_depth_limit(text, monkeypatch) -> None:
    """libyaml hands every text it refuses (too deep, unclosed) to PyYAML's parser, whose scanner works in
    proportion to the depth at every token: it must give up at jobc's limit instead of reading on (it took
    seconds)."""
    import yaml.scanner

    fetched = []
    fetch = yaml.scanner.Scanner.fetch_more_tokens
    monkeypatch.setattr(yaml.scanner.Scanner, "fetch_more_tokens", lambda self: fetched.append(1) or fetch(self))
    assert err(text, "yaml") == ("invalid YAML: nested too deeply", 1, 1)
    assert len(fetched) <= 4 * MAX_DEPTH + 5


def test_empty_yaml_is_none() -> None:
    assert load("# only a comment\n", "yaml").data is None


# --- helpers ----------------------------------------------------------------------------------


def test_locate_falls_back_to_the_nearest_enclosing_field() -> None:
    smap = SourceMap(positions={(): (1, 1), ("a",): (2, 3)}, key_positions={("a",): (2, 1)})
    assert smap.locate(("a", "missing", 0)) == (2, 3)
    assert smap.locate(("a",), key=True) == (2, 1)
    assert smap.locate(("zzz",)) == (1, 1)
    assert SourceMap().locate(("a",)) is None


_TREE_TEXTS = [
    "a: 1\n",
    "plain scalar\n",
    "[]\n",
    "{}\n",
    "steps:\n  - name: x\n    run: {command: echo, env: [{key: A, value: '1'}]}\n  - {name: y, steps: []}\nz: ~\n",
    "- [1, [2, {a: b}]]\n- c: {d: [e, f]}\n  g: |\n    text\n",
    "k: é\nl: [ü, 'x']\n",
]


def _composed(text: str):
    """The source map of `text` as the node tree's builder makes it (anchors, merge keys, problems)."""
    from jobc.source_yaml import _compose, _YamlBuilder

    smap = SourceMap()
    _YamlBuilder(smap, len(text)).build(_compose(text), (), 0)
    return smap


@pytest.mark.parametrize("text", _TREE_TEXTS)
def test_the_event_readers_span_tree_holds_what_the_node_trees_builder_finds(text: str) -> None:
    """The event reader keeps its positions in a `SpanTree`, without a field path per value; every path, in
    the same order, and every position, start, end and key, is what the dict of the node tree's builder holds."""
    smap, composed = load(text, "yaml").source_map, _composed(text)
    assert smap.tree is not None
    assert list(smap.items()) == list(composed.spans.items())
    for view in ("positions", "key_positions", "end_positions"):
        mine, theirs = getattr(smap, view), getattr(composed, view)
        assert dict(mine.items()) == dict(theirs.items())
        for path in list(composed.spans) + [("nope",), (0,), (5,), ("steps", 9), ("a", 0), ("steps", "0")]:
            assert mine.get(path) == theirs.get(path), (view, path)
    # The tree keeps the last path's parent: every lookup, in the document's order, backwards and in a shuffled
    # order, with paths that go on past a value or miss, finds what the dict finds.
    paths = list(composed.spans) + [("nope",), (0,), (5,), ("steps", 9), ("a", 0), ("steps", "0"), ("steps", 0, "x", 1)]
    paths += [path + ("more", 0) for path in composed.spans]
    for order in (paths, paths[::-1], random.Random(len(text)).sample(paths, len(paths))):
        for path in order:
            for key in (False, True):
                assert smap.locate(path, key=key) == composed.locate(path, key=key), (path, key)


def test_writing_to_a_span_trees_view_keeps_every_other_position() -> None:
    smap = load("a: {b: [1, 2]}\n", "yaml").source_map
    before = dict(smap.positions.items())
    smap.positions[("a", "new")] = (9, 9)
    del smap.key_positions[("a",)]
    assert smap.tree is None
    assert dict(smap.positions.items()) == {**before, ("a", "new"): (9, 9)}
    assert ("a",) not in smap.key_positions and smap.end_positions[("a", "b", 1)] == (1, 13)


@pytest.mark.parametrize(
    "name, text, fmt",
    [
        ("job.json", "a: 1", "json"),
        ("JOB.YML", "{}", "yaml"),
        ("job.yaml", "{}", "yaml"),
        ("-", '  {"a": 1}', "json"),
        ("-", "[1]", "json"),
        ("-", "a: 1", "yaml"),
        ("spec", "", "yaml"),
    ],
)
def test_guess_format(name: str, text: str, fmt: str) -> None:
    assert guess_format(name, text) == fmt


def test_yaml_merge_keys_are_shallow_and_explicit_keys_win() -> None:
    """YAML 1.1 merge keys as PyYAML's safe_load reads them (bfabricPy's own test specs use both forms)."""
    text = (
        "d: &d {type: exec, command: x, env: {A: '1'}}\n"
        "p:\n  command: y\n  <<: *d\n"
        "q: {!!merge <<: [*d, {z: 1, type: no}], env: {B: '2'}}\n"
    )
    import yaml

    source = load(text, "yaml")
    assert _plain(source.data)["p"] == yaml.safe_load(text)["p"]
    # In a list of merged mappings the first one wins (YAML's merge key rule); PyYAML 6.0.3 decides by the id() of
    # the key strings, so interning picks the winner; jobc follows the rule.
    assert source.data["q"]["type"] == "exec"
    assert source.data["p"] == {"command": "y", "type": "exec", "env": {"A": "1"}}
    assert source.data["q"]["env"] == {"B": "2"}  # shallow: the explicit env replaces the merged one
    positions = source.source_map.positions
    assert positions[("p", "type")] == (1, 14)  # where the merged value is written
    assert positions[("p", "command")] == (3, 12)
    assert positions[("q", "z")] == (5, 26)
    assert source.source_map.key_positions[("p", "env", "A")] == (1, 38)


def _plain(value):
    if isinstance(value, Plain):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_a_job_spec_may_use_merge_keys() -> None:
    """Both spec kinds read YAML the same way: a DeepSquare job shares step fields with `<<:`."""
    from jobc import compile_spec
    from jobc.diagnostics import SpecError

    head = "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}\n"
    text = head + ("steps:\n  - &first {name: a, run: {command: 'echo one'}}\n  - {<<: *first, name: b}\n")
    script = compile_spec(text, name="job.yaml").script
    assert script.count("echo one") == 2 and "jobc_step b" in script
    bad = head + "steps:\n  - &first {name: a, run: {command: 'echo one', tasks: x}}\n  - {<<: *first, name: b}\n"
    with pytest.raises(SpecError) as exc:
        compile_spec(bad, name="job.yaml")
    found = {(d.path, exc.value.source_map.locate(d.path)) for d in exc.value.diagnostics}
    assert (("steps", 1, "run", "tasks"), (3, 56)) in found  # the merged value, where it is written
