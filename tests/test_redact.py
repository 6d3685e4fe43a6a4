"""`--redact`: every secret becomes a marker naming its field; nothing else in the script changes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jobc import compile_spec
from jobc.backend.quoting import quote

EXAMPLES = sorted(
    p for p in (Path(__file__).resolve().parents[1] / "examples").glob("*.*") if p.suffix in (".json", ".yaml", ".yml")
)
MARKER = re.compile(r"<redacted: ([^>]+)>")


def _secret_examples():
    out = []
    for path in EXAMPLES:
        result = compile_spec(path.read_text(encoding="utf-8"), name=str(path))
        if result.has_secrets:
            out.append(path)
    return out


SECRET_EXAMPLES = _secret_examples()


def test_examples_hold_every_kind_of_secret():
    fields = set()
    for path in SECRET_EXAMPLES:
        redacted = compile_spec(path.read_text(encoding="utf-8"), name=str(path), redact=True).script
        fields |= {f.rsplit(".", 1)[-1] for f in MARKER.findall(redacted)}
    assert {"secretAccessKey", "password", "privateKey", "preSharedKey"} <= fields


@pytest.mark.parametrize("path", SECRET_EXAMPLES, ids=[p.name for p in SECRET_EXAMPLES])
def test_redacted_script_differs_only_by_the_secrets(path: Path):
    text = path.read_text(encoding="utf-8")
    plain = compile_spec(text, name=str(path)).script
    redacted = compile_spec(text, name=str(path), redact=True).script
    markers = MARKER.findall(redacted)
    assert markers, "a spec with secrets shows at least one marker"
    # Put each secret back where its marker stands: the result is the plain script, byte for byte.
    from jobc.frontends import data_to_ir
    from jobc.source import guess_format, load

    job = data_to_ir(load(text, guess_format(path.name, text)).data, name=str(path))
    secrets = {}

    def collect(value):
        from dataclasses import fields, is_dataclass

        from jobc import ir

        if isinstance(value, ir.Secret):
            secrets[value.field] = value.value
        elif isinstance(value, tuple):
            for v in value:
                collect(v)
        elif is_dataclass(value):
            for f in fields(value):
                collect(getattr(value, f.name))

    collect(job)
    restored = redacted
    for field in set(markers):
        restored = restored.replace(quote(f"<redacted: {field}>"), quote(secrets[field]))
    assert restored == plain
    for value in secrets.values():
        assert value not in redacted
