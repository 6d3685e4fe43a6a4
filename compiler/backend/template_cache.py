"""The templates compiled once per jobc version, Jinja version, Python and template text, not at every start.

Jinja turns a template into Python source and compiles that; for jobc's templates this took most of a cold
compile. Here the code objects are written once, marshalled into one file of the user's cache directory
(`$JOBC_CACHE_DIR`, else `$XDG_CACHE_HOME/jobc`, else `~/.cache/jobc`) named by a hash of all that, and read
back at the next start (one file read, whatever `PYTHONDONTWRITEBYTECODE` says). A changed template (an
editable install, a new release) hashes to a new file, so a stale one is never used. When the cache cannot be
read or written, the templates compile in memory as before.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from typing import Any

SUFFIX = ".j2"


def template_sources(directory: str) -> dict[str, str]:
    return {
        name: _read(os.path.join(directory, name)) for name in sorted(os.listdir(directory)) if name.endswith(SUFFIX)
    }


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def cache_root() -> str:
    explicit = os.environ.get("JOBC_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jobc")


def cache_file(root: str, version: str, sources: dict[str, str]) -> str:
    import jinja2

    digest = hashlib.sha256(f"{version}\0{jinja2.__version__}\0{sys.implementation.cache_tag}".encode())
    for name, text in sources.items():
        digest.update(b"\0" + name.encode() + b"\0" + text.encode("utf-8", "surrogatepass"))
    return os.path.join(root, f"templates-{digest.hexdigest()[:24]}.marshal")


def compiled(environment: Any, sources: dict[str, str], path: str) -> dict[str, Any]:
    """Each template's code object: from `path` when it is there, else compiled and written there."""
    try:
        with open(path, "rb") as fh:
            codes = marshal.load(fh)
        if isinstance(codes, dict) and set(codes) == set(sources):
            return codes
    except (OSError, EOFError, ValueError, TypeError):
        pass
    codes = {name: environment.compile(text, name, name) for name, text in sources.items()}
    try:
        _write(path, marshal.dumps(codes))
    except OSError:
        pass  # a read-only home: compiled in memory at each start, as without a cache
    return codes


def _write(path: str, data: bytes) -> None:
    import tempfile

    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=".templates-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(scratch, path)  # a concurrent jobc writes the same bytes
    except BaseException:
        os.unlink(scratch)
        raise


def loader(codes: dict[str, Any]) -> Any:
    """A Jinja loader handing out templates made from the code objects."""
    import jinja2

    class CompiledLoader(jinja2.BaseLoader):
        def load(self, environment, name, globals=None):
            if name not in codes:
                raise jinja2.TemplateNotFound(name)
            return environment.template_class.from_code(
                environment, codes[name], environment.make_globals(globals), None
            )

    return CompiledLoader()
