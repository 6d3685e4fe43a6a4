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

from dataclasses import replace

from .. import ir
from ..diagnostics import error, fail
from ..site import Site


def resolve_defaults(job: ir.Job, site: Site) -> ir.Job:
    problems = []

    def resolve(step: ir.AnyStep) -> ir.AnyStep:
        if not isinstance(step, ir.RunStep) or isinstance(step.resources, ir.Resources):
            return step
        given = step.resources
        res = ir.Resources(
            tasks=given.tasks if given.tasks is not None else 1,
            cpus_per_task=given.cpus_per_task if given.cpus_per_task is not None else job.resources.cpus_per_task,
            mem_per_cpu=given.mem_per_cpu if given.mem_per_cpu is not None else job.resources.mem_per_cpu,
            gpus_per_task=given.gpus_per_task if given.gpus_per_task is not None else job.resources.gpus_per_task,
        )
        where = step.at("resources")
        for what, asked, held, unit in (
            ("CPUs", res.cpus, job.resources.cpus, ""),
            ("memory", res.mem, job.resources.mem, " MB"),
            ("GPUs", res.gpus, job.resources.gpus, ""),
        ):
            if asked > held:
                problems.append(error(where, f"asks for {asked}{unit} {what} in all, more than the job's {held}{unit}"))
        in_netns = step.network.mode != "host"
        ids_given = step.map_uid is not None or step.map_gid is not None
        map_root = step.map_root or (in_netns and not ids_given)
        map_uid, map_gid = step.map_uid, step.map_gid
        if in_netns and ids_given:  # the namespace's root, for the id not given
            map_uid, map_gid = map_uid or 0, map_gid or 0
        per_task = ("cpus_per_task", "mem_per_cpu") + (("gpus_per_task",) if job.resources.total_gpus is None else ())
        inherited = tuple(name for name in per_task if getattr(given, name) is None)
        return replace(step, resources=res, map_root=map_root, map_uid=map_uid, map_gid=map_gid, inherited=inherited)

    steps = ir.map_steps(job.steps, resolve)
    if problems:
        fail(problems)
    return replace(job, steps=steps)
