"""jobc: compile declarative HPC job specs into one Slurm batch script.

    spec text --source.load--> data + source map --frontends--> IR --passes--> IR --backend--> script

`compile_spec` is the whole pipeline; the CLI adds file handling and formats
diagnostics. Heavy modules (pydantic, jinja2) are imported inside functions so
that `jobc --help` and `jobc --version` start fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: `jobc --help` imports this module and nothing heavier
if TYPE_CHECKING:
    from collections.abc import Iterator

    from .diagnostics import Diagnostic
    from .options import CompileOptions
    from .site import Site
    from .source import SourceMap


class Compiled:
    """What `compile_spec` returns (a plain class: `dataclasses` costs `jobc --help` more than the rest).

    With `compile_spec(stream=True)`, `script` is None and `chunks` renders the script as it is taken, a
    megabyte at a time, once: the CLI writes it so, never holding all of it (99 MB for 100,000 nested steps).
    """

    __slots__ = ("script", "warnings", "has_secrets", "source_map", "_pieces")

    def __init__(
        self,
        script: "str | None",
        warnings: tuple["Diagnostic", ...],
        has_secrets: bool,
        source_map: "SourceMap",
        pieces: "Iterator[str] | None" = None,
    ) -> None:
        self.script, self.warnings, self.has_secrets, self.source_map = script, warnings, has_secrets, source_map
        self._pieces = pieces

    def chunks(self) -> "Iterator[str]":
        """The script in chunks of about a megabyte (rendered now, with `stream=True`)."""
        if self.script is not None:
            return iter([self.script])
        pieces, self._pieces = self._pieces, None
        if pieces is None:
            raise RuntimeError("the script's chunks were taken already")
        return _chunks(pieces)


_CHUNK = 1 << 20


def _chunks(pieces: "Iterator[str]") -> "Iterator[str]":
    """The script's pieces joined into chunks of about `_CHUNK` characters, Python's cyclic collector paused
    while each is rendered, as it is for the rest of a compile (see `compile_spec`)."""
    import gc

    more = True
    while more:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            batch, length = [], 0
            for piece in pieces:
                batch.append(piece)
                length += len(piece)
                if length >= _CHUNK:
                    break
            else:
                more = False
            chunk = "".join(batch)
        finally:
            if was_enabled:
                gc.enable()
        if chunk:
            yield chunk


def compile_spec(
    text: "str | list[str]",
    *,
    name: str = "job.yaml",
    site: "Site | None" = None,
    redact: bool = False,
    options: "CompileOptions | None" = None,
    digest: str | None = None,
    stream: bool = False,
) -> Compiled:
    """Compile spec `text` (the file `name` decides JSON or YAML). Raises `SpecError`.

    `digest` is the SHA-256 of the spec file's bytes, shown in the script's header (default: of `text`).
    `stream`: the script is rendered as `Compiled.chunks` are taken (every problem is found before).
    `text` may come as a list of it alone, which the compile empties and lets go of once the spec is read: the
    CLI so holds no spec text (22 MB for 100,000 nested steps) while the script is rendered.

    Python's cyclic garbage collector is paused meanwhile: a compile makes millions of objects and almost no
    cycles (the render's context and the IR it refers to, at the end), and the collector's passes over them
    were a third of a 10,000-step compile. Whatever cycles it made are collected once it is back on.
    """
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile(text, name=name, site=site, redact=redact, options=options, digest=digest, stream=stream)
    finally:
        if was_enabled:
            gc.enable()


def _compile(
    text: "str | list[str]",
    *,
    name: str,
    site: "Site | None",
    redact: bool,
    options: "CompileOptions | None",
    digest: str | None,
    stream: bool = False,
) -> Compiled:
    import hashlib

    from . import frontends
    from .backend.render import render_script
    from .diagnostics import SpecError
    from .passes import run_passes
    from .site import Site
    from .source import guess_format, load

    site = site or Site()
    if isinstance(text, list):
        text = text.pop()
    digest = digest or hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    source = load(text, guess_format(name, text))
    del text
    source_map = source.source_map
    try:
        try:
            job = frontends.data_to_ir(source.data, name=name, options=options, site=site)
        except SpecError as exc:
            _check_valid_part(exc, name=name, options=options, site=site)
            raise
        del source  # the data is lowered: not kept alive beside the IR and the script
        job = run_passes(job, site)
        script = render_script(
            job,
            site,
            redact=redact,
            line_of=_line_of(source_map),
            digest=digest,
            in_pieces=stream,
        )
    except SpecError as exc:
        exc.source_map = source_map
        raise
    if stream:
        return Compiled(None, job.warnings, _has_secrets(job), source_map, script)
    return Compiled(script, job.warnings, _has_secrets(job), source_map)


def _check_valid_part(exc, **context) -> None:
    """Add to a frontend's problems those the passes find in the rest of the spec (one run finds all)."""
    from . import frontends
    from .diagnostics import SpecError
    from .passes import run_passes

    salvaged = getattr(exc, "valid_part", None)
    if salvaged is None:
        return
    try:
        run_passes(frontends.data_to_ir(salvaged, **context), context["site"])
    except SpecError as more:
        exc.diagnostics += tuple(d for d in more.diagnostics if d not in exc.diagnostics)
    except Exception:  # noqa: BLE001 - the salvage is a bonus: it never hides the problems already found
        pass


def _line_of(source_map):
    """The spec line of a field path, for the steps' comments (called once per step: the import is done once)."""
    from .diagnostics import split_path

    def line_of(path) -> int | None:
        module, inside = split_path(path)[-1]
        smap = module.source_map if module is not None else source_map  # a module's step: its line in its file
        pos = smap.locate(inside, key=True)  # a mapping under a key: the key's line, where a reader looks
        return pos[0] if pos else None

    return line_of


def _has_secrets(job) -> bool:
    from .backend.features import holds_secrets

    return holds_secrets(job)
