"""The examples of examples/, run for real on the local Slurm (the `slurm` fixture: one node, 8 CPUs, 8000 MB).

Each example is compiled from its file as it is in the repo. Only what is site-specific changes:
- the site profile: storage root, image cache and hosted images under tmp_path, sync interval 1 s;
- the submit environment: tests/shims first on PATH (enroot, apptainer, wg-quick and bore exist here only
  as the recording shims), with $JOBC_SHIM_LOG;
- endpoints that point outside this machine are rewritten on the parsed spec, in the test, with a comment
  saying what and why (HTTP -> the `http_server` fixture).
Every example is either run here or listed in SKIPPED_HERE with the reason: test_every_example_is_run_or_listed
fails when a new example is in neither.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import threading
import uuid
from pathlib import Path

import pytest
import yaml

from jobc.site import site_from_dict

from .jobc_run import compile_job, wait_until

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SHIMS = REPO / "tests" / "shims"
NODE_CPUS, NODE_MEM = 8, 8000  # one node of the `slurm` fixture (tests/harness/cluster.py)
TIMEOUT = 90

TOO_BIG = "too big for a node here (8 CPUs, 8000 MB): "

# Examples that cannot run on this machine, with the reason. They are not parametrized (no pytest.skip).
# An entry whose reason starts with TOO_BIG is checked against the example's resources.
SKIPPED_HERE: dict[str, str] = {
    "apptainer-private-registry.yaml": TOO_BIG + "1 task x 4 CPUs x 2048 MB = 8192 MB (memory only; besides, "
    "./build-report is a program of the image, which the apptainer shim "
    "cannot provide)",
    "vnet-training-dashboard.yaml": "its dashboard needs DeepSquare's dpsproxy client and proxy server, which "
    "this machine has not (tests/slurm/test_networks_current.py runs virtual networks, pasta and a dpsproxy shim)",
    "bore-tunnel.yaml": TOO_BIG + "1 task x 4 CPUs x 4096 MB = 16384 MB (memory only)",
    "gpu-training.yaml": TOO_BIG + "2 tasks x 8 CPUs = 16 CPUs, x 4096 MB = 65536 MB",
    "hosted-image-x11.yaml": TOO_BIG + "1 task x 8 CPUs x 2048 MB = 16384 MB (memory only)",
    "llm-serving.yaml": TOO_BIG + "1 task x 16 CPUs = 16 CPUs, x 4096 MB = 65536 MB (and vLLM is the image's "
    "entrypoint, which the enroot shim cannot provide; tests/slurm/test_gpus.py and "
    "test_current_containers_shim.py run its fields)",
    "mpi-allreduce.json": TOO_BIG + "16 tasks x 1 CPU = 16 CPUs, x 2048 MB = 32768 MB (and MPI pmix_v4)",
    "parameter-sweep.yaml": TOO_BIG + "4 tasks x 2 CPUs x 2048 MB = 16384 MB (memory only)",
    "reference-async-await.json": TOO_BIG + "2 tasks x 4 CPUs x 4096 MB = 32768 MB (memory only)",
    "reference-fire-and-forget-safe.json": TOO_BIG + "2 tasks x 4 CPUs x 4096 MB = 32768 MB (memory only)",
    "reference-fire-and-forget-unsafe.json": TOO_BIG + "2 tasks x 4 CPUs x 4096 MB = 32768 MB (memory only)",
    "s3-sync.yaml": TOO_BIG + "1 task x 4 CPUs x 2048 MB = 8192 MB (memory only)",
    "reference-job-full-corrected.json": "its step is `ping 10.0.0.1` without -c: it never ends by design (a "
    "job until its time limit), and it needs a real WireGuard peer; "
    "this machine has no ping either",
    "service-and-monitor.yaml": "needs redis-server and redis-cli, which are not installed here (nor in the "
    "harness's package list)",
}


def examples() -> list[str]:
    return sorted(p.name for p in EXAMPLES.iterdir() if p.is_file() and p.suffix in (".json", ".yaml", ".yml"))


def load(name: str) -> dict:
    text = (EXAMPLES / name).read_text()
    return json.loads(text) if name.endswith(".json") else yaml.safe_load(text)


def dump(name: str, spec: dict) -> str:
    """The rewritten spec, in the example's own format (the file name tells jobc which)."""
    return json.dumps(spec, indent=2) if name.endswith(".json") else yaml.safe_dump(spec, sort_keys=False)


