"""Hostile strings in every string field of a spec: compiled, then RUN by real bash with fake cluster tools.

Each hypothesis example is one job holding several hostile values in several fields (each value is one
"case" of the count printed at the end of the session). Every value embeds canaries (`$(touch ...)`,
backticks, `; touch ...`, a newline then a command, heredoc-terminator lines, ...). A case passes when:
- jobc compiles the spec, or rejects it with a SpecError (never another exception);
- the script runs under bash to exit code 0, the value arrives BYTE-EXACT where it belongs (the step
  command is the probe: tests/security/shims/shim.py records its argv, environment and directory; the
  fake tools record their argv), and no canary file exists afterwards;
- secrets (registry password, S3 secret key) never appear in any recorded argv (a bore secret only in
  dpsproxy's, decision 34).

Nothing here needs Slurm: `srun` is a shim that parses its options and execs the command; slirp4netns,
`mount` and wg-quick are shims too, so a slirp4netns step runs without a namespace (nothing is mounted).
test_injection_slurm.py runs a sample through the real sbatch and srun.
"""

from __future__ import annotations

import base64
import collections
import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jobc import compile_spec
from jobc.diagnostics import SpecError
from jobc.options import AppOptions, CompileOptions
from jobc.site import SiteError, site_from_dict

from .conftest import CASES, profile
from .hostile import BIN_DIR, DISPATCH, HOSTILE, HOSTILE_SHORT, PROBE, check_canaries, no, no_space_control, trim_bytes

credential = HOSTILE.map(lambda s: no_space_control(s) or "x")
# A secret carries a marker no other generated value has, so "not in any argv" cannot match another field.
secret_credential = credential.map(lambda s: "s3cr3t-" + s)
# Long image names are kept under 150 bytes: longer ones hit the cache file-name bug (test_long_image_name below).
image = HOSTILE_SHORT.map(lambda s: "img/" + trim_bytes(no_space_control(s).replace("://", "_"), 150))
mount_path = HOSTILE.map(lambda s: "/" + no(":,", s))
http_url = HOSTILE.map(lambda s: "https://h.example/" + no_space_control(s))
dir_name = HOSTILE_SHORT.map(lambda s: "d" + trim_bytes(no("/", s), 200))


def _run_settings(factor: float) -> hsettings:
    base = profile()
    return hsettings(parent=base, max_examples=max(1, int(base.max_examples * factor)))


# --- running a script ---------------------------------------------------------------------------------------------


class Run:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.log = root / "shim.jsonl"
        self.probes = root / "probes"
        self.probes.mkdir()
        self.storage = root / "storage"
        self.home = root / "home"
        self.home.mkdir()
        self.rc = None
        self.stderr = ""

    @property
    def job_storage(self) -> Path:
        return self.storage / "77"

    def site(self, **sections) -> object:
        data = {
            "paths": {"storage_root": str(self.storage), "image_cache": str(self.root / "images")},
            "options": {"launch_grace": 1},
        }
        for key, values in sections.items():
            data.setdefault(key, {}).update(values)
        return site_from_dict(data)

    def execute(self, script: str, extra_env: dict | None = None) -> None:
        assert "\r\n" not in script, "sbatch would refuse this script (DOS line breaks)"
        path = self.root / "job.sh"
        path.write_text(script, encoding="utf-8")
        env = {
            "PATH": f"{BIN_DIR}:/usr/bin:/bin",
            "HOME": str(self.home),
            "SLURM_JOB_ID": "77",
            "SLURM_SUBMIT_DIR": str(self.root),
            "SEC_LOG": str(self.log),
            "LC_ALL": "C.UTF-8",
            **(extra_env or {}),
        }
        done = subprocess.run(["bash", str(path)], cwd=self.root, env=env, capture_output=True, timeout=120)
        self.rc, self.stderr = done.returncode, done.stderr.decode(errors="replace")[-3000:]
        self.script = script

    def records(self, tool: str | None = None) -> list[dict]:
        if not self.log.exists():
            return []
        # split on "\n" only: str.splitlines would also split inside a value holding U+2028 or \x1c
        out = [json.loads(line) for line in self.log.read_text(encoding="utf-8").split("\n") if line]
        return [r for r in out if tool is None or r["tool"] == tool]

    def probe(self, tag: str) -> list[dict]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.probes.glob(f"{tag}.*.json"))]

    def probe_cmd(self, tag: str) -> str:
        return shlex.join([PROBE, str(self.probes), tag])

    def check_ok(self) -> None:
        assert self.rc == 0, f"script failed ({self.rc}):\n{self.stderr}"

    def check_no_secret_in_argv(self, *secrets: str) -> None:
        for rec in self.records():
            for word in rec["argv"]:
                for secret in secrets:
                    assert secret not in word, f"secret reached the argv of {rec['tool']}: {rec['argv']!r}"


