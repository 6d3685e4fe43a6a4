"""Sources as written, and git modules against repositories the tests create (`git init`, served by file://):
refs (HEAD, tags, branches, commits), the cache keyed by URL, and `--offline`."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobc.modules import fetch, sources

from .support import JOB_HEAD, commit, git, git_repo, jobc, write

MODULE = "name: {name}\nsteps:\n  - name: {name} step\n    run:\n      command: echo {name}\n"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("github.com/org/repo", sources.GitSource("https://github.com/org/repo", "", None)),
        ("github.com/org/repo/sub/dir@v1.2", sources.GitSource("https://github.com/org/repo", "sub/dir", "v1.2")),
        ("git.example.org:8443/o/r@main", sources.GitSource("https://git.example.org:8443/o/r", "", "main")),
        ("https://example.org/o/r/m@abc1234", sources.GitSource("https://example.org/o/r", "m", "abc1234")),
        ("./modules/hello", sources.LocalSource("./modules/hello")),
        ("modules/hello", sources.LocalSource("modules/hello")),
        ("/abs/dir", sources.LocalSource("/abs/dir")),
    ],
)
def test_sources_as_written(text: str, expected) -> None:
    assert sources.parse(text) == expected


def test_a_file_url_finds_its_repository_and_subdirectory(tmp_path: Path) -> None:
    git_repo(tmp_path / "repo", {"mods/a/module.yaml": MODULE.format(name="a")})
    assert sources.parse(f"file://{tmp_path}/repo/mods/a@v1") == sources.GitSource(
        f"file://{tmp_path}/repo", "mods/a", "v1"
    )
    assert sources.parse("file:///nonexistent/x") == sources.GitSource("file:///nonexistent/x", "", None)


def test_a_git_modules_relative_source_stays_in_its_repository() -> None:
    base = sources.Location("mods/a", "file:///r", "c0ffee", "/cache/r.git")
    assert sources.local_in(base, sources.LocalSource("../b")) == sources.Location(
        "mods/b", "file:///r", "c0ffee", "/cache/r.git"
    )
    with pytest.raises(sources.SourceProblem, match="leaves the module's git repository"):
        sources.local_in(base, sources.LocalSource("../../../x"))


def compile_use(tmp_path: Path, source: str, *extra: str, cache: Path | None = None):
    write(tmp_path / "job", {"job.yaml": JOB_HEAD + f"  - use: {{source: '{source}'}}\n"})
    return jobc("compile", "job.yaml", *extra, cwd=tmp_path / "job", cache=cache or tmp_path / "cache")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: v1 (tagged v1 and mods/a/v1) then v2; branch dev: v3."""
    path = git_repo(tmp_path / "repo", {"module.yaml": MODULE.format(name="v1")})
    git(path, "tag", "v1")
    commit(path, {"module.yaml": MODULE.format(name="v2")}, "second")
    git(path, "checkout", "-q", "-b", "dev")
    commit(path, {"module.yaml": MODULE.format(name="v3")}, "third")
    git(path, "checkout", "-q", "main")
    return path


@pytest.mark.parametrize(
    "ref, expected",
    [("", "v2"), ("@v1", "v1"), ("@dev", "v3"), ("@main", "v2")],
)
def test_refs_name_head_tags_and_branches(tmp_path: Path, repo: Path, ref: str, expected: str) -> None:
    result = compile_use(tmp_path, f"file://{repo}{ref}")
    assert result.exit_code == 0, result.stderr
    assert f"echo {expected}" in result.stdout


def test_a_commit_ref_and_the_commit_in_the_script(tmp_path: Path, repo: Path) -> None:
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    for ref in (first, first[:7], first[:10].upper()):
        result = compile_use(tmp_path, f"file://{repo}@{ref}")
        assert result.exit_code == 0, result.stderr
        assert "echo v1" in result.stdout
        assert f"at commit {first}" in result.stdout


def test_a_tag_named_like_a_commit_is_a_tag(tmp_path: Path, repo: Path) -> None:
    """The grid takes every hex-looking ref for a commit; a tag of that name exists here, so it wins."""
    git(repo, "tag", "deadbeef", "dev")
    result = compile_use(tmp_path, f"file://{repo}@deadbeef")
    assert result.exit_code == 0, result.stderr
    assert "echo v3" in result.stdout


def test_a_subdirectory_and_its_prefixed_tag(tmp_path: Path) -> None:
    path = git_repo(tmp_path / "mono", {"mods/a/module.yaml": MODULE.format(name="a1")})
    git(path, "tag", "mods/a/v1")
    commit(path, {"mods/a/module.yaml": MODULE.format(name="a2")}, "a2")
    git(path, "tag", "v1")
    result = compile_use(tmp_path, f"file://{path}/mods/a@v1")
    assert result.exit_code == 0, result.stderr
    assert "echo a1" in result.stdout