def site(tmp_path: Path, launch_grace: int = 3):
    return site_from_dict(
        {
            "paths": {
                "storage_root": str(tmp_path / "storage"),
                "image_cache": str(tmp_path / "images"),
                "hosted_images": str(tmp_path / "hosted"),
            },
            "options": {"sync_interval": 1, "launch_grace": launch_grace},
        }
    )


def shim_env(cluster, tmp_path: Path) -> dict:
    return {"PATH": f"{SHIMS}{os.pathsep}{cluster.env['PATH']}", "JOBC_SHIM_LOG": str(tmp_path / "shims.jsonl")}


def records(tmp_path: Path, tool: str) -> list[dict]:
    log = tmp_path / "shims.jsonl"
    return [r for r in map(json.loads, log.read_text().splitlines()) if r["tool"] == tool] if log.exists() else []


def run_example(cluster, tmp_path: Path, name: str, text: str | None = None, *, hold_for=None, launch_grace: int = 3):
    """Compile `text` (default: the example's file as it is) and submit it; return (JobResult, storage dir).

    hold_for(storage_dir): submit held, call it once the job id (hence its storage dir) is known, then release.
    """
    text = (EXAMPLES / name).read_text() if text is None else text
    if (EXAMPLES / "modules").is_dir() and not (tmp_path / "modules").exists():  # the local modules (`use`)
        shutil.copytree(EXAMPLES / "modules", tmp_path / "modules")
    script = compile_job(tmp_path, text, name=name, site=site(tmp_path, launch_grace))
    env = shim_env(cluster, tmp_path)
    if hold_for is None:
        res = cluster.submit(script, timeout=TIMEOUT, env=env)
        return res, tmp_path / "storage" / str(res.job_id)
    job_name = f"example-{uuid.uuid4().hex[:10]}"
    done: dict = {}

    def submit():
        try:
            done["res"] = cluster.submit(
                script, timeout=TIMEOUT, env=env, extra_args=["--hold", f"--job-name={job_name}"]
            )
        except BaseException as exc:  # re-raised in the test's thread
            done["error"] = exc

    runner = threading.Thread(target=submit)
    runner.start()
    ids: list[str] = []

    def queued() -> bool:
        r = cluster.run(["squeue", "-h", "-n", job_name, "-o", "%i"], check=False)
        ids[:] = r.stdout.split()
        return bool(ids) or not runner.is_alive()

    try:
        assert wait_until(queued, timeout=30) and ids, f"job {job_name} never showed in squeue: {done}"
        storage = tmp_path / "storage" / ids[0]
        storage.mkdir(parents=True)
        hold_for(storage)
    finally:
        if ids:
            cluster.run(["scontrol", "release", ids[0]], check=False)
        runner.join(TIMEOUT + 30)
    if "error" in done:
        raise done["error"]
    return done["res"], tmp_path / "storage" / ids[0]


