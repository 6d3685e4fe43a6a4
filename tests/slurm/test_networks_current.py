"""The current DeepSquare schema's networks and ids on the real Slurm: pasta (Debian's passt), mapUid/mapGid,
virtual networks (real wireguard-go, real pasta for the gateway) and dpsproxy (a shim: the client is not packaged).

Traffic stays on this machine: the virtual network's gateway listens on this host's own address, and the
peers are namespaces of the same node.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from .jobc_run import run_job
from .test_network import netns_leftovers, records, shim_env, site

pytestmark = pytest.mark.slurm


def test_pasta_namespace_has_net0_the_step_dns_and_root(slurm, tmp_path):
    before = netns_leftovers()
    spec = """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}
        steps:
          - name: inside
            run:
              network: pasta
              dns: 9.9.9.9, 149.112.112.112
              shell: /bin/bash
              command: |
                cat /etc/resolv.conf > "$OUT/resolv.conf"
                ip -o link show > "$OUT/links"
                ip route show dev net0 > "$OUT/routes"
                id -u > "$OUT/uid"
          - name: default dns
            run:
              network: pasta
              command: cat /etc/resolv.conf > "$OUT/default-resolv.conf"; getent hosts localhost > "$OUT/getent"
    """
    ran = run_job(slurm, tmp_path, spec, site=site(tmp_path), timeout=60)
    assert ran.rc == 0, ran
    assert ran.read("resolv.conf") == "nameserver 9.9.9.9\nnameserver 149.112.112.112\n"
    assert ran.read("default-resolv.conf") == "nameserver 10.0.2.3\n"  # pasta's --dns-forward address
    assert ": net0:" in ran.read("links") and "tap0" not in ran.read("links")
    assert ran.read("routes").strip(), "pasta copied the host's routes onto net0"
    assert ran.read("uid").strip() == "0"
    assert "pasta" not in subprocess.run(["ps", "-eo", "comm"], capture_output=True, text=True).stdout.split()
    assert netns_leftovers() <= before


@pytest.mark.slurm_both
def test_map_uid_and_gid_on_the_host_and_in_namespaces(slurm, tmp_path):
    spec = """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}
        steps:
          - name: host
            run:
              mapUid: 1000
              mapGid: 100
              command: echo "$(id -u) $(id -g)" > "$OUT/host"
          - name: host uid only
            run:
              mapUid: 0
              command: echo "$(id -u) $(id -g)" > "$OUT/host-uid"
          - name: slirp4netns
            run:
              network: slirp4netns
              mapUid: 1000
              mapGid: 100
              dns: 1.1.1.1
              command: echo "$(id -u) $(id -g)" > "$OUT/slirp"; cat /etc/resolv.conf >> "$OUT/slirp"
          - name: slirp4netns gid only
            run:
              network: slirp4netns
              mapGid: 100
              command: echo "$(id -u) $(id -g)" > "$OUT/slirp-gid"
          - name: one user namespace
            run:
              network: slirp4netns
              mapUid: 1000
              mapGid: 100
              command: readlink /proc/self/ns/user > "$OUT/ns.inner"; cat /proc/self/uid_map > "$OUT/uid_map"
    """
    ran = run_job(slurm, tmp_path, spec, site=site(tmp_path), timeout=60)
    assert ran.rc == 0, ran
    gid = os.getgid()
    assert ran.read("host").strip() == "1000 100"
    assert ran.read("host-uid").strip() == f"0 {gid}"  # the id not given stays the user's own
    assert ran.read("slirp") == "1000 100\nnameserver 1.1.1.1\n"
    assert ran.read("slirp-gid").strip() == "0 100"  # in a namespace, the id not given is its root
    # One user namespace, mapping the job's uid straight to 1000 (a nested one would map from 0 or 1000).
    assert ran.read("uid_map").split() == ["1000", str(os.getuid()), "1"]


def hubs_running() -> list[str]:
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines()
    return [line for line in ps if "jobc_vnet_hub" in line or line.startswith("wireguard-go vnet")]


def test_two_steps_talk_over_a_virtual_network_and_its_keys_stay_private(slurm, tmp_path):
    """A server (a launch) and a client, each in its own slirp4netns namespace, reach each other over the
    job's WireGuard network through its gateway in the batch shell (real wireguard-go, real pasta)."""
    before = hubs_running()
    spec = """
        resources: {tasks: 2, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}
        virtualNetworks:
          - name: lab
            gatewayAddress: 10.77.0.1/24
          - name: spare
            gatewayAddress: 10.78.0.1/24
        steps:
          - name: server
            launch:
              steps:
                - name: serve
                  run:
                    network: slirp4netns
                    customNetworkInterfaces:
                      - vnet: {name: lab, address: 10.77.0.2/24}
                    shell: /bin/bash
                    command: |
                      ip -o -4 addr show vnet0 > "$OUT/server.addr"
                      echo "hello over the vnet" > "$OUT/page.txt"
                      cd "$OUT" && exec python3 -m http.server --bind 10.77.0.2 8000 > /dev/null 2>&1
          - name: client
            run:
              network: slirp4netns
              customNetworkInterfaces:
                - vnet: {name: lab, address: 10.77.0.3/24}
                - vnet: {name: spare, address: 10.78.0.3/24}
              shell: /bin/bash
              command: |
                ip -o -4 addr show vnet0 > "$OUT/client.addr"
                ip -o -4 addr show vnet1 >> "$OUT/client.addr"
                for i in $(seq 60); do
                  curl -s --max-time 2 http://10.77.0.2:8000/page.txt > "$OUT/fetched" && break
                  sleep 0.5
                done
                stat -c '%a %n' "$JOBC_RUN" "$JOBC_RUN"/vnet0 "$JOBC_RUN"/vnet0/*.key "$JOBC_RUN"/vnet1 > "$OUT/modes"
                for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f"; echo; done > "$OUT/cmdlines" 2>/dev/null
                cat "$JOBC_RUN"/vnet0/*.key > "$OUT/keys"
    """
    ran = run_job(slurm, tmp_path, spec, site=site(tmp_path), timeout=120)
    assert ran.rc == 0, ran
    assert "vnet0    inet 10.77.0.2/24" in ran.read("server.addr")
    assert "vnet0    inet 10.77.0.3/24" in ran.read("client.addr")
    assert "vnet1    inet 10.78.0.3/24" in ran.read("client.addr")
    assert ran.read("fetched") == "hello over the vnet\n", "peer to peer through the gateway (forwarding on)"
    modes = ran.read("modes").splitlines()
    assert modes[0].startswith("700 ") and modes[1].startswith("700 ") and modes[-1].startswith("700 ")
    assert all(line.startswith("600 ") for line in modes[2:-1]) and len(modes) == 6  # gateway + 2 peers
    keys = ran.read("keys").split()
    assert len(keys) == 3 and not any(key in ran.read("cmdlines") for key in keys)
    assert not any(key in ran.output for key in keys)
    assert not (ran.storage / ".jobc").exists(), "the job's own cleanup ran: keys gone with $JOBC_RUN"
    assert hubs_running() == before, "both gateways were stopped"


