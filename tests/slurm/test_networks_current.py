"""The current DeepSquare schema's networks and ids on the real Slurm: pasta (Debian's passt), mapUid/mapGid,
virtual networks (real wireguard-go, real pasta for the gateway) and dpsproxy (a shim: the client is not packaged).

Traffic stays on this machine: the virtual network's gateway listens on this host's own address, and the
peers are namespaces of the same node.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from .jobc_run import run_job
from .test_network import netns_leftovers, site

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
