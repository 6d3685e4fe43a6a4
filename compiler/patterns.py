"""Regular expressions compiled when first used, not when their module is imported.

A cold `jobc compile` imports every module of the pipeline, and each of them used to compile its patterns
at import, most of which a given spec never needs (image references, WireGuard keys, host names, site
profiles). A `Pattern` compiles on its first method call, through `re`'s own cache, and then keeps the
compiled pattern's methods on itself, so a pattern in a loop costs what a module-level `re.compile` did.
"""

from __future__ import annotations

import re
from typing import Any

_METHODS = ("match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer")


class Pattern:
    """`re.compile(source, flags)`, done on first use; it answers what `re.Pattern` answers."""

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source = source
        self._flags = flags

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # copy, pickle and the like: not a pattern's method
            raise AttributeError(name)
        compiled = re.compile(self._source, self._flags)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)