@pytest.fixture
def new_run():
    roots = []

    def make() -> Run:
        root = Path(os.path.realpath(tempfile.mkdtemp(prefix="jobc-sec-")))
        roots.append(root)
        return Run(root)

    yield make
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


def compile_or_reject(text: str, n_values: int, **kwargs):
    """The script, or None when jobc rejects the spec with a SpecError (any other exception fails the test)."""
    try:
        return compile_spec(text, **kwargs).script
    except SpecError as exc:
        CASES.rejected += n_values
        CASES.reasons[str(exc).split(":", 1)[-1].strip()[:80]] += 1
        return None


def dump(spec: dict) -> str:
    return json.dumps(spec)


RESOURCES = {"tasks": 1, "cpusPerTask": 1, "memPerCpu": 64, "gpusPerTask": 0}


# --- DeepSquare: env values, step names, loop items, workDir (host) -----------------------------------------------


@_run_settings(1.3)
@given(
    job_env=st.lists(HOSTILE, min_size=8, max_size=40),
    step_env=st.lists(HOSTILE, min_size=8, max_size=40),
    name=HOSTILE,
    items_par=st.lists(HOSTILE, min_size=1, max_size=4),
    items_seq=st.lists(HOSTILE, min_size=1, max_size=4),
    loop_name=HOSTILE,
    wd_abs=dir_name,
    wd_rel=dir_name,
)
def test_env_names_loops_workdir(new_run, job_env, step_env, name, items_par, items_seq, loop_name, wd_abs, wd_rel):
    run = new_run()
    abs_dir = run.root / "wd" / wd_abs
    abs_dir.mkdir(parents=True)
    rel_dir = run.job_storage / wd_rel
    rel_dir.mkdir(parents=True)
    spec = {
        "resources": RESOURCES,
        "env": [{"key": f"J{i}", "value": v} for i, v in enumerate(job_env)],
        "steps": [
            {
                "name": name,
                "run": {
                    "command": run.probe_cmd("env"),
                    "shell": "/bin/bash",
                    "env": [{"key": f"S{i}", "value": v} for i, v in enumerate(step_env)],
                },
            },
            {
                "name": loop_name,
                "for": {
                    "parallel": True,
                    "items": items_par,
                    "steps": [{"name": "par", "run": {"command": run.probe_cmd("par")}}],
                },
            },
            {
                "for": {
                    "parallel": False,
                    "items": items_seq,
                    "steps": [{"name": "seq", "run": {"command": run.probe_cmd("seq"), "mapRoot": True}}],
                }
            },
            {"name": "abs", "run": {"command": run.probe_cmd("abs"), "workDir": str(abs_dir)}},
            {"name": "rel", "run": {"command": run.probe_cmd("rel"), "workDir": wd_rel}},
        ],
    }
    n = len(job_env) + len(step_env) + len(items_par) + len(items_seq) + 4
    script = compile_or_reject(dump(spec), n, name="job.json", site=run.site())
    if script is None:
        return
    run.execute(script)
    check_canaries()
    run.check_ok()
    [env] = run.probe("env")
    for i, v in enumerate(job_env):
        assert env["env"][f"J{i}"] == v
    for i, v in enumerate(step_env):
        assert env["env"][f"S{i}"] == v
    sruns = run.records("srun")
    assert sruns[0]["argv"][0] == f"--job-name={name}"
    assert collections.Counter(p["env"]["item"] for p in run.probe("par")) == collections.Counter(items_par)
    assert [p["env"]["item"] for p in sorted(run.probe("seq"), key=lambda p: p["t"])] == items_seq
    [absp] = run.probe("abs")
    assert absp["cwd"] == str(abs_dir) and absp["realcwd"] == str(abs_dir)
    [relp] = run.probe("rel")
    assert relp["realcwd"] == str(rel_dir)
    CASES.add(n)


# --- Containers: image, registry credentials, mounts, env through the container ----------------------------------


