"""Render a lowered job into one bash script with the templates in `templates/`.

One Jinja environment, configured so that every `{{ value }}` is shell-quoted
(`quoting.finalize`). Macro output is generated code and is marked with the
`code`/`block` filters. Rendering is a pure function of the IR and the site
profile: no clock, no randomness, no environment lookups.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain
from typing import Callable, NamedTuple

from .. import ir
from ..diagnostics import Diagnostic, FieldPath, InModule, error, fail, format_path
from ..directives import RESOURCE_DIRECTIVES, DirectiveError, sbatch_value
from ..reserved import RESERVED_NAMES, RESERVED_PREFIXES
from ..site import Site
from . import networks, quoting, srun
from .features import features, loop_shellcheck_codes
from .quoting import Sh
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
        block=lambda text, width: _Code(_indent(text, width) if width else text),
        words=quoting.words,
        comment=quoting.comment,
        site_path=quoting.site_path,
        field_path=format_path,
        octal=lambda mode: Sh(format(mode, "o")),
        launch_slots=lambda steps: [s.slot for s in steps if isinstance(s, ir.LaunchStep)],
    )
    env.tests.update(
        run_step=lambda s: isinstance(s, ir.RunStep),
        loop_step=lambda s: isinstance(s, ir.LoopStep),
        launch_step=lambda s: isinstance(s, ir.LaunchStep),
        module_step=lambda s: isinstance(s, ir.ModuleStep),
        group_step=lambda s: isinstance(s, ir.GroupStep),
        items_loop=lambda s: isinstance(s, ir.ItemsLoop),
        http_transport=lambda t: isinstance(t, ir.HttpTransport),
        s3_transport=lambda t: isinstance(t, ir.S3Transport),
    )
    return env


class _Code:
    """Generated code (the `code` and `block` filters' output), written as it is.

    Not an `Sh`: making one copies the text, and a macro's output is marked at every level of the step tree
    (then copied again by `str()` when it is written); this wrapper hands the macro's own string on."""

    __slots__ = ("text",)

    def __init__(self, text: object) -> None:
        self.text = text


def _finalize(value):
    """Quote a value for the shell; an `ir.Word` (literal and run-time parts) renders as one word."""
    if type(value) is _Code:
        return value.text
    return render_word(value) if isinstance(value, ir.Word) else quoting.finalize(value)


def _indent(text: str, width: int) -> str:
    """Every line that is not blank (whitespace only) gets `width` spaces in front.

    The whole script's steps pass through here once per nesting level, so each pass is a scan or two in C
    over the text: a line of whitespace ends in whitespace, so a text without a newline after whitespace
    (found by a search that skips to each newline and looks one character back) and without a last line of
    whitespace has none; then every line that is not empty is padded by one substitution. Only a text with
    a line that ends in whitespace takes the expression that keeps such a line as it is (no string per line
    either way: that was most of the memory of a 100,000-step compile)."""
    pad = " " * width
    last_line = text[text.rfind("\n") + 1 :]
    if _NEWLINE_AFTER_WHITESPACE.search(text) is None and not last_line.isspace():
        padded = _LINE_AFTER_NEWLINE.sub("\n" + pad, text)
        return padded if text[:1] in ("", "\n") else pad + padded
    if width not in _PADDED_BLANK:
        _PADDED_BLANK[width] = re.compile(r"^ {%d}([^\S\n]*)$" % width, re.MULTILINE)
    return _PADDED_BLANK[width].sub(r"\1", pad + text.replace("\n", "\n" + pad))


# A newline right after whitespace (the literal newline first lets `search` skip ahead fast).
_NEWLINE_AFTER_WHITESPACE = re.compile(r"\n(?<=[^\S\n]\n)")
# A newline that starts a line that is not empty.
_LINE_AFTER_NEWLINE = re.compile(r"\n(?=[^\n])")
_PADDED_BLANK: dict[int, re.Pattern[str]] = {}


class StepLines(NamedTuple):
    """What Python writes of one step, handed to the templates in one call per step (a call from a template
    costs more than most of these lines): where the step is in the spec, the note on the resources it
    inherits, and for a run step the batch-shell lines before its srun and the srun line itself."""

    origin: Sh
    note: str
    setup: list[Sh]
    srun: Sh | None


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
    path_text = lru_cache(maxsize=None)(format_path)  # each step's path: in the header and in its comment

    def origin(step: ir.AnyStep) -> Sh:
        """`steps[1] "train" (gpu-training.yaml:27)`: where a reviewer finds the step in the spec."""
        text = path_text(step.path)
        if step.name:
            text += f' "{step.name}"'
        line = line_of(step.path) if line_of else None
        module = None
        if InModule in map(type, step.path):  # a step of a module (rare): its script's name, not the job's
            module = next(part for part in reversed(step.path) if isinstance(part, InModule))
        if line:
            text += f" ({module.script_name if module else job.source_name or 'spec'}:{line})"
        return quoting.comment(text)

    def step_lines(step: ir.AnyStep) -> StepLines:
        if not isinstance(step, ir.RunStep):
            return StepLines(origin(step), "", [], None)
        return StepLines(
            origin(step),
            srun.inherited_note(step),
            srun.step_setup(step, job, site),
            srun.srun_line(step, job, site, found),
        )

    def secret(value: ir.Secret) -> Sh:
        return quoting.quote(f"<redacted: {value.field}>" if redact else value.value)

    pieces = template.generate(
        job=job,
        site=site,
        features=found,
        directives=sbatch_directives(job, site),
        header=header_lines(job, found.secrets, digest or "unknown", path_text),
        step_lines=step_lines,
        loop_shellcheck_codes=loop_shellcheck_codes,
        secret=secret,
        reserved_case=RESERVED_CASE,
        dns_forwarder=networks.DNS_FORWARDER,
        vnet_gateways=networks.gateway_lines(job),
    )
    # The newlines restored in each piece, the last newline added to the join: one copy of the script, not three.
    script = chain(map(quoting.restore_newlines, pieces), ("\n",))
    return script if in_pieces else "".join(script)  # type: ignore[return-value]


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
