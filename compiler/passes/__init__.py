"""The lowering passes, in the order they run.

Each pass is one module exporting one function of the same name,
`pass(job, site) -> job`: pure, returning new IR, reporting problems through
`diagnostics.fail` and warnings in `job.warnings`.
"""

from __future__ import annotations

from .. import ir
from ..diagnostics import Diagnostic, SpecError, fail
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
    """Run every pass; a pass that finds problems does not hide those of the passes after it.

    After a failed pass the later ones see the IR as it was before it, so they
    only check (their results are dropped). A later pass that cannot cope with
    that IR stops the run: the problems already found are reported.
    """
    problems: list[Diagnostic] = []
    for lower in PASSES:
        try:
            job = lower(job, site)
        except SpecError as exc:
            problems.extend(exc.diagnostics)
        except Exception:
            if not problems:
                raise
            break
    if problems:
        fail(problems)
    return job
