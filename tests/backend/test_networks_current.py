"""The current schema's networks and ids in the script: pasta, mapUid/mapGid wrappers, vnet configs and gateways,
dpsproxy; every generated script is shellcheck-clean."""

from __future__ import annotations

import textwrap

from test_containers import shellcheck, srun_command, step_lines  # same directory (tests/backend has no __init__)

from jobc import compile_spec

SPEC = textwrap.dedent(
    """
    resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 512, gpusPerTask: 0}
    virtualNetworks:
      - {name: lab, gatewayAddress: 10.9.0.1/24}
      - {name: six, gatewayAddress: "fd00::1/64"}
    steps:
      - name: pasta
        run:
          network: pasta
          mapGid: 100
          customNetworkInterfaces:
            - bore: {boreAddress: proxy.example.org:2200, targetPort: 8080, secret: "it's $(x)"}
            - vnet: {name: lab, address: 10.9.0.2/24}
          command: "true"
      - name: host_ids
        run: {mapUid: 1000, mapGid: 0, command: "true"}
      - name: enroot_ids
        run: {mapUid: 0, container: {image: library/alpine:3.20}, command: "true"}
      - name: apptainer_ids
        run: {mapGid: 7, container: {image: library/alpine:3.20, apptainer: true}, command: "true"}
      - name: six
        run:
          network: slirp4netns
          customNetworkInterfaces:
            - vnet: {name: six, address: "fd00::5/64"}
          command: "true"
    """
)


def script() -> str:
    return compile_spec(SPEC, name="job.yaml").script


def test_the_script_is_shellcheck_clean(tmp_path) -> None:
    shellcheck(script(), tmp_path)


def test_pasta_and_the_namespace_ids_in_one_user_namespace() -> None:
    text = script()
    assert srun_command(step_lines(text, "pasta")).endswith("jobc_netns pasta 0 100 -- /bin/sh -c true")
    assert 'ids=(--map-user="$1" --map-group="$2" --keep-caps)' in text
    assert '--runas "$(id -u):$(id -g)" --foreground --quiet' in text
    assert "--dns-forward 10.0.2.3" in text and "--ns-ifname net0" in text


def test_ids_without_a_namespace_wrap_the_host_command_enroot_and_apptainer() -> None:
    text = script()
    host = srun_command(step_lines(text, "host_ids"))
    assert host.endswith("-- unshare --user --map-current-user --map-user=1000 --map-group=0 --mount /bin/sh -c true")
    enroot = srun_command(step_lines(text, "enroot_ids"))
    assert "unshare --user --map-current-user --map-user=0 --mount -- bash -c '\"$@\"' jobc-ids jobc_enroot " in enroot
    assert " --root " not in enroot  # mapUid is not mapRoot: enroot keeps the mapped id
    apptainer = srun_command(step_lines(text, "apptainer_ids"))
    assert "unshare --user --map-current-user --map-group=7 --mount apptainer exec " in apptainer
    assert "--fakeroot" not in apptainer


def test_vnet_config_comes_from_the_gateway_files_and_gateways_start_before_the_steps() -> None:
    text = script()
    lines = step_lines(text, "pasta")
    assert 'printf \'PrivateKey = %s\\n\' "$(< "$JOBC_RUN"/vnet0/peer0.key)"' in lines
    assert "printf 'AllowedIPs = %s\\n' 10.9.0.0/24" in lines
    assert "printf '%s\\n' vnet1 > \"$JOBC_STEP_DIR\"/wireguard" in lines
    assert "jobc_vnet_start 0 10.9.0.1/24 10.9.0.2\njobc_vnet_start 1 fd00::1/64 fd00::5\n" in text
    assert text.index("jobc_vnet_start 0 ") < text.index("( jobc_steps ) &")
    exit_path = text[text.index("jobc_exit() {") :]
    assert exit_path.index("jobc_vnet_stop") < exit_path.index('rm -rf "$JOBC_RUN"')


def test_the_bore_secret_is_in_the_table_and_a_private_file_only() -> None:
    text = script()
    assert text.count("it's $(x)") == 0 and text.count("it'\"'\"'s $(x)") == 1
    lines = step_lines(text, "pasta")
    assert (
        "printf '%s %s %s %s %s\\n' dpsproxy proxy.example.org 2200 8080 bore0.secret > \"$JOBC_STEP_DIR\"/bore"
        in lines
    )
    redacted = compile_spec(SPEC, name="job.yaml", redact=True).script
    assert "$(x)" not in redacted and "<redacted: steps[0].run.customNetworkInterfaces[0].bore.secret>" in redacted


def test_no_virtual_network_no_gateway_code() -> None:
    text = compile_spec("resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1, gpusPerTask: 0}\nsteps: []\n").script
    assert "jobc_vnet" not in text