def test_dpsproxy_shim_gets_bore_address_and_the_secret_on_its_argv_only(slurm, tmp_path):
    """dpsproxy is not packaged: a shim records its argv. The secret (hostile to quoting on purpose) reaches
    that one argv intact (decision 34) and no other process's command line, nor the job's output."""
    secret = 'it\'s $(touch pwned) `id` "x" ;&|'
    spec = f"""
        resources: {{tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}}
        steps:
          - name: tunnelled
            run:
              network: pasta
              customNetworkInterfaces:
                - bore: {{boreAddress: proxy.example.org:2200, targetPort: 8888, secret: {json.dumps(secret)}}}
                - bore: {{address: "fd00::5", port: 2201, targetPort: 8889, secret: plain}}
                - bore: {{address: bore.example.org, port: 2202, targetPort: 8890}}
              shell: /bin/bash
              command: |
                sleep 1
                for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f"; echo; done > "$OUT/cmdlines" 2>/dev/null
    """
    ran = run_job(
        slurm, tmp_path, spec, site=site(tmp_path), env=shim_env(slurm, tmp_path, "dpsproxy", "bore"), timeout=60
    )
    assert ran.rc == 0, ran
    started = sorted((r["argv"] for r in records(tmp_path, "dpsproxy") if r["event"] == "started"), key=str)
    assert started == [
        ["--to.addr", "[fd00::5]:2201", "--local.addr", "localhost:8889", "--secret", "plain", "-r"],
        ["--to.addr", "proxy.example.org:2200", "--local.addr", "localhost:8888", "--secret", secret, "-r"],
    ]
    (bore,) = [r["argv"] for r in records(tmp_path, "bore") if r["event"] == "started"]
    assert bore == ["-s", "bore.example.org", "-p", "2202", "-ls", "localhost", "-lp", "8890"]
    holders = [line for line in ran.read("cmdlines").splitlines() if secret in line]
    assert len(holders) == 1 and "dpsproxy --to.addr proxy.example.org:2200" in holders[0], holders
    assert secret not in ran.output
    assert not (tmp_path / "pwned").exists() and not (ran.storage / "pwned").exists()
    stopped = [r for r in records(tmp_path, "dpsproxy") if r["event"] == "stopped"]
    assert len(stopped) == 2


