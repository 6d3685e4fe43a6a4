"""What a job's script needs, decided once from the IR before anything is rendered.

The templates only ask `features.<name>`: which runtime helpers to include, which
shell variables to set, which secrets to put in the table. No template walks the
step tree to find out.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import ir
from . import commands, containers, networks


@dataclass(frozen=True)
class Features:
    """What the script needs, found once over the job, so that it holds only the helpers its steps use."""

    task: bool  # the task library: jobc_task and what runs inside steps
    groups: bool  # launches or parallel loops: background groups that can be stopped
    parallel: bool
    launches: bool
    image_cache: bool
    hosted_images: bool
    image_import: bool  # a registry image is fetched before a step
    enroot_import: bool
    apptainer_pull: bool
    registry_login: bool
    enroot: bool
    engine: bool  # docker or podman containers, run by jobc_engine
    netns: bool
    pasta: bool  # a step's namespace is connected by pasta
    vnet: bool  # the job has virtual networks: gateways in the batch shell
    csv: bool  # a --mount field is CSV-quoted at run time
    chunks: bool  # a loop over chunk directories (bfabric apps)
    python_env: bool  # a command runs in a uv environment (jobc_python_env)
    modules: bool  # DeepSquare `use`: jobc_module_enter and jobc_module_leave
    conditions: bool  # a step has an `if` test (jobc_if)
    guarded: bool  # a step has catch or finally steps
    finally_: bool  # a step has finally steps: the step shells outlive the job's SIGTERM to run them
    in_finally: frozenset[int]  # ids of the run steps of a finally (run without srun once the job is stopping)
    secrets: tuple[ir.Secret, ...]
    in_group: frozenset[int]  # ids of the run steps that execute inside a background group
    loop_variables: dict[int, tuple[str, ...]]  # id of a run step -> the variables of its loops, outermost first


def features(job: ir.Job) -> Features:
    in_group = frozenset(_steps_in_groups(job.steps, False))
    every_step = list(ir.walk(job.steps))  # one walk for the run steps and for every flag of the step tree
    runs = [s for s in every_step if isinstance(s, ir.RunStep)]
    boxed = [s.container for s in runs if s.container is not None]
    imported = [c for c in boxed if c.image_source is not None]
    secrets: list[ir.Secret] = []
    for step in runs:
        c = step.container
        if c is not None and c.image_source is not None and c.password is not None:
            secrets.append(c.password)
        if networks.uses_netns(step):
            for wg in networks.wireguards(step):
                secrets.append(wg.private_key)
                secrets += [p.preshared_key for p in wg.peers if p.preshared_key is not None]
            secrets += [b.secret for b in networks.bores(step) if b.secret is not None]
    launches = parallel = chunks = modules = conditions = guarded = finally_ = False
    in_finally: set[int] = set()
    for s in every_step:
        if isinstance(s, ir.LaunchStep):
            launches = True
        elif isinstance(s, ir.LoopStep):
            parallel = parallel or s.parallel
            chunks = chunks or isinstance(s.over, ir.ChunkDirs)
        elif isinstance(s, ir.ModuleStep):
            modules = True
        conditions = conditions or bool(s.condition)
        guarded = guarded or bool(s.catch or s.finally_steps)
        if s.finally_steps:
            finally_ = True
            in_finally.update(id(r) for r in ir.walk(s.finally_steps) if isinstance(r, ir.RunStep))
    return Features(
        task=any(
            id(s) in in_group or networks.uses_netns(s) or commands.uses_python_env(s) or s.container is not None
            for s in runs
        ),
        groups=launches or parallel,
        parallel=parallel,
        launches=launches,
        image_cache=any(c.image_location is ir.ImageLocation.CACHE for c in boxed),
        hosted_images=any(c.image_location is ir.ImageLocation.HOSTED for c in boxed),
        image_import=bool(imported),
        enroot_import=any(c.runtime == "enroot" for c in imported),
        apptainer_pull=any(c.runtime == "apptainer" for c in imported),
        registry_login=any(c.password is not None for c in imported),
        enroot=any(c.runtime == "enroot" for c in boxed),
        engine=any(containers.is_engine(c) for c in boxed),
        netns=any(networks.uses_netns(s) for s in runs),
        pasta=any(s.network.mode == "pasta" for s in runs),
        vnet=bool(job.virtual_networks),
        csv=any(containers.uses_csv(c) for c in boxed),
        chunks=chunks,
        python_env=any(commands.uses_python_env(s) for s in runs),
        modules=modules,
        conditions=conditions,
        guarded=guarded,
        finally_=finally_,
        in_finally=frozenset(in_finally),
        secrets=tuple(secrets),
        in_group=in_group,
        loop_variables=_loop_variables(job.steps, ()),
    )


def holds_secrets(job: ir.Job) -> bool:
    """Whether any `ir.Secret` is in the job. A secret is made in five fields only (an S3 transport's secret key,
    a registry password, a WireGuard private or preshared key, a bore's secret): a look at those, not a walk
    over the whole IR (that was a quarter of the compile of a 10,000-step job)."""
    if any(isinstance(t, ir.S3Transport) for t in (job.input, job.output)):
        return True
    for step in ir.run_steps(job):
        if step.container is not None and step.container.password is not None:
            return True
        for nic in step.network.interfaces:
            if isinstance(nic, ir.Wireguard) or (isinstance(nic, ir.Bore) and nic.secret is not None):
                return True
    return False


def _loop_variables(
    steps: tuple[ir.AnyStep, ...], outer: tuple[str, ...], found: dict[int, tuple[str, ...]] | None = None
) -> dict[int, tuple[str, ...]]:
    """id of each run step in loops -> the loops' variables (into one dict: merging each level's into its
    parent's made a deep tree cost its depth per step)."""
    found = {} if found is None else found
    for step in steps:
        if isinstance(step, ir.RunStep):
            if outer:
                found[id(step)] = outer
        elif isinstance(step, ir.LoopStep) and not isinstance(step.over, ir.ChunkDirs):
            _loop_variables(step.steps, tuple(v for v in outer if v != step.variable) + (step.variable,), found)
        else:
            _loop_variables(ir.children(step), outer, found)
    return found


def _steps_in_groups(steps: tuple[ir.AnyStep, ...], inside: bool, found: set[int] | None = None) -> set[int]:
    """ids of the run steps that execute inside a background group (a launch or a parallel iteration)."""
    found = set() if found is None else found
    for step in steps:
        if isinstance(step, ir.RunStep) and inside:
            found.add(id(step))
        here = inside or isinstance(step, ir.LaunchStep)  # a launch's catch and finally run in its group too
        if isinstance(step, ir.LoopStep):
            _steps_in_groups(step.steps, inside or step.parallel, found)
        elif isinstance(step, (ir.LaunchStep, ir.GroupStep, ir.ModuleStep)):
            _steps_in_groups(step.steps, here, found)
        _steps_in_groups(step.catch + step.finally_steps, here, found)
    return found


def loop_shellcheck_codes(step: ir.LoopStep) -> list[str]:
    """shellcheck findings that are intended in a loop: literal items with quotes, an inner loop reusing $item/$index."""
    codes = []
    if isinstance(step.over, ir.ItemsLoop):
        if len(step.over.items) == 1:
            codes.append("SC2043")
        if any(c in item for item in step.over.items for c in "'\"\\"):
            codes += ["SC2089", "SC2090"]
    if any(isinstance(s, ir.LoopStep) and s.variable == step.variable for s in ir.walk(step.steps)):
        codes += ["SC2165", "SC2167"]
    return codes
