"""Decision 26, under the real Slurm: an input that cannot be fetched or unpacked.

Whatever the fault (the S3 server down, an HTTP input answering 404 or 500, nothing listening, a download
cut in the middle, a truncated archive), the job fails before any step runs, with one `jobc: input ...`
line naming the input and the cause, and the exit path still runs: the output (here the job's log, with
enableLogging) is pushed and the private files are removed. Also: curl never globs an input URL.

`test_fault_table` prints the table of the report (fault, what the job printed, exit code, what was
pushed) with `-s`.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import uuid

import pytest
from harness.s3 import S3Server

from .jobc_run import compile_job, out_dir, site_profile
from .test_faults import assert_nothing_left, new_bucket, pushed, s3_output, tag_env

pytestmark = pytest.mark.slurm

RES = {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 128, "gpusPerTask": 0}
STEP = {"name": "work", "run": {"command": 'touch "$OUT/step-ran" "$DEEPSQUARE_OUTPUT/step-ran"', "shell": "/bin/bash"}}


def tar_gz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# Incompressible enough that half of the archive is a real cut (a few hundred kB).
ARCHIVE = tar_gz({"data/a.bin": uuid.uuid4().bytes * 20000, "data/b.txt": b"bravo\n"})

RESULTS: dict[str, tuple[str, int, str]] = {}  # fault -> (the job's jobc: input line, exit code, pushed keys)


def run_faulty_input(slurm, s3, tmp_path, fault: str, input_spec: dict, **options):
    bucket = new_bucket(s3)
    env = tag_env()
    spec = {
        "resources": RES,
        "enableLogging": True,
        "input": input_spec,
        "output": s3_output(s3, bucket),
        "steps": [STEP],
    }
    script = compile_job(tmp_path, json.dumps(spec), name="job.json", site=site_profile(tmp_path, **options))
    out = out_dir(tmp_path)
    res = slurm.submit(script, timeout=150, env={"OUT": str(out), **env})
    lines = [line for line in res.output.splitlines() if line.startswith("jobc: input ")]
    objects = pushed(s3, bucket)
    RESULTS[fault] = (lines[0] if lines else "(none)", res.returncode, ", ".join(sorted(objects)) or "(nothing)")
    # Before any step: no step ran, and the job's log says so.
    assert "jobc: step " not in res.output, res.output
    assert not (out / "step-ran").exists()
    # One clear line, in the job's output and in its pushed log.
    assert len(lines) == 1, res.output
    assert sorted(objects) == ["job.log"], (objects, res.output)
    logged = [line.split(" ", 1)[1] for line in objects["job.log"].decode().splitlines()]
    assert lines[0] in logged, logged
    assert "jobc: pushing the output failed" not in res.output, res.output
    # The exit path cleaned up, and nothing of the job is left running.
    storage = tmp_path / "storage" / str(res.job_id)
    assert not (storage / ".jobc").exists(), res.output
    assert_nothing_left(slurm, res.job_id, env)
    return res, lines[0]


def test_http_input_404(slurm, s3, http_server, tmp_path):
    url = f"{http_server.url}/status/404/{uuid.uuid4().hex[:8]}/data.tar.gz"
    res, line = run_faulty_input(slurm, s3, tmp_path, "HTTP input answers 404", {"http": {"url": url}})
    assert res.returncode == 22, res.output
    assert line == f"jobc: input {url}: download failed (curl exit code 22): The requested URL returned error: 404"


def test_http_input_500_does_not_show_the_query_or_credentials(slurm, s3, http_server, tmp_path):
    path = f"/status/500/{uuid.uuid4().hex[:8]}/data.tar.gz"
    url = f"http://user:pa55word@{http_server.url.removeprefix('http://')}{path}?token=s3cr3t"
    res, line = run_faulty_input(slurm, s3, tmp_path, "HTTP input answers 500", {"http": {"url": url}})
    assert res.returncode == 22, res.output
    assert line == (
        f"jobc: input {http_server.url}{path}: download failed (curl exit code 22): "
        "The requested URL returned error: 500"
    )
    assert "s3cr3t" not in res.output and "pa55word" not in res.output


def test_http_input_nothing_listening(slurm, s3, tmp_path):
    url = "http://127.0.0.1:9/nothing/data.tar.gz"  # the discard port: nothing listens there
    res, line = run_faulty_input(slurm, s3, tmp_path, "HTTP input server down", {"http": {"url": url}})
    assert res.returncode == 7, res.output
    assert re.fullmatch(
        re.escape(f"jobc: input {url}: download failed (curl exit code 7): ")
        + r"Failed to connect to 127\.0\.0\.1 port 9 .*",
        line,
    ), line


def test_http_input_cut_in_the_middle(slurm, s3, http_server, tmp_path):
    rel = f"in/{uuid.uuid4().hex[:8]}/data.tar.gz"
    http_server.add_file(rel, ARCHIVE)
    url = f"{http_server.url}/cut/{rel}"
    res, line = run_faulty_input(slurm, s3, tmp_path, "download cut in the middle", {"http": {"url": url}})
    assert res.returncode == 18, res.output
    assert line == (
        f"jobc: input {url}: download failed (curl exit code 18): "
        f"transfer closed with {len(ARCHIVE) - len(ARCHIVE) // 2} bytes remaining to read"
    )


TRUNCATED_CAUSES = {
    # kind: the cause as the job's line gives it (the start of it, for unzip's long report)
    "tar.gz": "gzip: stdin: unexpected end of file; tar: Unexpected EOF in archive; "
    "tar: Error is not recoverable: exiting now",
    "tar": "tar: Unexpected EOF in archive; tar: Error is not recoverable: exiting now",
    "zip": "[data.zip]; End-of-central-directory signature not found.",
    "gz": "gzip: data.gz: unexpected end of file",
}


@pytest.mark.parametrize("kind", list(TRUNCATED_CAUSES))
def test_http_input_truncated_archive(slurm, s3, http_server, tmp_path, kind):
    import zipfile

    if kind == "tar.gz":
        body = ARCHIVE
    elif kind == "tar":
        body = gzip.decompress(ARCHIVE)
    elif kind == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("data/b.txt", b"bravo\n" * 50000)
        body = buf.getvalue()
    else:
        body = gzip.compress(uuid.uuid4().bytes * 20000)
    name = f"data.{kind}"
    rel = f"in/{uuid.uuid4().hex[:8]}/{name}"
    http_server.add_file(rel, body[: len(body) // 2])  # served whole: the archive itself is cut
    url = f"{http_server.url}/{rel}"
    res, line = run_faulty_input(slurm, s3, tmp_path, f"truncated archive ({kind})", {"http": {"url": url}})
    assert res.returncode == {"zip": 9, "gz": 1}.get(kind, 2), res.output
    prefix = f"jobc: input {url}: cannot unpack {name} (exit code {res.returncode}): "
    if kind == "zip":
        assert line.startswith(prefix + TRUNCATED_CAUSES[kind]), line
    else:
        assert line == prefix + TRUNCATED_CAUSES[kind]
    assert str(tmp_path) not in line  # the download's path is shown as its file name


def test_s3_input_server_down(slurm, s3, tmp_path):
    server = S3Server().start()
    try:
        bucket = new_bucket(server)
        server.put_object(bucket, "in/a.txt", b"alpha\n")
        endpoint = server.endpoint_url
    finally:
        server.stop()
    spec = {
        "s3": {
            "region": "us-east-1",
            "bucketUrl": f"s3://{bucket}",
            "path": "/in",
            "accessKeyId": "testing",
            "secretAccessKey": "testing",
            "endpointUrl": endpoint,
        }
    }
    # One retry instead of s5cmd's ten (about 90 s of backoff): the outcome is the same, sooner.
    res, line = run_faulty_input(slurm, s3, tmp_path, "S3 input server down", spec, s3_retries=1)
    assert res.returncode == 1, res.output
    assert line.startswith(f"jobc: input s3://{bucket}/in/: sync failed: ERROR "), line
    assert endpoint.removeprefix("http://") in line and "connection refused" in line, line
    assert "testing" not in line


def test_s3_input_empty_prefix_is_an_empty_input(slurm, s3, tmp_path):
    """s5cmd reports "no object found" for an empty prefix and exits 0: still an empty input, not a fault."""
    bucket = new_bucket(s3)
    spec = {
        "resources": RES,
        "input": {"s3": {**s3_output(s3, bucket)["s3"], "path": "/empty"}},
        "steps": [{"name": "check", "run": {"command": 'ls -A "$DEEPSQUARE_INPUT" > "$OUT/ls"'}}],
    }
    script = compile_job(tmp_path, json.dumps(spec), name="job.json")
    out = out_dir(tmp_path)
    res = slurm.submit(script, timeout=90, env={"OUT": str(out)})
    assert res.returncode == 0, res.output
    assert (out / "ls").read_text() == ""
    assert "jobc: input " not in res.output


# ---- curl never globs: one request, for the URL as written ------------------------------------------------------


def test_http_input_url_is_not_globbed(slurm, http_server, tmp_path):
    tag = uuid.uuid4().hex[:8]
    http_server.add_file(f"glob/{tag}/data[1-2].txt", b"one file\n")
    url = f"{http_server.url}/glob/{tag}/data[1-2].txt?v={{a,b}}"
    # The file keeps the URL's last path segment as its name, made safe (plan_transport): data_1-2_.txt.
    check = 'test "$(cat "$DEEPSQUARE_INPUT/data_1-2_.txt")" = "one file" && ls "$DEEPSQUARE_INPUT" > "$OUT/ls"'
    spec = {
        "resources": RES,
        "input": {"http": {"url": url}},
        "steps": [{"name": "check", "run": {"command": check, "shell": "/bin/bash"}}],
    }
    script = compile_job(tmp_path, json.dumps(spec), name="job.json")
    out = out_dir(tmp_path)
    res = slurm.submit(script, timeout=90, env={"OUT": str(out)})
    assert res.returncode == 0, res.output
    assert (out / "ls").read_text() == "data_1-2_.txt\n"
    asked = [(r.path, r.query) for r in http_server.requests if r.path.startswith(f"/glob/{tag}/")]
    assert asked == [(f"/glob/{tag}/data[1-2].txt", "v={a,b}")]


def test_fault_table():
    """Runs last in this module: the table of what each fault did (pytest -s shows it)."""
    print("\n| fault | what the job printed | exit code | pushed |\n| --- | --- | --- | --- |")
    for fault, (line, rc, objects) in RESULTS.items():
        print(f"| {fault} | `{line}` | {rc} | {objects} |")
