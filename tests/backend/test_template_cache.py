"""The templates compiled once and read back from the user's cache, never stale when a template changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobc.backend import render, template_cache
from jobc.backend.template_cache import cache_file, compiled, loader, template_sources

MIN = Path(__file__).resolve().parents[2] / "examples" / "reference-job-minimal.json"


def render_with(templates: Path, cache: Path) -> str:
    sources = template_sources(str(templates))
    env = render._environment()
    env.loader = loader(compiled(env, sources, cache_file(str(cache), "1.0", sources)))
    return env.get_template("a.sh.j2").render(who="the world")


def test_a_changed_template_is_compiled_again_not_read_stale(tmp_path: Path) -> None:
    templates, cache = tmp_path / "templates", tmp_path / "cache"
    templates.mkdir()
    (templates / "a.sh.j2").write_text('{% include "b.sh.j2" %} {{ who }}\n')
    (templates / "b.sh.j2").write_text("hello")
    assert render_with(templates, cache) == "hello 'the world'"
    first = sorted(os.listdir(cache))
    assert len(first) == 1 and first[0].endswith(".marshal")
    assert render_with(templates, cache) == "hello 'the world'"  # read back: still one file
    assert sorted(os.listdir(cache)) == first
    (templates / "b.sh.j2").write_text("goodbye")  # what an editable install sees when a template is edited
    assert render_with(templates, cache) == "goodbye 'the world'"
    assert len(os.listdir(cache)) == 2


def test_the_cache_is_read_without_compiling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    templates, cache = tmp_path / "templates", tmp_path / "cache"
    templates.mkdir()
    (templates / "a.sh.j2").write_text("{{ who }}\n")
    render_with(templates, cache)
    env_class = type(render._environment())
    monkeypatch.setattr(env_class, "compile", lambda *a, **k: pytest.fail("compiled again"))
    assert render_with(templates, cache) == "'the world'"


def test_a_damaged_or_unwritable_cache_still_renders(tmp_path: Path) -> None:
    templates, cache = tmp_path / "templates", tmp_path / "cache"
    templates.mkdir()
    (templates / "a.sh.j2").write_text("{{ who }}\n")
    render_with(templates, cache)
    [name] = os.listdir(cache)
    (cache / name).write_bytes(b"not marshal data")
    assert render_with(templates, cache) == "'the world'"
    blocked = tmp_path / "file"
    blocked.write_text("")  # a cache directory that cannot be made
    assert render_with(templates, blocked / "cache") == "'the world'"


def test_the_cache_file_names_the_jinja_and_python_versions(tmp_path: Path) -> None:
    sources = {"a.sh.j2": "x"}
    assert cache_file("/c", "1.0", sources) == cache_file("/c", "1.0", dict(sources))
    assert cache_file("/c", "1.0", sources) != cache_file("/c", "1.1", sources)
    assert cache_file("/c", "1.0", sources) != cache_file("/c", "1.0", {"a.sh.j2": "y"})


def test_cache_directory_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBC_CACHE_DIR", "/x/jobc")
    assert template_cache.cache_root() == "/x/jobc"
    monkeypatch.delenv("JOBC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/y")
    assert template_cache.cache_root() == "/y/jobc"


def test_a_second_jobc_process_reads_the_cache_and_writes_the_same_script(tmp_path: Path) -> None:
    env = {**os.environ, "JOBC_CACHE_DIR": str(tmp_path / "cache")}
    run = lambda: subprocess.run(
        [sys.executable, "-m", "jobc", "compile", str(MIN)], capture_output=True, text=True, env=env, timeout=120
    )
    first, second = run(), run()
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout and first.stdout.startswith("#!")
    assert len(os.listdir(tmp_path / "cache")) == 1
