"""The Slurm the host lacks, in a Debian root filesystem built with mmdebstrap.

The real-Slurm tests run on two Debian Slurm versions: 22.05 (Debian 12,
bookworm) and 24.11 (Debian 13, trixie).  The host's comes from its own
packages (cluster.SlurmCluster); the other one runs here:

- `ensure_rootfs(suite)` builds `build/slurm-rootfs/<suite>-<hash>` with
  `mmdebstrap --mode=root --variant=minbase` from Debian's mirror (about
  40 s, 260 MB for trixie) and keeps it between runs; the hash covers the
  suite and the package list, so changing ROOTFS_PACKAGES builds a new one
  (and removes the stale ones of that suite).  The host's apt sources are
  never touched.
- `RootfsSlurmCluster` is a SlurmCluster whose munged, slurmctld, slurmd and
  client commands (sbatch, squeue, scancel, ...) all run in that root
  filesystem, the root (pivot_root) of a private mount namespace held by one
  `sleep` process: fresh /proc, /sys and /dev from the host, its own /run (so its
  munged never meets the host's), its own /etc/hosts (the host name on
  127.0.0.1, which munged needs), and the host's temp dir and the project
  bound at the same paths (job scripts, tmp_path, the cluster's scratch dir
  and tests/shims are where the tests expect them).  The network namespace is
  the host's, so the S3 and HTTP test servers on 127.0.0.1 are reachable.
  Jobs therefore run with the root filesystem's bash, srun, coreutils,
  curl and python3; s5cmd (a static binary) is copied in.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .cluster import (
    HarnessError,
    SlurmCluster,
    _proc_comm,
    _run_checked,
    ensure_packages,
    spawn_daemon,
    stop_pid,
    tail,
    which,
)

REPO = Path(__file__).resolve().parents[2]
ROOTFS_BASE = REPO / "build" / "slurm-rootfs"

# Debian suite -> (Debian major version, Slurm version in that suite).
SUITES = {"bookworm": ("12", "22.05"), "trixie": ("13", "24.11")}

# What the daemons, the harness and the jobs of the tests need inside the root filesystem.
ROOTFS_PACKAGES = (
    "slurm-wlm",
    "munge",
    "bash",
    "coreutils",
    "util-linux",
    "procps",
    "findutils",
    "grep",
    "sed",
    "tar",
    "gzip",
    "bzip2",
    "xz-utils",
    "zip",
    "unzip",
    "file",
    "curl",
    "wget",
    "ca-certificates",
    "python3",
    "iproute2",
    "slirp4netns",
    "uidmap",
    "wireguard-tools",
    "wireguard-go",
)
ROOTFS_FORMAT = 1  # bump when the build itself changes
MIRROR = os.environ.get("JOBC_ROOTFS_MIRROR", "http://deb.debian.org/debian")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# --------------------------------------------------------------------------
# which Slurm the host has, which one it lacks


def host_suite(debian_version: str | None = None, slurm_package: str | None = None) -> str:
    """The host's Debian suite ("bookworm" or "trixie"): /etc/debian_version ("12.11", "13.1",
    "trixie/sid"), else the installed slurm-wlm package's version ("22.05.8-4+deb12u3")."""
    if debian_version is None:
        with contextlib.suppress(OSError):
            debian_version = Path("/etc/debian_version").read_text()
    v = (debian_version or "").strip()
    for suite, (major, _) in SUITES.items():
        if v and (v.split(".")[0] == major or v.startswith(suite)):
            return suite
    if slurm_package is None:
        with contextlib.suppress(OSError):
            r = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", "slurm-wlm"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            slurm_package = r.stdout if r.returncode == 0 else ""
    for suite, (_, slurm) in SUITES.items():
        if (slurm_package or "").startswith(slurm + "."):
            return suite
    raise HarnessError(
        "cannot tell the host's Debian suite from /etc/debian_version or the slurm-wlm "
        f"package: the harness knows {sorted(SUITES)}"
    )


def other_suite() -> str:
    host = host_suite()
    return next(s for s in SUITES if s != host)


def suite_of_version(version: str) -> str:
    for suite, (_, slurm) in SUITES.items():
        if slurm == version:
            return suite
    raise HarnessError(f"no Debian suite ships Slurm {version}: known {SUITES}")


# --------------------------------------------------------------------------
# the root filesystem


def rootfs_key(suite: str, packages=ROOTFS_PACKAGES) -> str:
    data = json.dumps(
        {"suite": suite, "packages": sorted(packages), "format": ROOTFS_FORMAT, "variant": "minbase"}, sort_keys=True
    )
    return f"{suite}-{hashlib.sha256(data.encode()).hexdigest()[:12]}"


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path).rstrip("/") + "/"
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == str(path) or mp.startswith(prefix):
                out.append(mp)
    return out


