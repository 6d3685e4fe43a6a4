"""The command line's part of an app spec: its options checked, and the `--submitter` file read."""

import os
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from ...diagnostics import Diagnostic, SpecError, error, fail
from ...options import AppOptions, CompileOptions
from ...site import CONTAINER_RUNTIMES, Site
from ..fields import INT32_MAX
from . import models as m


@dataclass(frozen=True)
class Settings:
    """The app options with their defaults (the container runtime: the flag's, else the site profile's)."""

    app: AppOptions
    cpus_per_task: int
    container_runtime: str
    submitters_file: str
    validate_only: bool
    app_dir: str = "/"  # ${app.dir}: --app-dir as a Path (no trailing /, as 0.9.1), else the spec file's directory

    @classmethod
    def of(cls, options: CompileOptions, site: Site, spec_file: str = "-") -> "Settings":
        app = options.app
        return cls(
            app=app,
            cpus_per_task=1 if app.cpus_per_task is None else app.cpus_per_task,
            container_runtime=app.container_runtime or site.options["container_runtime"],
            submitters_file=app.submitters_file or "the submitter file",
            validate_only=options.validate_only,
            app_dir=str(PurePosixPath(app.app_dir)) if app.app_dir is not None else spec_dir(spec_file),
        )


def spec_dir(spec_file: str) -> str:
    """The spec's directory as bfabric-app-runner computes it (`Path(app.yml).resolve().parent`); stdin: the CWD."""
    if spec_file == "-":
        return os.path.realpath(os.getcwd())
    return os.path.dirname(os.path.realpath(spec_file))


def check_settings(s: Settings) -> list[Diagnostic]:
    """Problems of the flags themselves (reported for the whole file)."""
    app = s.app
    problems = []
    if s.container_runtime not in CONTAINER_RUNTIMES:
        runtimes = ", ".join(CONTAINER_RUNTIMES)
        problems.append(error((), f"--container-runtime {s.container_runtime}: must be one of {runtimes}"))
    if s.cpus_per_task < 1:
        problems.append(error((), "--cpus-per-task: must be at least 1"))
    elif s.cpus_per_task > INT32_MAX:  # Slurm's counts are 32-bit; sbatch refuses more
        problems.append(error((), f"--cpus-per-task: must be at most {INT32_MAX}"))
    if app.mem is not None:
        try:
            _check_mem(app.mem)
        except ValueError as exc:
            problems.append(error((), f"--mem: {exc}, got {app.mem!r}"))
    if app.workunit_ref is not None and (not app.workunit_ref or "\x00" in app.workunit_ref):
        problems.append(error((), "--workunit-ref: must be a workunit id or a workunit definition file, not empty"))
    if app.work_dir is not None and (not app.work_dir or re.search(r"[\x00-\x1f\x7f]", app.work_dir)):
        problems.append(error((), "--work-dir: must be a directory path without control characters, not empty"))
    if app.app_dir is not None and (not app.app_dir.startswith("/") or re.search(r"[\x00-\x1f\x7f]", app.app_dir)):
        problems.append(error((), "--app-dir: must be an absolute directory path without control characters"))
    if not s.validate_only and app.workunit_ref is None:
        problems.append(error((), "give --workunit-ref: dispatch is called with $workunit_ref $work_dir"))
    return problems


def _check_mem(value: str) -> None:
    from pydantic import TypeAdapter, ValidationError

    try:
        TypeAdapter(m.MemSize).validate_python(value)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"].replace(f", or {m.DEFAULT}", "")) from None
    if value == m.DEFAULT:
        raise ValueError("must be a memory size such as 8G, 500M or 8000 (megabytes)")


def load_submitters(text: str, name: str) -> dict[str, m.SubmitterParams]:
    """Read a `--submitter` file; raise `SpecError` (with its source map) when it is invalid."""
    from ...source import guess_format, load
    from ..validation import validate

    source = load(text, guess_format(name, text))
    try:
        if source.data is None:
            fail([error((), "the submitter file is empty; it needs `submitters:`")])
        parsed, problems = validate(m.SubmittersFile, source.data, ())
        if problems:
            fail(problems)
    except SpecError as exc:
        exc.source_map = source.source_map
        raise
    assert isinstance(parsed, m.SubmittersFile)
    return dict(parsed.submitters)
