"""A real, throw-away Slurm cluster on this machine, for tests.

Everything here uses the standard library only.  The cluster runs as root,
listens on 127.0.0.1 only, keeps every file in a scratch directory and stops
every process it started by PID (never by name).

    with SlurmCluster(nodes=1) as c:
        res = c.submit("job.sh")
        assert res.returncode == 0, res.output
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

# --------------------------------------------------------------------------
# packages

# The host's packages: one list, shared with tests/run.sh.
APT_PACKAGES = tuple(
    line
    for line in (Path(__file__).with_name("debian-packages.txt").read_text().splitlines())
    if line and not line.startswith("#")
)
# Programs the harness itself needs once the packages are in.
REQUIRED_PROGRAMS = (
    "slurmctld",
    "slurmd",
    "sbatch",
    "srun",
    "squeue",
    "scontrol",
    "scancel",
    "sinfo",
    "munged",
    "munge",
    "unmunge",
    "runuser",
    "mknod",
    "curl",
)
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")

_apt_updated = False
_packages_ok = False


class HarnessError(RuntimeError):
    """The test cluster (or a helper server) could not be set up."""


def which(prog: str) -> str | None:
    """shutil.which that also looks in the sbin directories."""
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(_SBIN)
    return shutil.which(prog, path=path)


def _dpkg_installed(pkg: str) -> bool:
    r = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", pkg],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        timeout=30,
    )
    return r.returncode == 0 and r.stdout.strip().endswith(" installed")


def _provided() -> set[str]:
    """Virtual packages the installed ones provide (NodeSource's nodejs provides npm), as tests/run.sh counts them."""
    r = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Abbrev}\t${Provides}\n"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        timeout=30,
    )
    names = set()
    for line in r.stdout.splitlines():
        status, _, provides = line.partition("\t")
        if status.strip() == "ii":
            names |= {item.split("(")[0].strip() for item in provides.split(",") if item.strip()}
    return names


def missing_packages() -> list[str]:
    if not shutil.which("dpkg-query"):
        raise HarnessError("dpkg-query not found: the harness needs Debian/Ubuntu")
    missing = [p for p in APT_PACKAGES if not _dpkg_installed(p)]
    provided = _provided() if missing else set()
    return [p for p in missing if p not in provided]


def ensure_packages() -> None:
    """Install the Debian packages the harness needs, when missing.

    Raises HarnessError when they are missing and cannot be installed;
    it never silently skips.
    """
    global _apt_updated, _packages_ok
    if _packages_ok:
        return
    lock_path = Path(tempfile.gettempdir()) / "jobc-harness-apt.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one installer at a time
        missing = missing_packages()
        if missing:
            if os.geteuid() != 0:
                raise HarnessError(
                    f"missing Debian packages {missing} and not root: run as root or "
                    "`apt-get install -y --no-install-recommends " + " ".join(missing) + "`"
                )
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            if not _apt_updated:
                _run_checked(["apt-get", "update"], env=env, timeout=600)
                _apt_updated = True
            _run_checked(
                [
                    "apt-get",
                    "install",
                    "-y",
                    "--no-install-recommends",
                    "-o",
                    "Dpkg::Options::=--force-confold",
                    *missing,
                ],
                env=env,
                timeout=1200,
            )
            still = missing_packages()
            if still:
                raise HarnessError(f"apt-get install finished but {still} are not installed")
    absent = [p for p in REQUIRED_PROGRAMS if not which(p)]
    if absent:
        raise HarnessError(f"programs not found after installing packages: {absent}")
    _packages_ok = True


def _run_checked(cmd: list[str], *, env=None, timeout: float) -> None:
    try:
        r = subprocess.run(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"{cmd} timed out after {timeout}s") from e
    if r.returncode != 0:
        raise HarnessError(f"{cmd} failed with {r.returncode}:\n{r.stdout[-4000:]}")


# --------------------------------------------------------------------------
# processes: free ports, a parent-death watchdog, stop by PID


def free_ports(n: int = 1) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (bind port 0, then release)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]


