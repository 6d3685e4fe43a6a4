"""The YAML reader: a spec's text to plain data and positions, closing YAML's traps.

It is a module of its own because it is most of the reading code and only YAML specs need it (a JSON spec
never imports it, nor PyYAML). PyYAML's `compose()` keeps every node's mark; for a spec without anchors,
aliases and merge keys, libyaml's events are read straight into data instead (`_EventBuilder`).

The traps closed here rather than in the models:
- duplicate keys are errors (PyYAML would silently keep the last one);
- only `true`/`false`, `null`/`~`/empty and decimal integers are typed; every
  other plain scalar (`on`, `NO`, `1.10`, `12:30`, `0x1F`) stays a string;
- a plain scalar that looks like an int or bool is a `Plain`, which keeps its
  source text, so a string field receives exactly what the user wrote.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .diagnostics import FieldPath, SourceError
from .source_map import (
    _SURROGATE,
    _WORD,
    MAX_DEPTH,
    MAX_NODES,
    Plain,
    Source,
    SourceMap,
    SpanTree,
    _check_key,
    _EditorLines,
    _LineIndex,
    _packed,
)

_INT = re.compile(r"[-+]?[0-9]+\Z")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = {"", "~", "null", "Null", "NULL"}


def load_yaml(text: str) -> Source:
    """Parse `text` as YAML, placed on the editor's lines (see `_EditorLines`)."""
    if "\u2028" not in text and "\u2029" not in text and "\x85" not in text:
        return _load_yaml(text)
    lines = _EditorLines(text)
    try:
        source = _load_yaml(text)
    except SourceError as exc:
        raise SourceError(exc.diagnostics[0].message, *lines.at(exc.line, exc.col), exc.diagnostics[0].hint) from None
    source.source_map.translate(lines.at)
    return source


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


@functools.lru_cache(maxsize=None)
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
    so that every such spec, and every message, is exactly as `_YamlBuilder` makes it.

    The positions go into a `SpanTree` (a value's number is its place in the document's order, `count`
    before it is read), so no field path is made for a value."""

    def __init__(self, loader: Any, smap: SourceMap, text_size: int):
        import yaml

        if text_size >= _WORD:  # a position might not fit the tree's 32 bits: the composed tree takes it
            raise _Unusual
        self.get, self.check = loader.get_event, loader.check_event
        self.resolve = loader.resolve
        self.scalar_node = yaml.ScalarNode
        self.scalar, self.alias = yaml.ScalarEvent, yaml.AliasEvent
        self.sequence, self.sequence_end = yaml.SequenceStartEvent, yaml.SequenceEndEvent
        self.mapping, self.mapping_end = yaml.MappingStartEvent, yaml.MappingEndEvent
        self.count = 0
        self.max_nodes = max(MAX_NODES, text_size // 4)
        self.tree = smap.tree = SpanTree()
        self.nodes = self.tree.nodes
        self.names: dict[str, str] = {}

    def document(self) -> Any:
        import yaml

        self.get()  # the stream's start
        if self.check(yaml.StreamEndEvent):
            return None
        self.get()  # the document's start
        data = self.node(self.get(), 0, 0)
        self.get()  # the document's end
        if not self.check(yaml.StreamEndEvent):
            raise _Unusual  # a second document: the composer words it
        return data

    def _tag(self, event: Any) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(self.scalar_node, event.value, event.implicit)
        return tag

    def node(self, event: Any, depth: int, key_at: int) -> Any:
        """The value of `event`; its key (if any) at `key_at` (line << 32 | col, else 0)."""
        self.count += 1
        if self.count > self.max_nodes or depth > MAX_DEPTH or event.anchor is not None:
            raise _Unusual
        start = event.start_mark
        kind = type(event)
        nodes = self.nodes
        if kind is self.scalar:
            end = event.end_mark
            nodes.extend(
                ((start.line + 1) << 32 | (start.column + 1), (end.line + 1) << 32 | (end.column + 1), key_at, 0)
            )
            if event.style:  # quoted or block: a string, whatever its tag (`_scalar`'s first rule)
                return event.value
            return _scalar(event.value, event.style, self._tag(event), start)
        if kind is self.alias:
            raise _Unusual
        at = len(nodes)
        nodes.extend(((start.line + 1) << 32 | (start.column + 1), 0, key_at, 0))  # its end and shape come last
        members: list[int] = []
        if kind is self.sequence:
            items = []
            while not self.check(self.sequence_end):
                members.append(self.count)
                items.append(self.node(self.get(), depth + 1, 0))
            result: Any = items
            shape = self.tree.shape(len(items))
        elif kind is self.mapping:
            result = self._mapping(depth, members)
            shape = self.tree.shape(tuple(result))
        else:
            raise _Unusual
        end = self.get().end_mark
        nodes[at + 1] = (end.line + 1) << 32 | (end.column + 1)
        children = self.tree.children
        nodes[at + 3] = shape << 32 | len(children)
        children.extend(members)
        return result

    def _mapping(self, depth: int, members: list[int]) -> dict:
        out: dict = {}
        names = self.names
        while not self.check(self.mapping_end):
            key_event = self.get()
            if type(key_event) is not self.scalar or key_event.anchor is not None:
                raise _Unusual
            text = key_event.value
            if (text == "<<" or key_event.tag is not None) and self._tag(key_event) == _MERGE:
                raise _Unusual  # only a plain `<<` or an explicit tag can make a merge key
            key = names.get(text)
            if key is None:  # a key met for the first time: one string for all its occurrences, checked once
                if _SURROGATE.search(text):
                    raise _Unusual
                key = names[text] = text
            if key in out:
                raise _Unusual
            mark = key_event.start_mark
            members.append(self.count)
            out[key] = self.node(self.get(), depth + 1, (mark.line + 1) << 32 | (mark.column + 1))
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
