"""bfabric-app-runner app specs -> IR.

    app.yaml --(Mako, per version)--> models --> dispatch, then per chunk directory: process, collect

- `settings`: the command line's options for an app spec, and the `--submitter` file;
- `versions`: each version expanded with Mako and validated; the one to compile selected;
- `templating`: Mako substitution that alters nothing else in a string;
- `lower`: the selected version's commands as IR (containers included);
- `models`: the pydantic models of the App Specification.
"""

from __future__ import annotations

from typing import Any

from ... import ir
from ...diagnostics import Diagnostic, fail
from ...options import CompileOptions
from ...site import Site
from .. import is_app_spec as looks_like
from .lower import lower
from .settings import Settings, check_settings, load_submitters
from .versions import check_duplicates, expand, select

__all__ = ["looks_like", "load_submitters", "to_ir"]


def to_ir(data: Any, *, name: str, options: CompileOptions, site: Site, spec_file: str = "-") -> ir.Job:
    settings = Settings.of(options, site, spec_file)
    problems = check_settings(settings)
    versions, found = expand(data, settings)
    problems += found
    check_duplicates(versions, problems)
    selected = select(versions, settings, problems)
    if problems:
        fail(_dedupe(problems))
    notes: list[Diagnostic] = []
    chosen = versions if settings.validate_only else [selected]
    jobs = [lower(v, settings, name, problems, notes) for v in chosen if v is not None]
    if problems:
        fail(_dedupe(problems))
    job = jobs[versions.index(selected) if settings.validate_only else 0]
    return job if not notes else ir.evolve(job, warnings=job.warnings + tuple(_dedupe(notes)))


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: dict[tuple, Diagnostic] = {}
    for diag in diagnostics:
        seen.setdefault((diag.path, diag.message, diag.severity), diag)
    return list(seen.values())