# The watchdog is a tiny separate process (this file run as a script with
# --watchdog) that reads lines on its stdin: "PID" to watch a process, "-PID"
# to forget it, "rm PATH" to delete a scratch directory.  When its stdin
# reaches EOF -- the test process exited or was killed, even with SIGKILL --
# it terminates every PID still watched (checking the process start time, so
# a reused PID is never hit) and deletes the registered directories.
def _watchdog_main() -> None:
    for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(s, signal.SIG_IGN)

    def stat(pid: int):
        try:
            with open(f"/proc/{pid}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            return rest[0], rest[19]
        except (OSError, IndexError):
            return None, None

    procs: dict[int, str | None] = {}
    dirs: list[str] = []
    for line in sys.stdin:
        line = line.rstrip("\n")
        try:
            if line.startswith("rm "):
                dirs.append(line[3:])
            elif line.startswith("-rm "):
                with contextlib.suppress(ValueError):
                    dirs.remove(line[4:])
            elif line.startswith("-"):
                procs.pop(int(line[1:]), None)
            elif line.strip():
                procs[int(line)] = stat(int(line))[1]
        except ValueError:
            pass

    def alive() -> list[int]:
        out = []
        for pid, start in procs.items():
            state, now = stat(pid)
            if start is not None and now == start and state not in ("Z", "X"):
                out.append(pid)
        return out

    for sig in (signal.SIGTERM, signal.SIGKILL):
        live = alive()
        if not live:
            break
        for pid in live:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        end = time.monotonic() + 8
        while time.monotonic() < end and alive():
            time.sleep(0.1)
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


_watchdog: subprocess.Popen | None = None
_watchdog_lock = threading.Lock()


def _watchdog_send(line: str) -> None:
    global _watchdog
    with _watchdog_lock:
        if _watchdog is None or _watchdog.poll() is not None:
            _watchdog = subprocess.Popen(
                [sys.executable, "-I", os.path.abspath(__file__), "--watchdog"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            _watchdog.stdin.write((line + "\n").encode())
            _watchdog.stdin.flush()
        except (BrokenPipeError, OSError):
            pass


def watch_pid(pid: int) -> None:
    """Have the watchdog kill `pid` if this process dies before unwatch_pid."""
    _watchdog_send(str(pid))


def unwatch_pid(pid: int) -> None:
    _watchdog_send(f"-{pid}")


def watch_dir(path: str | Path) -> None:
    """Have the watchdog delete `path` if this process dies before unwatch_dir."""
    _watchdog_send(f"rm {path}")


def unwatch_dir(path: str | Path) -> None:
    _watchdog_send(f"-rm {path}")


def spawn_daemon(
    argv: list[str], *, log_path: Path, env: dict | None = None, cwd: str | Path | None = None
) -> subprocess.Popen:
    """Start a foreground daemon we own: own session, stdout+stderr to
    log_path, SIGTERM when this process dies (PR_SET_PDEATHSIG via setpriv,
    plus the watchdog for the case where that is not enough)."""
    setpriv = which("setpriv")
    if setpriv:
        argv = [setpriv, "--pdeathsig", "TERM", "--", *argv]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    watch_pid(proc.pid)
    return proc


def _proc_comm(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def _pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def stop_pid(pid: int, *, proc: subprocess.Popen | None = None, grace: float = 10.0) -> None:
    """SIGTERM one PID we started, wait up to `grace` s, then SIGKILL."""

    def gone() -> bool:
        if proc is not None:
            return proc.poll() is not None
        return not _pid_alive(pid)

    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if gone():
            break
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end and not gone():
            time.sleep(0.05)
    unwatch_pid(pid)


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    return "\n".join(text.splitlines()[-lines:])


def clean_env(extra: dict | None = None) -> dict:
    """os.environ without any Slurm client settings leaking in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLURM_", "SBATCH_", "SALLOC_", "SRUN_", "SQUEUE_", "SINFO_"))
    }
    # The harness's own interpreter (and its venv tools) first on PATH, so
    # jobs -- which inherit the submitter's environment -- find them too.
    bindir = str(Path(sys.executable).parent)
    parts = env.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(os.pathsep)
    for d in reversed([bindir, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]):
        if d not in parts:
            parts.insert(0, d) if d == bindir else parts.append(d)
    env["PATH"] = os.pathsep.join(parts)
    if extra:
        env.update(extra)
    return env


# --------------------------------------------------------------------------
# munge

MUNGE_RUN_DIR = Path("/run/munge")
MUNGE_PID_FILE = MUNGE_RUN_DIR / "munged.pid"
_munge_lock = threading.Lock()
_munge_users = 0
_munge_pid: int | None = None  # set only when *we* started munged


def munge_works() -> bool:
    munge, unmunge = which("munge"), which("unmunge")
    if not (munge and unmunge):
        return False
    try:
        cred = subprocess.run([munge, "-n"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10)
        if cred.returncode != 0:
            return False
        r = subprocess.run(
            [unmunge], input=cred.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10
        )
        return r.returncode == 0
    except subprocess.TimeoutExpired:
        return False


def acquire_munge() -> None:
    """Make sure a munged answers; start one as the munge user if needed."""
    global _munge_users
    with _munge_lock:
        if _munge_users == 0 and not munge_works():
            _start_munged()
        _munge_users += 1


def release_munge() -> None:
    """Stop munged when the last cluster is done, if we started it."""
    global _munge_users, _munge_pid
    with _munge_lock:
        _munge_users = max(0, _munge_users - 1)
        if _munge_users == 0 and _munge_pid is not None:
            if _proc_comm(_munge_pid) == "munged":
                stop_pid(_munge_pid)
            else:
                unwatch_pid(_munge_pid)
            _munge_pid = None


def _start_munged() -> None:
    global _munge_pid
    import grp
    import pwd

    try:
        pw = pwd.getpwnam("munge")
    except KeyError:
        raise HarnessError("no 'munge' user: is the munge package installed?") from None
    uid, gid = pw.pw_uid, grp.getgrnam("munge").gr_gid if _has_group("munge") else pw.pw_gid
    for d, mode in ((MUNGE_RUN_DIR, 0o755), (Path("/var/log/munge"), 0o700), (Path("/var/lib/munge"), 0o711)):
        d.mkdir(parents=True, exist_ok=True)
        os.chown(d, uid, gid)
        os.chmod(d, mode)
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        _run_checked(["runuser", "-u", "munge", "--", "mungekey", "--create", "--keyfile", str(key)], timeout=30)
    r = subprocess.run(
        ["runuser", "-u", "munge", "--", which("munged") or "/usr/sbin/munged"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=30,
    )
    if r.returncode != 0:
        raise HarnessError(
            f"munged failed to start ({r.returncode}):\n{r.stdout}\n{tail(Path('/var/log/munge/munged.log'))}"
        )
    end = time.monotonic() + 15
    while time.monotonic() < end and not munge_works():
        time.sleep(0.1)
    if not munge_works():
        raise HarnessError(
            "munged started but `munge -n | unmunge` still fails:\n" + tail(Path("/var/log/munge/munged.log"))
        )
    try:
        _munge_pid = int(MUNGE_PID_FILE.read_text().strip())
        watch_pid(_munge_pid)
    except (OSError, ValueError):
        _munge_pid = None
    atexit.register(_stop_munged_at_exit)


def _has_group(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def _stop_munged_at_exit() -> None:
    global _munge_users
    if _munge_users:
        _munge_users = 1
        release_munge()


# --------------------------------------------------------------------------
# the cluster


@dataclasses.dataclass
class JobResult:
    job_id: str | None
    returncode: int
    output: str  # text of the job's --output file, read after the job ended
    output_path: Path | None
    sbatch_stdout: str
    sbatch_stderr: str
    elapsed: float

    def __str__(self) -> str:
        return (
            f"JobResult(job_id={self.job_id}, returncode={self.returncode}, "
            f"elapsed={self.elapsed:.1f}s)\n--- sbatch stderr ---\n{self.sbatch_stderr}"
            f"\n--- job output ({self.output_path}) ---\n{self.output}"
        )


class JobTimeout(AssertionError):
    """A job submitted with SlurmCluster.submit did not end in time."""


_KEY_RE = re.compile(r"(?:^|\s)([A-Za-z][A-Za-z0-9_/:.\-]*)=")


def parse_scontrol_line(line: str) -> dict[str, str]:
    """Parse one `scontrol show -o` record (Key=Value Key=Value ...)."""
    out: dict[str, str] = {}
    matches = list(_KEY_RE.finditer(line))
    for m, nxt in zip(matches, matches[1:] + [None], strict=True):
        end = nxt.start() if nxt is not None else len(line)
        out[m.group(1)] = line[m.end() : end].strip()
    return out


class SlurmCluster:
    """A Slurm controller plus `nodes` slurmd daemons on this machine.

    Node names are n1..nN; partitions `debug` (default) and `gpu` both span
    all nodes (MaxNodes=N, EnforcePartLimits=ALL).  Each node claims
    CPUs=8, RealMemory=8000 and 2 fake GPUs.
    """

    CPUS = 8
    REAL_MEMORY = 8000
    GPUS = 2

    def __init__(
        self,
        nodes: int = 1,
        *,
        name: str | None = None,
        scratch: str | Path | None = None,
        keep_scratch: bool | None = None,
        start_timeout: float = 60.0,
        debug: str = "info",
    ):
        if nodes < 1:
            raise ValueError("nodes must be >= 1")
        self.nodes = nodes
        self.node_names = [f"n{i}" for i in range(1, nodes + 1)]
        self.name = name or f"jobc{uuid.uuid4().hex[:6]}"
        self._scratch_arg = scratch
        self.keep_scratch = os.environ.get("JOBC_KEEP_SLURM_SCRATCH") == "1" if keep_scratch is None else keep_scratch
        self.start_timeout = start_timeout
        self.debug = debug
        self.scratch: Path | None = None
        self.conf_path: Path | None = None
        self.env: dict[str, str] = {}
        self.ctld_port: int | None = None
        self.node_ports: dict[str, int] = {}
        self._procs: dict[str, subprocess.Popen] = {}
        self._munge = False
        self._started = False
        self._atexit = False
        self.start_seconds: float | None = None
        self.version: str | None = None  # `sinfo -V` once started, e.g. "22.05.8"

    # ---- what differs between the host's Slurm and one in a root filesystem
    # (tests/harness/rootfs.py overrides these four)
    where = "host"

    def _client_argv(self, argv: list[str], cwd: str | Path | None) -> tuple[list[str], str | Path | None]:
        """The argv and cwd that run `argv` where this cluster's Slurm lives."""
        return list(argv), cwd

    def _system_path(self) -> str | None:
        """PATH for client commands and jobs (None: the host's, with this interpreter's bin first)."""
        return None

    def _start_munge(self) -> None:
        acquire_munge()
        self._munge = True

    def _stop_munge(self) -> None:
        if self._munge:
            self._munge = False
            release_munge()

    @property
    def label(self) -> str:
        """Which Slurm this is, for test reports: "Slurm 22.05.8 (host)"."""
        return f"Slurm {self.version or '?'} ({self.where})"

    # ---- context manager
    def __enter__(self) -> "SlurmCluster":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- paths
    def path(self, *parts: str) -> Path:
        assert self.scratch is not None, "cluster not started"
        return self.scratch.joinpath(*parts)

    @property
    def jobs_dir(self) -> Path:
        return self.path("jobs")

    # ---- config
    def _write_config(self) -> None:
        s = self.scratch
        host = socket.gethostname().split(".")[0]
        self.hostname = host
        ports = free_ports(1 + self.nodes)
        self.ctld_port = ports[0]
        self.node_ports = dict(zip(self.node_names, ports[1:], strict=True))
        for d in ("state", "spool", "log", "jobs", "dev", "run", "tmp"):
            (s / d).mkdir(parents=True, exist_ok=True)
        os.chmod(s / "jobs", 0o1777)
        os.chmod(s / "tmp", 0o1777)
        # Fake GPUs: character devices equal to /dev/null (a regular file is refused).
        gpu_files = []
        for i in range(self.GPUS):
            dev = s / "dev" / f"nvidia{i}"
            if not dev.exists():
                os.mknod(dev, 0o666 | 0o020000, os.makedev(1, 3))
            gpu_files.append(dev)
        nodelist = _hostlist(self.node_names)
        (s / "plugstack.conf").write_text("")
        (s / "cgroup.conf").write_text("# cgroups are not used: proctrack/linuxproc, task/none\n")
        lines = [
            "# written by tests/harness/cluster.py for a throw-away test cluster",
            f"ClusterName={self.name}",
            f"SlurmctldHost={host}(127.0.0.1)",
            f"SlurmctldPort={self.ctld_port}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            "CommunicationParameters=NoInAddrAny,NoCtldInAddrAny",
            f"StateSaveLocation={s / 'state'}",
            f"SlurmdSpoolDir={s / 'spool' / '%n'}",
            f"SlurmctldPidFile={s / 'run' / 'slurmctld.pid'}",
            f"SlurmdPidFile={s / 'run' / 'slurmd-%n.pid'}",
            f"SlurmctldLogFile={s / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={s / 'log' / 'slurmd-%n.log'}",
            f"SlurmctldDebug={self.debug}",
            f"SlurmdDebug={self.debug}",
            f"PlugStackConfig={s / 'plugstack.conf'}",
            f"TmpFS={s / 'tmp'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none",
            "MpiDefault=none",
            "SwitchType=switch/none",
            "MailProg=/bin/true",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "DefMemPerCPU=256",
            "SchedulerParameters=batch_sched_delay=0",
            "MinJobAge=5",
            "EnforcePartLimits=ALL",
            "SlurmdParameters=config_overrides",
            "GresTypes=gpu",
            "ReturnToService=2",
            "InactiveLimit=0",
            "KillWait=30",  # Slurm's default: SIGTERM to SIGKILL; the final push of a cancelled job runs in it
            "Waittime=0",
            "SlurmctldTimeout=30",
            "SlurmdTimeout=60",
            "MessageTimeout=10",
            "",
        ]
        for n in self.node_names:
            lines.append(
                f"NodeName={n} NodeHostname={host} NodeAddr=127.0.0.1 Port={self.node_ports[n]} "
                f"CPUs={self.CPUS} Boards=1 SocketsPerBoard=1 CoresPerSocket={self.CPUS} "
                f"ThreadsPerCore=1 RealMemory={self.REAL_MEMORY} Gres=gpu:{self.GPUS} State=UNKNOWN"
            )
        lines += [
            f"PartitionName=debug Nodes={nodelist} Default=YES MaxTime=INFINITE MaxNodes={self.nodes} State=UP",
            f"PartitionName=gpu Nodes={nodelist} Default=NO MaxTime=INFINITE MaxNodes={self.nodes} State=UP",
            "",
        ]
        self.conf_path = s / "slurm.conf"
        self.conf_path.write_text("\n".join(lines))
        (s / "gres.conf").write_text(
            f"AutoDetect=off\nNodeName={nodelist} Name=gpu File={s / 'dev'}/nvidia[0-{self.GPUS - 1}]\n"
        )
        self.env = clean_env({"SLURM_CONF": str(self.conf_path)})
        if self._system_path():
            self.env["PATH"] = self._system_path()

    # ---- lifecycle
    def start(self) -> "SlurmCluster":
        if self._started:
            return self
        t0 = time.monotonic()
        ensure_packages()
        if os.geteuid() != 0:
            raise HarnessError("SlurmCluster must run as root (slurmd, munged)")
        self.scratch = (
            Path(self._scratch_arg) if self._scratch_arg else Path(tempfile.mkdtemp(prefix=f"jobc-slurm-{self.name}-"))
        )
        self.scratch.mkdir(parents=True, exist_ok=True)
        os.chmod(self.scratch, 0o755)
        if self._owns_scratch():
            watch_dir(self.scratch)
        self._started = True
        if not self._atexit:
            atexit.register(self.stop)
            self._atexit = True
        try:
            self._write_config()
            self._start_munge()
            denv = dict(self.env)
            for name, argv in [("slurmctld", ["/usr/sbin/slurmctld", "-D", "-i", "-f", str(self.conf_path)])] + [
                (n, ["/usr/sbin/slurmd", "-D", "-N", n, "-f", str(self.conf_path)]) for n in self.node_names
            ]:
                if self.where == "host":
                    argv[0] = which(Path(argv[0]).name) or argv[0]
                full, cwd = self._client_argv(argv, self.scratch)
                self._procs[name] = spawn_daemon(
                    full,
                    log_path=self.path("log", f"{name if name == 'slurmctld' else 'slurmd-' + name}.out"),
                    env=denv,
                    cwd=cwd,
                )
            self._wait_idle()
            r = self.run(["sinfo", "-V"], check=False, timeout=15)
            m = re.search(r"(\d+\.\d+\.\d+)", r.stdout)
            self.version = m.group(1) if m else r.stdout.strip() or None
        except BaseException as e:
            logs = self.log_tails()
            self.stop()
            if isinstance(e, HarnessError):
                raise HarnessError(f"{e}\n{logs}") from e
            raise
        self.start_seconds = time.monotonic() - t0
        return self

    def _wait_idle(self) -> None:
        end = time.monotonic() + self.start_timeout
        last = ""
        while time.monotonic() < end:
            for name, p in self._procs.items():
                if p.poll() is not None:
                    raise HarnessError(f"{name} exited with {p.returncode} during start")
            r = self.run(["sinfo", "-h", "-N", "-o", "%N %T"], check=False, timeout=15)
            last = (r.stdout + r.stderr).strip()
            states = {}
            for line in r.stdout.splitlines():
                parts = line.split()
                if len(parts) == 2:
                    states[parts[0]] = parts[1]
            if (
                r.returncode == 0
                and set(states) == set(self.node_names)
                and all(st == "idle" for st in states.values())
            ):
                return
            time.sleep(0.2)
        raise HarnessError(f"nodes not idle after {self.start_timeout}s; sinfo said: {last!r}")

    def log_tails(self, lines: int = 30) -> str:
        if self.scratch is None:
            return ""
        out = []
        for f in sorted(self.path("log").glob("*")):
            out.append(f"--- {f} (last {lines} lines) ---\n{tail(f, lines)}")
        return "\n".join(out)

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        try:
            if self._procs.get("slurmctld") and self._procs["slurmctld"].poll() is None:
                self.cancel_all()
        finally:
            for name in [n for n in self._procs if n != "slurmctld"] + ["slurmctld"]:
                p = self._procs.pop(name, None)
                if p is not None:
                    stop_pid(p.pid, proc=p)
            self._stop_munge()
            if self.scratch and self._owns_scratch():
                shutil.rmtree(self.scratch, ignore_errors=True)
                unwatch_dir(self.scratch)

    def _owns_scratch(self) -> bool:
        return not self.keep_scratch and not self._scratch_arg

    def cancel_all(self, timeout: float = 20.0) -> None:
        """Cancel every job of this cluster and wait (bounded) until none remain."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            r = self.run(["squeue", "-h", "-o", "%A"], check=False, timeout=15)
            ids = r.stdout.split()
            if not ids:
                return
            self.run(["scancel", *ids], check=False, timeout=15)
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                r = self.run(["squeue", "-h", "-o", "%A %T"], check=False, timeout=15)
                if r.returncode == 0 and not r.stdout.strip():
                    return
                time.sleep(0.2)

    # ---- client commands
    def run(
        self,
        argv: list[str],
        *,
        check: bool = True,
        timeout: float = 60,
        env: dict | None = None,
        cwd: str | Path | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess:
        """Run a Slurm client command (or anything) against this cluster."""
        e = dict(self.env)
        if env:
            e.update(env)
        argv, cwd = self._client_argv(argv, cwd)
        r = subprocess.run(
            argv,
            env=e,
            cwd=cwd,
            input=input,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        if check and r.returncode != 0:
            raise subprocess.CalledProcessError(r.returncode, argv, r.stdout, r.stderr)
        return r

    def submit(
        self,
        script_path: str | Path,
        *,
        timeout: float = 120,
        extra_args: tuple | list = (),
        env: dict | None = None,
        cwd: str | Path | None = None,
        output: str | Path | None = None,
    ) -> JobResult:
        """`sbatch --wait --parsable` the script; return when the job ended.

        cwd: working dir for sbatch (default: the script's directory).
        env: variables added to the cluster env (the job inherits them).
        output: the job's --output file (default: a fresh file under
        scratch/jobs); its text is read after the job ends.
        Raises JobTimeout (after cancelling the job) past `timeout` seconds.
        """
        assert self._started, "cluster not started"
        script = Path(script_path).resolve()
        cwd = Path(cwd) if cwd is not None else script.parent
        tag = uuid.uuid4().hex[:10]
        out_path = Path(output) if output is not None else self.jobs_dir / f"job-{tag}.out"
        e = dict(self.env)
        if env:
            e.update(env)
        argv = ["sbatch", "--wait", "--parsable", f"--output={out_path}", *map(str, extra_args), str(script)]
        if which("stdbuf"):  # line-buffered so the job id is visible before the job ends
            argv = ["stdbuf", "-oL", *argv]
        argv, cwd = self._client_argv(argv, cwd)
        so_path = self.jobs_dir / f"sbatch-{tag}.stdout"
        se_path = self.jobs_dir / f"sbatch-{tag}.stderr"
        t0 = time.monotonic()
        with open(so_path, "w") as so, open(se_path, "w") as se:
            p = subprocess.Popen(
                argv, env=e, cwd=cwd, stdin=subprocess.DEVNULL, stdout=so, stderr=se, start_new_session=True
            )
            try:
                rc = p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                job_id = _first_job_id(so_path.read_text())
                if job_id:
                    self.run(["scancel", job_id], check=False, timeout=15)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)
                raise JobTimeout(
                    f"job {job_id} from {script} did not end within {timeout}s; cancelled.\n"
                    f"output so far:\n{_read(out_path)}\nsbatch stderr:\n{_read(se_path)}\n"
                    f"{self.log_tails(15)}"
                ) from None
        elapsed = time.monotonic() - t0
        stdout = _read(so_path)
        return JobResult(
            job_id=_first_job_id(stdout),
            returncode=rc,
            output=_read(out_path),
            output_path=out_path,
            sbatch_stdout=stdout,
            sbatch_stderr=_read(se_path),
            elapsed=elapsed,
        )

    def sbatch(self, script_path: str | Path, *args: str, cwd=None, env=None) -> str:
        """Submit without waiting; return the job id."""
        script = Path(script_path).resolve()
        r = self.run(["sbatch", "--parsable", *args, str(script)], cwd=cwd or script.parent, env=env, timeout=60)
        job_id = _first_job_id(r.stdout)
        if not job_id:
            raise HarnessError(f"sbatch printed no job id: {r.stdout!r} {r.stderr!r}")
        return job_id

    def scontrol_show_job(self, job_id: str | int) -> dict[str, str]:
        r = self.run(["scontrol", "show", "job", "-o", str(job_id)], timeout=30)
        line = r.stdout.strip().splitlines()[0] if r.stdout.strip() else ""
        return parse_scontrol_line(line)

    def scancel(self, *args: str) -> subprocess.CompletedProcess:
        return self.run(["scancel", *map(str, args)], timeout=30)

    def wait_job_gone(self, job_id: str | int, timeout: float = 30) -> None:
        """Wait until squeue no longer lists the job as pending/running."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = self.run(["squeue", "-h", "-j", str(job_id), "-o", "%T"], check=False)
            if (
                r.returncode != 0
                or not r.stdout.strip()
                or r.stdout.strip()
                in (
                    "COMPLETED",
                    "CANCELLED",
                    "FAILED",
                    "TIMEOUT",
                    "OUT_OF_MEMORY",
                    "NODE_FAIL",
                    "PREEMPTED",
                    "BOOT_FAIL",
                    "DEADLINE",
                )
            ):
                return
            time.sleep(0.2)
        raise JobTimeout(f"job {job_id} still listed after {timeout}s")

    @property
    def pids(self) -> dict[str, int]:
        return {n: p.pid for n, p in self._procs.items()}


def _read(path: Path) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def _first_job_id(text: str) -> str | None:
    for line in text.splitlines():
        m = re.match(r"\s*(\d+)(?:;\S+)?\s*$", line)
        if m:
            return m.group(1)
    return None


def _hostlist(names: list[str]) -> str:
    nums = [int(n[1:]) for n in names]
    if len(nums) == 1:
        return names[0]
    return f"n[{min(nums)}-{max(nums)}]"


if __name__ == "__main__" and sys.argv[1:] == ["--watchdog"]:
    _watchdog_main()
