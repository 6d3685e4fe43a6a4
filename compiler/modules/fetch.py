"""Git modules in a local cache, fetched with the `git` command when the job is compiled.

The cache holds one bare repository per URL (`<cache>/<sha256 of the URL>.git`, with the URL in its
`jobc-url` file), fetched with every branch and tag and the remote's HEAD. A ref is resolved to a commit in
that repository, which is what the frontend inlines and what the script's comment records; the module file
is read from the commit's tree (`git show`), so no working tree is ever checked out.

Refs (the grid takes a hex-looking ref for a commit and anything else for a tag, so branches are impossible):
none is the remote's HEAD; otherwise a tag (`<subdir>/<ref>` first for a module in a subdirectory, as the
grid's monorepos tag them), then a branch, then a commit (7 to 40 hex digits, any case). Online, the
repository is fetched first, unless the ref is a commit the cache already holds. Offline, only the cache is
read: a branch is where the last fetch saw it.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass

from .sources import GitSource, Location

_HEX = re.compile(r"[0-9a-fA-F]{7,40}\Z")
HEAD_REF = "refs/jobc/HEAD"
TIMEOUT = 300


class FetchProblem(Exception):
    """The module could not be had: the message says why, for the `use.source` field."""


@dataclass(frozen=True)
class Cache:
    root: str
    offline: bool = False


def default_root(environ: dict | None = None) -> str:
    """`$JOBC_MODULE_CACHE`, else `$XDG_CACHE_HOME/jobc/modules`, else `~/.cache/jobc/modules`."""
    env = os.environ if environ is None else environ
    if env.get("JOBC_MODULE_CACHE"):
        return env["JOBC_MODULE_CACHE"]
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jobc", "modules")


def repository_dir(cache: Cache, url: str) -> str:
    return os.path.join(cache.root, hashlib.sha256(url.encode()).hexdigest()[:32] + ".git")


def resolve(cache: Cache, source: GitSource) -> Location:
    """The module's directory in its repository at the commit its ref names."""
    repo = repository_dir(cache, source.url)
    cached = os.path.isdir(repo)
    if cache.offline:
        if not cached:
            raise FetchProblem(f"{source.url} is not in the module cache ({cache.root}); run once without --offline")
    elif not (cached and source.ref and _HEX.match(source.ref) and _commit(repo, source.ref)):
        _fetch(repo, source.url, cached)
    commit = _resolve_ref(repo, source)
    if commit is None:
        where = " (offline: as the cache last saw it)" if cache.offline else ""
        raise FetchProblem(f"{source.url} has no tag, branch or commit {source.ref!r}{where}")
    return Location(source.subdir, source.url, commit, repo)


def read_file(location: Location, name: str) -> str | None:
    """The text of `name` in the module's directory, or None when there is no such file."""
    if not location.is_git:
        path = os.path.join(location.directory, name)
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise FetchProblem(f"{path} is not UTF-8 text") from None
        except OSError as exc:
            raise FetchProblem(f"{path}: {exc.strerror}") from None
    assert location.store is not None and location.commit is not None
    inside = f"{location.directory}/{name}" if location.directory else name
    done = _git(location.store, "cat-file", "-p", f"{location.commit}:{inside}", check=False, binary=True)
    if done.returncode != 0:
        return None
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise FetchProblem(f"{inside} at {location.commit} is not UTF-8 text") from None


def _fetch(repo: str, url: str, cached: bool) -> None:
    if not cached:
        os.makedirs(os.path.dirname(repo), exist_ok=True)
        _git(None, "init", "--bare", "--quiet", repo)
        with open(os.path.join(repo, "jobc-url"), "w", encoding="utf-8") as fh:
            fh.write(url + "\n")
    done = _git(
        repo,
        "fetch",
        "--quiet",
        "--prune",
        "--no-tags",
        "--",
        url,
        f"+HEAD:{HEAD_REF}",
        "+refs/heads/*:refs/heads/*",
        "+refs/tags/*:refs/tags/*",
        check=False,
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        fatal = [line for line in lines if line.startswith("fatal: ")]
        detail = (fatal or lines or [f"git fetch exited {done.returncode}"])[0].removeprefix("fatal: ")
        raise FetchProblem(f"cannot fetch {url}: {detail}")


def _resolve_ref(repo: str, source: GitSource) -> str | None:
    ref = source.ref
    if ref is None:
        candidates = [HEAD_REF]
    else:
        candidates = [f"refs/tags/{source.subdir}/{ref}"] if source.subdir else []
        candidates += [f"refs/tags/{ref}", f"refs/heads/{ref}"]
        if _HEX.match(ref):
            candidates.append(ref.lower())
    for candidate in candidates:
        commit = _commit(repo, candidate)
        if commit:
            return commit
    return None


def _commit(repo: str, ref: str) -> str | None:
    done = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def _git(repo: str | None, *args: str, check: bool = True, binary: bool = False) -> subprocess.CompletedProcess:
    """`git` without prompts, hooks or the user's templates; raises FetchProblem when git cannot run."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true", GIT_TEMPLATE_DIR="")
    argv = ["git", *(["--git-dir", repo] if repo else []), *args]
    try:
        done = subprocess.run(argv, capture_output=True, env=env, timeout=TIMEOUT, text=not binary, check=False)
    except FileNotFoundError:
        raise FetchProblem("modules from git need the git command, and it is not installed") from None
    except subprocess.TimeoutExpired:
        raise FetchProblem(f"git {args[0]} took more than {TIMEOUT} s") from None
    if check and done.returncode != 0:
        stderr = done.stderr if isinstance(done.stderr, str) else done.stderr.decode(errors="replace")
        raise FetchProblem(f"git {args[0]} failed: {stderr.strip()}")
    return done
