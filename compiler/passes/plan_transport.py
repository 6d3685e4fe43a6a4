"""Plan the job's data in and out.

- HTTP input keeps the last segment of the URL's path as the file name
  (`download` when there is none); whether it is an archive is decided at run
  time from the file's first bytes, never from this name.
- HTTP output uploads one `output.tar.gz` of `$DEEPSQUARE_OUTPUT`: to the URL as
  given when its path names a file, else to `URL/output.tar.gz`.
- S3 syncs the directory `bucketUrl + path` (the path always names a prefix).
- `continuousOutputSync` cannot work over HTTP (decision 10): a warning, and
  only the final upload happens.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from .. import ir
from ..diagnostics import warning


def plan_transport(job: ir.Job, site: object = None) -> ir.Job:
    notes = []
    continuous = job.continuous_output_sync
    if continuous and isinstance(job.output, ir.HttpTransport):
        notes.append(
            warning(
                job.at("continuous_output_sync"), "is not available with HTTP output: only the final upload happens"
            )
        )
        continuous = False
    if continuous and job.output is None:
        notes.append(warning(job.at("continuous_output_sync"), "has no effect without an output"))
        continuous = False
    return ir.evolve(
        job,
        input=_plan(job.input, "input"),
        output=_plan(job.output, "output"),
        continuous_output_sync=continuous,
        warnings=job.warnings + tuple(notes),
    )


def _plan(t: ir.Transport | None, direction: str) -> ir.Transport | None:
    if isinstance(t, ir.HttpTransport):
        return ir.evolve(t, file_name=_file_name(t.url, direction))
    if isinstance(t, ir.S3Transport):
        prefix = t.key_path.strip("/")
        return ir.evolve(t, url=f"{t.bucket_url}/{prefix}/" if prefix else f"{t.bucket_url}/")
    return t


def _file_name(url: str, direction: str) -> str:
    last = unquote(urlsplit(url).path).rsplit("/", 1)[-1]
    if direction == "output":
        return "" if last else "output.tar.gz"
    safe = re.sub(r"[^A-Za-z0-9._+-]+", "_", last).lstrip(".")
    return safe or "download"
