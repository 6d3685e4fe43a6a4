"""The tiny specs docs/reference.md compiles: for each model, a spec holding one instance of it, and the value
of each field the instance does not give (an exclusive alternative, or another form of one setting: `INSTEAD_OF`).

`reference.py` compiles each spec with and without a field and shows the script lines the field adds. A model
without an entry here is documented without fragments (tests/test_reference.py says which).
"""

from __future__ import annotations

from typing import Any

RESOURCES = {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 1024, "gpusPerTask": 0}
WG_KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="


def _job(*steps: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "resources": dict(RESOURCES),
        **fields,
        "steps": list(steps) or [{"name": "hello", "run": {"command": "echo hello"}}],
    }


def _run(**fields: Any) -> dict[str, Any]:
    return {"name": "step", "run": {"command": "echo hello", **fields}}


_S3 = {
    "region": "us-east-2",
    "bucketUrl": "s3://my-bucket",
    "path": "/results",
    "accessKeyId": "AKIAEXAMPLE",
    "secretAccessKey": "not-a-real-secret",
    "endpointUrl": "https://s3.us-east-2.amazonaws.com",
    "deleteSync": True,
}
_PEER = {
    "publicKey": WG_KEY,
    "preSharedKey": WG_KEY,
    "allowedIPs": ["10.0.0.1/32"],
    "endpoint": "203.0.113.7:51820",
    "persistentKeepalive": 25,
}
_WIREGUARD = {"address": ["10.0.0.2/24"], "privateKey": WG_KEY, "peers": [_PEER]}
_BORE = {"boreAddress": "bore.example.com:2200", "targetPort": 8080, "secret": "not-a-real-secret"}
_LAB = {"name": "lab", "gatewayAddress": "10.0.0.1/24"}
_VNET = {
    "network": "pasta",
    "mapUid": 0,
    "customNetworkInterfaces": [{"vnet": {"name": "lab", "address": "10.0.0.2/24"}}],
}
_NETWORK = {"network": "slirp4netns", "dns": ["1.1.1.1"], "customNetworkInterfaces": [{"wireguard": _WIREGUARD}]}
_CONTAINER = {
    "image": "library/ubuntu:latest",
    "registry": "registry-1.docker.io",
    "username": "me",
    "password": "not-a-real-password",
    "mounts": [{"hostDir": "/data", "containerDir": "/data", "options": "ro"}],
    "apptainer": False,
    "deepsquareHosted": False,
    "x11": True,
    "mountHome": True,
    "readOnlyRootFS": True,
}
_LOOP = {"parallel": True, "items": ["a", "b"], "steps": [{"name": "each", "run": {"command": 'echo "$item"'}}]}
_USE = {
    "source": "examples/modules/checksum",
    "args": [{"key": "DIRECTORY", "value": "data"}],
    "exportEnvAs": "SUMS",
    "steps": [{"name": "show the sums", "run": {"command": 'cat "$STORAGE_PATH/data/SHA256SUMS"'}}],
}
_LAUNCH = {
    "handleName": "server",
    "signalOnParentStepExit": 15,
    "steps": [{"name": "serve", "run": {"command": "sleep 60"}}],
}

