"""Hostile `shell: ENTRYPOINT` commands: each word reaches the image's entrypoint literally.

With ENTRYPOINT, a command is not a shell script: it is split into words (like `shlex.split`) and each
word is handed to the image's entrypoint as one argument, where nothing expands. The property: the
generated script, run by bash with the recording shims (enroot's `start` and apptainer's `run` exec
what follows the image, as an image whose entrypoint is the probe would), delivers exactly
`shlex.split(command)` to the probe, no canary runs, and a command that does not split is rejected at
compile time (a SpecError, never another exception).
"""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .conftest import CASES
from .hostile import HOSTILE, check_canaries
from .test_injection import RESOURCES, _run_settings, compile_or_reject, dump, new_run  # noqa: F401

# Raw text (unbalanced quotes included), or hostile words joined as a shell would quote them.
raw_text = HOSTILE
quoted_words = st.lists(HOSTILE, min_size=0, max_size=6).map(lambda ws: " ".join(shlex.quote(w) for w in ws))


def _split(text: str) -> list[str] | None:
    try:
        return shlex.split(text)
    except ValueError:
        return None


@pytest.mark.parametrize("runtime", ["apptainer", "enroot"])
@_run_settings(1.0)
@given(text=st.one_of(raw_text, quoted_words, st.tuples(raw_text, quoted_words).map(" ".join)))
def test_entrypoint_words_arrive_literally(new_run, runtime, text):  # noqa: F811 (the fixture)
    run = new_run()
    command = run.probe_cmd("ep") + " " + text
    container = {"image": "/img.sqsh" if runtime == "enroot" else "/img.sif", "apptainer": runtime == "apptainer"}
    spec = {
        "resources": RESOURCES,
        "steps": [{"name": "ep", "run": {"shell": "ENTRYPOINT", "command": command, "container": container}}],
    }
    expected = _split(command)
    script = compile_or_reject(dump(spec), 1, name="job.json", site=run.site())
    if expected is None:
        assert script is None, "a command that does not split into words must be rejected at compile time"
        return
    if script is None:
        return
    run.job_storage.mkdir(parents=True, exist_ok=True)
    (run.job_storage / container["image"].lstrip("/")).write_text("fake image\n")
    run.execute(script)
    check_canaries()
    run.check_ok()
    [probe] = run.probe("ep")
    assert probe["argv"] == expected[3:]
    [started] = [r for r in run.records(runtime) if r["argv"][0] in ("start", "run")]
    assert started["argv"][-len(expected) :] == expected
    CASES.add(1)
