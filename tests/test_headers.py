"""Every golden script's header carries jobc's version and the SHA-256 of its spec's bytes, so a stale
script is visible in review; and the header is the same under --redact (it names secrets, never shows them)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, GOLDEN

import jobc

HEADER = re.compile(r"^# jobc (\S+), spec sha256 ([0-9a-f]{64})$", re.M)
SPECS = sorted(
    p for p in [*EXAMPLES.glob("*.*"), *(EXAMPLES / "bfabric").glob("*.yaml")] if p.suffix in (".json", ".yaml", ".yml")
)


@pytest.mark.parametrize("spec", SPECS, ids=[p.relative_to(EXAMPLES).as_posix() for p in SPECS])
def test_header_names_the_version_and_the_spec_digest(spec: Path) -> None:
    golden = GOLDEN / spec.relative_to(EXAMPLES).with_suffix(spec.suffix + ".sh")
    [(version, digest)] = HEADER.findall(golden.read_text(encoding="utf-8"))
    assert version == jobc.__version__
    assert digest == hashlib.sha256(spec.read_bytes()).hexdigest()


def test_the_header_follows_the_sbatch_lines_and_summarises_the_job(run_jobc) -> None:
    out = run_jobc("compile", "gpu-training.yaml", cwd=EXAMPLES).stdout.splitlines()
    last_directive = max(i for i, line in enumerate(out) if line.startswith("#SBATCH "))
    assert HEADER.match(out[last_directive + 2])
    summary = out[last_directive + 2 : out.index("#   secrets: none") + 1]
    assert "#   resources: 2 tasks × 8 CPUs, 4 GiB/CPU, 1 GPU/task" in summary
    assert '#     steps[1] "train": 2 tasks × 8 CPUs, 4 GiB/CPU, 1 GPU/task (the job\'s CPUs, memory)' in summary


def test_a_crlf_spec_is_hashed_as_its_bytes(run_jobc, tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_bytes((EXAMPLES / "reference-job-minimal.json").read_bytes().replace(b"\n", b"\r\n"))
    out = run_jobc("compile", str(spec)).stdout
    assert HEADER.search(out).group(2) == hashlib.sha256(spec.read_bytes()).hexdigest()


def test_secrets_are_named_in_the_header_and_the_header_is_unchanged_by_redact(run_jobc) -> None:
    plain = run_jobc("compile", "wireguard-vpn.yaml", cwd=EXAMPLES).stdout
    redacted = run_jobc("compile", "wireguard-vpn.yaml", "--redact", cwd=EXAMPLES).stdout

    def header(script: str) -> list[str]:
        lines = script.splitlines()
        start = next(i for i, line in enumerate(lines) if HEADER.match(line))
        return lines[start : lines.index("", start + 2)]

    assert header(plain) == header(redacted)
    assert any(line.startswith("#   secrets: this script holds") for line in header(plain))
