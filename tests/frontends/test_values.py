"""What valid specs turn into: the values that reach the IR (YAML traps, coercions, defaults left open)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobc import compile_spec, frontends, ir
from jobc.diagnostics import SpecError
from jobc.source import load

CASES = Path(__file__).parent / "cases"
RES = "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1, gpusPerTask: 0}\n"


def to_ir(text: str, fmt: str = "yaml") -> ir.Job:
    return frontends.data_to_ir(load(text, fmt).data, name="job.yaml")


def test_yaml_1_1_traps_stay_strings_as_written() -> None:
    job = to_ir((CASES / "yaml_traps.yaml").read_text())
    assert {e.key: e.value for e in job.env} == {
        "ON_": "on",
        "NO_": "NO",
        "VERSION": "1.10",
        "TIME": "12:30",
        "ZIP": "007",
        "HEX": "0x1F",
        "YES_": "yes",
        "TRUE_": "true",
        "EXP": "1e3",
        "DATE": "2001-12-14",
        "TILDE": "~",
    }
    loop = job.steps[0]
    assert isinstance(loop, ir.LoopStep) and loop.name == "007"
    assert loop.over == ir.ItemsLoop(("on", "NO", "1.10", "12:30", "007", "0x1F", "y", "n", "off", "1_000"))
    run = loop.steps[0]
    assert isinstance(run, ir.RunStep) and run.name == "1.0" and run.work_dir == "0755"


def test_yaml_traps_compile() -> None:
    script = compile_spec((CASES / "yaml_traps.yaml").read_text(), name="yaml_traps.yaml").script
    assert "1.10" in script and "12:30" in script and "007" in script


@pytest.mark.parametrize(
    "text, expected",
    [
        ("dns: 1.1.1.1", ("1.1.1.1",)),
        ("dns: '1.1.1.1, 8.8.8.8,9.9.9.9'", ("1.1.1.1", "8.8.8.8", "9.9.9.9")),
        ("dns: [1.1.1.1, '2606:4700:4700::1111']", ("1.1.1.1", "2606:4700:4700::1111")),
        ("dns: []", ()),
    ],
)
def test_dns_forms(text: str, expected: tuple[str, ...]) -> None:
    job = to_ir(RES + f"steps:\n  - run:\n      command: x\n      network: slirp4netns\n      {text}\n")
    step = job.steps[0]
    assert isinstance(step, ir.RunStep) and step.network.dns == expected


def test_dns_single_value_compiles() -> None:
    spec = RES + "steps:\n  - run:\n      command: x\n      network: slirp4netns\n      dns: 1.1.1.1\n"
    assert compile_spec(spec, name="job.yaml").script.startswith("#!")


def test_single_value_where_a_list_is_expected() -> None:
    """NOTES decision 1: GraphQL input coercion, for every list field."""
    key = "AAsWISw3Qk1YY255hI+apbC7xtHc5/L9CBMeKTQ/SlU="
    text = (
        RES
        + f"""\
env: {{key: A, value: b}}
steps:
  name: only step
  dependsOn: []
  for:
    parallel: false
    items: one
    steps:
      run:
        command: x
        network: slirp4netns
        env: {{key: C, value: d}}
        container:
          image: library/ubuntu:latest
          mounts: {{hostDir: /a, containerDir: /b, options: ro}}
        customNetworkInterfaces:
          wireguard:
            address: 10.0.0.2/24
            privateKey: {key}
            peers:
              publicKey: {key}
              allowedIPs: 10.0.0.1/32
"""
    )
    job = to_ir(text)
    assert compile_spec(text, name="job.yaml").script.startswith("#!")
    assert job.env == (ir.EnvVar("A", "b", ("env", 0)),)
    loop = job.steps[0]
    assert isinstance(loop, ir.LoopStep) and loop.over == ir.ItemsLoop(("one",))
    run = loop.steps[0]
    assert isinstance(run, ir.RunStep)
    assert [e.key for e in run.env] == ["C"]
    assert run.container is not None and run.container.mounts == (
        ir.Mount("/a", "/b", True, run.container.path + ("mounts", 0)),
    )
    wg = run.network.interfaces[0]
    assert isinstance(wg, ir.Wireguard)
    assert wg.addresses == ("10.0.0.2/24",) and wg.peers[0].allowed_ips == ("10.0.0.1/32",)


def test_string_fields_keep_the_text_of_plain_scalars() -> None:
    job = to_ir(RES + "steps:\n  - name: 0010\n    run:\n      command: 1e5\n      workDir: +12\n")
    step = job.steps[0]
    assert isinstance(step, ir.RunStep)
    assert (step.name, step.command, step.work_dir) == ("0010", "1e5", "+12")


def test_int_fields_take_plain_decimal_scalars() -> None:
    job = to_ir("resources: {tasks: 007, cpusPerTask: +2, memPerCpu: 1024, gpusPerTask: 0}\nsteps: []\n")
    assert job.resources == ir.Resources(7, 2, 1024, 0)


def test_step_defaults_stay_open_for_the_passes() -> None:
    job = to_ir(RES + "steps:\n  - run:\n      command: x\n      resources: {gpusPerTask: 0}\n")
    step = job.steps[0]
    assert isinstance(step, ir.RunStep)
    assert step.resources == ir.PartialResources(gpus_per_task=0)
    assert step.shell == "/bin/sh" and step.network.mode == "host" and step.container is None


def test_secrets_become_secret_values() -> None:
    job = to_ir(
        RES
        + """\
output:
  s3: {region: r, bucketUrl: s3://b, path: /, accessKeyId: id, secretAccessKey: hunter2, endpointUrl: https://s3}
steps:
  - run:
      command: x
      container: {image: library/ubuntu:latest, username: john, password: pw}
"""
    )
    assert isinstance(job.output, ir.S3Transport)
    assert job.output.secret_access_key == ir.Secret("hunter2", "output.s3.secretAccessKey")
    step = job.steps[0]
    assert isinstance(step, ir.RunStep) and step.container is not None
    assert step.container.password == ir.Secret("pw", "steps[0].run.container.password")


def test_launch_signal_defaults_to_sigterm_and_keeps_zero() -> None:
    job = to_ir(RES + "steps:\n  - launch: {steps: []}\n  - launch: {signalOnParentStepExit: 0, steps: []}\n")
    assert [s.signal for s in job.steps if isinstance(s, ir.LaunchStep)] == [15, 0]


def test_deepsquare_hosted_implies_apptainer() -> None:
    job = to_ir(
        RES
        + "steps:\n  - run:\n      command: x\n      container: {image: library/sd:latest, deepsquareHosted: true}\n"
    )
    step = job.steps[0]
    assert isinstance(step, ir.RunStep) and step.container is not None
    assert step.container.runtime == "apptainer" and step.container.hosted


def test_empty_spec_is_an_error() -> None:
    with pytest.raises(SpecError) as info:
        to_ir("# nothing\n")
    assert [d.message for d in info.value.diagnostics] == ["the spec is empty"]
