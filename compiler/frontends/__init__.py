"""Frontends: one per spec kind, each turning parsed data into the IR.

The kind is recognised from the content (a DeepSquare job has `steps` and
`resources`; a bfabric app has `versions` or `commands`), not from the file name.
"""

from __future__ import annotations

import os
import re
from typing import Any

from .. import ir
from ..diagnostics import Diagnostic, fail
from ..options import APP_FLAGS, CompileOptions
from ..site import Site


def data_to_ir(data: Any, *, name: str, options: CompileOptions | None = None, site: Site | None = None) -> ir.Job:
    options = options or CompileOptions()
    job_name = options.job_name or _job_name(name)
    if data is None:
        fail([Diagnostic((), "the spec is empty")])
    if isinstance(data, dict) and "$schema" in data:  # for editors and validators (docs/editors.md)
        data = {key: value for key, value in data.items() if key != "$schema"}
    if is_app_spec(data):
        from . import bfabric  # its models are built only for an app spec

        return _with_source(
            bfabric.to_ir(data, name=job_name, options=options, site=site or Site(), spec_file=name), name
        )
    app_only = options.app.given()
    if app_only:
        flags = ", ".join(APP_FLAGS[key] for key in app_only)
        fail([Diagnostic((), f"{flags}: only for bfabric app specs (this is a DeepSquare job)")])
    from . import deepsquare

    job = deepsquare.to_ir(
        data, name=job_name, spec_file=name, offline=options.offline, module_cache=options.module_cache
    )
    return _with_source(job, name)


def is_app_spec(data: Any) -> bool:
    """An app spec has `versions` (or, for a single version, `commands`) and none of a job's fields."""
    return (
        isinstance(data, dict)
        and ("versions" in data or "commands" in data)
        and not ("steps" in data or "resources" in data)
    )


def _job_name(file_name: str) -> str:
    """The file's stem, reduced to characters that need no quoting anywhere (`my job.yaml` -> `my_job`)."""
    base = os.path.basename(file_name)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("_")
    return stem if stem and stem != "-" else "jobc"


def _with_source(job: ir.Job, name: str) -> ir.Job:
    from dataclasses import replace

    return replace(job, source_name=os.path.basename(name) if name != "-" else "stdin")
