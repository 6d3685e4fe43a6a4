"""network: slirp4netns on the real Slurm: real slirp4netns, real wg-quick + wireguard-go, shims for bore.

Traffic stays on this machine: the namespaces are the tests' own, and the only
WireGuard endpoint is 127.0.0.1 (which --disable-host-loopback keeps out of reach
anyway, so no packet leaves the namespace). The bore client is a shim that
records its arguments; a wg-quick shim records the config file it is given.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from jobc.site import site_from_dict

from .jobc_run import run_job

pytestmark = pytest.mark.slurm

SHIMS = Path(__file__).resolve().parents[1] / "shims"


def site(tmp_path: Path):
    return site_from_dict(
        {
            "paths": {"storage_root": str(tmp_path / "storage"), "image_cache": str(tmp_path / "images")},
            "options": {"launch_grace": 3},
        }
    )


def records(tmp_path: Path, tool: str) -> list[dict]:
    log = tmp_path / "shims.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return [r for r in map(json.loads, lines) if r["tool"] == tool]


def shim_env(slurm, tmp_path: Path, *tools: str) -> dict:
    """PATH with a directory holding only the named shims first (so the other tools stay real)."""
    only = tmp_path / "shims"
    only.mkdir(exist_ok=True)
    for name in (*tools, "_record.py"):
        (only / name).symlink_to(SHIMS / name)
    return {"PATH": f"{only}{os.pathsep}{slurm.env['PATH']}", "JOBC_SHIM_LOG": str(tmp_path / "shims.jsonl")}


def wg_keypair() -> tuple[str, str]:
    private = subprocess.run(["wg", "genkey"], capture_output=True, text=True, check=True).stdout.strip()
    public = subprocess.run(["wg", "pubkey"], input=private, capture_output=True, text=True, check=True).stdout.strip()
    return private, public


def netns_leftovers() -> set[str]:
    return {p.name for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("jobc-netns.*")}


def test_slirp4netns_resolv_conf_lists_both_dns_servers(slurm, tmp_path):
    host_resolv = Path("/etc/resolv.conf").read_text()
    before = netns_leftovers()
    spec = """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}
        steps:
          - name: inside
            run:
              network: slirp4netns
              dns: "9.9.9.9, 149.112.112.112"
              shell: /bin/bash
              command: |
                cat /etc/resolv.conf > "$OUT/resolv.conf"
                ip -o -4 addr show > "$OUT/addresses"
                ip route > "$OUT/routes"
                id -u > "$OUT/uid"
          - name: default dns
            run:
              network: slirp4netns
              command: cat /etc/resolv.conf > "$OUT/default-resolv.conf"
    """
    ran = run_job(slurm, tmp_path, spec, site=site(tmp_path))
    assert ran.rc == 0, ran
    assert ran.read("resolv.conf") == "nameserver 9.9.9.9\nnameserver 149.112.112.112\n"
    assert ran.read("default-resolv.conf") == "nameserver 10.0.2.3\n"  # slirp4netns' own DNS forwarder
    assert "tap0    inet 10.0.2.100/24" in ran.read("addresses")
    assert "default via 10.0.2.2 dev tap0" in ran.read("routes")
    assert ran.read("uid").strip() == "0"  # mapRoot is implied
    assert Path("/etc/resolv.conf").read_text() == host_resolv
    assert netns_leftovers() <= before
    assert not (ran.storage / ".jobc").exists()


def test_wireguard_real_wg_quick_brings_up_net0_without_keys_on_any_command_line(slurm, tmp_path):
    """Two step runs at once on one node, each with its own net0 (wireguard-go keeps a socket per name)."""
    private, public = wg_keypair()
    _, peer_public = wg_keypair()
    psk = subprocess.run(["wg", "genpsk"], capture_output=True, text=True, check=True).stdout.strip()
    spec = f"""
        resources: {{tasks: 2, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}}
        steps:
          - name: two tunnels
            for:
              parallel: true
              items: [a, b]
              steps:
                - name: vpn
                  run:
                    network: slirp4netns
                    dns: 10.8.0.1
                    shell: /bin/bash
                    customNetworkInterfaces:
                      - wireguard:
                          address: [10.8.0.2/24]
                          privateKey: {private}
                          peers:
                            - publicKey: {peer_public}
                              preSharedKey: {psk}
                              allowedIPs: [10.8.0.1/32, 172.16.20.0/24]
                              endpoint: 127.0.0.1:51820
                              persistentKeepalive: 25
                    command: |
                      ip -o -4 addr show net0 > "$OUT/net0.$item"
                      ip route > "$OUT/routes.$item"
                      wg show net0 > "$OUT/wg.$item"
                      wg show net0 private-key > "$OUT/private.$item"
                      for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f"; echo; done > "$OUT/cmdlines.$item" 2>/dev/null
                      ls -l "$JOBC_STEP_DIR" > "$OUT/files.$item"
                      sleep 2
    """
    ran = run_job(slurm, tmp_path, spec, site=site(tmp_path), timeout=90)
    assert ran.rc == 0, ran
    for item in "ab":
        assert "net0    inet 10.8.0.2/24" in ran.read(f"net0.{item}")
        assert "172.16.20.0/24 dev net0" in ran.read(f"routes.{item}")
        wg = ran.read(f"wg.{item}")
        assert f"public key: {public}" in wg and f"peer: {peer_public}" in wg
        assert "endpoint: 127.0.0.1:51820" in wg and "allowed ips: 10.8.0.1/32, 172.16.20.0/24" in wg
        assert "preshared key: (hidden)" in wg and "every 25 seconds" in wg
        assert ran.read(f"private.{item}").strip() == private
        # While the tunnels were up, no process on the machine had a key in its argv.
        cmdlines = ran.read(f"cmdlines.{item}")
        assert "jobc_netns" in cmdlines and private not in cmdlines and psk not in cmdlines
        files = ran.read(f"files.{item}")
        assert "-rw------- " in files and "net0.conf" in files
    # The interfaces lived in the namespaces only, and wg-quick down stopped wireguard-go.
    assert "net0" not in subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert "wireguard-go net0" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert private not in ran.output and psk not in ran.output


def test_wireguard_and_bore_shims_record_config_mode_0600_per_step_run(slurm, tmp_path):
    private, _ = wg_keypair()
    _, peer_public = wg_keypair()
    psk = subprocess.run(["wg", "genpsk"], capture_output=True, text=True, check=True).stdout.strip()
    spec = f"""
        resources: {{tasks: 2, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}}
        steps:
          - name: two at once
            for:
              parallel: true
              items: [a, b]
              steps:
                - name: tunnel
                  run:
                    network: slirp4netns
                    customNetworkInterfaces:
                      - bore: {{address: bore.example.org, port: 2200, targetPort: 8888}}
                      - wireguard:
                          address: [10.8.0.2/24, "fd00::2/64"]
                          privateKey: {private}
                          peers:
                            - publicKey: {peer_public}
                              preSharedKey: {psk}
                              allowedIPs: [0.0.0.0/0]
                              endpoint: vpn.example.org:51820
                              persistentKeepalive: 25
                    command: echo "tunnel $item up"; sleep 1
    """
    ran = run_job(
        slurm, tmp_path, spec, site=site(tmp_path), env=shim_env(slurm, tmp_path, "wg-quick", "bore"), timeout=90
    )
    assert ran.rc == 0, ran
    assert "tunnel a up" in ran.output and "tunnel b up" in ran.output
    wg = records(tmp_path, "wg-quick")
    ups = [r for r in wg if r["argv"][0] == "up"]
    downs = [r for r in wg if r["argv"][0] == "down"]
    assert len(ups) == 2 and len(downs) == 2, ran
    paths = {r["argv"][1] for r in ups}
    assert len(paths) == 2, "each step run has its own config file"
    assert {r["argv"][1] for r in downs} == paths
    for up in ups:
        path = up["argv"][1]
        assert path.startswith(f"{ran.storage}/.jobc/step.") and path.endswith("/net1.conf")
        assert up["config"]["mode"] == "0600"
        assert up["config"]["content"] == (
            "[Interface]\n"
            f"PrivateKey = {private}\n"
            "Address = 10.8.0.2/24, fd00::2/64\n"
            "\n[Peer]\n"
            f"PublicKey = {peer_public}\n"
            f"PresharedKey = {psk}\n"
            "AllowedIPs = 0.0.0.0/0\n"
            "Endpoint = vpn.example.org:51820\n"
            "PersistentKeepalive = 25\n"
        )
        assert not Path(path).exists(), "the step's private directory is removed when the step ends"
    bore = records(tmp_path, "bore")
    started = [r for r in bore if r["event"] == "started"]
    assert len(started) == 2
    assert all(
        r["argv"] == ["-s", "bore.example.org", "-p", "2200", "-ls", "localhost", "-lp", "8888"] for r in started
    )
    assert sorted(r["pid"] for r in bore if r["event"] == "stopped") == sorted(r["pid"] for r in started)
    every_argv = " ".join(" ".join(r["argv"]) for r in wg + bore)
    assert private not in every_argv and psk not in every_argv


def test_enroot_shim_inside_slirp4netns_sees_the_step_dns(slurm, tmp_path):
    cache = tmp_path / "images"
    spec = """
        resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}
        steps:
          - name: container in the namespace
            run:
              network: slirp4netns
              dns: 1.1.1.1,8.8.8.8
              container:
                image: library/alpine:3.20
              command: cat /etc/resolv.conf > "$DEEPSQUARE_OUTPUT/resolv.conf"; id -u >> "$DEEPSQUARE_OUTPUT/resolv.conf"
    """
    ran = run_job(slurm, tmp_path, spec, site=site(tmp_path), env=shim_env(slurm, tmp_path, "enroot"))
    assert ran.rc == 0, ran
    assert (ran.storage / "output" / "resolv.conf").read_text() == "nameserver 1.1.1.1\nnameserver 8.8.8.8\n0\n"
    (start,) = [r for r in records(tmp_path, "enroot") if r["argv"][0] == "start"]
    assert start["argv"][1] == "--root"  # slirp4netns implies mapRoot
    assert any(p.suffix == ".sqsh" for p in cache.iterdir())


def test_slirp4netns_step_stopped_with_term_takes_down_bore_wireguard_and_slirp_shims(slurm, tmp_path):
    """A launch is signalled (TERM) when its scope ends: the namespace's traps stop bore, run wg-quick down,
    and slirp4netns and the node-local sync directory go away."""
    private, _ = wg_keypair()
    _, peer_public = wg_keypair()
    before = netns_leftovers()
    spec = f"""
        resources: {{tasks: 2, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}}
        steps:
          - name: service
            launch:
              steps:
                - name: tunnelled
                  run:
                    network: slirp4netns
                    customNetworkInterfaces:
                      - wireguard:
                          address: [10.8.0.2/24]
                          privateKey: {private}
                          peers: [{{publicKey: {peer_public}, allowedIPs: [10.8.0.1/32]}}]
                      - bore: {{address: bore.example.org, port: 2200, targetPort: 8888}}
                    command: >-
                      echo "$PPID" > "$OUT/namespace.pid";
                      ps -eo args | grep -F -- "--ready-fd=3 $PPID tap0" | grep -c slirp4netns > "$OUT/slirp.seen";
                      touch "$OUT/serving"; exec sleep 60
          - name: client
            run:
              command: for i in $(seq 100); do [ -e "$OUT/serving" ] && break; sleep 0.1; done; sleep 1
    """
    ran = run_job(
        slurm, tmp_path, spec, site=site(tmp_path), env=shim_env(slurm, tmp_path, "wg-quick", "bore"), timeout=60
    )
    assert ran.rc == 0, ran
    assert ran.res.elapsed < 40, "the launch was stopped, not waited for"
    wg = records(tmp_path, "wg-quick")
    assert [r["argv"][0] for r in wg] == ["up", "down"], wg
    bore = records(tmp_path, "bore")
    assert [r["event"] for r in bore] == ["started", "stopped"], bore
    assert netns_leftovers() <= before
    pid = int(ran.read("namespace.pid"))  # the shell in the namespace that slirp4netns attached to
    assert ran.read("slirp.seen").strip() == "1"
    assert not Path(f"/proc/{pid}").exists()
    slirps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert f"--disable-host-loopback --ready-fd=3 {pid} tap0" not in slirps
