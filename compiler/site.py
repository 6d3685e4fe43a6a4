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
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .directives import RESOURCE_DIRECTIVES, DirectiveError, sbatch_value

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

_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
_TYPE_NAMES = {str: "a string", int: "an integer", list: "a list", bool: "true or false"}


class SiteError(ValueError):
    """A bad site profile or `--sbatch` flag (exit code 2, like a bad spec)."""


@dataclass(frozen=True)
class Site:
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
            key, sep, value = pair.partition("=")
            key = key.strip().removeprefix("--")
            if not sep or not _NAME.match(key):
                raise SiteError(f"{origin} {pair!r}: expected key=value, such as partition=gpu")
            if key in RESOURCE_DIRECTIVES:
                raise SiteError(f"{origin} {key}: set by the spec's resources, not by a directive")
            try:
                sbatch_value(value)
            except DirectiveError as exc:
                raise SiteError(f"{origin} {key}: {exc}") from None
            current[key] = value
        return replace(self, sbatch=tuple(current.items()))


def load_site(path: str | None) -> Site:
    if not path:
        return Site()
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise SiteError(f"{path}: cannot read site profile: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(f"{path}: invalid TOML: {exc}") from None
    return site_from_dict(data, where=path)


def site_from_dict(data: dict[str, Any], *, where: str = "site profile") -> Site:
    site = Site()
    known = {f.name for f in fields(Site)}
    for section, values in data.items():
        if section not in known:
            raise SiteError(f"{where}: unknown section [{section}] (known: {', '.join(sorted(known))})")
        if not isinstance(values, dict):
            raise SiteError(f"{where}: [{section}] must be a table")
    sbatch = []
    for key, value in data.get("sbatch", {}).items():
        if not _NAME.match(key):
            raise SiteError(f"{where}: sbatch.{key}: not an sbatch option name")
        sbatch.append(f"{key}={_scalar(value, f'sbatch.{key}', where)}")
    site = site.with_sbatch(sbatch, origin=f"{where}: sbatch")
    merged = {}
    for section, defaults in (("tools", TOOLS), ("paths", PATHS), ("options", OPTIONS)):
        table = dict(defaults)
        for key, value in data.get(section, {}).items():
            if key not in defaults:
                raise SiteError(f"{where}: {section}.{key}: unknown key (known: {', '.join(sorted(defaults))})")
            expected = type(defaults[key])
            if not isinstance(value, expected) or isinstance(value, bool) != isinstance(defaults[key], bool):
                raise SiteError(f"{where}: {section}.{key}: must be {_TYPE_NAMES[expected]}")
            if expected is int and not isinstance(value, bool) and value < 0:
                raise SiteError(f"{where}: {section}.{key}: must be a non-negative integer")
            if expected is list and not all(isinstance(v, str) for v in value):
                raise SiteError(f"{where}: {section}.{key}: must be a list of strings")
            if expected is str and ("\x00" in value or (section == "tools" and not value)):
                raise SiteError(f"{where}: {section}.{key}: must be a non-empty string without NUL")
            table[key] = value
        merged[section] = table
    return replace(site, **merged)


def _scalar(value: Any, key: str, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise SiteError(f"{where}: {key}: must be a string or an integer")
    return str(value)
