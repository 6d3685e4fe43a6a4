"""plan_networks: custom interfaces are named net0, net1, … per step."""

from __future__ import annotations

from jobc import ir
from jobc.passes.plan_networks import plan_networks

from .helpers import SITE, job, loop, run

WG = ir.Wireguard(("10.0.0.2/24",), ir.Secret("k", "privateKey"))
BORE = ir.Bore("bore.example.org", 2200, 8080)


def test_interfaces_are_numbered_in_order() -> None:
    step = run(network=ir.Network("slirp4netns", (), (WG, BORE, WG)))
    out = plan_networks(job(step), SITE).steps[0]
    assert [nic.interface for nic in out.network.interfaces] == ["net0", "net1", "net2"]
    assert out.network.interfaces[1].port == 2200


def test_numbering_restarts_for_each_step() -> None:
    a = run(network=ir.Network("slirp4netns", (), (BORE,)), path=("steps", 0))
    b = run(network=ir.Network("slirp4netns", (), (WG,)), path=("steps", 1, "for", "steps", 0))
    out = plan_networks(job(a, loop(ir.ItemsLoop(("x",)), b, path=("steps", 1))), SITE)
    assert out.steps[0].network.interfaces[0].interface == "net0"
    assert out.steps[1].steps[0].network.interfaces[0].interface == "net0"


def test_steps_without_interfaces_are_unchanged() -> None:
    step = run(network=ir.Network("slirp4netns", ("1.1.1.1",)))
    assert plan_networks(job(step), SITE).steps[0] is step
