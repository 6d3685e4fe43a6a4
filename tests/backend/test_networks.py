"""network: slirp4netns in the generated script: per-step files, the exact srun line, keys off every argv."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import textwrap
from pathlib import Path

# test_containers: the same directory (tests/backend has no __init__)
from test_containers import shellcheck, srun_command, step_lines, task_functions

from jobc import compile_spec

SHIMS = Path(__file__).resolve().parents[1] / "shims"

PRIVATE = "ISVZDOnSUSOR8XnCP3u1GQm10dJrK15Gr+p6TqSLTJ8="
PEER = "Kp6WgyXRuBOyn9OQhyLO+g76wUd2vgtHbZre0iLjOOM="
PSK = "QJAYljOJNETy7PKCWjpXtob4LV6Ef7GBBNT9CmSBq18="
PRIVATE2 = "8HZTWyhE9ShuZWe3TSe1JOwh0/ZO/HZRcL1PzbbXpU0="

SPEC = f"""
resources: {{tasks: 1, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}}
steps:
  - name: vpn
    run:
      network: slirp4netns
      dns: "10.8.0.1, 1.1.1.1"
      customNetworkInterfaces:
        - bore: {{address: bore.example.org, port: 2200, targetPort: 8888}}
        - wireguard:
            address: [10.8.0.2/24, "fd00::2/64"]
            privateKey: {PRIVATE}
            peers:
              - publicKey: {PEER}
                preSharedKey: {PSK}
                allowedIPs: [10.8.0.0/24, 172.16.20.0/24]
                endpoint: vpn.example.org:51820
                persistentKeepalive: 25
              - publicKey: {PEER}
        - wireguard:
            privateKey: {PRIVATE2}
      command: curl http://172.16.20.5:8080/health