def _remove_tree(path: Path) -> None:
    """rm -rf a (partial) root filesystem, never through a mount (a leftover bind of /dev, /sys...)."""
    if not path.exists():
        return
    mounts = _mounts_under(path)
    if mounts:
        raise HarnessError(f"refusing to delete {path}: mounts inside it {mounts[:5]}")
    shutil.rmtree(path)


def ensure_mmdebstrap() -> str:
    found = which("mmdebstrap")
    if found:
        return found
    if os.geteuid() != 0:
        raise HarnessError(
            "mmdebstrap is missing and we are not root: `apt-get install -y --no-install-recommends mmdebstrap`"
        )
    lock_path = Path(tempfile.gettempdir()) / "jobc-harness-apt.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not which("mmdebstrap"):
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            _run_checked(["apt-get", "update"], env=env, timeout=600)
            _run_checked(
                ["apt-get", "install", "-y", "--no-install-recommends", "mmdebstrap", "gpg"], env=env, timeout=1200
            )
    found = which("mmdebstrap")
    if not found:
        raise HarnessError("apt-get installed mmdebstrap but it is not on PATH")
    return found


def ensure_rootfs(suite: str, packages=ROOTFS_PACKAGES) -> Path:
    """The cached root filesystem for `suite`, built first if missing. Raises HarnessError on failure."""
    if suite not in SUITES:
        raise HarnessError(f"unknown Debian suite {suite!r}")
    target = ROOTFS_BASE / rootfs_key(suite, packages)
    stamp = target / ".jobc-rootfs.json"
    if stamp.is_file():
        return target
    if os.geteuid() != 0:
        raise HarnessError(f"building the {suite} root filesystem needs root (mmdebstrap --mode=root)")
    mmdebstrap = ensure_mmdebstrap()
    ROOTFS_BASE.mkdir(parents=True, exist_ok=True)
    with open(ROOTFS_BASE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time; a second one finds it built
        if stamp.is_file():
            return target
        for old in ROOTFS_BASE.iterdir():  # stale package lists and killed builds of this suite
            if old.name.startswith(f"{suite}-") and old.is_dir() and old != target:
                _remove_tree(old)
        tmp = ROOTFS_BASE / f"{target.name}.tmp-{os.getpid()}"
        _remove_tree(tmp)
        t0 = time.monotonic()
        # In a mount namespace of its own, so no mount mmdebstrap makes can outlive it.
        argv = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            mmdebstrap,
            "--mode=root",
            "--variant=minbase",
            "--include=" + ",".join(packages),
            suite,
            str(tmp),
            MIRROR,
        ]
        try:
            r = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=1200,
            )
        except subprocess.TimeoutExpired as e:
            raise HarnessError(f"mmdebstrap {suite} did not finish in 1200 s") from e
        if r.returncode != 0:
            with contextlib.suppress(HarnessError, OSError):
                _remove_tree(tmp)
            raise HarnessError(f"mmdebstrap {suite} failed ({r.returncode}):\n{r.stdout[-4000:]}")
        missing = [
            p
            for p in (
                "usr/sbin/slurmctld",
                "usr/sbin/slurmd",
                "usr/sbin/munged",
                "usr/bin/sbatch",
                "etc/munge/munge.key",
            )
            if not (tmp / p).exists()
        ]
        if missing:
            raise HarnessError(f"the {suite} root filesystem lacks {missing}")
        seconds = time.monotonic() - t0
        du = subprocess.run(["du", "-sm", str(tmp)], stdout=subprocess.PIPE, text=True)
        (tmp / ".jobc-rootfs.json").write_text(
            json.dumps(
                {
                    "suite": suite,
                    "packages": sorted(packages),
                    "mirror": MIRROR,
                    "build_seconds": round(seconds, 1),
                    "size_mb": int(du.stdout.split()[0]) if du.returncode == 0 else None,
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                },
                indent=1,
            )
            + "\n"
        )
        os.rename(tmp, target)
    return target


def rootfs_info(path: Path) -> dict:
    with contextlib.suppress(OSError, ValueError):
        return json.loads((path / ".jobc-rootfs.json").read_text())
    return {}


# --------------------------------------------------------------------------
# a cluster inside it

# Runs in a new mount namespace (the host's sh): binds what the cluster needs into the root filesystem, then
# makes it the namespace's root with pivot_root. Not chroot: in a chroot the kernel refuses to create user
# namespaces (EPERM, user_namespaces(7)), and jobs use `unshare --user` (mapRoot, slirp4netns, WireGuard).
# $1 root filesystem, $2 the hosts file, then the directories to bind at their own paths.
_HOLDER_SETUP = r"""
set -eu
R=$1 hosts=$2
shift 2
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount --bind "$hosts" "$R/etc/hosts"
for d in "$@"; do
  mkdir -p "$R$d"
  mount --bind "$d" "$R$d"
done
mkdir -p "$R/.jobc-oldroot"
cd "$R"
pivot_root . .jobc-oldroot
cd /
umount -l /.jobc-oldroot
install -d -o munge -g munge -m 0755 /run/munge
echo ready
exec /bin/sleep infinity
"""


