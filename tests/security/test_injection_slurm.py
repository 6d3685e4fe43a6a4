"""The second layer of the injection tests: a sample of hostile values through the REAL sbatch and srun.

test_injection.py runs its cases under bash with a fake `srun`; here nothing is faked but the step
command (the probe, which records its argv, environment and directory). Each hypothesis example is one
job submitted with `sbatch --wait` to the test cluster, holding hostile values in:
- the job name (`#SBATCH --job-name`, read back with squeue) and a site profile `#SBATCH --comment`;
- job and step `env` values, and the step name (`srun --job-name`, seen as the step's $SLURM_JOB_NAME);
- the words of a step command, `for` items of a parallel loop, and an absolute `workDir`.
A case passes when the job completes, every value arrives byte-exact, and no canary file exists.
The default profile submits 20 jobs; JOBC_HYPOTHESIS_PROFILE=long submits 200.
"""

from __future__ import annotations

import collections
import json
import os
import shlex
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jobc.options import CompileOptions
from jobc.site import SiteError, site_from_dict

from .conftest import CASES, profile
from .hostile import HOSTILE, HOSTILE_SHORT, PROBE, check_canaries, no, trim_bytes
from .test_injection import compile_or_reject, dump

pytestmark = pytest.mark.slurm

RESOURCES = {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 64, "gpusPerTask": 0}


def _sbatch_safe(text: str) -> str:
    """What an #SBATCH value can hold: jobc rejects the rest (control characters, backslashes, both
    kinds of quotes; test_injection.py::test_sbatch_values checks that), so it is left out here."""
    text = "".join(c for c in text if ord(c) >= 32 and c not in "\x7f\\")
    return text.replace('"', "") if "'" in text else text


sbatch_text = HOSTILE_SHORT.map(_sbatch_safe)
dir_name = HOSTILE_SHORT.map(lambda s: "d" + trim_bytes(no("/", s), 200))


def _settings() -> hsettings:
    """A fifth of the bash layer's examples, not shrunk: a shrinking step is a real job (seconds each)."""
    base = profile()
    return hsettings(
        parent=base, max_examples=max(3, base.max_examples // 5), phases=[Phase.explicit, Phase.reuse, Phase.generate]
    )


def _squeue_field(slurm, job_id: str, field: str) -> str:
    out = slurm.run(["squeue", "-h", "-t", "all", "-j", job_id, "-o", field]).stdout
    assert out.endswith("\n"), out
    return out[:-1]


@pytest.fixture
def job_root():
    roots = []

    def make() -> Path:
        root = Path(os.path.realpath(tempfile.mkdtemp(prefix="jobc-sec-slurm-")))
        roots.append(root)
        return root

    yield make
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


@_settings()
@given(
    job_name=sbatch_text,
    comment=sbatch_text,
    job_env=st.lists(HOSTILE, min_size=2, max_size=6),
    step_env=st.lists(HOSTILE, min_size=2, max_size=6),
    step_name=HOSTILE_SHORT,
    words=st.lists(HOSTILE, min_size=1, max_size=4),
    items=st.lists(HOSTILE_SHORT, min_size=1, max_size=3),
    wd=dir_name,
)
def test_hostile_values_through_real_sbatch_and_srun(
    slurm, job_root, job_name, comment, job_env, step_env, step_name, words, items, wd
):
    root = job_root()
    probes = root / "probes"
    probes.mkdir()
    work_dir = root / "wd" / wd
    work_dir.mkdir(parents=True)
    probe = lambda tag, *args: shlex.join([PROBE, str(probes), tag, *args])  # noqa: E731
    spec = {
        "resources": RESOURCES,
        "env": [{"key": f"J{i}", "value": v} for i, v in enumerate(job_env)],
        "steps": [
            {
                "name": step_name,
                "run": {
                    "command": probe("main", *words),
                    "workDir": str(work_dir),
                    "env": [{"key": f"S{i}", "value": v} for i, v in enumerate(step_env)],
                },
            },
            {"for": {"parallel": True, "items": items, "steps": [{"name": "item", "run": {"command": probe("item")}}]}},
        ],
    }
    n = 2 + len(job_env) + len(step_env) + 1 + len(words) + len(items) + 1
    try:
        site = site_from_dict(
            {
                "paths": {"storage_root": str(root / "storage")},
                "options": {"launch_grace": 1},
                "sbatch": {"comment": comment},
            }
        )
    except SiteError:
        CASES.rejected += n
        return
    script = compile_or_reject(dump(spec), n, name="job.json", site=site, options=CompileOptions(job_name=job_name))
    if script is None:
        return
    path = root / "job.sh"
    path.write_text(script, encoding="utf-8")
    res = slurm.submit(path, timeout=60, env={"LC_ALL": "C.UTF-8"})
    check_canaries()
    assert res.returncode == 0, res
    assert _squeue_field(slurm, res.job_id, "%j") == job_name
    assert _squeue_field(slurm, res.job_id, "%k") == comment
    [main] = [json.loads(p.read_text(encoding="utf-8")) for p in probes.glob("main.*.json")]
    assert main["argv"] == words
    assert main["realcwd"] == str(work_dir)
    assert main["env"]["SLURM_JOB_NAME"] == step_name
    assert main["env"]["SLURM_STEP_ID"] == "0"
    for i, v in enumerate(job_env):
        assert main["env"][f"J{i}"] == v
    for i, v in enumerate(step_env):
        assert main["env"][f"S{i}"] == v
    seen = [json.loads(p.read_text(encoding="utf-8"))["env"] for p in probes.glob("item.*.json")]
    assert collections.Counter(e["item"] for e in seen) == collections.Counter(items)
    assert all("SLURM_STEP_ID" in e for e in seen)
    CASES.add(n)
