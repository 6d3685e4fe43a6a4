"""Mako in app spec strings: ${app.id}, ${app.name}, ${app.version} are substituted, nothing else changes.

Plain Mako would drop a line starting with `##`, join a line ending in a backslash with the next one,
run a line starting with `%` as Python and read `<%` as a tag; jobc keeps all of them as written.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobc.frontends.bfabric.templating import AppVariables, SubstitutionError, protect, sanitize_name, substitute

APP = AppVariables(id=123, name="My_App", version="1.0.0")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("${app.id}", "123"),
        ("${app.name}-${app.version}", "My_App-1.0.0"),
        ("${ app.version }", "1.0.0"),
        ("image:${app.version}\n## keep ${app.id}", "image:1.0.0\n## keep 123"),
        ("## first line ${app.id}", "## first line 123"),
        ("  ## indented ${app.id}", "  ## indented 123"),
        ("a ${app.id} \\\nb", "a 123 \\\nb"),
        ("${app.id} ends with \\", "123 ends with \\"),
        ("${app.id}\\\r\nnext", "123\\\r\nnext"),
        ("% if True:\n${app.id}\n% endif", "% if True:\n123\n% endif"),
        ("%% ${app.id}\n  %% x", "%% 123\n  %% x"),
        ("<%text>${app.id}</%text>", "<%text>123</%text>"),
        (
            "<%def name='x()'/> ${app.id} <%include file='y'/> <% x = 1 %> <%! import os %>",
            "<%def name='x()'/> 123 <%include file='y'/> <% x = 1 %> <%! import os %>",
        ),
        ("$HOME $$ $ ${app.id} $1 ${'${'}PATH}", "$HOME $$ $ 123 $1 ${PATH}"),
        ("${'}'} ${\"a'b\"} ${app.id}", "} a'b 123"),
        ("<&call/> ${app.id} &lt;", "<&call/> 123 &lt;"),
        ("100% ${app.id}% done", "100% 123% done"),
        ("\r\r%%}# ${app.id}", "\r\r%%}# 123"),
        ("\x0c %% ${app.id}\n\r%%", "\x0c %% 123\n\r%%"),
        ("tab\t${app.id}\x0bvt", "tab\t123\x0bvt"),
        ("ünïcödé ${app.name} ✓", "ünïcödé My_App ✓"),
        ("${'''a\n%b\n## c'''} ${app.id}", "a\n%b\n## c 123"),  # a triple-quoted literal is Mako's, kept whole
        ('${"""q}\n<%"""}${app.id}', "q}\n<%123"),
    ],
)
def test_substitute(text: str, expected: str) -> None:
    assert substitute(text, APP) == expected


def test_a_string_without_substitution_is_not_rendered_at_all() -> None:
    text = "## a\n% b\n<%c>\\\n"
    assert substitute(text, APP) is text


@pytest.mark.parametrize(
    "text,message",
    [
        (
            "${app.nme}",
            "${app.nme}: unknown name app.nme (available: ${app.id}, ${app.name}, ${app.version}, ${app.dir})",
        ),
        ("${foo}", "${foo}: unknown name foo (available: ${app.id}, ${app.name}, ${app.version}, ${app.dir})"),
        (
            "${app.dirs}",
            "${app.dirs}: unknown name app.dirs (available: ${app.id}, ${app.name}, ${app.version}, ${app.dir})",
        ),
        (
            "${app.name | u}",
            "${app.name | u}: Mako filters are not supported; only ${app.id}, ${app.name}, "
            "${app.version}, ${app.dir} or a quoted string (${'${'} for a literal ${) can be substituted",
        ),
        (
            "${__import__('os').system('id')}",
            "${__import__('os').system('id')}: not a plain substitution; only "
            "${app.id}, ${app.name}, ${app.version}, ${app.dir} or a quoted string (${'${'} for a literal ${) can be substituted",
        ),
        (
            "${app.name!r}",
            "${app.name!r}: not a substitution; only ${app.id}, ${app.name}, ${app.version}, ${app.dir} or a "
            "quoted string (${'${'} for a literal ${) can be substituted",
        ),
        ("echo ${HOME", "unterminated ${ (write ${'${'} for a literal ${)"),
        (  # Mako compiles the expression inside parentheses, which a comment leaves open
            "${app.id#}",
            "${app.id#}: not a substitution; only ${app.id}, ${app.name}, ${app.version}, ${app.dir} or a "
            "quoted string (${'${'} for a literal ${) can be substituted",
        ),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(SubstitutionError) as caught:
        substitute(text, APP)
    assert str(caught.value) == message


def test_no_code_runs(tmp_path, monkeypatch) -> None:
    """An expression is checked before Mako renders anything: nothing of it is executed."""
    marker = tmp_path / "ran"
    with pytest.raises(SubstitutionError):
        substitute(f"${{open({str(marker)!r}, 'w').write('x')}}", APP)
    assert not marker.exists()


def test_sanitize_name_as_bfabric_app_runner() -> None:
    assert sanitize_name("My App (test)/v2") == "My_App_test_v2"
    assert sanitize_name("ok-name_1") == "ok-name_1"


_TEXT = st.text(alphabet=st.sampled_from(list("#%<>/&\\\n\r \t$ab{}'\"!|=\x0b\x0c\x85\u2028")), max_size=40)


@settings(max_examples=400, deadline=None)
@given(before=_TEXT, after=_TEXT)
def test_everything_around_a_substitution_survives(before: str, after: str) -> None:
    """Whatever surrounds a substitution (and holds no `${` itself) comes out unchanged."""
    if "${" in before + "$" or "${" in after:
        return
    assert substitute(before + "${app.version}" + after, APP) == before + "1.0.0" + after


@settings(max_examples=200, deadline=None)
@given(text=_TEXT)
def test_protect_is_a_template_of_the_text_itself(text: str) -> None:
    """protect(text) rendered by Mako is text (the literal parts are Mako string expressions)."""
    if "${" in text:
        return
    from mako.template import Template

    assert Template(protect(text)).render() == text
