"""Mako substitution in app spec strings, with nothing else in the string altered.

bfabric-app-runner renders every string of an app version as a Mako template
(`${app.id}`, `${app.name}`, `${app.version}`, and since 0.9 `${app.dir}`). A Mako template is more than
substitutions, so a plain string can change on the way:

- a line starting with `##` is a comment and disappears;
- a backslash at the end of a line joins it with the next one;
- a line starting with `%` is Python control flow (`%%` is a literal `%`);
- `<%` and `</%` open and close Mako tags.

jobc keeps Mako for the substitutions and takes the rest of the string out of
its reach: before Mako sees a string, the first character of each of these
sequences becomes a Mako string literal (`${'#'}#`, `${'\\\\'}`, `${'%'}`,
`${'<'}%`), which Mako renders back to exactly that character. `${…}`
expressions are left untouched (they are found first, with Python's string
rules inside them), and only these expressions are allowed in them:

    ${app.id}  ${app.name}  ${app.version}  ${app.dir}  ${'any Python string literal'}

The last form is Mako's own way to write a literal `${`: `${'${'}`. Any other
name is an error, and so are filters (`${app.name | u}`) and code: a spec is
data, compiling it never runs code from it.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass

VARIABLES = ("id", "name", "version", "dir")
AVAILABLE = "${app.id}, ${app.name}, ${app.version}, ${app.dir}"

# A `${…}` expression as Mako reads it: up to the first `}` that is not inside a quoted string (triple-quoted too).
_EXPRESSION = (
    r"\$\{(?:[^}'\"]"
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|"(?:[^"\\\n]|\\.)*"'
    r")*\}"
)
_SPECIAL = re.compile(
    rf"(?P<expr>{_EXPRESSION})"
    # a control line, a comment line or `%%` (at the very start Mako also skips newlines and other whitespace)
    r"|(?P<line>(?:(?<=\n)[ \t]*|^\s*)(?:%|\#\#))"
    r"|(?P<backslash>\\(?=\r?\n))"  # an escaped newline
    r"|(?P<tag><(?=/?%))",  # a tag: <%text>, </%def>, <% code %>
    re.S,
)
_LITERAL = {"%": "${'%'}", "#": "${'#'}", "\\": "${'\\\\'}", "<": "${'<'}"}


class SubstitutionError(ValueError):
    """A string that cannot be substituted; the message names the culprit."""


@dataclass(frozen=True)
class AppVariables:
    """`app` as templates see it: bfabric-app-runner's VariablesApp (id, name, version, dir)."""

    id: int
    name: str
    version: str
    dir: str = "/"  # the spec's directory, absolute, symlinks resolved, no trailing /


def sanitize_name(name: str) -> str:
    """bfabric-app-runner's rule for `${app.name}`: runs of other characters become `_`."""
    return re.sub(r"[^a-zA-Z0-9_-]+", "_", name)


def has_substitution(text: str) -> bool:
    return "${" in text


def protect(text: str) -> str:
    """`text` as a Mako template that renders to `text` itself, apart from its `${…}` expressions."""

    def replace(match: re.Match) -> str:
        if match.group("expr"):
            return match.group(0)
        if match.group("line"):
            head = match.group(0)
            stripped = head.lstrip()
            return head[: len(head) - len(stripped)] + _LITERAL[stripped[0]] + stripped[1:]
        return _LITERAL[match.group(0)]

    return _SPECIAL.sub(replace, text)


def substitute(text: str, app: AppVariables) -> str:
    """Render `text` with Mako; raise `SubstitutionError` for anything but the allowed expressions."""
    if "${" not in text:
        return text  # nothing to substitute: the string is returned as it is, without Mako
    template = _template(text)
    try:
        return template.render(app=app)
    except Exception as exc:  # noqa: BLE001 - checked by _template; anything left is reported, never a crash
        raise SubstitutionError(f"cannot substitute: {_without_address(exc)}") from None


@functools.lru_cache(maxsize=1024)
def _template(text: str):
    """`text` checked and compiled as a Mako template, once per string: an app spec's strings come back for every
    version and every compile of an embedding program, and Mako compiles each template to Python code."""
    from mako import exceptions, parsetree
    from mako.lexer import Lexer
    from mako.template import Template

    template = protect(text)
    try:
        nodes = Lexer(template).parse().nodes
    except exceptions.MakoException as exc:
        if str(exc).startswith("Expected:"):  # Mako's words for a tag or expression left open (1.3 and 1.4)
            raise SubstitutionError("unterminated ${ (write ${'${'} for a literal ${)") from None
        code = re.search(r"\('(.*)'\) at line", str(exc))
        shown = "${" + code.group(1) + "}" if code else "a ${…} substitution"
        raise SubstitutionError(f"{shown}: not a substitution; {_ONLY}") from None
    for node in nodes:
        if isinstance(node, parsetree.Expression):
            check_expression(node.text, node.escapes)
        elif not isinstance(node, parsetree.Text):  # protect() leaves no other kind of node
            raise SubstitutionError(f"unexpected Mako syntax; {_ONLY}")
    try:
        return Template(template, strict_undefined=True)
    except Exception as exc:  # noqa: BLE001 - checked above; anything left is reported, never a crash
        raise SubstitutionError(f"cannot substitute: {_without_address(exc)}") from None


def _without_address(exc: Exception) -> str:
    """Mako's compile errors name the template's module by its memory address: left out, so that the same
    spec gives the same message."""
    return re.sub(r" \(memory:0x[0-9a-f]+, line \d+\)", "", str(exc))


_ONLY = f"only {AVAILABLE} or a quoted string (${{'${{'}} for a literal ${{) can be substituted"


def check_expression(code: str, escapes: str = "") -> None:
    shown = "${" + (f"{code.strip()} | {escapes}" if escapes else code) + "}"
    if escapes:
        raise SubstitutionError(f"{shown}: Mako filters are not supported; {_ONLY}")
    try:  # in parentheses, as Mako compiles it: a `#` comment would leave them open
        tree = ast.parse(f"({code.strip()})", mode="eval").body
    except SyntaxError:
        raise SubstitutionError(f"{shown}: not a substitution; {_ONLY}") from None
    if isinstance(tree, ast.Constant) and isinstance(tree.value, str):
        return
    if isinstance(tree, ast.Attribute) and isinstance(tree.value, ast.Name) and tree.value.id == "app":
        if tree.attr in VARIABLES:
            return
        raise SubstitutionError(f"{shown}: unknown name app.{tree.attr} (available: {AVAILABLE})")
    if isinstance(tree, ast.Name):
        raise SubstitutionError(f"{shown}: unknown name {tree.id} (available: {AVAILABLE})")
    raise SubstitutionError(f"{shown}: not a plain substitution; {_ONLY}")
