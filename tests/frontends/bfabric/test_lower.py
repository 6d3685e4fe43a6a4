"""bfabric app specs: from the spec to what each step runs, through the real generated script.

Most tests compile an app and run the script under bash with a fake srun (fake_srun.py beside this file),
which records each step's argv after bash expanded it: what the real step would exec.
"""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest
from support import CliRunner

from jobc import compile_spec
from jobc.cli import run as app
from jobc.frontends import bfabric
from jobc.options import AppOptions, CompileOptions
from jobc.site import Site

from .fake_srun import compile_app, run_app


def spec(
    process: str = "{type: shell, command: p}",
    *,
    dispatch: str = "{type: shell, command: d}",
    collect: str | None = "{type: shell, command: c}",
    submitter: str = "{name: slurm}",
    version: str = '"1.0"',
) -> str:
    text = f"versions:\n  - version: {version}\n    commands:\n      dispatch: {dispatch}\n      process: {process}\n"
    if collect:
        text += f"      collect: {collect}\n"
    return text + f"    submitter: {submitter}\n"


def mounts(argv: list[str]) -> list[dict[str, str]]:
    """Each --mount value parsed as docker does (CSV, then key=value; a bare flag maps to "")."""
    out = []
    for i, word in enumerate(argv):
        if word == "--mount":
            fields = next(csv.reader([argv[i + 1]]))
            out.append({k: v for k, _, v in (f.partition("=") for f in fields)})
    return out


def env_args(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv) if word == "--env"]


# --- what runs ------------------------------------------------------------------------------------


def test_steps_and_their_arguments(tmp_path: Path) -> None:
    """dispatch $workunit_ref $work_dir; per chunk (sorted): process $chunk_dir, collect $workunit_ref $chunk_dir."""
    ran = run_app(tmp_path, spec(), layout="mkdir b a && : > b/inputs.yml && : > a/inputs.yml")
    assert ran.rc == 0, ran.stderr
    work = str(ran.dirs["work"])
    assert ran.steps == [
        ("dispatch", ["d", "42", work]),
        ("process", ["p", f"{work}/a"]),
        ("collect", ["c", "42", f"{work}/a"]),
        ("process", ["p", f"{work}/b"]),
        ("collect", ["c", "42", f"{work}/b"]),
    ]


def test_without_collect(tmp_path: Path) -> None:
    ran = run_app(tmp_path, spec(collect=None))
    assert [name for name, _ in ran.steps] == ["dispatch", "process"]


def test_shell_command_is_an_argv_not_a_script(tmp_path: Path) -> None:
    """shlex.split: quotes group words, and nothing is expanded, redirected or chained."""
    command = """'run tool' --msg "a b" 'c'"'"'d' $HOME ; > out | x && y `id` $(id) *"""
    ran = run_app(tmp_path, spec(f"{{type: shell, command: {json.dumps(command)}}}"))
    assert ran.argv("process")[:-1] == [
        "run tool",
        "--msg",
        "a b",
        "c'd",
        "$HOME",
        ";",
        ">",
        "out",
        "|",
        "x",
        "&&",
        "y",
        "`id`",
        "$(id)",
        "*",
    ]
    assert " -c " not in ran.script.split('jobc_list_chunks "$JOBC_WORK_DIR"')[0].split("(\n    jobc_load_env")[-1]


def test_chunks_yml_lists_the_chunks_in_its_order(tmp_path: Path) -> None:
    layout = (
        "mkdir -p z 'with space' /tmp/jobc-abs-chunk && printf '%s\\n' 'chunks:' '- z' \"- 'with space'\" "
        "'- /tmp/jobc-abs-chunk' > chunks.yml"
    )
    ran = run_app(tmp_path, spec(collect=None), layout=layout)
    assert ran.rc == 0, ran.stderr
    work = str(ran.dirs["work"])
    assert [argv[-1] for name, argv in ran.steps if name == "process"] == [
        f"{work}/z",
        f"{work}/with space",
        "/tmp/jobc-abs-chunk",
    ]


