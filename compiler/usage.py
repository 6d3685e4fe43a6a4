"""Command-line mistakes in jobc's own words: `jobc: --app-id: must be an integer, got 'x' [E0601]`, exit 2.

click (inside typer) would print its usage box and `Error: Invalid value for '--app-id': ...`; the
command group below runs click without its own error handling and words the problem as jobc words
every other one (compiler/report.py), with a code from compiler/messages.py.
"""

from __future__ import annotations

import sys

import typer

EXIT_INVALID = 2


class JobcCommands(typer.core.TyperGroup):
    """Command-line mistakes in jobc's own words (`jobc: --app-id: must be an integer, got 'x'`), exit 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        errors = _click_errors()
        argv = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except errors.NoArgsIsHelpError as exc:
            exc.show()
            code = exc.exit_code
        except errors.UsageError as exc:
            from .report import Reporter

            Reporter().usage(_usage_text(exc, argv))
            code = EXIT_INVALID
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _click_errors():
    try:
        from typer._click import exceptions  # typer >= 0.25 carries its own click
    except ImportError:  # pragma: no cover - older typer, on the real click
        from click import exceptions
    return exceptions


def _usage_text(exc, argv: list[str]) -> str:
    errors = _click_errors()
    if isinstance(exc, errors.NoSuchOption):
        near = f"; did you mean {', '.join(exc.possibilities)}?" if getattr(exc, "possibilities", None) else ""
        return f"{exc.option_name}: no such option{near}"
    if isinstance(exc, errors.BadOptionUsage) and "requires an argument" in exc.message:
        return f"{exc.option_name}: needs a value"
    param = getattr(exc, "param", None)
    if exc.message.startswith("No such command") and exc.ctx is not None:
        given = exc.message.split("'")[1] if "'" in exc.message else "?"
        return f"{given}: no such command (commands: {', '.join(exc.ctx.command.list_commands(exc.ctx))})"
    if param is None:
        return exc.message.rstrip(".")
    opts = getattr(param, "opts", None) or []
    name = opts[0] if opts and opts[0].startswith("-") else (getattr(param, "metavar", None) or str(param.name).upper())
    if isinstance(exc, errors.MissingParameter):
        return f"{name}: is required"
    given = next((argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in opts), None)
    given = given or next((arg.partition("=")[2] for arg in argv if arg.partition("=")[0] in opts), None)
    cause = exc.__cause__
    kinds = [e.get("type", "") for e in cause.errors()] if hasattr(cause, "errors") else []
    what = "must be an integer" if kinds and kinds[0].startswith("int") else exc.message.rstrip(".")
    return f"{name}: {what}, got {given!r}" if given is not None else f"{name}: {what}"
