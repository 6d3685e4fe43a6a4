"""The site profile: everything that differs between clusters.

A profile is a TOML file (`--site FILE`, or the `JOBC_SITE` environment
variable). Every key has a default that works on a plain Slurm cluster, so no
profile is needed to start. Unknown keys are errors, like in specs.

    [sbatch]            # extra #SBATCH directives, e.g. partition = "gpu"
    partition = "gpu"

    [paths]
    storage_root = "${HOME}/.jobc/jobs"   # ${NAME} refers to the job's environment

    [tools]
    srun = "srun"

    [options]
    sync_interval = 30
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, replace
from typing import Any

from .directives import RESOURCE_DIRECTIVES, DirectiveError, sbatch_value
from .patterns import Pattern

TOOLS = {
    "srun": "srun",
    "scancel": "scancel",
    "squeue": "squeue",  # the job's state, for a finally step once the job is stopping
    "curl": "curl",
    "s5cmd": "s5cmd",
    "tar": "tar",
    "unzip": "unzip",
    "enroot": "enroot",
    "apptainer": "apptainer",
    "unshare": "unshare",
    "slirp4netns": "slirp4netns",
    "pasta": "pasta",  # network: pasta (Debian's passt package); also the virtual networks' gateways
    "wg": "wg",  # virtual networks: key pairs and the gateway's port
    "wg_quick": "wg-quick",
    "bore": "bore",  # the Job Reference's bore (jkuri/bore): address + port
    "dpsproxy": "dpsproxy",  # the current bore: boreAddress, secret (deepsquare-io/proxy)
    "flock": "flock",
    "docker": "docker",
    "podman": "podman",
    "uv": "uv",  # bfabric python_env commands
}

PATHS = {
    "storage_root": "${HOME}/.jobc/jobs",
    "image_cache": "${HOME}/.jobc/images",
    "hosted_images": "/opt/software/deepsquare-hosted",
    "x11_socket_dir": "/tmp/.X11-unix",
    "shared_tmp": "${HOME}/.jobc/cache",  # $DEEPSQUARE_TMP = $DEEPSQUARE_SHARED_TMP: this user's, all nodes
    "shared_world_tmp": "${HOME}/.jobc/world-cache",  # $DEEPSQUARE_SHARED_WORLD_TMP: every user's, all nodes
    "disk_tmp": "/tmp/jobc-cache-${UID}",  # $DEEPSQUARE_DISK_TMP: this user's, on each node's disk
    "disk_world_tmp": "/tmp/jobc-world-cache",  # $DEEPSQUARE_DISK_WORLD_TMP: every user's, on each node's disk
}

OPTIONS: dict[str, Any] = {
    "sync_interval": 30,
    "logger": [],
    "launch_grace": 10,
    "s3_retries": 10,  # s5cmd --retry-count: attempts after a failed request, with backoff (10: about 90 s)
    "container_runtime": "docker",  # bfabric apps: docker commands run with docker, apptainer or enroot
    "docker_args": [],  # options of `docker run` on this site's nodes (e.g. ["--network=host"])
    "podman_args": [],  # options of `podman run` (e.g. ["--runtime=runc", "--ulimit=nofile=20000:20000"])
}

CONTAINER_RUNTIMES = ("docker", "apptainer", "enroot")
_CHOICES = {("options", "container_runtime"): CONTAINER_RUNTIMES}

_NAME = Pattern(r"[a-z][a-z0-9-]*\Z")
_TYPE_NAMES = {str: "a string", int: "an integer", list: "a list", bool: "true or false"}


class SiteError(ValueError):
    """A bad site profile (every problem, located in `file`) or a bad `--sbatch` flag (exit code 2)."""

    def __init__(self, message: str | None = None, *, file: str | None = None, diagnostics=(), source_map=None):
        from .diagnostics import Diagnostic

        self.file, self.source_map = file, source_map
        self.diagnostics = tuple(diagnostics) or (Diagnostic((), message or "invalid site profile"),)
        where = f"{file}: " if file else ""
        super().__init__("\n".join(where + d.text() for d in self.diagnostics))


@dataclass(frozen=True)
class Site:
    """The site profile: the cluster's tools, paths, options and `#SBATCH` directives."""

    sbatch: tuple[tuple[str, str], ...] = ()
    tools: dict[str, str] = field(default_factory=lambda: dict(TOOLS))
    paths: dict[str, str] = field(default_factory=lambda: dict(PATHS))
    options: dict[str, Any] = field(default_factory=lambda: dict(OPTIONS))

    def tool(self, name: str) -> str:
        return self.tools[name]

    def with_sbatch(self, pairs: list[str], *, origin: str = "--sbatch") -> "Site":
        """Add `key=value` directives from the command line; later ones win.

        Checked here, so that a bad flag is reported as the flag's fault rather
        than at line 1 of the spec: the spec's resources are not overridable, and
        the value must fit on an `#SBATCH` line.
        """
        current = dict(self.sbatch)
        for pair in pairs:
            key, _, value = pair.partition("=")
            key = key.strip().removeprefix("--")
            problem = _sbatch_problem(pair)
            if problem == _KEY_VALUE:
                raise SiteError(f"{origin} {pair!r}: {problem}")
            if problem:
                raise SiteError(f"{origin} {key}: {problem}")
            current[key] = value
        return replace(self, sbatch=tuple(current.items()))


