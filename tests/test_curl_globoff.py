"""Decision 15: curl never globs. Every curl call of a script carries --globoff (HTTP input and output)."""

from __future__ import annotations

import re

from jobc import compile_spec
from jobc.site import site_from_dict

SPEC = """\
resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 64, gpusPerTask: 0}
input: {http: {url: "https://data.example.org/in/data[1-2].tar.gz?v={a,b}"}}
output: {http: {url: "https://upload.example.org/out/{x,y}/[1-3]/"}}
steps: [{run: {command: "true"}}]
"""


def test_every_curl_call_has_globoff() -> None:
    site = site_from_dict({"tools": {"curl": "/opt/bin/curl-for-jobc"}})
    script = compile_spec(SPEC, name="job.yaml", site=site).script
    calls = re.findall(r"/opt/bin/curl-for-jobc( \S+)?", script)
    assert len(calls) == 2, calls  # the download and the upload
    assert calls == [" --globoff", " --globoff"]
    assert "'https://data.example.org/in/data[1-2].tar.gz?v={a,b}'" in script
    assert (
        "'https://upload.example.org/out/{x,y}/[1-3]/output.tar.gz'" in script
        or "'https://upload.example.org/out/{x,y}/[1-3]/'" in script
    )
