"""holds_secrets(job): it looks only at the fields where a secret can be; a walk over the whole IR agrees."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from jobc import ir
from jobc.backend.features import holds_secrets
from jobc.frontends import data_to_ir
from jobc.passes import run_passes
from jobc.site import Site
from jobc.source import guess_format, load

EXAMPLES = sorted(
    p for p in (Path(__file__).resolve().parents[2] / "examples").glob("*.*") if p.suffix in (".json", ".yaml", ".yml")
)
# The fields holds_secrets looks at; a new field that can hold an ir.Secret must join them (and holds_secrets).
SECRET_FIELDS = {
    ("S3Transport", "secret_access_key"),
    ("Container", "password"),
    ("WireguardPeer", "preshared_key"),
    ("Wireguard", "private_key"),
    ("Bore", "secret"),
}


def _walk_finds_secret(value: object) -> bool:
    if isinstance(value, ir.Secret):
        return True
    if isinstance(value, (tuple, list)):
        return any(_walk_finds_secret(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_walk_finds_secret(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def test_the_secret_fields_are_the_known_ones() -> None:
    found = set()
    for name, cls in vars(ir).items():
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == ir.__name__:
            # the annotations as written (ir uses postponed annotations; no evaluating `X | None` on Python 3.9)
            found |= {(name, f.name) for f in dataclasses.fields(cls) if "Secret" in str(f.type)}
    assert found == SECRET_FIELDS


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_agrees_with_a_walk_over_the_whole_ir(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    job = run_passes(data_to_ir(load(text, guess_format(path.name, text)).data, name=str(path)), Site())
    assert holds_secrets(job) == _walk_finds_secret(job)


def test_each_kind_of_secret_is_found() -> None:
    res = ir.Resources(1, 1, 512, 0)
    secret = ir.Secret("s", "f")

    def job(**step_fields: object) -> ir.Job:
        return ir.Job(name="t", resources=res, steps=(ir.RunStep(command="true", **step_fields),))

    wg = ir.Wireguard(("10.0.0.1/32",), secret)
    peer = ir.WireguardPeer("k", preshared_key=secret)
    assert not holds_secrets(job())
    assert holds_secrets(job(container=ir.Container(image="i", password=secret)))
    assert holds_secrets(job(network=ir.Network(mode="slirp4netns", interfaces=(wg,))))
    assert holds_secrets(job(network=ir.Network(mode="host", interfaces=(ir.Bore("a", 1, 2, secret=secret),))))
    assert not holds_secrets(job(network=ir.Network(mode="host", interfaces=(ir.Bore("a", 1, 2),))))
    s3 = ir.S3Transport("r", "b", "k", "id", secret, "e")
    assert holds_secrets(dataclasses.replace(job(), output=s3))
    assert _walk_finds_secret(ir.Wireguard(("a",), ir.Secret("x", "f"), peers=(peer,)))