def test_glob_order_is_bytewise_and_includes_hidden(tmp_path: Path) -> None:
    layout = 'for d in b B a .h é; do mkdir "$d" && : > "$d/inputs.yml"; done; mkdir nochunk'
    ran = run_app(tmp_path, spec(collect=None), layout=layout, env={"LC_ALL": "en_US.UTF-8"})
    assert [Path(argv[-1]).name for name, argv in ran.steps if name == "process"] == [".h", "B", "a", "b", "é"]


@pytest.mark.parametrize(
    "layout,message",
    [
        ("", "no chunks found in {work}: dispatch wrote neither chunks.yml nor a directory with an inputs.yml"),
        ("printf 'chunks:\\n- gone\\n' > chunks.yml", "chunk {work}/gone is not a directory"),
        (
            "printf 'chunks:\\n  - {a: 1}\\n' > chunks.yml",
            "{work}/chunks.yml, line 2: not understood: jobc reads a "
            "chunks.yml of the form 'chunks:' followed by '- DIR' lines",
        ),
        (
            "printf 'other: 1\\n' > chunks.yml",
            "{work}/chunks.yml, line 1: not understood: jobc reads a chunks.yml of the "
            "form 'chunks:' followed by '- DIR' lines",
        ),
    ],
)
def test_bad_chunk_layout_fails_the_job(tmp_path: Path, layout: str, message: str) -> None:
    ran = run_app(tmp_path, spec(), layout=layout)
    assert ran.rc == 1
    assert f"jobc: {message.format(work=ran.dirs['work'])}" in ran.stderr.splitlines()
    assert [name for name, _ in ran.steps] == ["dispatch"]


def test_empty_chunks_yml_runs_no_chunk(tmp_path: Path) -> None:
    ran = run_app(tmp_path, spec(), layout="echo 'chunks: []' > chunks.yml")
    assert ran.rc == 0, ran.stderr
    assert [name for name, _ in ran.steps] == ["dispatch"]


@pytest.mark.parametrize(
    "failing,code,ran_steps",
    [
        ("dispatch", 3, ["dispatch"]),
        ("process", 7, ["dispatch", "process"]),
        ("collect", 9, ["dispatch", "process", "collect"]),
    ],
)
def test_a_failure_stops_the_job_with_its_code(tmp_path: Path, failing: str, code: int, ran_steps: list[str]) -> None:
    ran = run_app(
        tmp_path, spec(), layout="for c in c1 c2; do mkdir $c; : > $c/inputs.yml; done", fail=f"{failing}={code}"
    )
    assert ran.rc == code
    assert [name for name, _ in ran.steps] == ran_steps


# --- docker commands ------------------------------------------------------------------------------


def test_docker_values_arrive_exactly_as_written(tmp_path: Path) -> None:
    """Spaces, quotes, commas, $, newlines, `##` lines and trailing backslashes: unchanged in the argv."""
    text = textwrap.dedent("""\
        versions:
          - version: "1.0"
            commands:
              dispatch: {type: shell, command: d}
              process:
                type: docker
                image: app:1
                command: "run"
                env:
                  SPACES: "a b"
                  QUOTES: "it's \\"q\\""
                  LINES: "## kept\\nline \\\\\\n% kept\\n"
                  DOLLAR: "$HOME ${app.version} $$"
                mounts:
                  read_only:
                    - ["/data/a b", "/in/a b"]
                    - ["/data/it's \\"x\\"", "/in/q"]
                    - ["/data/a,b", "/in/c,d"]
            submitter: {name: s}
        """)
    ran = run_app(tmp_path, text)
    assert ran.rc == 0, ran.stderr
    argv = ran.argv("process")
    assert env_args(argv) == [
        "SPACES=a b",
        'QUOTES=it\'s "q"',
        "LINES=## kept\nline \\\n% kept\n",
        "DOLLAR=$HOME 1.0 $$",
    ]
    home, work = ran.dirs["home"], ran.dirs["work"]
    assert mounts(argv) == [
        {"type": "bind", "source": f"{home}/.bfabricpy.yml", "target": "/home/user/.bfabricpy.yml", "readonly": ""},
        {"type": "bind", "source": str(work), "target": str(work)},
        {"type": "bind", "source": "/data/a b", "target": "/in/a b", "readonly": ""},
        {"type": "bind", "source": '/data/it\'s "x"', "target": "/in/q", "readonly": ""},
        {"type": "bind", "source": "/data/a,b", "target": "/in/c,d", "readonly": ""},
    ]
    assert argv[-3:] == ["app:1", "run", f"{work}/chunk-1"]