def test_an_unknown_ref(tmp_path: Path, repo: Path) -> None:
    result = compile_use(tmp_path, f"file://{repo}@nope")
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"job.yaml:3:19: steps[0].use.source: file://{repo} has no tag, branch or commit 'nope' [E0805]\n"
    )


def test_a_repository_that_cannot_be_fetched(tmp_path: Path) -> None:
    (tmp_path / "notgit").mkdir()
    (tmp_path / "notgit" / "HEAD").write_text("x")
    (tmp_path / "notgit" / "objects").mkdir()
    (tmp_path / "notgit" / "refs").mkdir()
    result = compile_use(tmp_path, f"file://{tmp_path}/notgit")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"job.yaml:3:19: steps[0].use.source: cannot fetch file://{tmp_path}/notgit: ")


def test_the_cache_is_keyed_by_url_and_a_branch_moves_when_fetched(tmp_path: Path, repo: Path) -> None:
    cache = tmp_path / "cache"
    assert "echo v3" in compile_use(tmp_path, f"file://{repo}@dev", cache=cache).stdout
    stored = Path(fetch.repository_dir(fetch.Cache(str(cache)), f"file://{repo}"))
    assert (stored / "jobc-url").read_text() == f"file://{repo}\n"
    assert [p.name for p in cache.iterdir()] == [stored.name]
    git(repo, "checkout", "-q", "dev")
    commit(repo, {"module.yaml": MODULE.format(name="v4")}, "fourth")
    offline = compile_use(tmp_path, f"file://{repo}@dev", "--offline", cache=cache)
    assert "echo v3" in offline.stdout, offline.stderr  # offline: where the last fetch saw the branch
    assert "echo v4" in compile_use(tmp_path, f"file://{repo}@dev", cache=cache).stdout


def test_offline_without_the_module_in_the_cache(tmp_path: Path, repo: Path) -> None:
    for command in ("compile", "validate"):
        write(tmp_path / "job", {"job.yaml": JOB_HEAD + f"  - use: {{source: 'file://{repo}'}}\n"})
        result = jobc(command, "job.yaml", "--offline", cwd=tmp_path / "job", cache=tmp_path / "empty")
        assert result.exit_code == 2
        assert result.stderr == (
            f"job.yaml:3:19: steps[0].use.source: file://{repo} is not in the module cache ({tmp_path}/empty); "
            "run once without --offline [E0805]\n"
        )


def test_offline_with_the_module_cached_fetches_nothing(tmp_path: Path, repo: Path) -> None:
    cache = tmp_path / "cache"
    online = compile_use(tmp_path, f"file://{repo}@v1", cache=cache)
    moved = tmp_path / "gone"
    repo.rename(moved)  # the remote is gone: offline still compiles, the same bytes
    offline = compile_use(tmp_path, f"file://{repo}@v1", "--offline", cache=cache)
    assert offline.exit_code == 0, offline.stderr
    assert offline.stdout == online.stdout


def test_a_git_module_using_a_module_of_its_repository(tmp_path: Path) -> None:
    outer = "name: outer\nsteps:\n  - use: {source: ../inner}\n"
    path = git_repo(tmp_path / "mono", {"outer/module.yaml": outer, "inner/module.yaml": MODULE.format(name="in")})
    result = compile_use(tmp_path, f"file://{path}/outer")
    assert result.exit_code == 0, result.stderr
    assert "echo in" in result.stdout
    assert result.stdout.count(f"at commit {git(path, 'rev-parse', 'HEAD')}") == 2


def test_the_default_cache_directory() -> None:
    assert fetch.default_root({"JOBC_MODULE_CACHE": "/c"}) == "/c"
    assert fetch.default_root({"XDG_CACHE_HOME": "/x"}) == "/x/jobc/modules"
    assert fetch.default_root({}).endswith("/.cache/jobc/modules")


def test_a_problem_in_a_git_module_names_the_repository_file_and_commit(tmp_path: Path) -> None:
    path = git_repo(tmp_path / "bad", {"m/module.yaml": "name: bad\nsteps:\n  - nme: x\n"})
    head = git(path, "rev-parse", "HEAD")
    result = compile_use(tmp_path, f"file://{path}/m")
    assert result.exit_code == 2
    assert result.stderr == (
        f"file://{path}/m/module.yaml@{head[:12]}:3:5: steps[0].nme: unknown field; did you mean steps[0].name? "
        "(used by job.yaml:3:10: steps[0].use) [E0201]\n"
    )
