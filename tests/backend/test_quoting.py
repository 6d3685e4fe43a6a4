"""Quoting helpers: every value survives bash byte-exact, and each context keeps its own rules."""

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobc.backend.quoting import Sh, comment, quote, restore_newlines, site_path, words

# Any text a spec can hold (no NUL, no lone surrogates), with the characters that matter to a shell made likely.
shell_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("'\"\\$`!*?[]{}();&|<>#~%,= \t\n\r")),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    max_size=40,
)


def bash_echo(script: str) -> bytes:
    return subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout


@settings(max_examples=300, deadline=None)
@given(st.lists(shell_text, min_size=1, max_size=4))
def test_quoted_words_reach_argv_byte_exact(values):
    script = restore_newlines("printf '%s\\0' " + words(values))
    assert bash_echo(script) == b"".join(v.encode("utf-8", "surrogatepass") + b"\0" for v in values)


def test_quote_passes_shell_text_and_numbers():
    assert quote(Sh('"$X"')) == '"$X"'
    assert quote(42) == "42"
    with pytest.raises(TypeError):
        quote(True)
    with pytest.raises(TypeError):
        quote(None)


def test_newline_inside_a_quoted_value_is_held_back_until_the_end():
    quoted = quote("a\nb")
    assert "\n" not in quoted
    assert restore_newlines(quoted) == "'a\nb'"


def test_carriage_return_never_reaches_the_script_raw():
    """sbatch refuses a script holding CR LF anywhere ("DOS line breaks"), even inside a quoted value."""
    value = "a\r\nb\r'c"
    rendered = restore_newlines(quote(value))
    assert rendered == "'a'$'\\r''\nb'$'\\r'''\"'\"'c'"
    assert "\r" not in rendered
    assert bash_echo("printf %s " + rendered) == value.encode()
    in_site_path = restore_newlines(site_path("/x\r\n${HOME}"))
    assert "\r" not in in_site_path
    out = subprocess.run(
        ["bash", "-c", f"printf %s {in_site_path}"], capture_output=True, env={"HOME": "/h"}, check=True
    ).stdout
    assert out == b"/x\r\n/h"


def test_comment_keeps_control_characters_on_one_line():
    assert comment("a\nrm -rf /\r") == "a\\nrm -rf /\\r"


def test_site_path_expands_only_braced_names(tmp_path):
    rendered = site_path('${HOME}/x $(id) `id` "q" \\ $HOME')
    assert rendered == '"${HOME}/x \\$(id) \\`id\\` \\"q\\" \\\\ \\$HOME"'
    out = subprocess.run(
        ["bash", "-c", f"printf %s {rendered}"], capture_output=True, text=True, env={"HOME": "/h"}, check=True
    ).stdout
    assert out == '/h/x $(id) `id` "q" \\ $HOME'
