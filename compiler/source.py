"""Reading a spec file into plain data plus a map from field paths to positions.

The front door of the readers: `load` imports the reader of the spec's format (`source_yaml` or
`source_json`) when it is first needed, so that compiling a JSON spec does not load the YAML reader and
PyYAML, and a YAML spec not the JSON one. Both produce the same thing, defined in `source_map`: plain
dicts/lists/scalars and a `SourceMap`. The names that frontends and tests use are importable from here.
"""

from __future__ import annotations

from .source_map import MAX_DEPTH, MAX_NODES, Plain, Positions, Source, SourceMap

__all__ = ["MAX_DEPTH", "MAX_NODES", "Plain", "Positions", "Source", "SourceMap", "guess_format", "load"]


def load(text: str, fmt: str) -> Source:
    """Parse `text` as `fmt` ("json" or "yaml")."""
    if fmt == "json":
        from .source_json import load_json

        return load_json(text)
    from .source_yaml import load_yaml

    return load_yaml(text)


def guess_format(name: str, text: str) -> str:
    lowered = name.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    return "json" if text.lstrip().startswith(("{", "[")) else "yaml"
