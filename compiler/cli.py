"""The `jobc` command line: a small parser of the tables in `jobc.cli_table`, and the help they print.

Exit codes: 0 ok, 1 a checked script is stale, 2 invalid spec or usage, 70 internal error (a bug in jobc),
74 the script could not be written (a full disk or a closed pipe, on stdout or -o).
The parser is jobc's own, with no framework (docs/decisions.md, 56): `--help`,
`--version` and completion import nothing but this module and the tables, and a command imports what its
body needs (`jobc.cli_commands`). An option is one `Option(...)` line in its command's table.
"""

from __future__ import annotations

import sys

from . import __version__
from .cli_table import COMMANDS, EXIT_INVALID, HELP, SUMMARY, TOP_OPTIONS, Command, Exit, Option


def _usage(message: str, fmt: str = "human") -> Exit:
    """A command-line mistake in jobc's own words, with its code: `jobc: --app-id: must be an integer, got 'x'
    [E0601]`, exit 2 (the registry's code is looked up only on this path, so --help stays lean); in the
    `--format` given, for a tool that reads jobc's JSON or GitHub's annotations."""
    if fmt != "human":
        from .report import Reporter

        reporter = Reporter(fmt)
        reporter.usage(message)
        reporter.finish()
        return Exit(EXIT_INVALID)
    from .diagnostics import Diagnostic

    print(f"jobc: {Diagnostic((), message).text()}", file=sys.stderr)
    return Exit(EXIT_INVALID)


class _Mistake(Exception):
    """A mistake among a command's options, reported by `parse` in the command's `--format`."""


def _given_format(command: Command, argv: list[str]) -> str:
    """The `--format` of `argv`, read before its options are, so that a mistake among them is reported in it."""
    option = command.options_by_flag.get("--format")
    fmt = "human"
    for i, token in enumerate(argv if option is not None else ()):
        if token == "--":
            break
        if token == "--format" and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif token.startswith("--format="):
            fmt = token.partition("=")[2]
    return fmt if option is not None and fmt in option.choices else "human"


def _print(text: str) -> None:
    """Help, the version and completions go out as a script does: into a closed pipe (`jobc --help | head -1`)
    they are one `jobc:` line and exit code 74, not a traceback."""
    _print_text(text + "\n")


def _print_text(text: str) -> None:
    from .output import WriteError, write_stdout

    try:
        write_stdout(text)
    except WriteError as exc:
        from .cli_commands import write_failed

        write_failed(exc)


