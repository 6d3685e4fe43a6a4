"""Rootless network namespaces (slirp4netns, pasta) with DNS, WireGuard, virtual networks and bore.

Before `srun` the batch script makes the step run's private directory
($JOBC_STEP_DIR, `mktemp -d` under the job's 0700 $JOBC_RUN, removed when the
step ends) and writes into it the namespace's resolv.conf and one WireGuard
config per WireGuard or vnet interface (net0.conf, vnet1.conf…, umask 077).
Files are per job and per step run, so two jobs, two steps or two iterations of
a loop never share one.

The same directory describes the namespace to the task, as files: the
WireGuard interfaces to bring up (`wireguard`, one name a line) and the bore
tunnels (`bore`, one `CLIENT ADDRESS PORT TARGET_PORT SECRET` a line, SECRET
being `-` or the name of the file holding it; host names and ports hold no
spaces). In each task, `jobc_netns MODE [UID GID] -- COMMAND…`
(templates/network.sh.j2) runs the command in one user, network and mount
namespace (root in it, or UID and GID with `mapUid`/`mapGid`: never two
nested user namespaces), attaches slirp4netns or pasta to it from outside, and
inside bind-mounts the resolv.conf, brings up the WireGuard interfaces
(`wg-quick up`) and starts the bore clients before the command.

Keys and bore secrets are read from the `JOBC_SECRETS` table by `printf` (a
builtin), and vnet keys from the files the gateway made (templates/vnet.sh.j2):
never on a command line, neither here nor in wg-quick (which reads the file).
The one exception is dpsproxy's `--secret` (decision 34).
"""

from __future__ import annotations

import ipaddress

from .. import ir
from .containers import secret_ref
from .quoting import Sh, quote, words

DNS_FORWARDER = "10.0.2.3"  # slirp4netns' built-in forwarder, and pasta's --dns-forward address: the namespace
# cannot reach a resolver on the host's loopback


def uses_netns(step: ir.RunStep) -> bool:
    return step.network.mode in ("slirp4netns", "pasta")


def wireguards(step: ir.RunStep) -> list[ir.Wireguard]:
    return [nic for nic in step.network.interfaces if isinstance(nic, ir.Wireguard)]


def bores(step: ir.RunStep) -> list[ir.Bore]:
    return [nic for nic in step.network.interfaces if isinstance(nic, ir.Bore)]


def setup_lines(step: ir.RunStep) -> list[Sh]:
    if not uses_netns(step):
        return []
    dns = step.network.dns or (DNS_FORWARDER,)
    lines = [
        Sh('JOBC_STEP_DIR=$(mktemp -d "$JOBC_RUN/step.XXXXXX")'),
        Sh("export JOBC_STEP_DIR"),
        Sh("trap 'rm -rf -- \"$JOBC_STEP_DIR\"' EXIT"),
        Sh(f"printf 'nameserver %s\\n' {words(dns)} > \"$JOBC_STEP_DIR/resolv.conf\""),
    ]
    tunnels: list[str] = []
    for nic in step.network.interfaces:
        if isinstance(nic, ir.Wireguard):
            lines += wireguard_config(nic)
            tunnels.append(nic.interface)
        elif isinstance(nic, ir.Vnet):
            lines += vnet_config(nic)
            tunnels.append(nic.interface)
    lines += _list_file("wireguard", [[name] for name in tunnels])
    rows = []
    for bore in bores(step):
        secret = "-"
        if bore.secret is not None:
            secret = f"{bore.interface}.secret"
            lines += _private_file(secret, [Sh(f"  printf '%s' {secret_ref(bore.secret)}")])
        rows.append([bore.client, bore.address, bore.port, bore.target_port, secret])
    lines += _list_file("bore", rows)
    return lines


def _list_file(name: str, rows: list[list]) -> list[Sh]:
    """`$JOBC_STEP_DIR/NAME`: one line per row, its values separated by spaces."""
    if not rows:
        return []
    fmt = " ".join(["%s"] * len(rows[0])) + "\\n"
    values = " ".join(words(row) for row in rows)
    return [Sh(f'printf {quote(fmt)} {values} > "$JOBC_STEP_DIR"/{name}')]


def _private_file(name: str, body: list[Sh]) -> list[Sh]:
    """Lines writing `$JOBC_STEP_DIR/NAME` with mode 0600 from `body` (builtins only)."""
    return [
        Sh("("),
        Sh("  umask 077"),
        Sh("  {"),
        *body,
        Sh(f'  }} > "$JOBC_STEP_DIR"/{quote(name)}'),
        Sh(")"),
    ]


def _entry(key: str, value: Sh | str | int) -> Sh:
    return Sh(f"    printf '{key} = %s\\n' {quote(value)}")


def wireguard_config(wg: ir.Wireguard) -> list[Sh]:
    """Lines writing the interface's wg-quick config, mode 0600, with only builtins touching the keys."""
    assert wg.interface, "plan_networks must run first"
    body = [Sh("    printf '[Interface]\\n'"), _entry("PrivateKey", secret_ref(wg.private_key))]
    if wg.addresses:
        body.append(_entry("Address", ", ".join(wg.addresses)))
    for peer in wg.peers:
        body += [Sh("    printf '\\n[Peer]\\n'"), _entry("PublicKey", peer.public_key)]
        if peer.preshared_key is not None:
            body.append(_entry("PresharedKey", secret_ref(peer.preshared_key)))
        if peer.allowed_ips:
            body.append(_entry("AllowedIPs", ", ".join(peer.allowed_ips)))
        if peer.endpoint:
            body.append(_entry("Endpoint", peer.endpoint))
        if peer.persistent_keepalive is not None:
            body.append(_entry("PersistentKeepalive", peer.persistent_keepalive))
    return _private_file(wg.interface + ".conf", body)


def vnet_config(nic: ir.Vnet) -> list[Sh]:
    """The peer's wg-quick config: its key and the gateway's public key and endpoint, from the gateway's files."""
    assert nic.interface and nic.network >= 0 and nic.peer >= 0, "plan_networks must run first"
    base = f'"$JOBC_RUN"/vnet{nic.network}'
    subnet = str(ipaddress.ip_interface(nic.address).network)
    body = [
        Sh("    printf '[Interface]\\n'"),
        _entry("Address", nic.address),
        _entry("PrivateKey", Sh(f'"$(< {base}/peer{nic.peer}.key)"')),
        Sh("    printf '\\n[Peer]\\n'"),
        _entry("PublicKey", Sh(f'"$(< {base}/gateway.pub)"')),
        _entry("AllowedIPs", subnet),
        _entry("Endpoint", Sh(f'"$(< {base}/endpoint)"')),
        _entry("PersistentKeepalive", 20),
    ]
    return _private_file(nic.interface + ".conf", body)


def task_wrapper(step: ir.RunStep) -> list[Sh]:
    if not uses_netns(step):
        return []
    ids: list[Sh] = []
    if step.map_uid is not None or step.map_gid is not None:
        ids = [quote(step.map_uid or 0), quote(step.map_gid or 0)]
    return [Sh("jobc_netns"), Sh(step.network.mode), *ids, Sh("--")]


def gateway_lines(job: ir.Job) -> list[Sh]:
    """`jobc_vnet_start INDEX GATEWAY PEER_IP…` per virtual network, in the batch shell before the steps."""
    return [
        words([Sh("jobc_vnet_start"), i, net.gateway_address, *net.peers]) for i, net in enumerate(job.virtual_networks)
    ]
