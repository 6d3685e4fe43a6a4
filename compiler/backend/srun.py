"""The command line of one `srun` step, built as an argv of quoted words.

A step always states its resources (Slurm 22.05 and later do not pass the
job's `--cpus-per-task` on to steps, and a step without them takes the whole
allocation). The command runs as `SHELL -c COMMAND`, or as an argv, behind the
task wrappers the step needs: `jobc_task` records the step id when the step
runs in a background group (so it can be signalled), `unshare` maps root.
Containers and networks add their wrappers through `task_wrappers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import ir
from ..diagnostics import format_path
from ..site import Site
from . import commands, containers, networks
from .quoting import QUOTED_NEWLINE, Sh, heredoc, quote, words
from .words import CD_WORKDIR, render_word, work_dir

if TYPE_CHECKING:
    from .features import Features


# An iteration's value in a step's name is cut to this many characters (Slurm shows names in columns).
NAME_VALUE_CHARS = 40


def job_name(step: ir.RunStep, loop_variables: tuple[str, ...] = ()) -> Sh:
    """The step's name; inside loops with each iteration's value, so the iterations can be told apart."""
    name = quote(step.name or format_path(step.path))
    if not loop_variables:
        return name
    values = ", ".join(f"{v}=${{{v}:0:{NAME_VALUE_CHARS}}}" for v in loop_variables)
    return Sh(f'{name}" [{values}]"')


def srun_options(step: ir.RunStep, job: ir.Job, loop_variables: tuple[str, ...] = ()) -> Sh:
    """The options of the step's `srun`, on one line: each is a word quoted here, so they are joined as they are."""
    res = step.resources
    assert isinstance(res, ir.Resources), "resolve_defaults must run first"
    opts = [
        f"--job-name={job_name(step, loop_variables)}",
        f"--ntasks={res.tasks}",
        f"--cpus-per-task={res.cpus_per_task}",
        f"--mem-per-cpu={res.mem_per_cpu}M",
    ]
    if job.resources.gpus or res.gpus_per_task:
        opts.append(f"--gpus-per-task={res.gpus_per_task}")
        if not res.gpus_per_task:
            opts.append("--gres=none")  # Slurm 24.11 reads --gpus-per-task=0 as no request: all the job's GPUs
    if step.disable_cpu_binding:
        opts.append("--cpu-bind=none")
    if step.mpi:
        opts.append(f"--mpi={quote(step.mpi)}")
    if isinstance(step.work_dir, ir.Word) and not containers.enters_work_dir(step):
        opts.append(f"--chdir={render_word(step.work_dir)}")  # a directory the script made itself
    else:
        opts.append('--chdir="$STORAGE_PATH"')
    return Sh(" ".join(opts))


def _cd_into_work_dir(step: ir.RunStep) -> bool:
    return step.container is None and isinstance(step.work_dir, str)


COMMAND = "JOBC_COMMAND"


def _command_heredoc(step: ir.RunStep):
    """A multi-line shell command is read from a quoted heredoc before srun, so it reads as written."""
    if step.argv is not None or "\n" not in step.command:
        return None
    return heredoc(step.command)


def command_argv(step: ir.RunStep) -> list[Sh]:
    if step.argv is not None:
        return [render_word(a) for a in step.argv]
    if _command_heredoc(step) is not None:
        return [quote(step.shell), Sh("-c"), Sh(f'"${COMMAND}"')]
    return [quote(step.shell), Sh("-c"), quote(step.command)]


def needs_jobc_task(step: ir.RunStep, in_group: bool) -> bool:
    return in_group or networks.uses_netns(step) or containers.needs_task_function(step)


def task_wrappers(step: ir.RunStep, site: Site, in_group: bool) -> list[Sh]:
    """The wrappers before the command, outermost first: jobc_task, the namespace, the container."""
    wrappers: list[Sh] = []
    if needs_jobc_task(step, in_group):
        wrappers += [Sh("bash"), Sh("-c"), Sh("'jobc_task \"$@\"'"), Sh("jobc-task")]
    wrappers += _id_map(step, site)
    wrappers += networks.task_wrapper(step)
    wrappers += containers.task_wrapper(step, site)
    wrappers += commands.task_wrapper(step)
    if _cd_into_work_dir(step):
        wrappers += [quote(step.shell), Sh("-c"), quote(CD_WORKDIR), Sh("jobc-workdir")]
    return wrappers