class RootfsSlurmCluster(SlurmCluster):
    """SlurmCluster running Debian `suite`'s Slurm in a cached root filesystem (see the module doc)."""

    def __init__(self, nodes: int = 1, *, suite: str, binds: tuple | list = (), **kw):
        super().__init__(nodes, **kw)
        self.suite = suite
        self.rootfs: Path | None = None
        self.rootfs_seconds: float | None = None  # time spent in ensure_rootfs (a build or a cache hit)
        self._binds = [Path(b) for b in binds]
        self._holder: subprocess.Popen | None = None
        self._munged: subprocess.Popen | None = None

    @property
    def where(self) -> str:
        major = SUITES[self.suite][0]
        name = self.rootfs.name if self.rootfs else self.suite
        return f"Debian {major} {self.suite}, root filesystem build/slurm-rootfs/{name}"

    def start(self) -> "RootfsSlurmCluster":
        if self._started:
            return self
        ensure_packages()  # the host's nsenter, unshare, setpriv (util-linux)
        t0 = time.monotonic()
        self.rootfs = ensure_rootfs(self.suite)
        self.rootfs_seconds = time.monotonic() - t0
        from .s3 import ensure_s5cmd  # jobs of the S3 tests run s5cmd inside the root filesystem

        s5 = Path(ensure_s5cmd())
        dest = self.rootfs / "usr/local/bin/s5cmd"
        if not dest.exists() or dest.stat().st_size != s5.stat().st_size:
            tmp = dest.with_name(f".s5cmd.{os.getpid()}")
            shutil.copy2(s5, tmp)
            os.replace(tmp, dest)
        super().start()
        return self

    # ---- hooks of SlurmCluster
    def _system_path(self) -> str:
        return SYSTEM_PATH

    def _client_argv(self, argv, cwd):
        assert self._holder is not None, "root filesystem namespace not started"
        return (
            [
                which("nsenter") or "nsenter",
                "-t",
                str(self._holder.pid),
                "-m",
                "-r",
                "-w",
                "--",
                "/usr/bin/env",
                "-C",
                str(cwd or "/"),
                *map(str, argv),
            ],
            None,
        )

    def _start_munge(self) -> None:
        s = self.scratch
        hosts = s / "etc-hosts"
        hosts.write_text(f"127.0.0.1\tlocalhost {self.hostname}\n::1\tlocalhost ip6-localhost\n")
        binds = [Path(tempfile.gettempdir()), REPO, *self._binds]
        if not any(s == b or b in s.parents for b in binds):
            binds.append(s)
        uniq: list[str] = []
        for b in sorted({str(b.resolve()) for b in binds}, key=len):
            if not any(b == u or b.startswith(u + "/") for u in uniq):
                uniq.append(b)
        log = self.path("log", "holder.out")
        self._holder = spawn_daemon(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "/bin/sh",
                "-c",
                _HOLDER_SETUP,
                "holder",
                str(self.rootfs),
                str(hosts),
                *uniq,
            ],
            log_path=log,
            cwd="/",
        )
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if self._holder.poll() is not None:
                raise HarnessError(f"the mount namespace for {self.rootfs} did not come up:\n{tail(log)}")
            if "ready" in tail(log, 5) and _proc_comm(self._holder.pid) == "sleep":
                break
            time.sleep(0.05)
        else:
            raise HarnessError(f"the mount namespace for {self.rootfs} did not come up in 20 s:\n{tail(log)}")
        argv, _ = self._client_argv(
            ["/usr/bin/setpriv", "--reuid=munge", "--regid=munge", "--init-groups", "--", "/usr/sbin/munged", "-F"], "/"
        )
        self._munged = spawn_daemon(argv, log_path=self.path("log", "munged.out"), cwd="/")
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if self._munged.poll() is not None:
                raise HarnessError(
                    f"munged in {self.rootfs} exited with {self._munged.returncode}:\n"
                    f"{tail(self.path('log', 'munged.out'))}\n"
                    f"{tail(self.rootfs / 'var/log/munge/munged.log')}"
                )
            r = self.run(["/bin/sh", "-c", "munge -n | unmunge"], check=False, timeout=15)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise HarnessError(
            f"munged in {self.rootfs} does not answer `munge -n | unmunge`:\n"
            f"{tail(self.rootfs / 'var/log/munge/munged.log')}"
        )

    def _stop_munge(self) -> None:
        for attr in ("_munged", "_holder"):
            p = getattr(self, attr)
            if p is not None:
                stop_pid(p.pid, proc=p)
                setattr(self, attr, None)

    def log_tails(self, lines: int = 30) -> str:
        out = super().log_tails(lines)
        if self.rootfs:
            f = self.rootfs / "var/log/munge/munged.log"
            out += f"\n--- {f} (last {lines} lines) ---\n{tail(f, lines)}"
        return out