def test_map_uid_and_gid_reach_enroot_and_apptainer_shims(slurm, tmp_path):
    """The shims run the command on the host inside jobc's user namespace: `id` shows the mapped ids."""
    spec = """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}
        steps:
          - name: enroot
            run:
              mapUid: 1000
              mapGid: 100
              container: {image: library/alpine:3.20}
              command: echo "$(id -u) $(id -g)" > "$DEEPSQUARE_OUTPUT/enroot"
          - name: apptainer
            run:
              mapUid: 0
              mapGid: 0
              container: {image: library/alpine:3.20, apptainer: true}
              command: echo "$(id -u) $(id -g)" > "$DEEPSQUARE_OUTPUT/apptainer"
          - name: enroot in pasta
            run:
              network: pasta
              mapUid: 1000
              mapGid: 100
              container: {image: library/alpine:3.20}
              command: echo "$(id -u) $(id -g)" > "$DEEPSQUARE_OUTPUT/enroot-pasta"
    """
    ran = run_job(slurm, tmp_path, spec, site=site(tmp_path), env=shim_env(slurm, tmp_path, "enroot", "apptainer"))
    assert ran.rc == 0, ran
    out = ran.storage / "output"
    assert (out / "enroot").read_text() == "1000 100\n"
    assert (out / "apptainer").read_text() == "0 0\n"
    assert (out / "enroot-pasta").read_text() == "1000 100\n"
    starts = [r["argv"] for r in records(tmp_path, "enroot") if r["argv"][0] == "start"]
    assert len(starts) == 2 and all("--root" not in argv for argv in starts)
    (apptainer,) = [r["argv"] for r in records(tmp_path, "apptainer") if r["argv"][0] == "exec"]
    assert "--fakeroot" not in apptainer


def test_a_pasta_peer_on_the_gateways_own_host_reaches_the_virtual_network(slurm, tmp_path):
    """pasta gives the namespace the host's own address, so the gateway's endpoint (that address) would
    be the namespace itself: the peer goes through pasta's gateway address instead (decision 33)."""
    spec = """
        resources: {tasks: 2, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}
        virtualNetworks:
          - {name: lab, gatewayAddress: 10.77.0.1/24}
        steps:
          - name: server
            launch:
              steps:
                - name: serve
                  run:
                    network: slirp4netns
                    customNetworkInterfaces:
                      - vnet: {name: lab, address: 10.77.0.2/24}
                    shell: /bin/bash
                    command: |
                      echo hi > "$OUT/page.txt"
                      cd "$OUT" && exec python3 -m http.server --bind 10.77.0.2 8000 > /dev/null 2>&1
          - name: client
            run:
              network: pasta
              customNetworkInterfaces:
                - vnet: {name: lab, address: 10.77.0.3/24}
              shell: /bin/bash
              command: |
                for i in $(seq 40); do
                  curl -s --max-time 2 http://10.77.0.2:8000/page.txt > "$OUT/fetched" && break
                  sleep 0.5
                done
                stat -c %a "$JOBC_STEP_DIR/vnet0.conf" > "$OUT/mode"
    """
    ran = run_job(slurm, tmp_path, spec, site=site(tmp_path), timeout=120)
    assert ran.rc == 0, ran
    assert ran.read("fetched") == "hi\n"
    assert ran.read("mode").strip() == "600", "the rewritten config (it holds a key) stays private"