def _id_map(step: ir.RunStep, site: Site) -> list[Sh]:
    """The user namespace of `mapRoot` (host only: containers have their own flag) or `mapUid`/`mapGid`.

    A namespace step maps the ids in its own user namespace (`jobc_netns`): never a second one.
    The ids not given stay the user's own (`--map-current-user`, which a later option overrides).
    """
    if networks.uses_netns(step):
        return []
    if step.map_uid is None and step.map_gid is None:
        if step.container is None and step.map_root:
            return [quote(site.tool("unshare")), Sh("--user"), Sh("--map-root-user"), Sh("--mount")]
        return []
    out = [quote(site.tool("unshare")), Sh("--user"), Sh("--map-current-user")]
    if step.map_uid is not None:
        out.append(Sh(f"--map-user={step.map_uid}"))
    if step.map_gid is not None:
        out.append(Sh(f"--map-group={step.map_gid}"))
    out.append(Sh("--mount"))
    if containers.needs_task_function(step):  # jobc_enroot is a function: a bash runs it in the namespace
        out += [Sh("--"), Sh("bash"), Sh("-c"), Sh("'\"$@\"'"), Sh("jobc-ids")]
    return out


# Tokens that end one wrapper of the task chain; the next wrapper starts on its own line.
_WRAPPER_ENDS = {"--", "jobc-task", "jobc-workdir", "jobc-ids"}


def srun_line(step: ir.RunStep, job: ir.Job, site: Site, found: "Features") -> Sh:
    """`srun OPTIONS` on one line, then each task wrapper and the command on lines of their own."""
    first = "jobc_finally_srun " if id(step) in found.in_finally else ""
    options = srun_options(step, job, found.loop_variables.get(id(step), ()))
    lines = [f"{first}{quote(site.tool('srun'))} {options}"]
    current: list[Sh] = [Sh("--")]
    for token in task_wrappers(step, site, id(step) in found.in_group):
        current.append(token)
        if token in _WRAPPER_ENDS:
            lines.append(words(current))
            current = []
    last = current + command_argv(step)
    if last:  # else the command is empty: the container runs the image's own entrypoint and command
        lines.append(words(last))
    return Sh(" \\\n    ".join(lines))


def step_setup(step: ir.RunStep, job: ir.Job, site: Site) -> list[Sh]:
    """Shell lines run in the batch script before the step's srun (image fetch, config files)."""
    lines = networks.setup_lines(step) + containers.setup_lines(step, job)
    if _cd_into_work_dir(step):
        lines.append(Sh(f"export JOBC_WORKDIR={work_dir(step)}"))
    doc = _command_heredoc(step)
    if doc is not None:
        delimiter, body = doc
        trim = "" if step.command.endswith("\n") else f"\n{COMMAND}=${{{COMMAND}%$'\\n'}}"
        lines.append(Sh(f"IFS= read -r -d '' {COMMAND} <<{delimiter} || true{QUOTED_NEWLINE}{body}{trim}"))
    return lines


def memory(mb: int) -> str:
    """Slurm's megabytes (MiB) in readable units: `4 GiB`, `512 MiB`."""
    return f"{mb // 1024} GiB" if mb and mb % 1024 == 0 else f"{mb} MiB"


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def resources_text(
    res: ir.Resources, fields: tuple[str, ...] = ("tasks", "cpus_per_task", "mem_per_cpu", "gpus_per_task")
) -> str:
    """`4 tasks × 8 CPUs, 4 GiB/CPU, 1 GPU/task` (the fields asked for; no GPUs when there are none)."""
    parts = []
    cpus = _count(res.cpus_per_task, "CPU")
    if "tasks" in fields:
        parts.append(f"{_count(res.tasks, 'task')} × {cpus}")
    elif "cpus_per_task" in fields:
        parts.append(f"{cpus}/task")
    if "mem_per_cpu" in fields:
        parts.append(f"{memory(res.mem_per_cpu)}/CPU")
    if "gpus_per_task" in fields and res.gpus_per_task:
        parts.append(f"{_count(res.gpus_per_task, 'GPU')}/task")
    return ", ".join(parts)


def inherited_note(step: ir.AnyStep) -> str:
    """A comment line when a step takes GPUs or more than one CPU from the job without asking for them."""
    if not isinstance(step, ir.RunStep) or not isinstance(step.resources, ir.Resources):
        return ""
    res = step.resources
    if not (
        ("cpus_per_task" in step.inherited and res.cpus_per_task > 1)
        or ("gpus_per_task" in step.inherited and res.gpus_per_task > 0)
    ):
        return ""
    return f"inherits the job's {resources_text(res, step.inherited)} (the step states none of its own)"
