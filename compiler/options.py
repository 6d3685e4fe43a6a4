"""What the command line adds to a spec: the typed seam from the CLI through `compile_spec` to the frontends."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class AppOptions:
    """For bfabric app specs only (docs/bfabric.md); a DeepSquare job refuses any of them given."""

    app_version: str | None = None
    app_id: int | None = None
    app_name: str | None = None
    workunit_ref: str | None = None
    work_dir: str | None = None
    app_dir: str | None = None  # ${app.dir} and the base of relative paths; default: the spec's directory
    cpus_per_task: int | None = None
    mem: str | None = None
    submitters: dict[str, Any] | None = None  # name -> SubmitterParams, from the --submitter file
    submitters_file: str | None = None
    container_runtime: str | None = None
    cli_sbatch_keys: frozenset[str] = frozenset()  # directives given with --sbatch: they win over a submitter's

    def given(self) -> list[str]:
        """The names of the options set on the command line."""
        return [f.name for f in fields(self) if f.name in APP_FLAGS and getattr(self, f.name) is not None]


# The CLI's flag for each app option.
APP_FLAGS = {
    "app_version": "--app-version",
    "app_id": "--app-id",
    "app_name": "--app-name",
    "workunit_ref": "--workunit-ref",
    "work_dir": "--work-dir",
    "app_dir": "--app-dir",
    "cpus_per_task": "--cpus-per-task",
    "mem": "--mem",
    "submitters": "--submitter",
    "container_runtime": "--container-runtime",
}


@dataclass(frozen=True)
class CompileOptions:
    """What the command line adds to a spec: the job's name, the app options, and how `use` modules are found."""

    job_name: str | None = None
    app: AppOptions = field(default_factory=AppOptions)
    validate_only: bool = False  # `jobc validate`: check everything (an app spec: every version), render nothing
    offline: bool = False  # DeepSquare `use`: git modules from the cache only (--offline)
    module_cache: str | None = None  # the git module cache (default: $JOBC_MODULE_CACHE, else the XDG cache)
