"""Every rule of an app spec, with the exact diagnostic `jobc compile` prints: file:line:col: path: message.

Each case is a small app spec (or a valid one with a bad flag), compiled from its own directory as
`app.yaml`; the test checks the exit code 2, that stdout is empty, and stderr line by line.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support import CliRunner

from jobc.cli import run as app

FLAGS = ["--workunit-ref", "42", "--app-id", "1", "--app-name", "a"]


def spec(
    dispatch: str = "{type: shell, command: d}",
    process: str = "{type: shell, command: p}",
    version: str = '"1.0"',
    submitter: str = "{name: slurm}",
    more: str = "",
) -> str:
    """A one-version app whose parts are given in YAML flow style (one line each)."""
    return (
        f"versions:\n  - version: {version}\n    commands:\n      dispatch: {dispatch}\n"
        f"      process: {process}\n    submitter: {submitter}\n{more}"
    )


def docker(**fields: str) -> str:
    body = {"type": "docker", "image": "app:1", "command": "run"} | fields
    return "{" + ", ".join(f"{k}: {v}" for k, v in body.items()) + "}"


CASES: list[tuple[str, str, list[str], list[str]]] = [
    # --- the file's structure
    ("versions-not-a-list", "versions: 3\n", [], ["app.yaml:1:11: versions: must be a list of app versions [E0204]"]),
    ("versions-empty", "versions: []\n", [], ["app.yaml:1:11: versions: must list at least one app version [E0207]"]),
    (
        "entry-not-a-mapping",
        "versions: [1.0]\n",
        [],
        ["app.yaml:1:12: versions[0]: must be a mapping of fields (version, commands, submitter) [E0204]"],
    ),
    (
        "unknown-top-field",
        spec(more="version: 2\n"),
        [],
        ["app.yaml:7:1: version: unknown field; did you mean versions? [E0201]"],
    ),
    (
        "unknown-version-field",
        spec(more="    submiter: {name: x}\n"),
        [],
        ["app.yaml:7:5: versions[0].submiter: unknown field; did you mean versions[0].submitter? [E0201]"],
    ),
    (
        "bfabric-section",
        spec(more="bfabric: {app_runer: 0.9.1}\n"),
        [],
        [
            "app.yaml:7:11: bfabric.app_runer: unknown field; did you mean bfabric.app_runner? [E0201]",
        ],
    ),
    # --- versions
    (
        "version-missing",
        "versions:\n  - commands: {dispatch: {type: shell, command: d}, process: {type: shell, command: p}}\n"
        "    submitter: {name: s}\n",
        [],
        ["app.yaml:2:5: versions[0].version: is required [E0202]"],
    ),
    (
        "version-null",
        spec(version="null"),
        [],
        ["app.yaml:2:14: versions[0].version: must be a version such as 1.0.0, or a list of versions [E0503]"],
    ),
    ("version-empty-list", spec(version="[]"), [], ["app.yaml:2:14: versions[0].version: must not be empty [E0207]"]),
    (
        "version-empty-string",
        spec(version='""'),
        [],
        ["app.yaml:2:14: versions[0].version[0]: must be a version such as 1.0.0, not empty [E0503]"],
    ),
    (
        "version-twice-in-list",
        spec(version='["1.0", "1.0"]'),
        [],
        ["app.yaml:2:14: versions[0].version: lists version 1.0 twice [E0503]"],
    ),
    (
        "version-twice-in-file",
        spec() + spec().split("\n", 1)[1],
        FLAGS + ["--app-version", "1.0"],
        ["app.yaml:7:14: versions[1].version: version 1.0 is already defined at versions[0].version [E0503]"],
    ),
    (  # bfabric-app-runner checks the versions after substitution: --app-id 7 makes both 7
        "version-twice-after-substitution",
        spec(version='["${app.id}", "7"]'),
        FLAGS + ["--app-id", "7"],
        ["app.yaml:2:28: versions[0].version[1]: version 7 is already defined at versions[0].version[0] [E0503]"],
    ),
    (
        "version-not-a-string",
        spec(version="[{a: 1}]"),
        [],
        ["app.yaml:2:15: versions[0].version[0]: must be a string [E0204]"],
    ),
    # --- commands
    (
        "commands-missing",
        "versions:\n  - version: '1'\n    submitter: {name: s}\n",
        [],
        ["app.yaml:2:5: versions[0].commands: is required [E0202]"],
    ),
    (
        "process-missing",
        "versions:\n  - version: '1'\n    commands: {dispatch: {type: shell, command: d}}\n    submitter: {name: s}\n",
        [],
        ["app.yaml:3:15: versions[0].commands.process: is required [E0202]"],
    ),
    (
        "command-not-a-mapping",
        spec(dispatch='"python x.py"'),
        [],
        [
            "app.yaml:4:17: versions[0].commands.dispatch: must be a mapping of fields with a type (shell or exec or python_env or docker) [E0204]"
        ],
    ),
    (
        "type-missing",
        spec(dispatch="{command: d}"),
        [],
        ["app.yaml:4:17: versions[0].commands.dispatch: needs a type: shell or exec or python_env or docker [E0202]"],
    ),
    (
        "type-unknown",
        spec(dispatch="{type: conda, command: d}"),
        [],
        ["app.yaml:4:24: versions[0].commands.dispatch.type: must be one of shell, exec, python_env, docker [E0203]"],
    ),
    (
        "unknown-command-field",
        spec(process="{type: shell, command: p, env: {A: b}}"),
        [],
        ["app.yaml:5:42: versions[0].commands.process.env: unknown field (known fields here: type, command) [E0201]"],
    ),
    (
        "unknown-collect-commands",
        spec(more="    commands2: {}\n"),
        [],
        ["app.yaml:7:5: versions[0].commands2: unknown field; did you mean versions[0].commands? [E0201]"],
    ),
    (
        "shell-empty",
        spec(dispatch="{type: shell, command: '  '}"),
        [],
        [
            "app.yaml:4:40: versions[0].commands.dispatch.command: must name a program to run (it is split with "
            "shlex.split, not run by a shell) [E0501]"
        ],
    ),
    # --- exec and python_env (bfabric-app-runner 0.9)
    (
        "exec-empty",
        spec(dispatch="{type: exec, command: ''}"),
        [],
        [
            "app.yaml:4:39: versions[0].commands.dispatch.command: must name a program to run (it is split with "
            "shlex.split, not run by a shell) [E0501]"
        ],
    ),
    (
        "exec-env-not-a-string",
        spec(process="{type: exec, command: p, env: {N: 1}}"),
        [],
        [
            "app.yaml:5:50: versions[0].commands.process.env.N: must be a string: YAML reads 1 as a number; quote it [E0204]"
        ],
    ),
    (
        "exec-env-bad-name",
        spec(process="{type: exec, command: p, env: {'A-B': x}}"),
        [],
        [
            "app.yaml:5:47: versions[0].commands.process.env.A-B: the name must be a POSIX name: letters, digits and "
            "underscores, not starting with a digit [E0303]"
        ],
    ),
    (
        "exec-program-with-equals",
        spec(process="{type: exec, command: 'A=1 p'}"),
        [],
        [
            "app.yaml:5:38: versions[0].commands.process.command: must not start with a word holding '=' (the program "
            "would be read as a variable assignment) [E0501]"
        ],
    ),
    (
        "exec-prepend-not-a-string",
        spec(process="{type: exec, command: p, prepend_paths: [1]}"),
        [],
        [
            "app.yaml:5:57: versions[0].commands.process.prepend_paths[0]: must be a string: YAML reads 1 as a number; "
            "quote it [E0204]"
        ],
    ),
    (
        "exec-prepend-tilde-user",
        spec(process="{type: exec, command: p, prepend_paths: ['~bob/bin']}"),
        [],
        [
            "app.yaml:5:57: versions[0].commands.process.prepend_paths[0]: only ~ and ~/… are expanded (to $HOME), "
            "not ~user [E0308]"
        ],
    ),
    (
        "exec-prepend-empty",
        spec(process="{type: exec, command: p, prepend_paths: ['']}"),
        [],
        ["app.yaml:5:57: versions[0].commands.process.prepend_paths[0]: must not be empty [E0207]"],
    ),
    (
        "exec-unknown-field",
        spec(process="{type: exec, command: p, image: x}"),
        [],
        [
            "app.yaml:5:41: versions[0].commands.process.image: unknown field (known fields here: type, command, "
            "env, prepend_paths) [E0201]"
        ],
    ),
    (
        "python-env-version",
        spec(process="{type: python_env, pylock: pylock.toml, command: p, python_version: 'three'}"),
        [],
        [
            "app.yaml:5:84: versions[0].commands.process.python_version: must be a Python version such as 3.13, 3.12.4 "
            "or pypy3.10 (uv venv -p) [E0502]"
        ],
    ),
    (
        "python-env-pylock-missing",
        spec(process="{type: python_env, command: p}"),
        [],
        ["app.yaml:5:16: versions[0].commands.process.pylock: is required [E0202]"],
    ),
    (
        "python-env-empty-command",
        spec(process="{type: python_env, pylock: pylock.toml, command: ' '}"),
        [],
        [
            "app.yaml:5:65: versions[0].commands.process.command: must name a program to run (it is split with "
            "shlex.split, not run by a shell) [E0501]"
        ],
    ),
    (
        "python-env-refresh-not-bool",
        spec(process="{type: python_env, pylock: pylock.toml, command: p, refresh: 'yes'}"),
        [],
        ["app.yaml:5:77: versions[0].commands.process.refresh: must be true or false [E0204]"],
    ),
    (
        "python-env-env-not-a-string",
        spec(process="{type: python_env, pylock: pylock.toml, command: p, env: {N: true}}"),
        [],
        [
            "app.yaml:5:77: versions[0].commands.process.env.N: must be a string: YAML reads true as a boolean; quote it [E0204]"
        ],
    ),
    (
        "python-env-extra-deps-not-a-list",
        spec(process="{type: python_env, pylock: pylock.toml, command: p, local_extra_deps: x.whl}"),
        [],
        ["app.yaml:5:86: versions[0].commands.process.local_extra_deps: must be a list [E0204]"],
    ),
    (
        "shell-unbalanced-quote",
        spec(dispatch='{type: shell, command: "echo \'hi"}'),
        [],
        [
            "app.yaml:4:40: versions[0].commands.dispatch.command: cannot be split into words with shlex.split: "
            "no closing quotation [E0501]"
        ],
    ),
    (
        "command-not-a-string",
        spec(dispatch="{type: shell, command: [a, b]}"),
        [],
        ["app.yaml:4:40: versions[0].commands.dispatch.command: must be a string [E0204]"],
    ),
    # --- docker commands
    (
        "docker-image-missing",
        spec(process="{type: docker, command: run}"),
        [],
        ["app.yaml:5:16: versions[0].commands.process.image: is required [E0202]"],
    ),
    (
        "docker-image-space",
        spec(process=docker(image="'my app:1'")),
        [],
        [
            "app.yaml:5:38: versions[0].commands.process.image: must be an image reference such as "
            "registry.example.com/app:1.0: ' ' is not allowed in the name 'my app' (lower-case letters and digits, "
            "with '.', '_' or '-' between them) [E0306]"
        ],
    ),
    (
        "docker-image-option",
        spec(process=docker(image="--privileged")),
        [],
        [
            "app.yaml:5:38: versions[0].commands.process.image: must not start with '-' (the container engine would "
            "read it as an option) [E0501]"
        ],
    ),
    (
        "docker-command-unbalanced",
        spec(process=docker(command="'run \"x'")),
        [],
        [
            "app.yaml:5:54: versions[0].commands.process.command: cannot be split into words with shlex.split: "
            "no closing quotation [E0501]"
        ],
    ),
    (
        "docker-engine",
        spec(process=docker(engine="rkt")),
        [],
        ["app.yaml:5:67: versions[0].commands.process.engine: must be one of docker, podman [E0203]"],
    ),
    (
        "docker-env-name",
        spec(process=docker(env="{'MY VAR': x}")),
        [],
        [
            "app.yaml:5:65: versions[0].commands.process.env.MY VAR: the name must be a POSIX name: letters, digits and "
            "underscores, not starting with a digit [E0303]"
        ],
    ),
    (
        "docker-env-value",
        spec(process=docker(env="{A: [x]}")),
        [],
        ["app.yaml:5:68: versions[0].commands.process.env.A: must be a string [E0204]"],
    ),
    (
        "docker-env-not-a-mapping",
        spec(process=docker(env="[A=1]")),
        [],
        ["app.yaml:5:64: versions[0].commands.process.env: must be a mapping of fields [E0204]"],
    ),
    (
        "docker-mac",
        spec(process=docker(mac_address="'02:42'")),
        [],
        [
            "app.yaml:5:72: versions[0].commands.process.mac_address: must be a MAC address such as 02:42:ac:11:00:02 [E0307]"
        ],
    ),
    (
        "docker-hostname",
        spec(process=docker(hostname="'bad host'")),
        [],
        ["app.yaml:5:69: versions[0].commands.process.hostname: must be a host name such as worker-1 [E0307]"],
    ),
    (
        "docker-custom-args",
        spec(process=docker(custom_args="--x")),
        [],
        ["app.yaml:5:72: versions[0].commands.process.custom_args: must be a list [E0204]"],
    ),
    (
        "mount-unknown-field",
        spec(process=docker(mounts="{writable: []}")),
        [],
        [
            "app.yaml:5:68: versions[0].commands.process.mounts.writable: unknown field; did you mean "
            "versions[0].commands.process.mounts.writeable? [E0201]"
        ],
    ),
    (
        "mount-not-a-pair",
        spec(process=docker(mounts="{read_only: [[/a]]}")),
        [],
        [
            "app.yaml:5:80: versions[0].commands.process.mounts.read_only[0]: must be a pair [host path, container path] [E0308]"
        ],
    ),
    (
        "mount-target-relative",
        spec(process=docker(mounts="{writeable: [[/a, b]]}")),
        [],
        [
            "app.yaml:5:85: versions[0].commands.process.mounts.writeable[0][1]: must be an absolute path in the "
            "container (starting with /) [E0308]"
        ],
    ),
    (
        "mount-work-dir-target",
        spec(process=docker(mounts="{work_dir_target: work}")),
        [],
        [
            "app.yaml:5:85: versions[0].commands.process.mounts.work_dir_target: must be an absolute path in the "
            "container (starting with /) [E0308]"
        ],
    ),
    (
        "mount-host-empty",
        spec(process=docker(mounts="{read_only: [['', /b]]}")),
        [],
        ["app.yaml:5:81: versions[0].commands.process.mounts.read_only[0][0]: must not be empty [E0207]"],
    ),
    (
        "mount-host-tilde-user",
        spec(process=docker(mounts="{read_only: [[~bob/x, /b]]}")),
        [],
        [
            "app.yaml:5:81: versions[0].commands.process.mounts.read_only[0][0]: only ~ and ~/… are expanded "
            "(to $HOME), not ~user [E0308]"
        ],
    ),
    (
        "mount-host-newline",
        spec(process=docker(mounts='{read_only: [["/a\\nb", /b]]}')),
        [],
        [
            "app.yaml:5:81: versions[0].commands.process.mounts.read_only[0][0]: must not contain newlines or other "
            "control characters [E0305]"
        ],
    ),
    (
        "mount-share-config",
        spec(process=docker(mounts="{share_bfabric_config: yes}")),
        [],
        ["app.yaml:5:90: versions[0].commands.process.mounts.share_bfabric_config: must be true or false [E0204]"],
    ),
    # --- submitter
    (
        "submitter-name-empty",
        spec(submitter="{name: ''}"),
        [],
        ["app.yaml:6:23: versions[0].submitter.name: must be a submitter name, not empty [E0505]"],
    ),
    (
        "submitter-unknown-param",
        spec(submitter="{name: s, config: {qos: high}}"),
        [],
        [
            "app.yaml:6:35: versions[0].submitter.config.qos: unknown field (known fields here: partition, "
            "nodelist, mem, time) [E0201]"
        ],
    ),
    (
        "submitter-mem",
        spec(submitter="{name: s, config: {mem: lots}}"),
        [],
        [
            "app.yaml:6:40: versions[0].submitter.config.mem: must be a memory size such as 8G, 500M or 8000 "
            "(megabytes), or [default] [E0502]"
        ],
    ),
    (
        "submitter-mem-zero",
        spec(submitter="{name: s, config: {mem: 0}}"),
        [],
        ["app.yaml:6:40: versions[0].submitter.config.mem: must be between 1M and 2147483647M [E0301]"],
    ),
    (
        "submitter-time",
        spec(submitter="{name: s, config: {time: soon}}"),
        [],
        [
            "app.yaml:6:41: versions[0].submitter.config.time: must be a Slurm time limit such as 30, 2:00:00 or "
            "1-12:00:00, or [default] [E0502]"
        ],
    ),
    (
        "submitter-newline",
        spec(submitter='{name: s, config: {partition: "a\\nb"}}'),
        [],
        [
            "app.yaml:6:46: versions[0].submitter.config.partition: must not contain newlines or other control "
            "characters [E0305]"
        ],
    ),
    (
        "submitter-tab",
        spec(submitter='{name: s, config: {nodelist: "n1\\tn2"}}'),
        [],
        [
            "app.yaml:6:45: versions[0].submitter.config.nodelist: must not contain newlines or other control characters [E0305]"
        ],
    ),
    (
        "submitter-backslash",
        spec(submitter='{name: s, config: {partition: "a\\\\b"}}'),
        [],
        [
            "app.yaml:6:46: versions[0].submitter.config.partition: must not contain a backslash (sbatch drops them) [E0305]"
        ],
    ),
    (
        "submitter-both-quotes",
        spec(submitter="{name: s, config: {partition: 'a\"b''c'}}"),
        [],
        ["app.yaml:6:46: versions[0].submitter.config.partition: cannot contain both kinds of quotes [E0305]"],
    ),
    (
        "submitter-empty-value",
        spec(submitter="{name: s, config: {partition: ''}}"),
        [],
        [
            "app.yaml:6:46: versions[0].submitter.config.partition: must not be empty (write [default] for the site's "
            "default) [E0207]"
        ],
    ),
    (
        "reuse-default-resource",
        spec(more="    reuse_default_resource: maybe\n"),
        [],
        ["app.yaml:7:29: versions[0].reuse_default_resource: must be true or false [E0204]"],
    ),
    # --- Mako substitutions
    (
        "mako-unknown-name",
        spec(dispatch="{type: shell, command: 'run ${app.nme}'}"),
        [],
        [
            "app.yaml:4:40: versions[0].commands.dispatch.command: ${app.nme}: unknown name app.nme "
            "(available: ${app.id}, ${app.name}, ${app.version}, ${app.dir}) [E0504]"
        ],
    ),
    (
        "mako-unknown-variable",
        spec(process=docker(env="{A: '${workunit.id}'}")),
        [],
        [
            "app.yaml:5:68: versions[0].commands.process.env.A: ${workunit.id}: not a plain substitution; only "
            "${app.id}, ${app.name}, ${app.version}, ${app.dir} or a quoted string (${'${'} for a literal ${) can be substituted [E0504]"
        ],
    ),
    (
        "mako-bare-name",
        spec(process=docker(image="'${name}:1'")),
        [],
        [
            "app.yaml:5:38: versions[0].commands.process.image: ${name}: unknown name name "
            "(available: ${app.id}, ${app.name}, ${app.version}, ${app.dir}) [E0504]"
        ],
    ),
    (
        "mako-filter",
        spec(dispatch="{type: shell, command: 'x ${app.name | u}'}"),
        [],
        [
            "app.yaml:4:40: versions[0].commands.dispatch.command: ${app.name | u}: Mako filters are not supported; "
            "only ${app.id}, ${app.name}, ${app.version}, ${app.dir} or a quoted string (${'${'} for a literal ${) can be substituted [E0504]"
        ],
    ),
    (
        "mako-code",
        spec(dispatch="{type: shell, command: 'x ${app.id + 1}'}"),
        [],
        [
            "app.yaml:4:40: versions[0].commands.dispatch.command: ${app.id + 1}: not a plain substitution; only "
            "${app.id}, ${app.name}, ${app.version}, ${app.dir} or a quoted string (${'${'} for a literal ${) can be substituted [E0504]"
        ],
    ),
    (
        "mako-unterminated",
        spec(dispatch="{type: shell, command: 'echo ${HOME'}"),
        [],
        [
            "app.yaml:4:40: versions[0].commands.dispatch.command: unterminated ${ (write ${'${'} for a literal ${) [E0504]"
        ],
    ),
    (
        "mako-in-submitter",
        spec(submitter="{name: '${app.owner}'}"),
        [],
        [
            "app.yaml:6:23: versions[0].submitter.name: ${app.owner}: unknown name app.owner "
            "(available: ${app.id}, ${app.name}, ${app.version}, ${app.dir}) [E0504]"
        ],
    ),
]

FLAG_CASES: list[tuple[str, str, list[str], list[str]]] = [
    (
        "no-workunit-ref",
        spec(),
        ["--app-id", "1"],
        ["jobc: app.yaml: give --workunit-ref: dispatch is called with $workunit_ref $work_dir [E0602]"],
    ),
    (
        "several-versions",
        spec(version='["1.0", "2.0"]'),
        FLAGS,
        ["jobc: app.yaml: give --app-version: this app has several versions (1.0, 2.0) [E0602]"],
    ),
    (
        "unknown-version",
        spec(),
        FLAGS + ["--app-version", "9"],
        ["jobc: app.yaml: --app-version 9: no such version in this app (versions: 1.0) [E0601]"],
    ),
    (
        "app-id-needed",
        spec(dispatch="{type: shell, command: 'd ${app.id}'}"),
        ["--workunit-ref", "1"],
        ["app.yaml:4:40: versions[0].commands.dispatch.command: uses ${app.id}: give --app-id [E0602]"],
    ),
    (
        "app-name-needed",
        spec(process=docker(image="'${app.name}:1'")),
        ["--workunit-ref", "1"],
        ["app.yaml:5:38: versions[0].commands.process.image: uses ${app.name}: give --app-name [E0602]"],
    ),
    (
        "runtime",
        spec(),
        FLAGS + ["--container-runtime", "rkt"],
        ["jobc: --container-runtime rkt: must be one of docker, apptainer, enroot [E0601]"],
    ),
    (
        "mem",
        spec(),
        FLAGS + ["--mem", "lots"],
        ["jobc: app.yaml: --mem: must be a memory size such as 8G, 500M or 8000 (megabytes), got 'lots' [E0601]"],
    ),
    (
        "mem-default",
        spec(),
        FLAGS + ["--mem", "[default]"],
        ["jobc: app.yaml: --mem: must be a memory size such as 8G, 500M or 8000 (megabytes), got '[default]' [E0601]"],
    ),
    ("cpus", spec(), FLAGS + ["--cpus-per-task", "0"], ["jobc: app.yaml: --cpus-per-task: must be at least 1 [E0601]"]),
    (
        "cpus-too-many",
        spec(),
        FLAGS + ["--cpus-per-task", "2147483648"],
        ["jobc: app.yaml: --cpus-per-task: must be at most 2147483647 [E0601]"],
    ),
    (
        "work-dir",
        spec(),
        FLAGS + ["--work-dir", "a\nb"],
        ["jobc: app.yaml: --work-dir: must be a directory path without control characters, not empty [E0601]"],
    ),
    (
        "custom-args-apptainer",
        spec(process=docker(custom_args="[--gpus, all]")),
        FLAGS + ["--container-runtime", "apptainer"],
        [
            "app.yaml:5:72: versions[0].commands.process.custom_args: are docker arguments: they have no equivalent "
            "with --container-runtime apptainer [E0501]"
        ],
    ),
    (
        "enroot-path",
        spec(process=docker(mounts="{read_only: [['/a b', /b]]}")),
        FLAGS + ["--container-runtime", "enroot"],
        [
            "app.yaml:5:81: versions[0].commands.process.mounts.read_only[0][0]: must not contain spaces, ':' or ',' "
            "with --container-runtime enroot (enroot cannot mount such paths) [E0308]"
        ],
    ),
    (
        "app-dir-relative",
        spec(),
        FLAGS + ["--app-dir", "rel"],
        ["jobc: app.yaml: --app-dir: must be an absolute directory path without control characters [E0601]"],
    ),
    (
        "job-flags-on-deepsquare",
        "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1, gpusPerTask: 0}\nsteps: []\n",
        ["--app-version", "1", "--workunit-ref", "2"],
        [
            "jobc: app.yaml: --app-version, --workunit-ref: only for bfabric app specs (this is a DeepSquare job) [E0602]"
        ],
    ),
]


def compile_in(directory: Path, text: str, args: list[str]):
    (directory / "app.yaml").write_text(text, encoding="utf-8")
    return CliRunner().invoke(app, ["compile", "app.yaml", *args])


@pytest.mark.parametrize(
    "text,args,expected", [c[1:] for c in CASES + FLAG_CASES], ids=[c[0] for c in CASES + FLAG_CASES]
)
def test_rule(text: str, args: list[str], expected: list[str], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JOBC_SITE", raising=False)
    result = compile_in(tmp_path, text, args or FLAGS)
    assert "Traceback" not in result.stdout + result.stderr
    assert (result.exit_code, result.stdout) == (2, ""), result.stderr
    assert result.stderr.splitlines() == expected


def test_every_message_of_the_models_is_tested() -> None:
    """Each rule message in frontends/bfabric/models.py appears in an expected diagnostic above."""
    import re

    source = (Path(__file__).resolve().parents[3] / "compiler" / "frontends" / "bfabric" / "models.py").read_text()
    expected = "\n".join(line for case in CASES + FLAG_CASES for line in case[3])
    messages = re.findall(r'"((?:must|cannot|only|lists) [^"{]+)', source)
    assert len(messages) > 15
    for message in messages:
        assert message.split("(")[0].strip() in expected, message


# --- the submitter file ---------------------------------------------------------------------------

SUBMITTER_APP = spec(submitter="{name: gpu}")


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "submitters:\n  gpu: {partition: gpu, mem: 8 G}\n",
            [
                "subs.yaml:2:30: submitters.gpu.mem: must be a memory size such as 8G, 500M or 8000 (megabytes), or [default] [E0502]"
            ],
        ),
        (
            "submitters:\n  gpu: {queue: gpu}\n",
            [
                "subs.yaml:2:9: submitters.gpu.queue: unknown field (known fields here: partition, nodelist, mem, time) [E0201]"
            ],
        ),
        (
            "slurm: {partition: gpu}\n",
            [
                "subs.yaml:1:1: submitters: is required [E0202]",
                "subs.yaml:1:1: slurm: unknown field (known fields here: submitters) [E0201]",
            ],
        ),
        ("", ["subs.yaml: the submitter file is empty; it needs `submitters:` [E0505]"]),
    ],
    ids=["bad-mem", "unknown-param", "no-submitters-key", "empty"],
)
def test_submitter_file(text: str, expected: list[str], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "subs.yaml").write_text(text)
    result = compile_in(tmp_path, SUBMITTER_APP, FLAGS + ["--submitter", "subs.yaml"])
    assert (result.exit_code, result.stdout) == (2, ""), result.stderr
    assert result.stderr.splitlines() == expected


def test_submitter_not_in_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "subs.yaml").write_text("submitters:\n  slurm: {}\n  cpu: {}\n")
    result = compile_in(tmp_path, SUBMITTER_APP, FLAGS + ["--submitter", "subs.yaml"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "app.yaml:6:23: versions[0].submitter.name: no submitter named 'gpu' in subs.yaml (known: slurm, cpu) [E0505]"
    ]


def test_submitter_file_missing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = compile_in(tmp_path, SUBMITTER_APP, FLAGS + ["--submitter", "nope.yaml"])
    assert result.exit_code == 2
    assert result.stderr == "jobc: nope.yaml: No such file or directory [E0604]\n"


def test_validate_reports_every_version(tmp_path: Path, monkeypatch) -> None:
    """`jobc validate` needs no flags and checks every version of every entry (each substituted on its own)."""
    monkeypatch.chdir(tmp_path)
    text = textwrap.dedent("""\
        versions:
          - version: ["1.0", "2.0"]
            commands:
              dispatch: {type: shell, command: "d ${app.version}"}
              process: {type: docker, image: "app:${app.version}", command: "p ${app.nope}"}
            submitter: {name: s}
          - version: "3.0"
            commands:
              dispatch: {type: shell, command: d}
              process: {type: shell, command: ""}
            submitter: {name: s}
        """)
    (tmp_path / "app.yaml").write_text(text)
    result = CliRunner().invoke(app, ["validate", "app.yaml"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "app.yaml:5:69: versions[0].commands.process.command: ${app.nope}: unknown name app.nope "
        "(available: ${app.id}, ${app.name}, ${app.version}, ${app.dir}) [E0504]",
        "app.yaml:10:39: versions[1].commands.process.command: must name a program to run (it is split with "
        "shlex.split, not run by a shell) [E0501]",
    ]