# model -> (path of the instance in the spec, the spec, values of the fields the instance leaves out)
JOB: dict[str, tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]] = {
    "Job": (
        (),
        _job(
            env=[{"key": "GREETING", "value": "hello"}],
            enableLogging=True,
            input={"http": {"url": "https://example.com/data.tar.gz"}},
            inputMode=493,
            output={"s3": dict(_S3)},
            continuousOutputSync=True,
        ),
        {"virtualNetworks": [_LAB]},
    ),
    "JobResources": (("resources",), _job(), {"gpus": 1}),
    "EnvVar": (("env", 0), _job(env=[{"key": "GREETING", "value": "hello"}]), {}),
    "TransportData": (("input",), _job(input={"http": {"url": "https://example.com/data.tar.gz"}}), {"s3": _S3}),
    "HTTPData": (("input", "http"), _job(input={"http": {"url": "https://example.com/data.tar.gz"}}), {}),
    "S3Data": (("output", "s3"), _job(output={"s3": dict(_S3)}), {}),
    "Step": (
        ("steps", 1),
        _job(
            {"name": "server", "launch": dict(_LAUNCH)},
            {"name": "step", "dependsOn": ["server"], "run": {"command": "echo hello"}},
        ),
        {
            "if": '$GREETING != ""',
            "for": _LOOP,
            "launch": {"handleName": "other", "steps": [{"name": "x", "run": {"command": "true"}}]},
            "use": _USE,
            "steps": [{"name": "in a group", "run": {"command": "echo hello"}}],
            "catch": [{"name": "on failure", "run": {"command": 'echo "exit $DEEPSQUARE_ERROR_CODE"'}}],
            "finally": [{"name": "at the end", "run": {"command": "echo done"}}],
        },
    ),
    "StepRun": (
        ("steps", 0, "run"),
        _job(
            _run(
                shell="/bin/bash",
                resources={"tasks": 1},
                container={"image": "library/ubuntu:latest"},
                env=[{"key": "GREETING", "value": "hello"}],
                mapRoot=True,
                workDir="/tmp",
                disableCpuBinding=True,
                mpi="pmix_v4",
                **_NETWORK,
            )
        ),
        {"mapUid": 0, "mapGid": 1000},
    ),
    "StepRunResources": (
        ("steps", 0, "run", "resources"),
        _job(_run(resources={"tasks": 1, "cpusPerTask": 1, "memPerCpu": 512, "gpusPerTask": 0})),
        {},
    ),
    "ContainerRun": (("steps", 0, "run", "container"), _job(_run(container=dict(_CONTAINER))), {}),
    "Mount": (("steps", 0, "run", "container", "mounts", 0), _job(_run(container=dict(_CONTAINER))), {}),
    "NetworkInterface": (
        ("steps", 0, "run", "customNetworkInterfaces", 0),
        _job(_run(**_NETWORK), virtualNetworks=[_LAB]),
        {"bore": _BORE, "vnet": {"name": "lab", "address": "10.0.0.2/24"}},
    ),
    "Wireguard": (("steps", 0, "run", "customNetworkInterfaces", 0, "wireguard"), _job(_run(**_NETWORK)), {}),
    "WireguardPeer": (
        ("steps", 0, "run", "customNetworkInterfaces", 0, "wireguard", "peers", 0),
        _job(_run(**_NETWORK)),
        {},
    ),
    "Bore": (
        ("steps", 0, "run", "customNetworkInterfaces", 0, "bore"),
        _job(_run(network="slirp4netns", customNetworkInterfaces=[{"bore": dict(_BORE)}])),
        {"address": "bore.example.com", "port": 2200},
    ),
    "VNet": (
        ("steps", 0, "run", "customNetworkInterfaces", 0, "vnet"),
        _job(_run(**_VNET), virtualNetworks=[_LAB]),
        {},
    ),
    "VirtualNetwork": (("virtualNetworks", 0), _job(_run(**_VNET), virtualNetworks=[_LAB]), {}),
    "StepFor": (
        ("steps", 0, "for"),
        _job({"name": "loop", "for": dict(_LOOP)}),
        {"range": {"begin": 1, "end": 3}},
    ),
    "ForRange": (
        ("steps", 0, "for", "range"),
        _job(
            {
                "name": "loop",
                "for": {
                    "parallel": False,
                    "range": {"begin": 10, "end": 2, "increment": -4},
                    "steps": [{"name": "each", "run": {"command": 'echo "$index"'}}],
                },
            }
        ),
        {},
    ),
    "StepAsyncLaunch": (("steps", 0, "launch"), _job({"name": "server", "launch": dict(_LAUNCH)}), {}),
    "StepUse": (("steps", 0, "use"), _job({"name": "checksums", "use": dict(_USE)}), {}),
}