def tar_members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        return {m.name.removeprefix("./"): tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


def tar_gz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o600
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# ---- which examples run -------------------------------------------------------------------------------------

RUN_HERE = {
    "env-and-quoting.yaml",
    "http-archive.yaml",
    "loop-with-sidecar.yaml",
    "module-checksum.yaml",
    "nested-loops.yaml",
    "reference-job-minimal.json",
    "training-with-crash-report.yaml",
    "wireguard-vpn.yaml",
}


def test_every_example_is_run_or_listed():
    assert not RUN_HERE & set(SKIPPED_HERE), RUN_HERE & set(SKIPPED_HERE)
    assert set(examples()) == RUN_HERE | set(SKIPPED_HERE), (
        "each example is either run by a test of this file (RUN_HERE) or listed in SKIPPED_HERE with the "
        f"reason: missing {sorted(set(examples()) - RUN_HERE - set(SKIPPED_HERE))}, "
        f"gone {sorted(RUN_HERE | set(SKIPPED_HERE) - set(examples()))}"
    )
    # Each example of RUN_HERE has its test below.
    tests = {name for name, obj in globals().items() if name.startswith("test_example_") and callable(obj)}
    for example in RUN_HERE:
        stem = example.rsplit(".", 1)[0].replace("-", "_")
        assert f"test_example_{stem}" in tests, example


@pytest.mark.parametrize("name", [n for n, why in SKIPPED_HERE.items() if why.startswith(TOO_BIG)])
def test_too_big_examples_really_exceed_a_node(name):
    """If one of them is made to fit, it should run here instead of being listed."""
    r = load(name)["resources"]
    cpus = r["tasks"] * r["cpusPerTask"]
    assert cpus > NODE_CPUS or cpus * r["memPerCpu"] > NODE_MEM, f"{name} fits a node now: run it"


# ---- the examples that run here -----------------------------------------------------------------------------


def test_example_env_and_quoting(slurm, tmp_path):
    res, _ = run_example(slurm, tmp_path, "env-and-quoting.yaml")
    assert res.returncode == 0, res
    # The step's GREETING wins over the job's; the other values arrive byte for byte, the glob unexpanded
    # (nothing in $STORAGE_PATH matches *.csv, so bash leaves the word as it is).
    assert (
        "overridden for this step\n*.csv\nC:\\Users\\me\\data\nfirst line\nsecond line\n"
        "unquoted glob stays a glob here: *.csv\n"
    ) in res.output, res
    assert 'It\'s "quoted"' not in res.output
    # The step without run/for/launch only prints its name.
    assert "-- just a marker: the next step prints the values --" in res.output, res


def test_example_module_checksum(slurm, tmp_path):
    res, storage = run_example(slurm, tmp_path, "module-checksum.yaml")
    assert res.returncode == 0, res
    sums = (storage / "data" / "SHA256SUMS").read_text().splitlines()
    assert [line.split("  ", 1)[1] for line in sums] == ["./a.txt", "./b c.txt"], sums
    assert (storage / "output" / "report.txt").read_text() == f"2 files listed in {storage}/data/SHA256SUMS\n"
    assert "checked with 256 MB per CPU" in res.output, res


def test_example_nested_loops(slurm, tmp_path):
    res, _ = run_example(slurm, tmp_path, "nested-loops.yaml")
    assert res.returncode == 0, res
    lines = [line for line in res.output.splitlines() if line.startswith("dataset=")]
    assert lines == [
        f"dataset={item} shard={index}" for item in ("small", "medium", "large (2024 release)") for index in (10, 6, 2)
    ], res


def test_example_reference_job_minimal(slurm, tmp_path):
    res, storage = run_example(slurm, tmp_path, "reference-job-minimal.json")
    assert res.returncode == 0, res
    assert "Hello World" in res.output.splitlines(), res
    # enableLogging: a timestamped copy of the job's output in $DEEPSQUARE_OUTPUT/job.log.
    log = (storage / "output" / "job.log").read_text().splitlines()
    assert any(line.endswith(" Hello World") and line[:4].isdigit() for line in log), log


def test_example_training_with_crash_report(slurm, tmp_path):
    (tmp_path / "ok").mkdir()
    res, storage = run_example(slurm, tmp_path / "ok", EXAMPLE_TRAIN)
    assert res.returncode == 0, res
    out = storage / "output"
    assert (out / "evaluation.txt").read_text() == "epoch-0.txt\nepoch-1.txt\nepoch-2.txt\n", res
    assert (out / "monitor.log").exists() and not (out / "crash-report.txt").exists(), res
    # The same job with a learning rate that makes it diverge: the catch writes the report and passes the
    # failure on (the job fails with the training's code); finally still stops the monitor.
    spec = load(EXAMPLE_TRAIN)
    spec["env"] = [{"key": "LEARNING_RATE", "value": "1"}]
    (tmp_path / "diverges").mkdir()
    res, storage = run_example(slurm, tmp_path / "diverges", EXAMPLE_TRAIN, dump(EXAMPLE_TRAIN, spec))
    assert res.returncode == 1, res
    report = (storage / "output" / "crash-report.txt").read_text()
    assert report == "training failed with exit code 1\nlearning rate: 1\nepoch-0.txt\n", res
    assert "jobc: step train: its catch failed with exit code 1" in res.output, res
    assert (storage / "stop-monitor").exists(), res  # the finally ran: the monitor ended by itself


EXAMPLE_TRAIN = "training-with-crash-report.yaml"


def test_example_http_archive(slurm, http_server, tmp_path):
    tag = uuid.uuid4().hex[:8]
    spec = load("http-archive.yaml")
    # Rewritten: data.example.org and upload.example.org are outside this machine. The input URL points at the
    # local HTTP server, which serves a tarball of the name the example expects; the output URL is a directory
    # on the same server (the example's own ends with /, so is this one).
    assert spec["input"]["http"]["url"] == "https://data.example.org/releases/corpus-v3.tar.gz"
    assert spec["output"]["http"]["url"] == "https://upload.example.org/results/"
    http_server.add_file(
        f"{tag}/releases/corpus-v3.tar.gz",
        tar_gz(
            {
                "corpus-v3/a.txt": b"the cat sat on the mat\n",
                "corpus-v3/sub/b.txt": b"the dog\n",
                "corpus-v3/README.md": b"not counted: not a .txt\n",
            }
        ),
    )
    spec["input"]["http"]["url"] = f"{http_server.url}/{tag}/releases/corpus-v3.tar.gz"
    spec["output"]["http"]["url"] = f"{http_server.url}/{tag}/results/"
    res, storage = run_example(slurm, tmp_path, "http-archive.yaml", dump("http-archive.yaml", spec))
    assert res.returncode == 0, res
    # The archive was unpacked into $DEEPSQUARE_INPUT, then chmod -R 755 (inputMode 493).
    unpacked = storage / "input" / "corpus-v3" / "sub" / "b.txt"
    assert unpacked.read_bytes() == b"the dog\n"
    assert oct(unpacked.stat().st_mode & 0o777) == oct(0o755)
    # One tar.gz of $DEEPSQUARE_OUTPUT was uploaded: the word counts, and job.log (enableLogging).
    members = tar_members(http_server.uploaded(f"/{tag}/results/output.tar.gz"))
    assert set(members) == {"word-counts.txt", "job.log"}, members
    counts = dict(reversed(line.split()) for line in members["word-counts.txt"].decode().splitlines())
    assert counts == {"the": "3", "cat": "1", "sat": "1", "on": "1", "mat": "1", "dog": "1"}, counts


SHARD_PROGRAM = r"""#!/usr/bin/python3
# Stands in for the user's program: ./process --shard N --of M. It waits (at most 20 s) until the shard's
# sidecar is in its loop (its `sleep 5` runs, so its INT trap is set), then writes shard-N/result.
import os, pathlib, sys, time

shard, total = sys.argv[2], sys.argv[4]


def sidecar_up():
    for proc in pathlib.Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes() == b"sleep\x005\x00" and \
                    f"index={shard}".encode() in (proc / "environ").read_bytes().split(b"\x00"):
                return True
        except OSError:
            pass
    return False


deadline = time.monotonic() + 20
while not sidecar_up() and time.monotonic() < deadline:
    time.sleep(0.1)
os.makedirs(f"shard-{shard}", exist_ok=True)
pathlib.Path(f"shard-{shard}/result").write_text(f"shard {shard} of {total}, sidecar up: {sidecar_up()}\n")
"""


def test_example_loop_with_sidecar(slurm, tmp_path):
    """./process is the user's program, in the job's storage directory (the steps' working directory): the test
    provides one (SHARD_PROGRAM) before the held job starts."""

    def provide_program(storage: Path):
        program = storage / "process"
        program.write_text(SHARD_PROGRAM)
        program.chmod(0o755)

    # A long launch grace (the site's): a sidecar that ignored its signal would hold its iteration for 30 s.
    res, storage = run_example(slurm, tmp_path, "loop-with-sidecar.yaml", hold_for=provide_program, launch_grace=30)
    assert res.returncode == 0, res
    for index in (1, 2, 3):
        # The three iterations ran, each with its $index, and its sidecar was up meanwhile.
        assert (storage / f"shard-{index}" / "result").read_text() == f"shard {index} of 3, sidecar up: True\n"
    # signalOnParentStepExit: 2: each sidecar got SIGINT when its iteration ended, and ended at once.
    assert res.elapsed < 20, res
    # Each reporter's INT trap ran (the example waits for its sleep in the background, so the trap runs
    # whichever process of the step gets the signal first).
    stopped = [i for i in (1, 2, 3) if f"shard {i}: reporter stopped" in res.output]
    assert stopped == [1, 2, 3], res
    # mapRoot without a container: `id -u` printed 0 in each iteration.
    assert res.output.splitlines().count("0") == 3, res


def test_example_wireguard_vpn(slurm, tmp_path):
    spec = load("wireguard-vpn.yaml")
    run = spec["steps"][0]["run"]
    # Rewritten: the command's URL. 172.16.20.5 is a private API behind the WireGuard peer; here wg-quick is the
    # recording shim (no tunnel), so the request would leave through slirp4netns to the real network. It is
    # pointed at 127.0.0.1 instead, the namespace's own loopback (slirp4netns runs with --disable-host-loopback,
    # so the host's HTTP server is out of reach), where nothing listens: curl fails to connect (exit code 7),
    # and the job ends with the step's exit code. The peer endpoint (203.0.113.7) is only written into the
    # config that the shim records, so it stays.
    assert run["command"] == "curl --fail --silent http://172.16.20.5:8080/health"
    run["command"] = "curl --fail --silent http://127.0.0.1:8080/health"
    res, storage = run_example(slurm, tmp_path, "wireguard-vpn.yaml", dump("wireguard-vpn.yaml", spec))
    assert res.returncode == 7, res
    wg = records(tmp_path, "wg-quick")
    assert [r["argv"][0] for r in wg] == ["up", "down"], wg
    up, down = wg
    assert up["argv"][1] == down["argv"][1] and up["argv"][1].startswith(f"{storage}/.jobc/")
    assert up["argv"][1].endswith("/net0.conf")
    assert up["config"]["mode"] == "0600"
    assert up["config"]["content"] == (
        "[Interface]\n"
        "PrivateKey = ISVZDOnSUSOR8XnCP3u1GQm10dJrK15Gr+p6TqSLTJ8=\n"
        "Address = 10.8.0.2/24\n"
        "\n[Peer]\n"
        "PublicKey = Kp6WgyXRuBOyn9OQhyLO+g76wUd2vgtHbZre0iLjOOM=\n"
        "PresharedKey = QJAYljOJNETy7PKCWjpXtob4LV6Ef7GBBNT9CmSBq18=\n"
        "AllowedIPs = 10.8.0.0/24, 172.16.20.0/24\n"
        "Endpoint = 203.0.113.7:51820\n"
        "PersistentKeepalive = 25\n"
    )
    assert not (storage / ".jobc").exists(), "the private key's file is gone with the job's private directory"
