"""The JSON Schema of a job spec, from the same models that validate it."""

from __future__ import annotations

from typing import Any


def job_schema() -> dict[str, Any]:
    from .frontends.deepsquare_models import Job

    schema = Job.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "DeepSquare job (jobc)"
    return schema


def app_schema() -> dict[str, Any]:
    """bfabric app spec: `versions`, each a version (or a list of them) with commands and a submitter."""
    from .frontends.bfabric.models import AppSpec

    schema = AppSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "bfabric app spec (jobc)"
    return schema
