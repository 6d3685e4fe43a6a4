"""DeepSquare modules (`use`), resolved when the job is compiled: never in the script.

- `sources`: what a `use.source` names (a local directory, the grid's `host/owner/repo[/subdir][@ref]`, or a URL
  with a scheme) and where a module's own relative sources point;
- `fetch`: git repositories in a cache keyed by URL, refs resolved to commits, `--offline` reading the cache only;
- `gotemplate`: the small part of Go's text/template that module files use, with positions kept.

This package knows nothing of the spec's models: the DeepSquare frontend validates what it reads.
"""