@pytest.mark.parametrize("runtime", ["apptainer", "enroot"])
@_run_settings(0.8)
@given(
    img=image,
    user=credential,
    password=secret_credential,
    mounts=st.lists(st.tuples(mount_path, mount_path, st.sampled_from(["ro", "rw"])), min_size=1, max_size=4),
    env=st.lists(HOSTILE, min_size=4, max_size=24),
    wd=dir_name,
)
def test_containers(new_run, runtime, img, user, password, mounts, env, wd):
    run = new_run()
    container = {
        "image": img,
        "registry": "registry.example.org",
        "username": user,
        "password": password,
        "apptainer": runtime == "apptainer",
        "mounts": [{"hostDir": h, "containerDir": c, "options": o} for h, c, o in mounts],
    }
    wd_path = run.root / "cwd" / wd
    wd_path.mkdir(parents=True)
    spec = {
        "resources": RESOURCES,
        "steps": [
            {
                "name": "c",
                "run": {
                    "container": container,
                    "command": run.probe_cmd("c"),
                    "workDir": str(wd_path),
                    "env": [{"key": f"E{i}", "value": v} for i, v in enumerate(env)],
                },
            }
        ],
    }
    n = 3 + 2 * len(mounts) + len(env) + 1
    script = compile_or_reject(dump(spec), n, name="job.json", site=run.site())
    if script is None:
        return
    run.execute(script)
    check_canaries()
    run.check_ok()
    run.check_no_secret_in_argv(password)
    tool = run.records(runtime)
    fetch = [r for r in tool if r["argv"][0] in ("pull", "import")]
    assert len(fetch) == 1
    assert fetch[0]["argv"][-1].endswith(img), fetch[0]["argv"]
    if runtime == "apptainer":
        assert fetch[0]["env"]["APPTAINER_DOCKER_USERNAME"] == user
        assert fetch[0]["env"]["APPTAINER_DOCKER_PASSWORD"] == password
        [ex] = [r for r in tool if r["argv"][0] == "exec"]
        binds = [ex["argv"][i + 1] for i, w in enumerate(ex["argv"]) if w == "--bind"]
        pwd = ex["argv"][ex["argv"].index("--pwd") + 1]
        assert pwd == str(wd_path)
    else:
        assert fetch[0]["credentials"] == f"machine registry.example.org login {user} password {password}\n"
        [start] = [r for r in tool if r["argv"][0] == "start"]
        binds = [start["argv"][i + 1] for i, w in enumerate(start["argv"]) if w == "--mount"]
    for h, c, o in mounts:
        assert f"{h}:{c}" + (":ro" if o == "ro" else "") in binds
    [probe] = run.probe("c")
    for i, v in enumerate(env):
        assert probe["env"][f"E{i}"] == v
    assert probe["realcwd"] == str(wd_path)
    CASES.add(n)


@pytest.mark.parametrize("runtime", ["apptainer", "enroot"])
def test_long_image_name(new_run, runtime):
    """A valid image name of any length gives a cache file name within NAME_MAX (255 bytes)."""
    run = new_run()
    spec = {
        "resources": RESOURCES,
        "steps": [
            {
                "name": "c",
                "run": {
                    "container": {"image": "img/" + "a" * 240, "apptainer": runtime == "apptainer"},
                    "command": run.probe_cmd("c"),
                },
            }
        ],
    }
    run.execute(compile_spec(dump(spec), name="job.json", site=run.site()).script)
    run.check_ok()
    assert len(run.probe("c")) == 1


# --- Data transport: S3 (s5cmd) and HTTP (curl) ------------------------------------------------------------------


@_run_settings(1.0)
@given(
    region=HOSTILE,
    bucket=HOSTILE_SHORT,
    path=HOSTILE_SHORT,
    key_id=HOSTILE,
    secret=HOSTILE.map(lambda s: "s3cr3t-" + s),
    out_bucket=HOSTILE_SHORT,
    out_path=HOSTILE_SHORT,
    delete=st.booleans(),
)
def test_s3(new_run, region, bucket, path, key_id, secret, out_bucket, out_path, delete):
    run = new_run()
    bucket_url, out_url = "s3://b" + bucket + "b", "s3://o" + out_bucket + "o"
    common = {
        "region": region,
        "accessKeyId": key_id,
        "secretAccessKey": secret,
        "endpointUrl": "https://s3.example.org",
    }
    spec = {
        "resources": RESOURCES,
        "continuousOutputSync": False,
        "input": {"s3": {**common, "bucketUrl": bucket_url, "path": "/" + path}},
        "output": {"s3": {**common, "bucketUrl": out_url, "path": "/" + out_path, "deleteSync": delete}},
        "steps": [{"name": "s", "run": {"command": run.probe_cmd("s")}}],
    }
    script = compile_or_reject(dump(spec), 7, name="job.json", site=run.site())
    if script is None:
        return
    run.execute(script)
    check_canaries()
    run.check_ok()
    s5 = run.records("s5cmd")
    assert len(s5) == 2, s5
    run.check_no_secret_in_argv(secret)
    for rec in s5:
        assert rec["env"]["AWS_SECRET_ACCESS_KEY"] == secret
        assert rec["env"]["AWS_ACCESS_KEY_ID"] == key_id
        assert rec["env"]["AWS_REGION"] == region
    pull, push = s5
    assert any(w.startswith(bucket_url + "/" + path) for w in pull["argv"]), pull["argv"]
    assert any(w.startswith(out_url + "/" + out_path) for w in push["argv"]), push["argv"]
    assert ("--delete" in push["argv"]) == delete
    CASES.add(7)


