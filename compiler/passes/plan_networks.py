"""Name each custom network interface of a slirp4netns step: net0, net1, … in order.

The reference names tunnel interfaces this way; the default interface of the
namespace is slirp4netns' tap0.
"""

from __future__ import annotations

from dataclasses import replace

from .. import ir


def plan_networks(job: ir.Job, site: object = None) -> ir.Job:
    def plan(step: ir.AnyStep) -> ir.AnyStep:
        if not isinstance(step, ir.RunStep) or not step.network.interfaces:
            return step
        named = tuple(replace(nic, interface=f"net{i}") for i, nic in enumerate(step.network.interfaces))
        return replace(step, network=replace(step.network, interfaces=named))

    return replace(job, steps=ir.map_steps(job.steps, plan))
