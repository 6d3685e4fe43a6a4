"""The versions of an app spec: each expanded on its own with Mako (`${app.version}` differs), then validated.

A version entry may name several versions (`version: [1.0, 1.1]`); every string
of the entry (not mapping keys, as bfabric-app-runner) goes through Mako once
per version, then the entry is validated. One version is compiled:
`--app-version`, or the only one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...diagnostics import Diagnostic, FieldPath, error, format_path
from ...source import Plain
from ..validation import validate
from . import models as m
from .settings import Settings
from .templating import AppVariables, SubstitutionError, has_substitution, sanitize_name, substitute


@dataclass(frozen=True)
class Version:
    """One expanded version: its concrete name, its validated model, and where it comes from."""

    name: str
    model: m.AppVersionMultiTemplate
    path: FieldPath  # the entry in `versions` (or () for a single-version file)
    version_path: FieldPath
    written: str = ""  # the name as written, before Mako


def expand(data: Any, s: Settings) -> tuple[list[Version], list[Diagnostic]]:
    problems: list[Diagnostic] = []
    out: list[Version] = []
    for path, entry in _entries(data, problems):
        if not isinstance(entry, dict):
            problems.append(error(path, "must be a mapping of fields (version, commands, submitter)"))
            continue
        raw = entry.get("version")
        names: list[tuple[Any, FieldPath]]
        if isinstance(raw, list):
            names = [(item, path + ("version", j)) for j, item in enumerate(raw)]
        else:
            names = [(raw, path + ("version",))]
        for raw_name, vpath in names or [(None, path + ("version",))]:
            text = raw_name.text if isinstance(raw_name, Plain) else raw_name
            text = text if isinstance(text, str) else ""
            app = _App(s, text)
            body = {k: _substitute_tree(v, app, path + (k,), problems) for k, v in entry.items() if k != "version"}
            concrete = _substitute_tree(text, app, vpath, problems) if text else text
            if "version" in entry:
                body["version"] = entry["version"]
            model, found = validate(m.AppVersionMultiTemplate, body, path)
            problems += found
            problems += app.missing_problems()
            if model is not None and text:
                assert isinstance(model, m.AppVersionMultiTemplate)
                out.append(Version(concrete, model, path, vpath, text))
    return out, problems


# The rest of the file is validated with AppSpec; its versions are each validated after Mako (`expand`). In
# their place, an instance built without validation, which pydantic takes as it is: with no version list to
# refuse, validating the rest raises nothing when it is valid.
_VALIDATED_LATER = m.AppVersionMultiTemplate.model_construct()


def _entries(data: Any, problems: list[Diagnostic]) -> list[tuple[FieldPath, Any]]:
    """The version entries: `versions[i]`, or the whole file when it is a single version."""
    if not isinstance(data, dict):
        problems.append(error((), "an app spec must be a mapping with `versions`"))
        return []
    if "versions" not in data:
        return [((), data)]
    top = {k: v for k, v in data.items() if k != "versions"}
    _, found = validate(m.AppSpec, {**top, "versions": [_VALIDATED_LATER]})
    problems += found
    versions = data["versions"]
    if not isinstance(versions, list):
        problems.append(error(("versions",), "must be a list of app versions"))
        return []
    if not versions:
        problems.append(error(("versions",), "must list at least one app version"))
    return [(("versions", i), entry) for i, entry in enumerate(versions)]


class _App:
    """`app` for Mako, noting which values the flags did not give (compile needs them then)."""

    def __init__(self, s: Settings, version: str):
        app = s.app
        self._values = AppVariables(
            id=app.app_id if app.app_id is not None else 1,
            name=sanitize_name(app.app_name) if app.app_name is not None else "app",
            version=version,
            dir=s.app_dir,
        )
        self._missing = (
            set() if s.validate_only else {n for n, v in (("id", app.app_id), ("name", app.app_name)) if v is None}
        )
        self._used: dict[str, FieldPath] = {}
        self.path: FieldPath = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in ("id", "name", "version", "dir"):
            raise AttributeError(name)
        if name in self._missing:
            self._used.setdefault(name, self.path)
        return getattr(self._values, name)

    def missing_problems(self) -> list[Diagnostic]:
        return [error(path, f"uses ${{app.{name}}}: give --app-{name}") for name, path in self._used.items()]


def _substitute_tree(value: Any, app: _App, path: FieldPath, problems: list[Diagnostic]) -> Any:
    """Every string (not mapping keys, as bfabric-app-runner) through Mako; a failing one stays as written."""
    if isinstance(value, str):
        if not has_substitution(value):
            return value  # nothing for Mako: `substitute` would return it as it is
        app.path = path
        try:
            return substitute(value, app)  # type: ignore[arg-type]
        except SubstitutionError as exc:
            problems.append(error(path, str(exc)))
            return value
    if isinstance(value, dict):
        return {k: _substitute_tree(v, app, path + (k,), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_tree(v, app, path + (i,), problems) for i, v in enumerate(value)]
    return value


def check_duplicates(versions: list[Version], problems: list[Diagnostic]) -> None:
    first: dict[str, Version] = {}
    for v in versions:
        earlier = first.get(v.name)
        # the same name written twice in one entry's list is the model's error (`lists version … twice`)
        if earlier is not None and (earlier.path != v.path or earlier.written != v.written):
            problems.append(
                error(
                    v.version_path, f"version {v.name} is already defined at {format_path(first[v.name].version_path)}"
                )
            )
        first.setdefault(v.name, v)


def select(versions: list[Version], s: Settings, problems: list[Diagnostic]) -> Version | None:
    names = ", ".join(dict.fromkeys(v.name for v in versions))
    wanted = s.app.app_version
    if wanted is not None:
        for v in versions:
            if v.name == wanted:
                return v
        if versions:
            problems.append(error((), f"--app-version {wanted}: no such version in this app (versions: {names})"))
        return None
    if len({v.name for v in versions}) == 1 or (s.validate_only and versions):
        return versions[0]
    if versions:
        problems.append(error((), f"give --app-version: this app has several versions ({names})"))
    return None