@_run_settings(1.0)
@given(url_in=http_url, url_out=http_url)
def test_http(new_run, url_in, url_out):
    run = new_run()
    spec = {
        "resources": RESOURCES,
        "input": {"http": {"url": url_in}},
        "output": {"http": {"url": url_out}},
        "steps": [{"name": "h", "run": {"command": run.probe_cmd("h")}}],
    }
    script = compile_or_reject(dump(spec), 2, name="job.json", site=run.site())
    if script is None:
        return
    run.execute(script)
    check_canaries()
    run.check_ok()
    pull, push = run.records("curl")
    assert pull["argv"][-1] == url_in
    assert push["argv"][-1] == url_out
    CASES.add(2)


# --- Commands: the text reaches the step's shell byte-exact ------------------------------------------------------


@_run_settings(1.0)
@given(words=st.lists(HOSTILE, min_size=1, max_size=6), shell=st.sampled_from(["/bin/bash", "/bin/sh"]))
def test_commands(new_run, words, shell):
    """A command is code by design; what must hold is that its text is not altered on the way to the shell."""
    run = new_run()
    command = run.probe_cmd("cmd") + " " + " ".join(shlex.quote(w) for w in words) + "  # " + words[0].split("\n")[0]
    spec = {"resources": RESOURCES, "steps": [{"name": "c", "run": {"command": command, "shell": shell}}]}
    script = compile_or_reject(dump(spec), len(words), name="job.json", site=run.site())
    if script is None:
        return
    run.execute(script)
    check_canaries()
    run.check_ok()
    [srun] = run.records("srun")
    assert srun["argv"][-3:] == [shell, "-c", command]
    [probe] = run.probe("cmd")
    assert probe["argv"] == words
    CASES.add(len(words))


# --- Networks: DNS servers, WireGuard keys, addresses and endpoints, bore addresses ---------------------------------


def _mostly_valid(valid: st.SearchStrategy) -> st.SearchStrategy:
    """These fields have strict formats: hostile values are rejected, so most draws are valid to reach bash."""
    # 1 in 20, at 7 rather than at a bound: hypothesis favours the bounds of an integer range.
    return st.tuples(st.integers(0, 19), valid, HOSTILE_SHORT).map(lambda t: t[2] if t[0] == 7 else t[1])


wg_key = st.binary(min_size=32, max_size=32).map(lambda b: base64.b64encode(b).decode())
ip_address = st.one_of(st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str))
cidr = st.tuples(st.ip_addresses(v=4), st.integers(0, 32)).map(lambda t: f"{t[0]}/{t[1]}")
host_name = st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,30}[a-z0-9])?", fullmatch=True)
endpoint = st.tuples(st.one_of(host_name, st.ip_addresses(v=4).map(str)), st.integers(1, 65535)).map(
    lambda t: f"{t[0]}:{t[1]}"
)


@_run_settings(1.0)
@given(
    dns=st.lists(_mostly_valid(ip_address), min_size=1, max_size=3),
    address=_mostly_valid(cidr),
    private=_mostly_valid(wg_key),
    public=_mostly_valid(wg_key),
    psk=_mostly_valid(wg_key),
    allowed=st.lists(_mostly_valid(cidr), min_size=1, max_size=3),
    peer_endpoint=_mostly_valid(endpoint),
    bore_address=_mostly_valid(host_name),
    bore_port=st.integers(1, 65535),
    target=st.integers(1, 65535),
)
def test_networks(new_run, dns, address, private, public, psk, allowed, peer_endpoint, bore_address, bore_port, target):
    assume(len({private, public, psk}) == 3)
    run = new_run()
    # bore runs in the background and is stopped when the command ends: let it record its argv first
    wait_bore = (
        f'for _ in $(seq 100); do grep -qs \'"tool": "bore"\' {shlex.quote(str(run.log))} && break; sleep 0.05; done'
    )
    spec = {
        "resources": RESOURCES,
        "steps": [
            {
                "name": "n",
                "run": {
                    "command": f"{wait_bore}; {run.probe_cmd('n')}",
                    "network": "slirp4netns",
                    "dns": dns,
                    "customNetworkInterfaces": [
                        {
                            "wireguard": {
                                "address": [address],
                                "privateKey": private,
                                "peers": [
                                    {
                                        "publicKey": public,
                                        "preSharedKey": psk,
                                        "allowedIPs": allowed,
                                        "endpoint": peer_endpoint,
                                    }
                                ],
                            }
                        },
                        {"bore": {"address": bore_address, "port": bore_port, "targetPort": target}},
                    ],
                },
            }
        ],
    }
    n = len(dns) + len(allowed) + 6
    script = compile_or_reject(dump(spec), n, name="job.json", site=run.site())
    if script is None:
        return
    run.execute(script)
    check_canaries()
    run.check_ok()
    run.check_no_secret_in_argv(private, psk)
    for secret in (private, psk):  # only in the secrets table, as `['field.path']=value`
        assert script.count(secret) == 1 and f"']={secret}\n" in script
    [resolv] = [r for r in run.records("mount") if "--bind" in r["argv"]]
    assert resolv["content"] == "".join(f"nameserver {d}\n" for d in dns)
    [up, down] = run.records("wg-quick")
    assert [up["argv"][0], down["argv"][0]] == ["up", "down"]
    assert up["config"] == (
        f"[Interface]\nPrivateKey = {private}\nAddress = {address}\n\n[Peer]\n"
        f"PublicKey = {public}\nPresharedKey = {psk}\nAllowedIPs = {', '.join(allowed)}\n"
        f"Endpoint = {peer_endpoint}\n"
    )
    [bore] = run.records("bore")
    assert bore["argv"] == ["-s", bore_address, "-p", str(bore_port), "-ls", "localhost", "-lp", str(target)]
    assert len(run.probe("n")) == 1
    CASES.add(n)