def test_run_time_paths_are_csv_quoted_at_run_time(tmp_path: Path) -> None:
    """A work directory or $HOME holding a comma or a quote still makes a valid --mount value."""
    odd = tmp_path / 'odd,"dir'
    odd.mkdir()
    ran = run_app(odd, spec("{type: docker, image: 'app:1', command: run}"))
    assert ran.rc == 0, ran.stderr
    work = str(ran.dirs["work"])
    assert mounts(ran.argv("process"))[1] == {"type": "bind", "source": work, "target": work}
    assert mounts(ran.argv("process"))[0]["source"] == f"{ran.dirs['home']}/.bfabricpy.yml"


def test_docker_user_is_the_job_user(tmp_path: Path) -> None:
    import os

    ran = run_app(tmp_path, spec("{type: docker, image: 'app:1', command: run}"))
    argv = ran.argv("process")
    assert argv[:5] == ["docker", "run", "--user", f"{os.getuid()}:{os.getgid()}", "--rm"]


def test_apptainer_runtime(tmp_path: Path) -> None:
    """Through the shared container path: the image pulled once into the cache, then run from there."""
    process = (
        "{type: docker, image: 'reg.example.com/app:1', command: 'run --x', env: {MODE: 'a b'}, "
        "hostname: h1, mounts: {read_only: [['/data/a b', /in], ['/data/c,d', /cd]]}}"
    )
    entry = "{type: docker, image: 'app:1', command: 'go', entrypoint: /bin/entry}"
    ran = run_app(tmp_path, spec(process, collect=entry), options={"container_runtime": "apptainer"})
    assert ran.rc == 0, ran.stderr
    home, work = ran.dirs["home"], str(ran.dirs["work"])
    [pull, *_] = [argv for step, argv in ran.steps if step == "apptainer-pull"]
    assert pull[2] == "docker://reg.example.com/app:1"
    image = pull[1].rsplit(".", 3)[0]  # jobc_apptainer_pull's temporary name, FILE.JOB.PID.tmp
    assert image.startswith(f"{home}/.jobc/images/app_1-") and image.endswith(".sif")
    argv = ran.argv("process")
    assert argv[:2] == [str(tmp_path / "apptainer"), "run"]
    assert mounts(argv)[:2] == [
        {"type": "bind", "source": f"{home}/.bfabricpy.yml", "destination": "/home/user/.bfabricpy.yml", "ro": ""},
        {"type": "bind", "source": work, "destination": work},
    ]
    assert mounts(argv)[2] == {"type": "bind", "source": "/data/c,d", "destination": "/cd", "ro": ""}
    assert argv[argv.index("--bind") + 1] == "/data/a b:/in:ro"
    assert argv[-4:] == [image, "run", "--x", f"{work}/chunk-1"]
    collect = ran.argv("collect")
    assert collect[:2] == [str(tmp_path / "apptainer"), "exec"]
    assert collect[-4:] == ["/bin/entry", "go", "42", f"{work}/chunk-1"]
    assert "export APPTAINERENV_MODE='a b'" in ran.script
    _, warnings = _compile_warnings(spec(process), {"container_runtime": "apptainer"})
    assert warnings == [("versions[0].commands.process.hostname", "is ignored with --container-runtime apptainer")]


