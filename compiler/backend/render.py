"""Render a lowered job into one bash script with the templates in `templates/`.

One Jinja environment, configured so that every `{{ value }}` is shell-quoted
(`quoting.finalize`). Macro output is generated code and is marked with the
`code`/`block` filters. Rendering is a pure function of the IR and the site
profile: no clock, no randomness, no environment lookups.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from .. import ir
from ..diagnostics import Diagnostic, error, fail, format_path
from ..passes.walk import walk
from ..reserved import RESERVED_PATTERN
from ..site import Site
from . import quoting, srun
from .quoting import Sh

# Directives that the spec's resources decide; a profile or flag may not override them.
RESOURCE_DIRECTIVES = ("ntasks", "cpus-per-task", "mem-per-cpu", "gpus-per-task", "mem", "gpus", "mem-per-gpu",
                       "cpus-per-gpu", "ntasks-per-node", "gres", "wrap")


@dataclass(frozen=True)
class Uses:
    """Which optional parts of the runtime a job needs, so simple jobs stay short."""

    task: bool
    image_cache: bool
    hosted_images: bool
    groups: bool  # launches or parallel loops: background groups that can be stopped
    parallel: bool
    launches: bool


@lru_cache(maxsize=1)
def environment():
    import importlib.resources

    import jinja2

    root = importlib.resources.files("jobc.templates")
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (root / name).read_text(encoding="utf-8")),
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters.update(
        code=lambda text: Sh(text),
        block=lambda text, width: Sh(_indent(str(text), width)),
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
        items_loop=lambda s: isinstance(s, ir.ItemsLoop),
        http_transport=lambda t: isinstance(t, ir.HttpTransport),
        s3_transport=lambda t: isinstance(t, ir.S3Transport),
    )
    return env


def _finalize(value):
    """Quote a value for the shell; an `ir.Word` (literal and run-time parts) renders as one word."""
    return srun.render_word(value) if isinstance(value, ir.Word) else quoting.finalize(value)


def _indent(text: str, width: int) -> str:
    pad = " " * width
    return "\n".join(pad + line if line.strip() else line for line in text.split("\n"))


def render_script(job: ir.Job, site: Site, *, redact: bool = False) -> str:
    env = environment()
    template = env.get_template("script.sh.j2")
    group_steps = _steps_in_groups(job.steps, False)
    launches = any(isinstance(s, ir.LaunchStep) for s in walk(job.steps))
    parallel = any(isinstance(s, ir.LoopStep) and s.parallel for s in walk(job.steps))
    uses = Uses(
        task=any(srun.needs_task_library(s, id(s) in group_steps) for s in walk(job.steps) if isinstance(s, ir.RunStep)),
        image_cache=any(s.container and s.container.image_file_base == "JOBC_IMAGE_CACHE" for s in _runs(job)),
        hosted_images=any(s.container and s.container.image_file_base == "JOBC_HOSTED_IMAGES" for s in _runs(job)),
        groups=launches or parallel,
        parallel=parallel,
        launches=launches,
    )

    def secret(value: ir.Secret) -> Sh:
        return quoting.quote(f"<redacted: {value.field}>" if redact else value.value)

    script = template.render(
        job=job,
        site=site,
        uses=uses,
        directives=sbatch_directives(job, site),
        srun_line=lambda step, in_group: srun.srun_line(step, job, site, in_group),
        step_setup=lambda step: srun.step_setup(step, job, site),
        secret=secret,
        reserved_pattern=RESERVED_PATTERN,
    )
    return quoting.restore_newlines(script) + "\n"


def _runs(job: ir.Job) -> Iterable[ir.RunStep]:
    return (s for s in walk(job.steps) if isinstance(s, ir.RunStep))


def _steps_in_groups(steps: tuple[ir.AnyStep, ...], inside: bool) -> set[int]:
    """ids of the run steps that execute inside a background group (a launch or a parallel iteration)."""
    found: set[int] = set()
    for step in steps:
        if isinstance(step, ir.RunStep) and inside:
            found.add(id(step))
        elif isinstance(step, ir.LaunchStep):
            found |= _steps_in_groups(step.steps, True)
        elif isinstance(step, ir.LoopStep):
            found |= _steps_in_groups(step.steps, inside or step.parallel)
    return found


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
            out.append((key, quoting.sbatch_value(value)))
        except quoting.DirectiveError as exc:
            problems.append(error(path, f"#SBATCH --{key}: {exc}"))
    if problems:
        fail(problems)
    resources = [("ntasks", res.tasks), ("cpus-per-task", res.cpus_per_task), ("mem-per-cpu", f"{res.mem_per_cpu}M")]
    if res.gpus_per_task:
        resources.append(("gpus-per-task", res.gpus_per_task))
    head = out[:1] if out and out[0][0] == "job-name" else []
    return head + [(k, Sh(str(v))) for k, v in resources] + out[len(head):]
