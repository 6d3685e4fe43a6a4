"""Render a lowered job into one bash script with the templates in `templates/`.

One Jinja environment, configured so that every `{{ value }}` is shell-quoted
(`quoting.finalize`); text that jobc generated is marked with the `code` filter.
The step tree is written by `steps.StepWriter` (Python, under the same quoting
rule) and handed to the template one top-level step at a time. Rendering is a
pure function of the IR and the site profile: no clock, no randomness, no
environment lookups.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain
from typing import Callable

from .. import ir
from ..diagnostics import Diagnostic, FieldPath, error, fail, format_path
from ..directives import RESOURCE_DIRECTIVES, DirectiveError, sbatch_value
from ..reserved import RESERVED_NAMES, RESERVED_PREFIXES
from ..site import Site
from . import networks, quoting
from .features import features
from .quoting import Sh
from .steps import StepWriter
from .summary import header_lines
from .words import render_word

# The reserved names as a `case` pattern: for a name already known to be an identifier, the rule of
# reserved.RESERVED_PATTERN, without a regular expression that bash would compile for every line of every step.
RESERVED_CASE = "|".join(RESERVED_NAMES + tuple(prefix + "*" for prefix in RESERVED_PREFIXES))


@lru_cache(maxsize=1)
def environment():
    """The environment of the templates shipped in `jobc.templates`, loaded compiled (`template_cache`)."""
    import os

    from .. import __version__, templates
    from .template_cache import cache_file, cache_root, compiled, loader, template_sources

    sources = template_sources(os.path.dirname(templates.__file__))
    env = _environment()
    env.loader = loader(compiled(env, sources, cache_file(cache_root(), __version__, sources)))
    return env


def _environment():
    import jinja2

    env = jinja2.Environment(
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters.update(
        code=_Code,
        words=quoting.words,
        comment=quoting.comment,
        site_path=quoting.site_path,
        octal=lambda mode: Sh(format(mode, "o")),
    )
    env.tests.update(
        http_transport=lambda t: isinstance(t, ir.HttpTransport),
        s3_transport=lambda t: isinstance(t, ir.S3Transport),
    )
    return env


class _Code:
    """Generated code (the `code` filter's output), written as it is.

    Not an `Sh`: making one copies the text, and the steps' text (`steps.StepWriter`, one piece per top-level
    step, megabytes in a large job) would be copied again by `str()` when it is written; this wrapper hands the
    string on."""

    __slots__ = ("text",)

    def __init__(self, text: object) -> None:
        self.text = text


def _finalize(value):
    """Quote a value for the shell; an `ir.Word` (literal and run-time parts) renders as one word."""
    if type(value) is _Code:
        return value.text
    return render_word(value) if isinstance(value, ir.Word) else quoting.finalize(value)


def render_script(
    job: ir.Job,
    site: Site,
    *,
    redact: bool = False,
    line_of: Callable[[FieldPath], int | None] | None = None,
    digest: str = "",
    in_pieces: bool = False,
) -> str:
    """The script; `line_of` gives the spec line of a field path (for the step comments), `digest` the
    SHA-256 of the spec (for the header). `in_pieces`: an iterator of its pieces instead, rendered as they are
    taken (the CLI writes them as they come; every problem of the spec is found before the first)."""
    env = environment()
    template = env.get_template("script.sh.j2")
    found = features(job)
    path_text = path_texts()  # each step's path: in the header and in its comment
    writer = StepWriter(job, site, found, line_of, path_text)

    def secret(value: ir.Secret) -> Sh:
        return quoting.quote(f"<redacted: {value.field}>" if redact else value.value)

    pieces = template.generate(
        job=job,
        site=site,
        features=found,
        directives=sbatch_directives(job, site),
        header=header_lines(job, found.secrets, digest or "unknown", path_text),
        step_texts=writer.top_level(),
        secret=secret,
        reserved_case=RESERVED_CASE,
        dns_forwarder=networks.DNS_FORWARDER,
        vnet_gateways=networks.gateway_lines(job),
    )
    # The newlines restored in each piece, the last newline added to the join: one copy of the script, not three.
    script = chain(map(quoting.restore_newlines, pieces), ("\n",))
    return script if in_pieces else "".join(script)  # type: ignore[return-value]


def path_texts() -> Callable[[FieldPath], str]:
    """`format_path`, remembered, each path's text made from the nearest shorter path already made.

    The header and the step comments take the steps' paths in the document's order, a step's parent before
    it, so a step 5 deep (a path of 17 parts, 2.6 µs to format) is its parent's text and its last 3 parts.
    Only the paths asked for are kept (not every prefix: 100,000 nested steps would hold 100,000 more)."""
    memo: dict[FieldPath, str] = {(): ""}

    def path_text(path: FieldPath) -> str:
        text = memo.get(path)
        if text is None:
            cut = len(path) - 1
            while path[:cut] not in memo:  # () is in it
                cut -= 1
            text = memo[path] = format_path(path[cut:], memo[path[:cut]])
        return text

    return path_text


def sbatch_directives(job: ir.Job, site: Site) -> list[tuple[str, Sh]]:
    """`#SBATCH` lines: the job name, the spec's resources, then the profile's and the CLI's."""
    res = job.resources
    pairs: list[tuple[str, str, tuple]] = [("job-name", job.name, ())]
    problems: list[Diagnostic] = []
    for key, value in list(site.sbatch) + [(d.key, d.value) for d in job.sbatch]:
        if key in RESOURCE_DIRECTIVES:
            problems.append(error((), f"--sbatch {key}: set by the spec's resources, not by a directive"))
            continue
        pairs = [p for p in pairs if p[0] != key] + [(key, value, ())]
    out: list[tuple[str, Sh]] = []
    for key, value, path in pairs:
        try:
            out.append((key, Sh(sbatch_value(value))))
        except DirectiveError as exc:
            problems.append(error(path, f"#SBATCH --{key}: {exc}"))
    if problems:
        fail(problems)
    resources = [("ntasks", res.tasks), ("cpus-per-task", res.cpus_per_task), ("mem-per-cpu", f"{res.mem_per_cpu}M")]
    if res.total_gpus:
        resources.append(("gpus", res.total_gpus))  # as DeepSquare's supervisor asks sbatch for the job's gpus
    elif res.gpus_per_task:
        resources.append(("gpus-per-task", res.gpus_per_task))
    head = out[:1] if out and out[0][0] == "job-name" else []
    return head + [(k, Sh(str(v))) for k, v in resources] + out[len(head) :]
