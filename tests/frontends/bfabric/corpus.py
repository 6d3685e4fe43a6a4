"""App specs whose command argvs jobc must render as bfabric-app-runner 0.9.1 does.

Each case is compiled by jobc and loaded by bfabric-app-runner; `needs_fix` marks the cases where a
mount path or env value is something `shlex.quote` changes, so 0.9.1's argv differs from jobc's by
exactly the documented double-quoting fix (docs/bfabric.md, "Differences").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    spec: str
    version: str = "1.0.0"
    app_id: int = 123
    app_name: str = "MyApp"
    needs_fix: tuple[str, ...] = ()  # the commands with such values


def _app(commands: str, version: str = '"1.0.0"') -> str:
    return f"versions:\n  - version: {version}\n    commands:\n{commands}    submitter:\n      name: slurm\n"


CASES = [
    Case(
        "shell-commands",
        _app("""\
      dispatch:
        type: shell
        command: "python3 dispatch.py --flag"
      process:
        type: shell
        command: "Rscript -e 'cat(\\"a b\\")' --name=${app.name}"
      collect:
        type: shell
        command: "bash -c 'echo $HOME; exit 0' -- x"
"""),
    ),
    Case(
        "version-list-second",
        _app(
            """\
      dispatch:
        type: shell
        command: "run --version ${app.version} --id ${app.id}"
      process:
        type: shell
        command: "process ${app.version}"
""",
            version='["1.0.0", "1.1.0", "2.0.0-rc1"]',
        ),
        version="2.0.0-rc1",
    ),
    Case(
        "name-sanitized",
        _app(
            """\
      dispatch:
        type: shell
        command: "d ${app.name}"
      process:
        type: docker
        image: "registry.example.com/${app.name}:${app.version}"
        command: "/app/run.sh"
""",
            version='"3.1"',
        ),
        version="3.1",
        app_name="My App (test)/v2",
    ),
    Case(
        "docker-defaults",
        _app("""\
      dispatch:
        type: docker
        image: "ubuntu:22.04"
        command: "/bin/dispatch"
      process:
        type: docker
        image: "ubuntu:22.04"
        command: ""
"""),
    ),
    Case(
        "docker-every-field",
        _app("""\
      dispatch:
        type: shell
        command: "dispatch"
      process:
        type: docker
        image: "registry.example.com/app:${app.version}"
        command: "/app/run.sh --threads 4 --label 'x y'"
        entrypoint: "/usr/bin/env"
        engine: podman
        env:
          APP_VERSION: "${app.version}"
          APP_ID: "${app.id}"
          PLAIN: "value"
        mac_address: "02:42:ac:11:00:02"
        mounts:
          work_dir_target: "/work"
          read_only:
            - ["/data/reference", "/app/reference"]
            - ["/data/models/", "/app//models/"]
          writeable:
            - ["/scratch/out", "/app/out"]
          share_bfabric_config: false
        hostname: "worker-1"
        custom_args: ["--network=none", "--shm-size", "1g"]
      collect:
        type: docker
        image: "app:1"
        command: "/collect"
        mounts:
          share_bfabric_config: true
"""),
    ),
    Case(
        "docker-relative-and-home-paths",
        _app("""\
      dispatch:
        type: shell
        command: "d"
      process:
        type: docker
        image: "app:1"
        command: "p"
        mounts:
          read_only:
            - ["inputs/ref", "/ref"]
            - ["~/configs", "/configs"]
            - ["~", "/home/me"]
          writeable:
            - [".", "/here"]
            - ["./results/", "/results"]
"""),
    ),
    Case(
        "docker-values-that-shlex-quote-changes",
        _app("""\
      dispatch:
        type: shell
        command: "d"
      process:
        type: docker
        image: "app:1"
        command: "p"
        env:
          SPACES: "a b"
          QUOTES: "it's \\"quoted\\""
          DOLLAR: "$HOME and ${'${'}x}"
          EMPTY: ""
          UNICODE: "grüße"
        mounts:
          read_only:
            - ["/data/with space", "/app/with space"]
            - ["/data/it's", "/app/it's"]
"""),
        needs_fix=("process",),
    ),
    Case(
        "literal-dollars-survive",
        _app("""\
      dispatch:
        type: shell
        command: "echo $HOME $$ ${'${'}PATH} 100%"
      process:
        type: docker
        image: "app:1"
        command: "sh -c 'echo $0' x"
        env:
          PATTERN: "$1-$2"
"""),
        needs_fix=("process",),
    ),
    Case(
        "empty-optional-fields-are-omitted",
        _app("""\
      dispatch:
        type: shell
        command: "d"
      process:
        type: docker
        image: "app:1"
        command: "p"
        entrypoint: ""
        mac_address: null
        hostname: null
        custom_args: []
        env: {}
"""),
    ),
    Case(
        "empty-hostname-and-mac-address-are-unset",
        _app("""\
      dispatch:
        type: shell
        command: "d"
      process:
        type: docker
        image: "app:1"
        command: "p"
        mac_address: ""
        hostname: ""
"""),
    ),
]

# bfabric-app-runner 0.9's exec: argv, PATH entries (spec-relative, ~, absolute; first entry first) and env.
CASES += [
    Case(
        "exec-env-and-prepend-paths",
        _app("""\
      dispatch:
        type: exec
        command: "python3 -c 'import sys' --dir ${app.dir}"
        env:
          GREETING: "a b 'c' $HOME"
          APP_DIR: "${app.dir}/data"
        prepend_paths: [bin, ~/tools, /opt/x/bin]  # ${app.dir}/x: see test_lower (0.9.1 joins it twice)
      process:
        type: exec
        command: "run ${app.version}"
        prepend_paths: [./rel/../bin]
      collect:
        type: exec
        command: "collect"
        env: {PATH: "/only/this"}
        prepend_paths: [ignored]
"""),
    ),
    Case(
        "shell-is-exec-without-env",
        _app("""\
      dispatch:
        type: exec
        command: "d"
      process:
        type: shell
        command: "p 'a b'"
"""),
    ),
]

# python_env: what the environment is made from (spec-relative and ~ paths, defaults, Mako) and the argv.
CASES += [
    Case(
        "python-env-fields",
        _app("""\
      dispatch:
        type: python_env
        pylock: "dist/${app.version}/pylock.toml"
        command: "-m app.dispatch --name ${app.name}"
      process:
        type: python_env
        pylock: ~/locks/pylock.toml
        python_version: "3.12"
        local_extra_deps: [wheels/a-1.0-py3-none-any.whl, /abs/b, "~/c"]
        env: {UV_OFFLINE: "1", MSG: "a b"}
        prepend_paths: [bin, ~/bin]
        refresh: true
        command: "tool 'x y'"
"""),
    ),
]