# --- The current schema's networks: boreAddress and secret (dpsproxy), virtual network names and addresses ------


def _no_control(text: str) -> str:
    return "".join("_" if (ord(c) < 32 or c == "\x7f") else c for c in text)


host_port = st.tuples(host_name, st.integers(1, 65535)).map(lambda t: f"{t[0]}:{t[1]}")


@_run_settings(0.3)
@given(
    bore_address=_mostly_valid(host_port),
    secret=HOSTILE.map(lambda s: "s3cr3t-" + _no_control(s)),
    target=st.integers(1, 65535),
    mode=st.sampled_from(["slirp4netns"]),
)
def test_bore_address_and_secret(new_run, bore_address, secret, target, mode):
    """The secret reaches dpsproxy's argv byte-exact as one word (decision 34), and no other argv."""
    run = new_run()
    wait = f'for _ in $(seq 100); do grep -qs \'"tool": "dpsproxy"\' {shlex.quote(str(run.log))} && break; sleep 0.05; done'
    bore = {"boreAddress": bore_address, "targetPort": target, "secret": secret}
    spec = {
        "resources": RESOURCES,
        "steps": [
            {
                "name": "b",
                "run": {
                    "command": f"{wait}; {run.probe_cmd('b')}",
                    "network": mode,
                    "customNetworkInterfaces": [{"bore": bore}],
                },
            }
        ],
    }
    script = compile_or_reject(dump(spec), 2, name="job.json", site=run.site())
    if script is None:
        return
    assert f"']={shlex.quote(secret)}\n" in script  # in the secrets table, quoted
    run.execute(script)
    check_canaries()
    run.check_ok()
    [proxy] = run.records("dpsproxy")
    assert proxy["argv"] == ["--to.addr", bore_address, "--local.addr", f"localhost:{target}", "--secret", secret, "-r"]
    for rec in run.records():
        if rec is not proxy and rec["tool"] != "dpsproxy":
            assert all(secret not in word for word in rec["argv"]), f"secret in the argv of {rec['tool']}"
    redacted = compile_spec(dump(spec), name="job.json", site=run.site(), redact=True).script
    assert secret not in redacted
    assert len(run.probe("b")) == 1
    CASES.add(2)


@_run_settings(0.5)
@given(
    names=st.lists(HOSTILE_SHORT, min_size=1, max_size=3),
    peer=_mostly_valid(st.sampled_from(["10.0.0.2/24", "10.0.0.3/16", "fd00::2/64"])),
    gateway=_mostly_valid(st.sampled_from(["10.0.0.1/24", "fd00::1/64"])),
)
def test_virtual_network_names_and_addresses(names, peer, gateway):
    """Hostile names and addresses: rejected, or compiled into a script that bash parses, in which a name is
    only ever in a comment and every gateway call holds validated addresses only."""
    spec = {
        "resources": RESOURCES,
        "virtualNetworks": [{"name": name, "gatewayAddress": gateway} for name in names],
        "steps": [
            {
                "run": {
                    "command": "true",
                    "network": "slirp4netns",
                    "customNetworkInterfaces": [{"vnet": {"name": names[-1], "address": peer}}],
                }
            }
        ],
    }
    script = compile_or_reject(dump(spec), len(names) + 2, name="job.json")
    if script is None:
        return
    parsed = subprocess.run(["bash", "-n"], input=script.encode(), capture_output=True)
    assert parsed.returncode == 0, parsed.stderr
    for line in script.split("\n"):
        if line.startswith("jobc_vnet_start "):
            assert shlex.split(line)[2:] in ([gateway], [gateway, peer.split("/")[0]])
    for name in names:
        if len(name) > 2:
            assert all(line.lstrip().startswith("#") for line in script.split("\n") if name in line)
    CASES.add(len(names) + 2)


