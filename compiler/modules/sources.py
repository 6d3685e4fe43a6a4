"""What a `use.source` names, and where a module file is.

Three spellings, told apart without touching the network:
- a URL with a scheme (`https://host/owner/repo[/subdir][@ref]`, `file:///srv/repo[/subdir][@ref]`): a git
  repository. For `file://` the repository is the longest leading directory that is one (so a subdirectory
  after it is the module's; with none on disk, the whole path); for other schemes it is the first two path segments, as on the grid;
- the grid's `host/owner/repo[/subdir][@ref]`, recognised by a first segment that is a host name with a dot
  (`github.com/…`): cloned from `https://host/owner/repo`;
- anything else is a local directory, relative to the directory of the file that names it (or absolute).

A local source inside a module that came from git is the same repository at the same commit (a monorepo's
modules using each other); it may not leave the repository.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


class SourceProblem(ValueError):
    """A source that names no module: the message says what is wrong, for the `use.source` field."""


@dataclass(frozen=True)
class Location:
    """A module directory: on disk (`url` is None, `directory` absolute) or in a git repository at `commit`."""

    directory: str  # absolute path on disk, or the path inside the repository ("" for its root)
    url: str | None = None
    commit: str | None = None
    store: str | None = None  # the cache's copy of the repository (set by `fetch.resolve`)

    @property
    def is_git(self) -> bool:
        return self.url is not None


@dataclass(frozen=True)
class GitSource:
    url: str
    subdir: str  # inside the repository, "" for its root
    ref: str | None  # None: the repository's HEAD


@dataclass(frozen=True)
class LocalSource:
    directory: str  # absolute, or relative to a git module's directory (see `local_in`)


_HOST_FIRST = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:[0-9]+)?\Z")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def parse(text: str) -> GitSource | LocalSource:
    """The source as written; raises `SourceProblem`."""
    if not text.strip():
        raise SourceProblem("must name a module: a directory, host/owner/repo[/subdir][@ref] or a URL")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise SourceProblem("must not contain control characters")
    if _SCHEME.match(text):
        return _url(text)
    first = text.split("/", 1)[0]
    if _HOST_FIRST.match(first) and not text.startswith((".", "/")):
        repo, ref = _split_ref(text)
        parts = [p for p in repo.split("/") if p]
        if len(parts) < 3:
            raise SourceProblem(f"{text!r} is not host/owner/repo[/subdir][@ref] (such as github.com/org/module)")
        return GitSource(f"https://{parts[0]}/{parts[1]}/{parts[2]}", _subdir("/".join(parts[3:])), ref)
    if "@" in text:
        raise SourceProblem("a local directory takes no @ref (a ref is for a git repository)")
    return LocalSource(text)


def _split_ref(text: str) -> tuple[str, str | None]:
    repo, at, ref = text.rpartition("@")
    if not at:
        return text, None
    if not ref:
        raise SourceProblem("nothing after @: give a tag, a branch or a commit, or leave out the @")
    return repo, ref


def _url(text: str) -> GitSource:
    parts = urlsplit(text)
    scheme_end = len(parts.scheme) + 3
    rest = text[scheme_end:]
    slash = rest.find("/")
    authority, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    path, ref = _split_ref(path) if "@" in path else (path, None)
    if parts.query or parts.fragment:
        raise SourceProblem("a module URL takes no ?query or #fragment")
    if parts.scheme == "file":
        if authority not in ("", "localhost"):
            raise SourceProblem("a file:// URL names a local path: file:///path/to/repo")
        root, subdir = _repository_on_disk(unquote(path))
        return GitSource("file://" + root, subdir, ref)
    segments = [s for s in path.split("/") if s]
    if len(segments) < 2:
        raise SourceProblem(f"{text!r} names no repository: {parts.scheme}://host/owner/repo[/subdir][@ref]")
    return GitSource(f"{parts.scheme}://{authority}/{segments[0]}/{segments[1]}", _subdir("/".join(segments[2:])), ref)


def _repository_on_disk(path: str) -> tuple[str, str]:
    """The longest leading directory of `path` that is a git repository, and the rest."""
    path = os.path.normpath(path)
    probe = path
    while True:
        if _is_repository(probe):
            rest = os.path.relpath(path, probe)
            return probe, "" if rest == "." else rest.replace(os.sep, "/")
        parent = os.path.dirname(probe)
        if parent == probe:  # none here (yet, or any more: --offline may still have it in the cache)
            return path, ""
        probe = parent


def _is_repository(path: str) -> bool:
    if os.path.exists(os.path.join(path, ".git")):
        return True
    return all(os.path.exists(os.path.join(path, name)) for name in ("HEAD", "objects", "refs"))


def _subdir(path: str) -> str:
    norm = posixpath.normpath(path) if path else ""
    if norm in ("", "."):
        return ""
    if norm.startswith("..") or norm.startswith("/"):
        raise SourceProblem("the module's directory must be inside its repository")
    return norm


def local_in(base: Location, source: LocalSource) -> Location:
    """Where a local source written in a module file at `base` points."""
    if not base.is_git:
        return Location(os.path.normpath(os.path.join(base.directory, source.directory)))
    if source.directory.startswith("/"):
        raise SourceProblem("a module from git names its own modules relative to its directory, not absolutely")
    joined = posixpath.normpath(posixpath.join(base.directory or ".", source.directory))
    if joined == ".." or joined.startswith("../"):
        raise SourceProblem("leaves the module's git repository: a module from git uses modules inside it")
    return Location("" if joined == "." else joined, base.url, base.commit, base.store)
