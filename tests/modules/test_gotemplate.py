"""The part of Go's text/template that modules use: what renders, what is refused (exact message and position),
and the grid's own example module and renderer test compiled as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobc.modules.gotemplate import GoStruct, TemplateProblem, render

from .support import JOB_HEAD, jobc, write

STEPS = [GoStruct("Step", {"Name": ("name", "step by user")}), GoStruct("Step", {"Name": ("name", "another")})]
DATA = GoStruct(
    "",
    {
        "Job": (
            "job",
            GoStruct("Job", {"Resources": ("resources", GoStruct("JobResources", {"MemPerCPU": ("memPerCpu", 100)}))}),
        ),
        "Step": (
            "step",
            GoStruct(
                "Step", {"Name": ("name", None), "Use": ("use", GoStruct("StepUse", {"Steps": ("steps", STEPS)}))}
            ),
        ),
    },
)


def test_the_grids_renderer_test_renders_the_same() -> None:
    """module_renderer_test.go's "step of steps": the user's steps spliced with toYaml and nindent."""
    text = "# module.yaml\nsteps:\n  - name: my step\n  {{- .Step.Use.Steps | toYaml | nindent 2 }}\n  - name: my other step\n"
    assert render(text, DATA).text == (
        "# module.yaml\nsteps:\n  - name: my step\n  - name: step by user\n  - name: another\n  - name: my other step\n"
    )


@pytest.mark.parametrize(
    "template, expected",
    [
        ("{{ .Job.Resources.MemPerCPU }}", "100"),
        ("{{ .Step.Name }}", "<nil>"),
        ('{{ .Step.Name | default "anon" }}', "anon"),
        ('{{ "it\'s" | quote }}', '"it\'s"'),
        ('{{ `a"b` | quote }}', '"a\\"b"'),
        ('{{ "x" | squote }}', "'x'"),
        ('{{ "a\\nb" | indent 2 }}', "  a\n  b"),
        ("a {{- ' ' }}", None),
        ("x  {{- /* gone */ -}}  y", "xy"),
        ("# {{ .Job }} stays", "# {{ .Job }} stays"),
    ],
)
def test_what_renders(template: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(TemplateProblem):
            render(template, DATA)
    else:
        assert render(template, DATA).text == expected


@pytest.mark.parametrize(
    "template, message, col",
    [
        ("x: {{ .Job.Nope }}", "Job has no field Nope (Go names: Resources)", 4),
        (
            "x: {{ if .Job }}y{{ end }}",
            "{{ if }} is not supported by jobc (it supports field access such as "
            ".Job.Resources.MemPerCPU, toYaml, indent, nindent, quote, squote, default)",
            4,
        ),
        (
            "x: {{ .Job | upper }}",
            "function 'upper' is not supported by jobc (it supports field access such as "
            ".Job.Resources.MemPerCPU, toYaml, indent, nindent, quote, squote, default)",
            4,
        ),
        ("x: {{ .Job }}", "prints a whole Job: pipe it to toYaml (such as {{ .Step.Use.Steps | toYaml }})", 4),
        ("x: {{ .Step.Name.First }}", ".Step.Name is not set (nil), so it has no field First", 4),
        (
            "x: {{ $x := 1 }}",
            "variables in a template action are not supported (jobc supports field access such as "
            ".Job.Resources.MemPerCPU, toYaml, indent, nindent, quote, squote, default)",
            4,
        ),
        ("x: {{ nindent 2 }}", "nindent takes 2 arguments, not 1", 4),
        ("x:\n  {{ .Job", "{{ is never closed by }}", 3),
    ],
)
def test_what_is_refused(template: str, message: str, col: int) -> None:
    with pytest.raises(TemplateProblem) as caught:
        render(template, DATA)
    assert (caught.value.message, caught.value.col) == (message, col)


def test_positions_map_back_to_the_template() -> None:
    rendered = render("a: 1\n{{ .Step.Use.Steps | toYaml }}\nb: {{ .Job.Resources.MemPerCPU }}\n", DATA)
    assert rendered.text.splitlines() == ["a: 1", "- name: step by user", "- name: another", "b: 100"]
    assert rendered.position(1, 4) == (1, 4)
    assert rendered.position(3, 3) == (2, 1)  # made by the action on line 2
    assert rendered.position(4, 1) == (3, 1)
    assert rendered.position(4, 4) == (3, 4)


def test_a_template_problem_is_located_in_the_module(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "job.yaml": JOB_HEAD + "  - use: {source: ./m}\n",
            "m/module.yaml": "name: m\nsteps:\n  - name: {{ .Job.Resources.Cpus }}\n",
        },
    )
    result = jobc("validate", "job.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (
        "m/module.yaml:3:11: template: JobResources has no field Cpus (Go names: Tasks, CpusPerTask, MemPerCPU, "
        "Gpus, GpusPerTask) (used by job.yaml:3:10: steps[0].use) [E0806]\n"
    )


EXAMPLE_MODULE = """\
# This is an example of module.
# - {{ .Job }} and its childs, which represent the Job object using the module.
name: 'Hello World'
description: 'An example of module'
inputs:
  - key: WHO
    description: 'Who to greet'
    default: 'World'
outputs:
  - key: RESULT
    despcription: 'Resulting string'
minimumResources:
  tasks: 1
  cpusPerTask: 1
  memPerCpu: 100
  gpus: 0
steps:
  - name: Say hello World"
    run:
      container:
        registry: registry-1.docker.io
        image: library/busybox:latest
      command: |
        echo "Running with {{ .Job.Resources.MemPerCPU }}M of memory"
        echo "Hello ${WHO}"
        echo "RESULT=Hello ${WHO}" >> ${DEEPSQUARE_ENV}
"""


def test_the_grids_example_module_compiles_with_one_warning(tmp_path: Path) -> None:
    """deepsquare-io/workflow-module-example's module.yaml, shortened comments: `{{ .Job }}` in a comment,
    the misspelt `despcription`, `gpus` in minimumResources."""
    write(
        tmp_path,
        {
            "job.yaml": JOB_HEAD + "  - use: {source: ./example, exportEnvAs: HELLO}\n",
            "example/module.yaml": EXAMPLE_MODULE,
        },
    )
    result = jobc("compile", "job.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "example/module.yaml:11:5: warning: outputs[0].despcription: unknown field, ignored (the grid ignores it too); "
        "did you mean outputs[0].description? (used by job.yaml:3:10: steps[0].use) [W0106]\n"
    )
    assert 'echo "Running with 100M of memory"' in result.stdout
    assert "jobc_module_leave HELLO_ RESULT" in result.stdout


def test_the_template_never_sees_secrets(tmp_path: Path) -> None:
    output = (
        "output: {s3: {region: r, bucketUrl: 's3://b', path: /p, accessKeyId: id, secretAccessKey: s3cr3t, "
        "endpointUrl: 'https://s3.example'}}\n"
    )
    module = "name: m\nsteps:\n  - run: {command: 'echo {{ .Job.Output.S3.SecretAccessKey }} {{ .Job.Output.S3.AccessKeyID }}'}\n"
    write(tmp_path, {"job.yaml": output + JOB_HEAD + "  - use: {source: ./m}\n", "m/module.yaml": module})
    result = jobc("compile", "job.yaml", "--redact", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "'echo <nil> id'" in result.stdout