def _near(given: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(given, known)
    return f"; did you mean {', '.join(close)}?" if close else ""


def parse(command: Command, argv: list[str]) -> dict[str, object]:
    """The values of `command`'s options and argument; `--help` prints the help and leaves with 0."""
    try:
        return _parse(command, argv)
    except _Mistake as mistake:
        raise _usage(str(mistake), _given_format(command, argv)) from None


def _parse(command: Command, argv: list[str]) -> dict[str, object]:
    values: dict[str, object] = {
        o.dest: ([] if o.kind == "list" else False if o.kind == "flag" else o.default) for o in command.options
    }
    positional: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            positional.extend(tokens)
            break
        if not token.startswith("-") or token == "-":
            positional.append(token)
            continue
        flag, given, value = token.partition("=") if token.startswith("--") else (token[:2], "", token[2:])
        given = given or (value if not token.startswith("--") else "")
        option = command.options_by_flag.get(flag)
        if option is None:
            raise _Mistake(f"{flag}: no such option{_near(flag, list(command.options_by_flag))}")
        if option is HELP:
            _print(help_text(command))
            raise Exit(0)
        if not option.takes_value:
            if given:
                raise _Mistake(f"{flag}: takes no value")
            values[option.dest] = True
            continue
        if not given:
            value = next(tokens, None)
            if value is None:
                raise _Mistake(f"{flag}: needs a value")
        values[option.dest] = _value(option, flag, value, values[option.dest])
    if command.argument is None:
        if positional:
            raise _Mistake(f"{positional[0]}: unexpected argument (jobc {command.name} takes none)")
    elif not positional:
        raise _Mistake(f"{command.argument.metavar}: is required")
    else:
        values[command.argument.dest] = positional
    return values


def _value(option: Option, flag: str, value: str, current: object) -> object:
    if option.kind == "int":
        try:
            return int(value)
        except ValueError:
            raise _Mistake(f"{flag}: must be an integer, got {value!r}") from None
    if option.kind == "list":
        return [*current, value]  # type: ignore[misc]
    if option.choices and value not in option.choices:
        raise _Mistake(f"{flag} {value}: must be one of {', '.join(option.choices)}")
    return value


def _rows(rows: list[tuple[str, str]]) -> str:
    import textwrap

    width = min(28, max(len(left) for left, _ in rows) + 2)
    out = []
    for left, text in rows:
        lines = textwrap.wrap(text, 100 - width - 2) or [""]
        pad = " " * (width + 2)
        first = f"  {left:<{width}}" if len(left) < width else f"  {left}\n{pad}"
        out.append(first + lines[0] + "".join(f"\n{pad}{line}" for line in lines[1:]))
    return "\n".join(out)


def _option_row(option: Option) -> tuple[str, str]:
    flags = ", ".join(option.flags)
    if option.takes_value:
        flags += " " + (option.metavar or ("N" if option.kind == "int" else "|".join(option.choices) or "TEXT"))
    return flags, option.help + (f" (default: {option.default})" if option.default else "")


def help_text(command: Command | None = None) -> str:
    if command is None:
        listed = [c for c in COMMANDS.values() if not c.hidden]
        return "\n".join(
            [
                "Usage: jobc [--version] [-h] COMMAND [ARGS]...",
                "",
                f"  {SUMMARY}",
                "",
                "Commands:",
                _rows([(c.name, c.help) for c in listed]),
                "",
                "Options:",
                _rows([_option_row(o) for o in TOP_OPTIONS]),
                "",
                "Run 'jobc COMMAND --help' for a command's options.",
            ]
        )
    argument = f" {command.argument.metavar}..." if command.argument else ""
    parts = [f"Usage: jobc {command.name} [OPTIONS]{argument}", "", f"  {command.help}", ""]
    if command.argument:
        parts += ["Arguments:", _rows([(command.argument.metavar, command.argument.help + " [required]")]), ""]
    parts += ["Options:", _rows([_option_row(o) for o in (*command.options, HELP)])]
    return "\n".join(parts)


def run(argv: list[str]) -> int:
    """Run the command line `argv` (without the program's name); the exit code."""
    try:
        if argv and argv[0] == "__complete":
            from .completion import complete

            _print("\n".join(complete(argv[1:])))
            return 0
        if not argv:
            print(help_text(), file=sys.stderr)
            return EXIT_INVALID
        first = argv[0]
        if first in ("-h", "--help"):
            _print(help_text())
            return 0
        if first == "--version":
            _print(f"jobc {__version__}")
            return 0
        command = COMMANDS.get(first)
        if command is None:
            if first.startswith("-"):
                raise _usage(f"{first}: no such option{_near(first, [f for o in TOP_OPTIONS for f in o.flags])}")
            listed = [name for name, c in COMMANDS.items() if not c.hidden]
            raise _usage(f"{first}: no such command{_near(first, listed)} (commands: {', '.join(listed)})")
        values = parse(command, argv[1:])
        from . import cli_commands

        getattr(cli_commands, command.body)(**values)
        return 0
    except Exit as exc:
        return exc.code
    except KeyboardInterrupt:
        return 130


def main() -> None:
    """The `jobc` command: `command`, then the process ends without the interpreter's teardown (`leave`)."""
    leave(command(sys.argv[1:]))


def command(argv: list[str]) -> int:
    """`run` as the console script runs it: Python's cyclic collector stays off, since the process ends with
    the command (`cli_commands._one_by_one` turns it on between specs).

    Pydantic plugins (packages of the `pydantic` entry point group, such as tracing) are not loaded unless
    `PYDANTIC_DISABLE_PLUGINS` is set: jobc's models are its own, a plugin installed beside it has no business
    in its validation, and looking for one reads the metadata of every installed package at each start
    (decision 68)."""
    import gc
    import os

    gc.disable()
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    return run(argv)


def leave(code: int) -> None:
    """End the process with `code` once standard output and error are flushed, without the interpreter's
    teardown, as mypy's `hard_exit` does (decision 71): the teardown finalises every module's objects
    (pydantic's schemas, Jinja's environment, the job's IR) in a full collection, collector off or not, an
    eighth of a minimal compile. Nothing of jobc's waits for it: a command has closed its files when it
    returns, and jobc registers nothing to run at exit. A flush that fails is a failed write as any other:
    one `jobc:` line, exit code 74."""
    import os

    try:
        _print_text("")  # only a flush: a failure is reported as every failed write is
    except Exit as failed:
        code = code or failed.code
    except ValueError:  # standard output already closed: nothing is waiting in it
        pass
    try:
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr is gone: the exit code still says what happened
        pass
    os._exit(code)