# --- #SBATCH values: --job-name and the site profile's sbatch table ----------------------------------------------


# Half raw, half without what an #SBATCH value may not hold (control characters, backslashes), so
# that most examples compile and reach the tokenizer check.
sbatch_text = st.one_of(
    HOSTILE_SHORT, HOSTILE_SHORT.map(lambda s: "".join(c for c in s if ord(c) >= 32 and c not in "\x7f\\"))
)


def sbatch_tokens(line: str) -> list[str]:
    """The words of one `#SBATCH` line as sbatch reads them: quotes group, `#` ends, backslashes dropped."""
    words, cur, quote_char, started = [], [], None, False
    for c in line:
        if quote_char:
            if c == quote_char:
                quote_char = None
            else:
                cur.append(c)
        elif c in "'\"":
            quote_char, started = c, True
        elif c == "#":
            break
        elif c in " \t":
            if started:
                words.append("".join(cur))
            cur, started = [], False
        elif c == "\\":
            started = True
        else:
            cur.append(c)
            started = True
    if started:
        words.append("".join(cur))
    return words


@_run_settings(4.0)
@given(job_name=sbatch_text, partition=sbatch_text)
def test_sbatch_values(new_run, job_name, partition):
    run = new_run()
    try:
        site = run.site(sbatch={"partition": partition})
    except SiteError:
        site, partition = run.site(), None
        CASES.rejected += 1
    spec = {"resources": RESOURCES, "steps": [{"name": "x", "run": {"command": run.probe_cmd("x")}}]}
    script = compile_or_reject(dump(spec), 1, name="job.json", site=site, options=CompileOptions(job_name=job_name))
    if script is None:
        return
    run.execute(script)
    check_canaries()
    run.check_ok()
    directives = {}
    for line in script.split("\n"):  # not splitlines: sbatch reads lines on \n only (U+0085 is text)
        if line.startswith("#SBATCH "):
            words = sbatch_tokens(line[len("#SBATCH ") :])
            assert len(words) == 1, line
            key, _, value = words[0].partition("=")
            directives[key] = value
        elif line and not line.startswith("#"):
            break
    assert directives["--job-name"] == job_name
    if partition is not None:
        assert directives["--partition"] == partition
    CASES.add(1 if partition is None else 2)


# --- bfabric apps: shell argv, docker env values and mount paths -------------------------------------------------


def _mounts(argv: list[str]) -> list[dict[str, str]]:
    out = []
    for i, word in enumerate(argv):
        if word == "--mount":
            fields = next(csv.reader([argv[i + 1]]))
            out.append({k: v for k, _, v in (f.partition("=") for f in fields)})
    return out


def _yaml_str(value: str) -> str:
    """A YAML double-quoted scalar: JSON's escapes, except that YAML has no surrogate pairs (\\U instead)."""
    text = json.dumps(value)
    return re.sub(
        r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})",
        lambda m: "\\U%08x" % (0x10000 + ((int(m[1], 16) - 0xD800) << 10) + int(m[2], 16) - 0xDC00),
        text,
    )


def _mako_literal(value: str) -> str:
    """bfabric strings are Mako-like templates: `${` is written ${'${'} to stand for itself."""
    return value.replace("${", "${'${'}")


bf_mount_path = mount_path.map(lambda s: "".join(c for c in s if ord(c) >= 32 and c != "\x7f"))