_KEY_VALUE = "expected key=value, such as partition=gpu"


def _sbatch_problem(pair: str) -> str | None:
    key, sep, value = pair.partition("=")
    key = key.strip().removeprefix("--")
    if not sep or not _NAME.match(key):
        return _KEY_VALUE
    if key in RESOURCE_DIRECTIVES:
        return "set by the spec's resources, not by a directive"
    try:
        sbatch_value(value)
    except DirectiveError as exc:
        return str(exc)
    return None


def load_site(path: str | None) -> Site:
    if not path:
        return Site()
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib

    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise SiteError(f"{path}: cannot read site profile: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SiteError(f"{path}: not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, str(exc), text) from None
    return site_from_dict(data, where=path, text=text)


def _toml_error(path: str, message: str, text: str) -> SiteError:
    """tomllib's message ends with `(at line L, column C)` or `(at end of document)`: shown as the profile's
    `file:line:col` (the end: just after the last character)."""
    from .diagnostics import Diagnostic
    from .source import SourceMap

    at = re.search(r" \(at (?:line (\d+), column (\d+)|end of document)\)$", message)
    if not at:
        return SiteError(f"{path}: invalid TOML: {message}")
    last = text.split("\n")
    line, col = (int(at.group(1)), int(at.group(2))) if at.group(1) else (len(last), len(last[-1]) + 1)
    smap = SourceMap(positions={(): (line, col)})
    return SiteError(file=path, diagnostics=[Diagnostic((), f"invalid TOML: {message[: at.start()]}")], source_map=smap)


def site_from_dict(data: dict[str, Any], *, where: str = "site profile", text: str | None = None) -> Site:
    """The profile `data`; every problem at once, located in `text` (the profile's TOML) when given."""
    from .diagnostics import Diagnostic

    problems: list[Diagnostic] = []

    def problem(path: tuple[str, ...], message: str, code: str = "E0702") -> None:
        problems.append(Diagnostic(path, message, code=code))

    sections = {"sbatch": None, "tools": TOOLS, "paths": PATHS, "options": OPTIONS}
    for section, values in data.items():
        if section not in sections:
            problem((section,), f"unknown section{_did_you_mean(section, sections)}", "E0701")
        elif not isinstance(values, dict):
            problem((section,), "must be a table")
    sbatch = []
    for key, value in _table(data, "sbatch").items():
        if not _NAME.match(key):
            problem(("sbatch", key), "not an sbatch option name")
        elif isinstance(value, bool) or not isinstance(value, (str, int)):
            problem(("sbatch", key), "must be a string or an integer")
        elif _sbatch_problem(f"{key}={value}"):
            problem(("sbatch", key), str(_sbatch_problem(f"{key}={value}")))
        else:
            sbatch.append((key, str(value)))
    merged = {}
    for section in ("tools", "paths", "options"):
        defaults = sections[section]
        assert defaults is not None
        table = dict(defaults)
        for key, value in _table(data, section).items():
            if key not in defaults:
                problem((section, key), f"unknown key{_did_you_mean(key, defaults)}", "E0701")
                continue
            message = _value_problem(section, value, defaults[key], _CHOICES.get((section, key)))
            if message:
                problem((section, key), message)
            else:
                table[key] = value
        merged[section] = table
    if problems:
        raise SiteError(file=where, diagnostics=problems, source_map=_toml_positions(text) if text else None)
    return replace(Site(), sbatch=tuple(sbatch), **merged)


def _table(data: dict[str, Any], section: str) -> dict[str, Any]:
    values = data.get(section, {})
    return values if isinstance(values, dict) else {}


def _did_you_mean(name: str, known) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{hint} (known: {', '.join(sorted(known))})"


def _value_problem(section: str, value: Any, default: Any, choices: tuple[str, ...] | None) -> str | None:
    expected = type(default)
    if not isinstance(value, expected) or isinstance(value, bool) != isinstance(default, bool):
        return f"must be {_TYPE_NAMES[expected]}"
    if expected is int and value < 0:
        return "must be a non-negative integer"
    if expected is list and not all(isinstance(v, str) for v in value):
        return "must be a list of strings"
    if expected is str and ("\x00" in value or (section == "tools" and not value)):
        return "must be a non-empty string without NUL"
    if choices and value not in choices:
        return f"must be one of {', '.join(choices)}"
    return None


_HEADER = Pattern(r"\s*\[\s*([A-Za-z0-9_.\"' -]+?)\s*\]")
_KEY = Pattern(r"\s*([A-Za-z0-9_.\"' -]+?)\s*=")


def _toml_positions(text: str):
    """Where each `[section]` and `key =` of a profile is: enough of TOML to point at a profile's problems."""
    from .source import SourceMap

    smap = SourceMap()
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header, key = _HEADER.match(line), _KEY.match(line)
        if header and not line.lstrip().startswith("[["):
            table = _dotted(header.group(1))
            smap.positions.setdefault(table, (number, line.index("[") + 1))
        elif key:
            path = table + _dotted(key.group(1))
            smap.positions.setdefault(path, (number, key.start(1) + 1))
            smap.key_positions.setdefault(path, (number, key.start(1) + 1))
    return smap


def _dotted(name: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in name.split("."))