# Two forms of one setting. (model, field) -> the fields to drop and the fields to add: for a field the instance
# leaves out, to give it (the other form's fields, and its partners); for one it gives, to make the other form.
INSTEAD_OF: dict[tuple[str, str], tuple[tuple[str, ...], dict[str, Any]]] = {
    ("Bore", "boreAddress"): (("secret",), {"address": "bore.example.com", "port": 2200}),
    ("JobResources", "gpus"): (("gpusPerTask",), {}),
    ("StepRun", "mapUid"): (("mapRoot",), {}),
    ("StepRun", "mapGid"): (("mapRoot",), {}),
    ("Bore", "address"): (("boreAddress", "secret"), {"port": 2200}),
    ("Bore", "port"): (("boreAddress", "secret"), {"address": "bore.example.com"}),
}

_SHELL = {"type": "shell", "command": "hello-dispatch"}
_DOCKER = {
    "type": "docker",
    "image": "registry.example.com/app:${app.version}",
    "command": "/app/process.py --threads 4",
    "entrypoint": "/usr/bin/env",
    "engine": "podman",
    "env": {"APP_ID": "${app.id}"},
    "mac_address": "02:42:ac:11:00:02",
    "mounts": {
        "work_dir_target": "/work",
        "read_only": [["/data/fasta", "/app/fasta"]],
        "writeable": [["/data/results", "/app/results"]],
        "share_bfabric_config": False,
    },
    "hostname": "worker-1",
    "custom_args": ["--network=none"],
}
_EXEC = {"type": "exec", "command": "hello-process", "env": {"GREETING": "hello"}, "prepend_paths": ["/opt/hello/bin"]}
_PYTHON_ENV = {
    "type": "python_env",
    "pylock": "/opt/app/pylock.toml",
    "command": "-m app.collect",
    "python_version": "3.12",
    "local_extra_deps": ["/opt/app/dist/plugin-1.0-py3-none-any.whl"],
    "env": {"UV_OFFLINE": "1"},
    "prepend_paths": ["/opt/app/bin"],
    "refresh": True,
}


def _app(dispatch: Any = None, process: Any = None, collect: Any = None, **fields: Any) -> dict[str, Any]:
    commands = {
        "dispatch": dispatch or dict(_SHELL),
        "process": process or {"type": "shell", "command": "hello-process"},
    }
    if collect is not None:
        commands["collect"] = collect
    return {"versions": [{"version": "1.0", "commands": commands, **fields}]}


_VERSION = ("versions", 0)
APP: dict[str, tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]] = {
    "AppSpec": ((), {**_app(), "bfabric": {"app_runner": "0.9.1"}}, {}),
    "BfabricSection": (
        ("bfabric",),
        {**_app(), "bfabric": {"app_runner": "0.9.1", "workflow_template_step_id": 12}},
        {},
    ),
    "AppVersionMultiTemplate": (
        _VERSION,
        _app(submitter={"name": "slurm", "config": {"time": "2:00:00"}}, reuse_default_resource=False),
        {},
    ),
    "CommandsSpec": (_VERSION + ("commands",), _app(collect={"type": "shell", "command": "hello-collect"}), {}),
    "CommandShell": (_VERSION + ("commands", "dispatch"), _app(), {}),
    "CommandExec": (_VERSION + ("commands", "process"), _app(process=dict(_EXEC)), {}),
    "CommandPythonEnv": (_VERSION + ("commands", "collect"), _app(collect=dict(_PYTHON_ENV)), {}),
    "CommandDocker": (_VERSION + ("commands", "process"), _app(process=dict(_DOCKER)), {}),
    "MountOptions": (_VERSION + ("commands", "process", "mounts"), _app(process=dict(_DOCKER)), {}),
    "SubmitterRef": (_VERSION + ("submitter",), _app(submitter={"name": "slurm", "config": {"time": "2:00:00"}}), {}),
    "SubmitterParams": (
        _VERSION + ("submitter", "config"),
        _app(
            submitter={
                "name": "slurm",
                "config": {"partition": "prx", "nodelist": "node1", "mem": "8G", "time": "2:00:00"},
            }
        ),
        {},
    ),
}