@_run_settings(1.5)
@given(
    args=st.lists(HOSTILE, min_size=1, max_size=8),
    env=st.lists(HOSTILE, min_size=2, max_size=16),
    ro=st.lists(st.tuples(bf_mount_path, bf_mount_path), min_size=1, max_size=3),
    docker_args=st.lists(HOSTILE, max_size=6),
)
def test_bfabric_app(new_run, args, env, ro, docker_args):
    run = new_run()
    work = run.root / "work"
    work.mkdir()
    dispatch = shlex.join([DISPATCH, str(run.probes), "dispatch", *args])
    process = shlex.join([PROBE, str(run.probes), "process", *docker_args])
    y = lambda v: _yaml_str(_mako_literal(v))  # noqa: E731
    dispatch, process = _mako_literal(dispatch), _mako_literal(process)
    env_yaml = "".join(f"          E{i}: {y(v)}\n" for i, v in enumerate(env))
    ro_yaml = "".join(f"            - [{y(h)}, {y(c)}]\n" for h, c in ro)
    text = (
        'versions:\n  - version: "1.0"\n    commands:\n'
        f"      dispatch:\n        type: shell\n        command: {_yaml_str(dispatch)}\n"
        f"      process:\n        type: docker\n        image: docker.io/x/y:1\n"
        f"        command: {_yaml_str(process)}\n        env:\n{env_yaml}"
        f"        mounts:\n          read_only:\n{ro_yaml}          share_bfabric_config: false\n"
        "    submitter:\n      name: slurm\n"
    )
    site = run.site()
    opts = CompileOptions(
        app=AppOptions(workunit_ref="42", app_id=1, app_name="app", work_dir=str(work), container_runtime="docker")
    )
    n = len(args) + len(env) + 2 * len(ro) + len(docker_args)
    script = compile_or_reject(text, n, name="app.yaml", site=site, options=opts)
    if script is None:
        return
    run.execute(script)
    check_canaries()
    run.check_ok()
    [d] = run.probe("dispatch")
    assert d["argv"][: len(args)] == args
    [docker] = run.records("docker")
    argv = docker["argv"]
    envs = [argv[i + 1] for i, w in enumerate(argv) if w == "--env"]
    for i, v in enumerate(env):
        assert f"E{i}={v}" in envs
    mounts = _mounts(argv)
    for h, c in ro:
        want = {"type": "bind", "source": str(PurePosixPath(h)), "target": str(PurePosixPath(c)), "readonly": ""}
        assert want in mounts, mounts  # paths normalised as bfabric-app-runner's Path() does
    [p] = run.probe("process")
    assert p["argv"][: len(docker_args)] == docker_args
    CASES.add(n)


# --- bfabric exec: env values and PATH entries ------------------------------------------------------------------


@_run_settings(1.0)
@given(
    env=st.lists(HOSTILE, min_size=1, max_size=8),
    entries=st.lists(bf_mount_path.filter(lambda s: not s.startswith("~")), min_size=1, max_size=4),
)
def test_bfabric_exec_env_and_path(new_run, env, entries):
    """exec's env values and prepend_paths arrive byte-exact in the command's environment and PATH."""
    run = new_run()
    work = run.root / "work"
    work.mkdir()
    y = lambda v: _yaml_str(_mako_literal(v))  # noqa: E731
    dispatch = _mako_literal(shlex.join([DISPATCH, str(run.probes), "dispatch"]))
    env_yaml = "".join(f"          E{i}: {y(v)}\n" for i, v in enumerate(env))
    paths_yaml = "".join(f"          - {y(p)}\n" for p in entries)
    text = (
        'versions:\n  - version: "1.0"\n    commands:\n'
        f"      dispatch:\n        type: exec\n        command: {_yaml_str(dispatch)}\n"
        f"        env:\n{env_yaml}        prepend_paths:\n{paths_yaml}"
        f"      process:\n        type: exec\n        command: {_yaml_str(_mako_literal(run.probe_cmd('process')))}\n"
    )
    opts = CompileOptions(app=AppOptions(workunit_ref="42", work_dir=str(work), app_dir="/spec dir"))
    n = len(env) + len(entries)
    script = compile_or_reject(text, n, name="app.yaml", site=run.site(), options=opts)
    if script is None:
        return
    run.execute(script)
    check_canaries()
    # dispatch's probe may not be found on a hostile PATH of its own: jobc prepends, so the job's PATH follows
    run.check_ok()
    [d] = run.probe("dispatch")
    for i, v in enumerate(env):
        assert d["env"][f"E{i}"] == v
    want = [
        p if p.startswith("/") else str(PurePosixPath("/spec dir", p))
        for p in map(lambda s: str(PurePosixPath(s)), entries)
    ]
    assert d["env"]["PATH"].startswith(":".join(want) + ":")
    CASES.add(n)


# --- bfabric python_env: lock file and extra dependency paths -----------------------------------------------------

UV_STAND_IN = """#!/usr/bin/env python3
# A stand-in for uv: records its argv; `venv ... ENV` makes ENV/bin/python, which runs the probe.
import json, os, sys
with open(os.environ["JOBC_UV_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1] == "venv":
    env = sys.argv[-1]
    os.makedirs(os.path.join(env, "bin"), exist_ok=True)
    with open(os.path.join(env, "bin", "python"), "w") as fh:
        fh.write("#!/bin/sh\\nexec %s %s process \\"$@\\"\\n" % (os.environ["JOBC_PROBE"], os.environ["JOBC_PROBES"]))
    os.chmod(os.path.join(env, "bin", "python"), 0o755)
"""


