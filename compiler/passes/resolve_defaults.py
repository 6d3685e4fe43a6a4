"""Fill in what a spec may leave out, and check steps fit in the job's allocation.

- a step's `tasks` defaults to 1, its CPUs, memory and GPUs per task to the job's (`inherited`
  names those taken from the job, so the script can say so); a job giving its GPUs as a total
  (`gpus`) gives a step none unless the step asks (DeepSquare's rule), so they are not inherited;
- slirp4netns maps the user to root (the reference says so), so `map_root` is set; so does pasta.
  With `mapUid`/`mapGid` in a namespace, the id not given is the namespace's root (0).

A step asking for more than the job holds would make `srun` fail at run time,
minutes into the job; it is reported here instead, at the step's `resources`.
"""

from __future__ import annotations

from .. import ir
from ..diagnostics import error, fail
from ..site import Site


def resolve_defaults(job: ir.Job, site: Site) -> ir.Job:
    problems = []
    held = job.resources
    per_task = ("cpus_per_task", "mem_per_cpu") + (("gpus_per_task",) if held.total_gpus is None else ())
    resolved: dict[ir.PartialResources, tuple[ir.Resources, tuple[str, ...], tuple[str, ...]]] = {}

    def resources(given: ir.PartialResources) -> tuple[ir.Resources, tuple[str, ...], tuple[str, ...]]:
        """The step's resources, what they ask beyond the job's, and the fields inherited: once per `given`."""
        res = ir.Resources(
            tasks=given.tasks if given.tasks is not None else 1,
            cpus_per_task=given.cpus_per_task if given.cpus_per_task is not None else held.cpus_per_task,
            mem_per_cpu=given.mem_per_cpu if given.mem_per_cpu is not None else held.mem_per_cpu,
            gpus_per_task=given.gpus_per_task if given.gpus_per_task is not None else held.gpus_per_task,
        )
        too_much = tuple(
            f"asks for {asked}{unit} {what} in all, more than the job's {have}{unit}"
            for what, asked, have, unit in (
                ("CPUs", res.cpus, held.cpus, ""),
                ("memory", res.mem, held.mem, " MB"),
                ("GPUs", res.gpus, held.gpus, ""),
            )
            if asked > have
        )
        inherited = tuple(name for name in per_task if getattr(given, name) is None)
        return res, too_much, inherited

    def resolve(step: ir.AnyStep) -> ir.AnyStep:
        if not isinstance(step, ir.RunStep) or isinstance(step.resources, ir.Resources):
            return step
        found = resolved.get(step.resources)
        if found is None:
            found = resolved[step.resources] = resources(step.resources)
        res, too_much, inherited = found
        if too_much:
            where = step.at("resources")
            problems.extend(error(where, message) for message in too_much)
        in_netns = step.network.mode != "host"
        ids_given = step.map_uid is not None or step.map_gid is not None
        map_root = step.map_root or (in_netns and not ids_given)
        map_uid, map_gid = step.map_uid, step.map_gid
        if in_netns and ids_given:  # the namespace's root, for the id not given
            map_uid, map_gid = map_uid or 0, map_gid or 0
        return ir.evolve(step, resources=res, map_root=map_root, map_uid=map_uid, map_gid=map_gid, inherited=inherited)

    steps = ir.map_steps(job.steps, resolve)
    if problems:
        fail(problems)
    return ir.evolve(job, steps=steps)
