"""The command line of one `srun` step, built as an argv of quoted words.

A step always states its resources (Slurm 22.05 and later do not pass the
job's `--cpus-per-task` on to steps, and a step without them takes the whole
allocation). The command runs as `SHELL -c COMMAND`, or as an argv, behind the
task wrappers the step needs: `jobc_task` records the step id when the step
runs in a background group (so it can be signalled), `unshare` maps root.
Containers and networks add their wrappers through `task_wrappers`.
"""

from __future__ import annotations

from .. import ir
from ..diagnostics import format_path
from ..site import Site
from . import commands, containers, networks
from .quoting import Sh, quote, words
from .words import CD_WORKDIR, render_word, work_dir


def srun_options(step: ir.RunStep, job: ir.Job) -> list[Sh]:
    res = step.resources
    assert isinstance(res, ir.Resources), "resolve_defaults must run first"
    opts = [
        Sh(f"--job-name={quote(step.name or format_path(step.path))}"),
        Sh(f"--ntasks={res.tasks}"),
        Sh(f"--cpus-per-task={res.cpus_per_task}"),
        Sh(f"--mem-per-cpu={res.mem_per_cpu}M"),
    ]
    if job.resources.gpus_per_task or res.gpus_per_task:
        opts.append(Sh(f"--gpus-per-task={res.gpus_per_task}"))
    if step.disable_cpu_binding:
        opts.append(Sh("--cpu-bind=none"))
    if step.mpi:
        opts.append(Sh(f"--mpi={quote(step.mpi)}"))
    if isinstance(step.work_dir, ir.Word) and not containers.enters_work_dir(step):
        opts.append(Sh(f"--chdir={render_word(step.work_dir)}"))  # a directory the script made itself
    else:
        opts.append(Sh('--chdir="$STORAGE_PATH"'))
    return opts


def _cd_into_work_dir(step: ir.RunStep) -> bool:
    return step.container is None and isinstance(step.work_dir, str)


def command_argv(step: ir.RunStep) -> list[Sh]:
    if step.argv is not None:
        return [render_word(a) for a in step.argv]
    return [quote(step.shell), Sh("-c"), quote(step.command)]


def needs_jobc_task(step: ir.RunStep, in_group: bool) -> bool:
    return in_group or networks.uses_netns(step) or containers.needs_task_function(step)


def task_wrappers(step: ir.RunStep, site: Site, in_group: bool) -> list[Sh]:
    """The wrappers before the command, outermost first: jobc_task, the namespace, the container."""
    wrappers: list[Sh] = []
    if needs_jobc_task(step, in_group):
        wrappers += [Sh("bash"), Sh("-c"), Sh("'jobc_task \"$@\"'"), Sh("jobc-task")]
    if step.container is None and step.network.mode == "host" and step.map_root:
        wrappers += [quote(site.tool("unshare")), Sh("--user"), Sh("--map-root-user"), Sh("--mount")]
    wrappers += networks.task_wrapper(step)
    wrappers += containers.task_wrapper(step, site)
    wrappers += commands.task_wrapper(step)
    if _cd_into_work_dir(step):
        wrappers += [quote(step.shell), Sh("-c"), quote(CD_WORKDIR), Sh("jobc-workdir")]
    return wrappers


# Tokens that end one wrapper of the task chain; the next wrapper starts on its own line.
_WRAPPER_ENDS = {"--", "jobc-task", "jobc-workdir"}


def srun_line(step: ir.RunStep, job: ir.Job, site: Site, in_group: bool) -> Sh:
    """`srun OPTIONS` on one line, then each task wrapper and the command on lines of their own."""
    lines = [words([site.tool("srun")] + srun_options(step, job))]
    current: list[Sh] = [Sh("--")]
    for token in task_wrappers(step, site, in_group):
        current.append(token)
        if token in _WRAPPER_ENDS:
            lines.append(words(current))
            current = []
    lines.append(words(current + command_argv(step)))
    return Sh(" \\\n    ".join(lines))


def step_setup(step: ir.RunStep, job: ir.Job, site: Site) -> list[Sh]:
    """Shell lines run in the batch script before the step's srun (image fetch, config files)."""
    lines = networks.setup_lines(step) + containers.setup_lines(step, job)
    if _cd_into_work_dir(step):
        lines.append(Sh(f"export JOBC_WORKDIR={work_dir(step)}"))
    return lines