# A lock file path relative to the spec's directory (the script checks that the file exists, so the test makes
# it): no `..`, and no name longer than a file system takes.
bf_relative_path = bf_mount_path.map(lambda s: s.lstrip("/") or "x").filter(
    lambda s: (
        ".." not in s.split("/") and all(len(part.encode("utf-8", "surrogateescape")) <= 200 for part in s.split("/"))
    )
)


@_run_settings(1.0)
@given(pylock=bf_relative_path, deps=st.lists(bf_mount_path, max_size=3), refresh=st.booleans())
def test_bfabric_python_env_paths(new_run, pylock, deps, refresh):
    """The lock file and the extra dependencies reach uv byte-exact, as single arguments; no canary runs."""
    run = new_run()
    work = run.root / "work"
    work.mkdir()
    app_dir = run.root / "spec dir"
    lock_file = Path(str(PurePosixPath(app_dir, pylock)))
    if lock_file.exists() and not lock_file.is_file():
        return  # the hostile name is a directory of the test's own layout
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock_file.write_text("")
    uv = run.root / "uv"
    uv.write_text(UV_STAND_IN)
    uv.chmod(0o755)
    y = lambda v: _yaml_str(_mako_literal(v))  # noqa: E731
    dispatch = _mako_literal(shlex.join([DISPATCH, str(run.probes), "dispatch"]))
    deps_yaml = "".join(f"          - {y(d)}\n" for d in deps)
    text = (
        'versions:\n  - version: "1.0"\n    commands:\n'
        f"      dispatch:\n        type: exec\n        command: {_yaml_str(dispatch)}\n"
        f'      process:\n        type: python_env\n        command: "-m app"\n        pylock: {y(pylock)}\n'
        f"        refresh: {'true' if refresh else 'false'}\n"
        + (f"        local_extra_deps:\n{deps_yaml}" if deps else "")
    )
    opts = CompileOptions(app=AppOptions(workunit_ref="42", work_dir=str(work), app_dir=str(app_dir)))
    n = 1 + len(deps)
    try:
        script = compile_spec(text, name="app.yaml", site=run.site(tools={"uv": str(uv)}), options=opts).script
    except SpecError:
        CASES.rejected += n
        return
    log = run.root / "uv.log"
    run.execute(
        script,
        {
            "JOBC_UV_LOG": str(log),
            "JOBC_PROBE": PROBE,
            "JOBC_PROBES": str(run.probes),
            "XDG_CACHE_HOME": str(run.root / "cache"),
        },
    )
    check_canaries()
    run.check_ok()
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").split("\n") if line]
    resolved = lambda p: str(PurePosixPath(app_dir, p))  # noqa: E731 - absolute paths stay themselves
    [install] = [c for c in calls if c[:2] == ["pip", "install"] and "-r" in c]
    assert install[install.index("-r") + 1] == resolved(pylock)
    if deps:
        [extra] = [c for c in calls if "--no-deps" in c]
        assert extra[extra.index("--") + 1 :] == [resolved(d) for d in deps]
    [p] = run.probe("process")
    assert p["argv"][:1] == ["-m"]
    CASES.add(n)


# --- DeepSquare control flow: step names in groups, catch and finally; the `if` text round-trip ------------------


@_run_settings(0.6)
@given(group=HOSTILE, inner=HOSTILE, catch=HOSTILE, fin=HOSTILE, value=HOSTILE)
def test_control_flow_names_and_if_text(new_run, group, inner, catch, fin, value):
    """The `if` compares $V with the hostile value quoted as the user would: true only if the text is exact."""
    run = new_run()
    spec = {
        "resources": RESOURCES,
        "env": [{"key": "V", "value": value}],
        "steps": [
            {
                "name": group,
                "steps": [{"name": inner, "run": {"command": "exit 3"}}],
                "catch": [{"name": catch, "run": {"command": run.probe_cmd("catch")}}],
                "finally": [{"name": fin, "run": {"command": run.probe_cmd("finally")}}],
            },
            {"name": "t", "if": "$V == " + shlex.quote(value), "run": {"command": run.probe_cmd("true")}},
            {"name": "f", "if": "$V != " + shlex.quote(value), "run": {"command": run.probe_cmd("false")}},
        ],
    }
    script = compile_or_reject(dump(spec), 5, name="job.json", site=run.site())
    if script is None:
        return
    run.execute(script)
    check_canaries()
    run.check_ok()
    [caught] = run.probe("catch")
    assert caught["env"]["DEEPSQUARE_ERROR_CODE"] == "3"
    [fin_probe] = run.probe("finally")
    assert fin_probe["env"]["DEEPSQUARE_ERROR_CODE"] == "3"
    assert len(run.probe("true")) == 1 and run.probe("false") == []
    names = [r["argv"][0] for r in run.records("srun")]
    assert f"--job-name={inner}" in names and f"--job-name={catch}" in names
    CASES.add(5)