def test_enroot_runtime(tmp_path: Path) -> None:
    """Through the shared container path: imported once into the cache, one container per node, removed after."""
    process = "{type: docker, image: 'ghcr.io/org/app:1', command: 'run', env: {MODE: x}}"
    ran = run_app(tmp_path, spec(process), options={"container_runtime": "enroot"})
    assert ran.rc == 0, ran.stderr
    [imported] = [argv for step, argv in ran.steps if step == "enroot-import"]
    assert imported[:2] == ["import", "--output"] and imported[3] == "docker://ghcr.io#org/app:1"
    image = imported[2].rsplit(".", 3)[0]
    home, work = ran.dirs["home"], ran.dirs["work"]
    assert image.startswith(f"{home}/.jobc/images/org_app_1-") and image.endswith(".sqsh")
    argv = ran.argv("process")
    assert argv[:5] == ["bash", "-c", 'jobc_task "$@"', "jobc-task", "jobc_enroot"]
    assert argv[5:] == [
        image,
        "ENROOT_MOUNT_HOME=n",
        "--rw",
        "--mount",
        f"{home}/.bfabricpy.yml:/home/user/.bfabricpy.yml:ro",
        "--mount",
        f"{work}:{work}",
        "--env=MODE=x",
        "--",
        "run",
        f"{work}/chunk-1",
    ]
    assert "export MODE" not in ran.script and "JOBC_CONTAINER_ENV=MODE" not in ran.script


def test_site_profile_chooses_the_runtime_and_the_flag_wins(tmp_path: Path) -> None:
    process = "{type: docker, image: 'app:1', command: run}"
    script, _ = compile_app(tmp_path, spec(process), site={"options": {"container_runtime": "apptainer"}})
    assert f"-- {tmp_path / 'apptainer'} run" in script
    script, _ = compile_app(
        tmp_path,
        spec(process),
        site={"options": {"container_runtime": "apptainer"}},
        options={"container_runtime": "docker"},
    )
    assert "jobc_engine docker run" in script


# --- resources, submitter, flags ------------------------------------------------------------------


def _compile(text: str, options: dict | None = None, site: Site | None = None) -> str:
    opts = CompileOptions(app=AppOptions(**{"workunit_ref": "1", **(options or {})}))
    return compile_spec(text, name="app.yaml", site=site or Site(), options=opts).script


def _compile_warnings(text: str, options: dict) -> tuple[str, list[tuple[str, str]]]:
    from jobc.diagnostics import format_path

    result = compile_spec(
        text, name="app.yaml", site=Site(), options=CompileOptions(app=AppOptions(**{"workunit_ref": "1", **options}))
    )
    return result.script, [(format_path(w.path), w.message) for w in result.warnings]


def directives(script: str) -> list[str]:
    return [line for line in script.splitlines() if line.startswith("#SBATCH")]


def test_default_resources() -> None:
    assert directives(_compile(spec()))[1:] == [
        "#SBATCH --ntasks=1",
        "#SBATCH --cpus-per-task=1",
        "#SBATCH --mem-per-cpu=1024M",
    ]
    assert "--ntasks=1 --cpus-per-task=1 --mem-per-cpu=1024M" in _compile(spec())


def test_submitter_parameters_become_directives() -> None:
    text = spec(
        submitter='{name: s, config: {partition: "long queue", nodelist: "n[1-2]", time: "1-00:00:00", mem: 6G}}'
    )
    assert directives(_compile(text, {"cpus_per_task": 4})) == [
        "#SBATCH --job-name=app",
        "#SBATCH --ntasks=1",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --mem-per-cpu=1536M",
        '#SBATCH --partition="long queue"',
        '#SBATCH --nodelist="n[1-2]"',
        "#SBATCH --time=1-00:00:00",
    ]


def test_default_marker_leaves_the_site_default() -> None:
    site = Site().with_sbatch(["partition=site-part"])
    text = spec(submitter="{name: s, config: {partition: [default], mem: '[default]', time: '[default]'}}")
    assert directives(_compile(text, site=site))[1:] == [
        "#SBATCH --ntasks=1",
        "#SBATCH --cpus-per-task=1",
        "#SBATCH --mem-per-cpu=1024M",
        "#SBATCH --partition=site-part",
    ]


