"""plan_networks: interface names (net<i>, or wg<i> with pasta; vnet<i>), virtual networks' peers, warnings."""

from __future__ import annotations

import pytest

from jobc import ir
from jobc.diagnostics import SpecError
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


def vnet(name: str, address: str, at: int = 0) -> ir.Vnet:
    return ir.Vnet(name, address, ("steps", at, "run", "customNetworkInterfaces", 0, "vnet"))


LAB = ir.VirtualNetwork("lab", "10.0.0.1/24", ("virtualNetworks", 0))


def test_pasta_names_wireguard_wg_and_vnet_shares_the_index_space() -> None:
    step = run(network=ir.Network("pasta", (), (BORE, WG, vnet("lab", "10.0.0.2/24"))))
    out = plan_networks(job(step, virtual_networks=(LAB,)), SITE).steps[0]
    assert [nic.interface for nic in out.network.interfaces] == ["bore0", "wg1", "vnet2"]


def test_peers_are_the_distinct_addresses_sorted_and_each_vnet_knows_its_key() -> None:
    spare = ir.VirtualNetwork("spare", "10.1.0.1/16", ("virtualNetworks", 1))
    a = run(network=ir.Network("slirp4netns", (), (vnet("lab", "10.0.0.10/24"), vnet("spare", "10.1.2.3/16"))))
    b = run(network=ir.Network("slirp4netns", (), (vnet("lab", "10.0.0.9/24"),)), path=("steps", 1))
    c = run(network=ir.Network("slirp4netns", (), (vnet("lab", "10.0.0.10/25"),)), path=("steps", 2))
    out = plan_networks(job(a, b, c, virtual_networks=(LAB, spare)), SITE)
    assert [n.peers for n in out.virtual_networks] == [("10.0.0.9", "10.0.0.10"), ("10.1.2.3",)]
    first, second = out.steps[0].network.interfaces
    assert (first.interface, first.network, first.peer) == ("vnet0", 0, 1)
    assert (second.interface, second.network, second.peer) == ("vnet1", 1, 0)
    assert out.steps[1].network.interfaces[0].peer == 0
    assert out.steps[2].network.interfaces[0].peer == 1  # same address, same key pair


def test_every_problem_is_reported_at_its_field() -> None:
    dup = ir.VirtualNetwork("lab", "10.9.0.1/24", ("virtualNetworks", 1))
    step = run(
        network=ir.Network("slirp4netns", (), (vnet("nowhere", "10.0.0.2/24"), vnet("lab", "10.0.0.1/24"))),
        map_uid=5,
        field_paths=(("map_uid", ("steps", 0, "run", "mapUid")),),
    )
    with pytest.raises(SpecError) as raised:
        plan_networks(job(step, virtual_networks=(LAB, dup)), SITE)
    found = {(d.path, d.message) for d in raised.value.diagnostics}
    where = ("steps", 0, "run", "customNetworkInterfaces", 0, "vnet")
    assert found == {
        (("virtualNetworks", 1, "name"), "'lab' is already the name of virtualNetworks[0]"),
        (where + ("name",), "names no virtual network of the job (virtualNetworks: 'lab')"),
        (where + ("address",), "is the address of the gateway of 'lab' (virtualNetworks[0].gatewayAddress)"),
        (
            ("steps", 0, "run", "mapUid"),
            "must be 0 with vnet interfaces: wg-quick brings them up as root in the namespace",
        ),
    }


def test_a_bore_secret_gets_a_warning_at_the_secret() -> None:
    bore = ir.Bore("p.example.org", 2200, 80, ir.Secret("s", "x"), "dpsproxy", ("steps", 0, "bore"))
    out = plan_networks(job(run(network=ir.Network("pasta", (), (bore,)))), SITE)
    (note,) = out.warnings
    assert note.path == ("steps", 0, "bore", "secret") and note.severity == "warning"
    assert "dpsproxy on its command line" in note.message and "ps" in note.message
