"""No spec, however wrong, makes jobc crash: it compiles or it is a SpecError (exit code 2).

Deterministic mutations of valid specs: every value in turn replaced by values of
the wrong type or out of range, and fields dropped, duplicated one level down or
renamed. Each result must compile or raise `SpecError` with one-line messages.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any, Iterator

import pytest

from jobc import compile_spec
from jobc.diagnostics import SpecError

KEY = "AAsWISw3Qk1YY255hI+apbC7xtHc5/L9CBMeKTQ/SlU="

BASE: dict[str, Any] = {
    "resources": {"tasks": 2, "cpusPerTask": 2, "memPerCpu": 512, "gpusPerTask": 0},
    "env": [{"key": "A", "value": "b"}],
    "enableLogging": True,
    "input": {"http": {"url": "https://example.org/in.tar.gz"}},
    "inputMode": 493,
    "output": {
        "s3": {
            "region": "r",
            "bucketUrl": "s3://b",
            "path": "/out",
            "accessKeyId": "id",
            "secretAccessKey": "s",
            "endpointUrl": "https://s3.example.org",
            "deleteSync": True,
        }
    },
    "continuousOutputSync": True,
    "steps": [
        {
            "name": "svc",
            "launch": {
                "handleName": "svc",
                "signalOnParentStepExit": 15,
                "steps": [
                    {
                        "name": "serve",
                        "run": {
                            "command": "sleep 1",
                            "network": "slirp4netns",
                            "dns": ["1.1.1.1"],
                            "customNetworkInterfaces": [
                                {
                                    "wireguard": {
                                        "address": ["10.0.0.2/24"],
                                        "privateKey": KEY,
                                        "peers": [
                                            {
                                                "publicKey": KEY,
                                                "preSharedKey": KEY,
                                                "allowedIPs": ["0.0.0.0/0"],
                                                "endpoint": "192.0.2.1:51820",
                                                "persistentKeepalive": 25,
                                            }
                                        ],
                                    }
                                },
                                {"bore": {"address": "bore.example.org", "port": 2200, "targetPort": 80}},
                            ],
                        },
                    }
                ],
            },
        },
        {
            "name": "sweep",
            "dependsOn": ["svc"],
            "for": {
                "parallel": True,
                "range": {"begin": 1, "end": 3, "increment": 1},
                "steps": [
                    {
                        "run": {
                            "command": "echo $index",
                            "shell": "/bin/bash",
                            "resources": {"tasks": 1, "cpusPerTask": 1},
                        }
                    }
                ],
            },
        },
        {
            "for": {
                "parallel": False,
                "items": ["a", "b"],
                "steps": [
                    {
                        "run": {
                            "command": "echo $item",
                            "mpi": "pmi2",
                            "mapRoot": True,
                            "workDir": "/tmp",
                            "disableCpuBinding": True,
                            "env": [{"key": "C", "value": "d"}],
                            "container": {
                                "image": "library/ubuntu:latest",
                                "registry": "registry-1.docker.io",
                                "username": "u",
                                "password": "p",
                                "apptainer": True,
                                "x11": True,
                                "mounts": [{"hostDir": "/a", "containerDir": "/b", "options": "ro"}],
                            },
                        }
                    }
                ],
            }
        },
        {"name": "just a name"},
    ],
}

BAD_VALUES: list[Any] = [
    None,
    "",
    "x\x00y",
    "ünï ☃",
    -1,
    0,
    2**31,
    -(2**31) - 1,
    1.5,
    True,
    [],
    {},
    ["x"],
    {"k": "v"},
    "a" * 300,
    "$(reboot)",
    "'\"`\n",
]


def paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from paths(child, prefix + (i,))


def replaced(data: Any, path: tuple, new: Any) -> Any:
    out = copy.deepcopy(data)
    if not path:
        return new
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = new
    return out


def dropped(data: Any, path: tuple) -> Any:
    out = copy.deepcopy(data)
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return out


def check(data: Any) -> None:
    text = json.dumps(data)
    try:
        compile_spec(text, name="fuzz.json")
    except SpecError as exc:
        assert exc.diagnostics
        for diag in exc.diagnostics:
            assert "\n" not in diag.text() + (diag.hint or "") and "Traceback" not in diag.message


def test_base_spec_compiles() -> None:
    compile_spec(json.dumps(BASE), name="base.json")


@pytest.mark.parametrize("path", [p for p in paths(BASE) if p], ids=lambda p: ".".join(map(str, p)))
def test_every_value_replaced_by_a_bad_one(path: tuple) -> None:
    for bad in BAD_VALUES:
        check(replaced(BASE, path, bad))


@pytest.mark.parametrize("path", [p for p in paths(BASE) if p], ids=lambda p: ".".join(map(str, p)))
def test_every_field_dropped(path: tuple) -> None:
    check(dropped(BASE, path))


def test_random_mutations() -> None:
    rng = random.Random(20240601)
    all_paths = [p for p in paths(BASE) if p]
    for _ in range(300):
        data = BASE
        for _ in range(rng.randint(1, 4)):
            live = [p for p in paths(data) if p]
            path = rng.choice(live or all_paths)
            action = rng.random()
            try:
                if action < 0.5:
                    data = replaced(data, path, rng.choice(BAD_VALUES))
                elif action < 0.7:
                    data = dropped(data, path)
                else:  # graft a piece of the spec somewhere else
                    donor = rng.choice(all_paths)
                    piece = BASE
                    for part in donor:
                        piece = piece[part]
                    data = replaced(data, path, copy.deepcopy(piece))
            except (KeyError, IndexError, TypeError):
                continue
        check(data)


def test_yaml_text_mutations(tmp_path: Path) -> None:
    """Cut a YAML spec at every line and column band: parse errors are SpecErrors too."""
    text = (Path(__file__).parent / "cases" / "yaml_traps.yaml").read_text()
    for cut in range(0, len(text), 7):
        for piece in (text[:cut], text[:cut] + "\t" + text[cut:], text[:cut] + ": [" + text[cut:]):
            try:
                compile_spec(piece, name="cut.yaml")
            except SpecError:
                pass
