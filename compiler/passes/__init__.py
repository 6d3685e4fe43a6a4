"""The lowering passes, in the order they run.

Each pass is one module exporting one function of the same name,
`pass(job, site) -> job`: pure, returning new IR, reporting problems through
`diagnostics.fail` and warnings in `job.warnings`.
"""

from __future__ import annotations

from .. import ir
from ..site import Site
from .check_handles import check_handles
from .lower_loops import lower_loops
from .plan_containers import plan_containers
from .plan_networks import plan_networks
from .plan_transport import plan_transport
from .resolve_defaults import resolve_defaults

PASSES = (
    resolve_defaults,
    check_handles,
    lower_loops,
    plan_containers,
    plan_networks,
    plan_transport,
)


def run_passes(job: ir.Job, site: Site) -> ir.Job:
    for lower in PASSES:
        job = lower(job, site)
    return job