def test_precedence_cli_over_config_over_file_over_site(tmp_path: Path) -> None:
    subs = bfabric.load_submitters("submitters:\n  s: {partition: file, time: '10', nodelist: n1, mem: 2G}\n", "s.yaml")
    site = Site().with_sbatch(["partition=site", "time=99"])
    text = spec(submitter="{name: s, config: {time: '20'}}")
    script = _compile(text, {"submitters": subs, "cli_sbatch_keys": ["time"]}, site=Site().with_sbatch(["time=30"]))
    assert directives(script)[1:] == [
        "#SBATCH --ntasks=1",
        "#SBATCH --cpus-per-task=1",
        "#SBATCH --mem-per-cpu=2048M",
        "#SBATCH --time=30",
        "#SBATCH --partition=file",
        "#SBATCH --nodelist=n1",
    ]
    script = _compile(text, {"submitters": subs, "mem": "512M"}, site=site)
    assert directives(script)[1:] == [
        "#SBATCH --ntasks=1",
        "#SBATCH --cpus-per-task=1",
        "#SBATCH --mem-per-cpu=512M",
        "#SBATCH --partition=file",
        "#SBATCH --nodelist=n1",
        "#SBATCH --time=20",
    ]


def test_cli_flags(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.yaml").write_text(spec(submitter="{name: gpu}"))
    (tmp_path / "subs.yaml").write_text("submitters:\n  gpu: {partition: gpu, time: '2:00:00'}\n")
    result = CliRunner().invoke(
        app,
        [
            "compile",
            "app.yaml",
            "--workunit-ref",
            "9",
            "--submitter",
            "subs.yaml",
            "--sbatch",
            "time=5",
            "--mem",
            "3G",
            "--cpus-per-task",
            "3",
            "--work-dir",
            "runs/wu9",
            "-o",
            "job.sh",
        ],
    )
    assert result.exit_code == 0, result.stderr
    script = (tmp_path / "job.sh").read_text()
    assert directives(script) == [
        "#SBATCH --job-name=app",
        "#SBATCH --ntasks=1",
        "#SBATCH --cpus-per-task=3",
        "#SBATCH --mem-per-cpu=1024M",
        "#SBATCH --time=5",
        "#SBATCH --partition=gpu",
    ]
    assert 'JOBC_WORK_DIR="${SLURM_SUBMIT_DIR}"/runs/wu9' in script


def test_work_dir_and_workunit_file(tmp_path: Path) -> None:
    ran = run_app(tmp_path, spec(), options={"work_dir": "rel/work", "workunit_ref": "wu/def.yml"})
    assert ran.rc == 0, ran.stderr
    assert ran.argv("dispatch") == ["d", f"{tmp_path}/wu/def.yml", f"{tmp_path}/rel/work"]
    ran = run_app(tmp_path / "default", spec(), options={"work_dir": None})
    assert ran.argv("dispatch")[-1] == f"{ran.dirs['storage']}/1/work"


def test_version_selection() -> None:
    text = spec(process="{type: shell, command: 'p ${app.version}'}", version='["1.0", "2.0"]')
    assert "-- p 2.0 " in _compile(text, {"app_version": "2.0"})
    single = spec(process="{type: shell, command: 'p ${app.version}'}")
    assert "-- p 1.0 " in _compile(single)


def test_single_version_file() -> None:
    """A file holding one version (commands at the top level) is an app spec too."""
    text = (
        "version: '5'\ncommands:\n  dispatch: {type: shell, command: d}\n  process: {type: shell, command: p}\n"
        "submitter: {name: s}\n"
    )
    assert "-- p " in _compile(text)


def test_app_name_is_sanitized() -> None:
    text = spec(process="{type: shell, command: 'p ${app.name}'}")
    assert "-- p My_App_1 " in _compile(text, {"app_name": "My App #1"})


def test_kind_detection() -> None:
    assert bfabric.looks_like({"versions": []}) and bfabric.looks_like({"commands": {}})
    assert not bfabric.looks_like({"steps": [], "versions": []})
    assert not bfabric.looks_like({"resources": {}, "steps": []})


def test_schema_of_app_specs() -> None:
    result = CliRunner().invoke(app, ["schema", "--kind", "app"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "bfabric app spec (jobc)"
    assert set(schema["$defs"]) >= {"CommandDocker", "CommandShell", "MountOptions", "SubmitterRef"}
    bad = CliRunner().invoke(app, ["schema", "--kind", "nope"])
    assert (bad.exit_code, bad.stderr) == (2, "jobc: --kind nope: must be one of job, app [E0601]\n")


def test_examples_validate() -> None:
    examples = sorted((Path(__file__).resolve().parents[3] / "examples" / "bfabric").glob("*.yaml"))
    result = CliRunner().invoke(app, ["validate", *map(str, examples)])
    assert result.exit_code == 0, result.stderr


def test_scripts_pass_shellcheck(tmp_path: Path) -> None:
    """Scripts of the conformance corpus, under each runtime, pass the pinned ShellCheck at style severity."""
    import subprocess

    from support import shellcheck_binary

    from .corpus import CASES

    for case in CASES:
        for runtime in ("docker", "apptainer", "enroot"):
            options = {
                "app_version": case.version,
                "app_id": case.app_id,
                "app_name": case.app_name,
                "container_runtime": runtime,
                "work_dir": None,
            }
            try:
                script, _ = compile_app(tmp_path / f"{case.id}-{runtime}", case.spec, options=options)
            except Exception as exc:  # enroot refuses paths with spaces: that is tested elsewhere
                assert runtime != "docker", exc
                continue
            path = tmp_path / f"{case.id}-{runtime}.sh"
            path.write_text(script)
            found = subprocess.run(
                [str(shellcheck_binary()), "--shell=bash", "--severity=style", "--norc", str(path)],
                capture_output=True,
                text=True,
            )
            assert found.returncode == 0, f"{case.id} with {runtime}:\n{found.stdout}"


def test_a_pass_points_at_the_app_spec_own_field(tmp_path: Path) -> None:
    """lower_loops warns about `{{ .Item }}` in a command: for an app spec, at the command's own line and path."""
    path = tmp_path / "app.yaml"
    path.write_text(spec("{type: shell, command: 'echo {{ .Item }}'}"))
    result = CliRunner().invoke(
        app,
        [
            "compile",
            str(path),
            "--workunit-ref",
            "1",
            "--app-id",
            "1",
            "--app-name",
            "a",
            "-o",
            str(tmp_path / "job.sh"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        f"{path}:5:39: warning: versions[0].commands.process.command: "
        '{{ .Item }} is not substituted by jobc; use "$item"'
    ) in result.output


# --- bfabric-app-runner 0.9 specs -----------------------------------------------------------------

APP_091 = """\
bfabric:
  app_runner: "0.9.1"
  workflow_template_step_id: 7
versions:
  - version: ["1.0.0", "1.1.0"]
    commands:
      dispatch: {type: exec, command: "d ${app.version}"}
      process: {type: exec, command: "p ${app.dir}", prepend_paths: ["${app.dir}/bin", bin]}
"""


def test_a_0_9_spec_without_submitter_compiles(tmp_path: Path) -> None:
    """No submitter (0.9 dropped it), the bfabric section, a version list: --app-version picks one."""
    ran = run_app(tmp_path, APP_091, options={"app_version": "1.1.0", "app_dir": "/opt/app"})
    assert ran.rc == 0, ran.stderr
    assert ran.argv("dispatch")[:2] == ["d", "1.1.0"]
    # ${app.dir}/bin and bin are the same directory: the substituted path is not joined to the spec dir again
    assert ran.argv("process")[:4] == [
        "env",
        "--",
        f"PATH=/opt/app/bin:/opt/app/bin:{__import__('os').environ['PATH']}",
        "p",
    ]
    assert ran.argv("process")[4] == "/opt/app"
    assert not [line for line in ran.script.splitlines() if line.startswith("#SBATCH --partition")]


def test_app_dir_is_written_as_bfabric_app_runner_writes_a_path(tmp_path: Path) -> None:
    """0.9.1 substitutes ${app.dir} from a Path: no trailing slash, no `.` or doubled slashes inside."""
    ran = run_app(tmp_path, APP_091, options={"app_version": "1.1.0", "app_dir": "/opt/./app//"})
    assert ran.rc == 0, ran.stderr
    assert ran.argv("process")[4] == "/opt/app"


def test_app_dir_is_the_spec_files_resolved_directory(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    text = APP_091.replace('"p ${app.dir}"', '"p ${app.dir} ${app.name}"')
    ran = run_app(
        tmp_path / "run", text, options={"app_version": "1.0.0"}, spec_file=str(tmp_path / "link" / "app.yaml")
    )
    assert ran.rc == 0, ran.stderr
    assert ran.argv("process")[4] == str(real.resolve())


def test_several_versions_need_app_version(tmp_path: Path) -> None:
    from jobc.diagnostics import SpecError

    with pytest.raises(SpecError) as exc:
        compile_app(tmp_path, APP_091)
    assert [d.message for d in exc.value.diagnostics] == [
        "give --app-version: this app has several versions (1.0.0, 1.1.0)"
    ]


def test_missing_pylock_and_extra_dep_are_warnings(tmp_path: Path) -> None:
    (tmp_path / "lock.toml").write_text("")
    text = spec("{type: python_env, pylock: pylock.toml, command: p, local_extra_deps: [dist/x.whl, lock.toml]}")
    _, warnings = _compile_warnings(text, {"app_dir": str(tmp_path)})
    assert warnings == [
        (
            "versions[0].commands.process.pylock",
            f"the lock file {tmp_path}/pylock.toml does not exist here (the compute nodes may see another file system)",
        ),
        (
            "versions[0].commands.process.local_extra_deps[0]",
            f"the extra dependency {tmp_path}/dist/x.whl does not exist here (the compute nodes may see another file "
            "system)",
        ),
    ]


MERGED = """\
bfabric: {app_runner: "0.9.1"}
versions:
  - version: "0.1.0"
    commands:
      dispatch: &dispatch_010
        type: exec
        command: "d"
        env: {A: "from-anchor"}
      process:
        !!merge <<: *dispatch_010
        command: "p"
  - version: "0.2.0"
    commands:
      dispatch: {<<: *dispatch_010, env: {B: "explicit"}}
      process: {<<: *dispatch_010}
"""


def test_yaml_merge_keys_share_commands_between_versions(tmp_path: Path) -> None:
    """bfabricPy's own test specs: `!!merge <<: *anchor` and `<<:`; shallow, an explicit key wins."""
    ran = run_app(tmp_path / "a", MERGED, options={"app_version": "0.1.0"})
    assert ran.rc == 0, ran.stderr
    assert ran.argv("dispatch")[:4] == ["env", "--", "A=from-anchor", "d"]
    assert ran.argv("process")[:4] == ["env", "--", "A=from-anchor", "p"]
    ran = run_app(tmp_path / "b", MERGED, options={"app_version": "0.2.0"})
    assert ran.argv("dispatch")[:4] == ["env", "--", "B=explicit", "d"]  # env replaced, not combined
    assert ran.argv("process")[:4] == ["env", "--", "A=from-anchor", "d"]


def test_an_error_in_a_merged_value_points_where_it_is_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.yaml").write_text(MERGED.replace('env: {A: "from-anchor"}', "env: {A: 1}"))
    result = CliRunner().invoke(app, ["compile", "app.yaml", "--workunit-ref", "1", "--app-version", "0.2.0"])
    assert result.exit_code == 2
    # versions[1] merges the anchor of versions[0]: the message names the merged field, at the anchor's line
    assert (
        "app.yaml:8:18: versions[1].commands.process.env.A: must be a string: YAML reads 1 as a number; quote it [E0204]"
        in result.stderr.splitlines()
    )