"""

WG_CONFIG_LINES = [
    "(",
    "umask 077",
    "{",
    "printf '[Interface]\\n'",
    "printf 'PrivateKey = %s\\n' \"${JOBC_SECRETS['steps[0].run.customNetworkInterfaces[1].wireguard.privateKey']}\"",
    "printf 'Address = %s\\n' '10.8.0.2/24, fd00::2/64'",
    "printf '\\n[Peer]\\n'",
    f"printf 'PublicKey = %s\\n' {PEER}",
    "printf 'PresharedKey = %s\\n' "
    "\"${JOBC_SECRETS['steps[0].run.customNetworkInterfaces[1].wireguard.peers[0].preSharedKey']}\"",
    "printf 'AllowedIPs = %s\\n' '10.8.0.0/24, 172.16.20.0/24'",
    "printf 'Endpoint = %s\\n' vpn.example.org:51820",
    "printf 'PersistentKeepalive = %s\\n' 25",
    "printf '\\n[Peer]\\n'",
    f"printf 'PublicKey = %s\\n' {PEER}",
    '} > "$JOBC_STEP_DIR"/net1.conf',
    ")",
]


def test_slirp4netns_step_setup_writes_per_step_files():
    lines = step_lines(compile_spec(SPEC).script, "vpn")
    assert lines[:4] == [
        'JOBC_STEP_DIR=$(mktemp -d "$JOBC_RUN/step.XXXXXX")',
        "export JOBC_STEP_DIR",
        "trap 'rm -rf -- \"$JOBC_STEP_DIR\"' EXIT",
        "printf 'nameserver %s\\n' 10.8.0.1 1.1.1.1 > \"$JOBC_STEP_DIR/resolv.conf\"",
    ]
    assert lines[4:20] == WG_CONFIG_LINES
    assert lines[20:26] == [
        "(",
        "umask 077",
        "{",
        "printf '[Interface]\\n'",
        "printf 'PrivateKey = %s\\n' \"${JOBC_SECRETS['steps[0].run.customNetworkInterfaces[2].wireguard.privateKey']}\"",
        "}" + ' > "$JOBC_STEP_DIR"/net2.conf',
    ]


def test_slirp4netns_srun_line():
    srun = srun_command(step_lines(compile_spec(SPEC).script, "vpn"))
    assert srun == (
        'srun --job-name=vpn --ntasks=1 --cpus-per-task=1 --mem-per-cpu=512M --chdir="$STORAGE_PATH" '
        "-- bash -c 'jobc_task \"$@\"' jobc-task jobc_netns slirp4netns -- /bin/sh -c 'curl http://172.16.20.5:8080/health'"
    )


def test_the_namespace_is_described_by_files_of_the_step_directory():
    lines = step_lines(compile_spec(SPEC).script, "vpn")
    assert "printf '%s\\n' net1 net2 > \"$JOBC_STEP_DIR\"/wireguard" in lines
    assert "printf '%s %s %s %s %s\\n' bore bore.example.org 2200 8888 - > \"$JOBC_STEP_DIR\"/bore" in lines


def test_network_task_functions_use_the_site_tools_and_the_required_flags():
    script = compile_spec(SPEC).script
    assert "local -a ids=(--map-root-user)" in script
    assert 'unshare --user "${ids[@]}" --net --mount -- \\' in script
    assert "slirp4netns --configure --mtu=65520 --disable-host-loopback --ready-fd=3 \\" in script
    assert '"$pid" tap0 3>"$sync/ready"' in script
    assert 'mount --bind "$JOBC_STEP_DIR/resolv.conf" /etc/resolv.conf' in script
    assert 'wg-quick up "$JOBC_STEP_DIR/$name.conf"' in script
    assert 'wg-quick down "$JOBC_STEP_DIR/$name.conf"' in script
    assert 'bore -s "${bore_address[i]}" -p "${bore_port[i]}" -ls localhost -lp "${bore_target[i]}" &' in script
    assert "export -f jobc_netns " in script


def test_wireguard_keys_are_only_in_the_secrets_table():
    script = compile_spec(SPEC).script
    for key in (PRIVATE, PSK, PRIVATE2):
        assert script.count(key) == 1
        (line,) = [line for line in script.split("\n") if key in line]
        assert re.fullmatch(
            r"  \['steps\[0\]\.run\.customNetworkInterfaces\[\d\]\.wireguard\.[A-Za-z\[\]0-9.]+'\]=\S+", line
        )
    readers = [line.strip() for line in script.split("\n") if "JOBC_SECRETS[" in line and "declare" not in line]
    assert len(readers) == 3 and all(line.startswith("printf ") for line in readers)
    assert PEER in script  # public keys are not secrets


def test_redact_replaces_every_wireguard_key():
    script = compile_spec(SPEC, redact=True).script
    for key in (PRIVATE, PSK, PRIVATE2):
        assert key not in script
    for field in (
        "steps[0].run.customNetworkInterfaces[1].wireguard.privateKey",
        "steps[0].run.customNetworkInterfaces[1].wireguard.peers[0].preSharedKey",
        "steps[0].run.customNetworkInterfaces[2].wireguard.privateKey",
    ):
        assert f"['{field}']='<redacted: {field}>'" in script


def test_wireguard_config_file_is_0600_with_the_keys(tmp_path):
    """Run the step's setup lines in bash: the file wg-quick reads, and its mode."""
    script = compile_spec(SPEC).script
    table = re.search(r"\ndeclare -A JOBC_SECRETS=\(\n.*?\n\)\n", script, re.S).group(0)
    lines = step_lines(script, "vpn")
    setup = "\n".join(lines[: next(i for i, line in enumerate(lines) if line.startswith("srun "))])
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    driver = f'set -euo pipefail\numask 022\n{table}\nJOBC_RUN={run}\n{setup}\ntrap - EXIT\necho "$JOBC_STEP_DIR"\n'
    result = subprocess.run(["bash", "-c", driver], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    step_dir = Path(result.stdout.strip())
    assert step_dir.parent == run and oct(step_dir.stat().st_mode & 0o777) == "0o700"
    assert (step_dir / "resolv.conf").read_text() == "nameserver 10.8.0.1\nnameserver 1.1.1.1\n"
    config = step_dir / "net1.conf"
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    assert config.read_text() == textwrap.dedent(f"""\
        [Interface]
        PrivateKey = {PRIVATE}
        Address = 10.8.0.2/24, fd00::2/64

        [Peer]
        PublicKey = {PEER}
        PresharedKey = {PSK}
        AllowedIPs = 10.8.0.0/24, 172.16.20.0/24
        Endpoint = vpn.example.org:51820
        PersistentKeepalive = 25

        [Peer]
        PublicKey = {PEER}
        """)
    assert (step_dir / "net2.conf").read_text() == f"[Interface]\nPrivateKey = {PRIVATE2}\n"


def test_step_dir_is_removed_when_the_step_ends(tmp_path):
    script = compile_spec(SPEC).script
    setup = step_lines(script, "vpn")[:4]
    run = tmp_path / "run"
    run.mkdir()
    result = subprocess.run(
        ["bash", "-c", f"JOBC_RUN={run}\n(\n" + "\n".join(setup) + "\n)\nls -A " + str(run)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stdout == "", result


def test_default_dns_is_slirp4netns_forwarder_and_map_root_is_implied():
    script = compile_spec("""
resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}
steps:
  - name: plain
    run:
      network: slirp4netns
      command: "true"
  - name: boxed
    run:
      network: slirp4netns
      container: {image: alpine:3.20}
      command: "true"
  - name: host
    run:
      command: "true"
""").script
    assert step_lines(script, "plain")[3] == "printf 'nameserver %s\\n' 10.0.2.3 > \"$JOBC_STEP_DIR/resolv.conf\""
    assert srun_command(step_lines(script, "plain")).endswith("jobc-task jobc_netns slirp4netns -- /bin/sh -c true")
    boxed = srun_command(step_lines(script, "boxed"))
    assert "jobc-task jobc_netns slirp4netns -- jobc_enroot " in boxed and " --root --rw " in boxed
    assert "unshare" not in boxed  # the namespace maps root; no second user namespace
    host = step_lines(script, "host")
    assert (
        host == [host[0], host[1]] and "jobc_netns" not in srun_command(host) and "jobc_task" not in srun_command(host)
    )
    assert "JOBC_SECRETS" not in script and "jobc_enroot_import() {\n  local source=$1 file=$2\n" in script


def test_jobs_without_networks_do_not_carry_the_network_functions():
    script = compile_spec("""
resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}
steps:
  - name: bg
    launch:
      steps:
        - run: {command: "true"}
""").script
    assert "jobc_task()" in script and "jobc_netns" not in script and "jobc_enroot" not in script


def test_generated_network_scripts_pass_shellcheck(tmp_path):
    shellcheck(compile_spec(SPEC).script, tmp_path)
    shellcheck(compile_spec(SPEC, redact=True).script, tmp_path)
    examples = Path(__file__).resolve().parents[2] / "examples"
    for name in ("wireguard-vpn.yaml", "bore-tunnel.yaml"):
        if (examples / name).exists():
            shellcheck(compile_spec((examples / name).read_text(), name=name).script, tmp_path)


def test_bash_functions_parse_and_stay_out_of_argv(tmp_path):
    """`bash -n` on the whole script, and the netns functions really get exported."""
    script = compile_spec(SPEC).script
    path = tmp_path / "job.sh"
    path.write_text(script)
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    functions = task_functions(script)
    check = subprocess.run(
        ["bash", "-c", functions + "\nbash -c 'declare -F jobc_netns jobc_netns_inside jobc_netns_link'"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": os.environ["PATH"]},
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == ["jobc_netns", "jobc_netns_inside", "jobc_netns_link"]


def test_the_namespace_comes_down_when_its_shells_term_comes_after_the_command_ended(tmp_path):
    """Slurm signals a step's processes one by one, so the namespace's shell may get its TERM once the command
    has ended and the teardown has begun. Here the command ends on its own and a bore stand-in, stopped by the
    teardown, sends that TERM: the WireGuard interface still goes down, and the shell ends with 143. Runs
    jobc_netns_inside in a real user, network and mount namespace (unshare), with the wg-quick shim."""
    script = compile_spec(SPEC).script
    functions = task_functions(script)
    (tmp_path / "functions.sh").write_text(functions)
    step_dir = tmp_path / "step"
    step_dir.mkdir()
    (step_dir / "resolv.conf").write_text("nameserver 10.8.0.1\n")
    (step_dir / "wireguard").write_text("net1\n")
    (step_dir / "net1.conf").write_text("[Interface]\n")
    (step_dir / "bore").write_text("bore bore.example.org 2200 8888 -\n")
    sync = tmp_path / "sync"
    sync.mkdir()
    (sync / "go").write_text("ok\n")
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir()
    for name in ("wg-quick", "_record.py"):
        (stand_ins / name).symlink_to(SHIMS / name)
    bore = stand_ins / "bore"
    bore.write_text(
        textwrap.dedent(f"""\
            #!/bin/bash
            trap 'echo stopped >> {tmp_path / "bore.log"}; kill -TERM "$PPID"; exit 0' TERM
            echo started >> {tmp_path / "bore.log"}
            while :; do sleep 0.05; done
        """)
    )
    bore.chmod(0o755)
    # The command ends on its own once bore has set its trap.
    inside = 'eval "$(cat "$1")"; jobc_netns_inside slirp4netns "$2" -- sh -c "until [ -s \\"\\$0\\" ]; do sleep 0.05; done" "$3"'
    driver = f'unshare --user --map-root-user --net --mount -- bash -c {shlex.quote(inside)} inside "$1" "$2" "$3"; echo "ended with $?"'
    result = subprocess.run(
        ["bash", "-c", driver, "driver", str(tmp_path / "functions.sh"), str(sync), str(tmp_path / "bore.log")],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PATH": f"{stand_ins}:{os.environ['PATH']}",
            "JOBC_SHIM_LOG": str(tmp_path / "shims.jsonl"),
            "JOBC_STEP_DIR": str(step_dir),
        },
        timeout=60,
    )
    assert result.stdout == "ended with 143\n", result.stderr
    assert (tmp_path / "bore.log").read_text() == "started\nstopped\n"
    log = (tmp_path / "shims.jsonl").read_text().splitlines()
    assert [json.loads(line)["argv"] for line in log] == [
        ["up", str(step_dir / "net1.conf")],
        ["down", str(step_dir / "net1.conf")],
    ]
