"""network: slirp4netns: a rootless network namespace per task, with DNS, WireGuard and bore.

Before `srun` the batch script makes the step run's private directory
($JOBC_STEP_DIR, `mktemp -d` under the job's 0700 $JOBC_RUN, removed when the
step ends) and writes into it the namespace's resolv.conf and one WireGuard
config per interface (net0.conf…, umask 077). Files are per job and per step
run, so two jobs, two steps or two iterations of a loop never share one.

The same directory describes the namespace to the task, as files: the
WireGuard interfaces to bring up (`wireguard`, one name a line) and the bore
tunnels (`bore`, one `ADDRESS PORT TARGET_PORT` a line; host names and ports
hold no spaces). In each task, `jobc_netns -- COMMAND…`
(templates/network.sh.j2) runs the command in `unshare --user --map-root-user
--net --mount`, attaches slirp4netns to it from outside, and inside
bind-mounts the resolv.conf, brings up the WireGuard interfaces (`wg-quick up`)
and starts the bore clients before the command.

Keys are read from the `JOBC_SECRETS` table by `printf` (a builtin): they are
never on a command line, neither here nor in wg-quick (which reads the file).
"""

from __future__ import annotations

from .. import ir
from .containers import secret_ref
from .quoting import Sh, quote, words

SLIRP_DNS = "10.0.2.3"  # slirp4netns' built-in forwarder: the namespace cannot reach a host-local resolver


def uses_netns(step: ir.RunStep) -> bool:
    return step.network.mode == "slirp4netns"


def wireguards(step: ir.RunStep) -> list[ir.Wireguard]:
    return [nic for nic in step.network.interfaces if isinstance(nic, ir.Wireguard)]


def setup_lines(step: ir.RunStep) -> list[Sh]:
    if not uses_netns(step):
        return []
    dns = step.network.dns or (SLIRP_DNS,)
    lines = [
        Sh('JOBC_STEP_DIR=$(mktemp -d "$JOBC_RUN/step.XXXXXX")'),
        Sh("export JOBC_STEP_DIR"),
        Sh("trap 'rm -rf -- \"$JOBC_STEP_DIR\"' EXIT"),
        Sh(f"printf 'nameserver %s\\n' {words(dns)} > \"$JOBC_STEP_DIR/resolv.conf\""),
    ]
    for wg in wireguards(step):
        lines += wireguard_config(wg)
    lines += _list_file("wireguard", [[nic.interface] for nic in wireguards(step)])
    bores = [[nic.address, nic.port, nic.target_port] for nic in step.network.interfaces if isinstance(nic, ir.Bore)]
    lines += _list_file("bore", bores)
    return lines


def _list_file(name: str, rows: list[list]) -> list[Sh]:
    """`$JOBC_STEP_DIR/NAME`: one line per row, its values separated by spaces."""
    if not rows:
        return []
    fmt = " ".join(["%s"] * len(rows[0])) + "\\n"
    values = " ".join(words(row) for row in rows)
    return [Sh(f'printf {quote(fmt)} {values} > "$JOBC_STEP_DIR"/{name}')]


def wireguard_config(wg: ir.Wireguard) -> list[Sh]:
    """Lines writing the interface's wg-quick config, mode 0600, with only builtins touching the keys."""
    assert wg.interface, "plan_networks must run first"

    def entry(key: str, value: Sh | str | int) -> Sh:
        return Sh(f"    printf '{key} = %s\\n' {quote(value)}")

    body = [Sh("    printf '[Interface]\\n'"), entry("PrivateKey", secret_ref(wg.private_key))]
    if wg.addresses:
        body.append(entry("Address", ", ".join(wg.addresses)))
    for peer in wg.peers:
        body += [Sh("    printf '\\n[Peer]\\n'"), entry("PublicKey", peer.public_key)]
        if peer.preshared_key is not None:
            body.append(entry("PresharedKey", secret_ref(peer.preshared_key)))
        if peer.allowed_ips:
            body.append(entry("AllowedIPs", ", ".join(peer.allowed_ips)))
        if peer.endpoint:
            body.append(entry("Endpoint", peer.endpoint))
        if peer.persistent_keepalive is not None:
            body.append(entry("PersistentKeepalive", peer.persistent_keepalive))
    return [
        Sh("("),
        Sh("  umask 077"),
        Sh("  {"),
        *body,
        Sh(f'  }} > "$JOBC_STEP_DIR"/{quote(wg.interface + ".conf")}'),
        Sh(")"),
    ]


def task_wrapper(step: ir.RunStep) -> list[Sh]:
    return [Sh("jobc_netns"), Sh("--")] if uses_netns(step) else []
