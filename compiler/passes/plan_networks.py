"""Name the interfaces of each namespace step, and join the steps' `vnet` interfaces to the job's networks.

Interface names: with slirp4netns the namespace's own interface is tap0 and the
i-th custom interface is net<i> (the Job Reference's names); with pasta, which
only the current DeepSquare schema has, they are the current renderer's: net0,
and wg<i> (a bore entry, which makes no interface, is labelled bore<i>). A
vnet interface is vnet<i> in both. `i` is the entry's index in
`customNetworkInterfaces`, so WireGuard, bore and vnet entries share one index
space, as in the renderer.

Virtual networks (decision 33): names are unique, every `vnet.name` names one,
the gateway's address lies in the subnet of each of its peers and is none of
theirs. Each distinct peer IP of a network gets its own key pair (`peers`).
WireGuard and vnet interfaces need root in the namespace (wg-quick runs there),
so a non-zero `mapUid` is an error with them. A bore `secret` goes to dpsproxy
on its command line, the only way that client takes it: a warning says so
(decision 34).
"""

from __future__ import annotations

import ipaddress

from .. import ir
from ..diagnostics import Diagnostic, error, fail, format_path, warning


def interface_name(step: ir.RunStep, index: int, nic: ir.NetworkInterface) -> str:
    if isinstance(nic, ir.Vnet):
        return f"vnet{index}"
    if step.network.mode != "pasta":
        return f"net{index}"
    return f"wg{index}" if isinstance(nic, ir.Wireguard) else f"bore{index}"


def plan_networks(job: ir.Job, site: object = None) -> ir.Job:
    problems: list[Diagnostic] = []
    notes: list[Diagnostic] = []
    by_name: dict[str, int] = {}
    for index, net in enumerate(job.virtual_networks):
        if net.name in by_name:
            first = job.virtual_networks[by_name[net.name]]
            problems.append(
                error(net.path + ("name",), f"{net.name!r} is already the name of {format_path(first.path)}")
            )
        else:
            by_name[net.name] = index
    peers: dict[int, set[ipaddress.IPv4Address | ipaddress.IPv6Address]] = {i: set() for i in by_name.values()}
    for step in ir.run_steps(job):
        for nic in step.network.interfaces:
            if isinstance(nic, ir.Vnet):
                problem = _check_vnet(nic, job, by_name)
                if problem:
                    problems.append(problem)
                else:
                    peers[by_name[nic.name]].add(ipaddress.ip_interface(nic.address).ip)
            if isinstance(nic, ir.Bore) and nic.secret is not None:
                notes.append(
                    warning(
                        nic.path + ("secret",),
                        "is handed to dpsproxy on its command line (the client takes it no other way): "
                        "while the step runs, any user of the node can read it with ps",
                    )
                )
        tunnels = [n for n in step.network.interfaces if isinstance(n, (ir.Wireguard, ir.Vnet))]
        if tunnels and step.map_uid not in (None, 0):
            kinds = " and ".join(sorted({"vnet" if isinstance(n, ir.Vnet) else "wireguard" for n in tunnels}))
            problems.append(
                error(
                    step.at("map_uid"),
                    f"must be 0 with {kinds} interfaces: wg-quick brings them up as root in the namespace",
                )
            )
    if problems:
        fail(problems)
    ordered = {i: tuple(str(ip) for ip in sorted(ips, key=lambda ip: (ip.version, ip))) for i, ips in peers.items()}

    def plan(step: ir.AnyStep) -> ir.AnyStep:
        if not isinstance(step, ir.RunStep) or not step.network.interfaces:
            return step
        named = []
        for i, nic in enumerate(step.network.interfaces):
            nic = ir.evolve(nic, interface=interface_name(step, i, nic))
            if isinstance(nic, ir.Vnet):
                network = by_name[nic.name]
                ip = str(ipaddress.ip_interface(nic.address).ip)
                nic = ir.evolve(nic, network=network, peer=ordered[network].index(ip))
            named.append(nic)
        return ir.evolve(step, network=ir.evolve(step.network, interfaces=tuple(named)))

    networks = tuple(ir.evolve(net, peers=ordered.get(i, ())) for i, net in enumerate(job.virtual_networks))
    return ir.evolve(
        job, steps=ir.map_steps(job.steps, plan), virtual_networks=networks, warnings=job.warnings + tuple(notes)
    )


def _check_vnet(nic: ir.Vnet, job: ir.Job, by_name: dict[str, int]) -> Diagnostic | None:
    if nic.name not in by_name:
        known = ", ".join(repr(name) for name in by_name)
        hint = f"(virtualNetworks: {known})" if known else "(the job declares no virtualNetworks)"
        return error(nic.path + ("name",), f"names no virtual network of the job {hint}")
    net = job.virtual_networks[by_name[nic.name]]
    peer = ipaddress.ip_interface(nic.address)
    gateway = ipaddress.ip_interface(net.gateway_address)
    where = format_path(net.path + ("gatewayAddress",))
    if gateway.ip.version != peer.ip.version or gateway.ip not in peer.network:
        return error(
            nic.path + ("address",),
            f"its subnet {peer.network} does not hold the gateway {gateway.ip} of {nic.name!r} ({where})",
        )
    if gateway.ip == peer.ip:
        return error(nic.path + ("address",), f"is the address of the gateway of {nic.name!r} ({where})")
    return None
