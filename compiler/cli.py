"""The `jobc` command line: its commands and options as data, a small parser, and the help they print.

Exit codes: 0 ok, 1 a checked script is stale, 2 invalid spec or usage, 70 internal error (a bug in jobc),
74 the script could not be written (a full disk or a closed pipe, on stdout or -o).
The parser is jobc's own (docs/decisions.md: the standard library's, with no framework): `--help`,
`--version` and completion import nothing but this module, and a command imports what its body needs.
An option is one `Option(...)` line in its command's table; help and completion are made from the tables.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from . import __version__

EXIT_INVALID = 2
SUMMARY = (
    "Compile a declarative HPC job spec (DeepSquare job or bfabric app, JSON or YAML) into one Slurm batch script."
)


class Exit(Exception):
    """Leave with an exit code (what the command printed already says why)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Option:
    """A command-line option. `kind`: text, int, flag (no value) or list (repeatable); `complete`: what a value
    is, for shell completion (spec, file, dir, or words from `choices`)."""

    flags: tuple[str, ...]
    dest: str
    help: str
    kind: str = "text"
    metavar: str = ""
    default: object = None
    complete: str = ""
    choices: tuple[str, ...] = ()

    @property
    def takes_value(self) -> bool:
        return self.kind != "flag"


@dataclass(frozen=True)
class Argument:
    dest: str
    metavar: str
    help: str
    complete: str = "spec"


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    argument: Argument | None = None
    body: str = ""  # the function of jobc.cli_commands that runs it
    hidden: bool = False
    options_by_flag: dict[str, Option] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for option in (*self.options, HELP):
            for flag in option.flags:
                self.options_by_flag[flag] = option


HELP = Option(("-h", "--help"), "help", "Show this message and exit.", kind="flag")

# bfabric app specs only (docs/bfabric.md); shared by compile and validate.
APP_OPTIONS = (
    Option(("--app-version",), "app_version", "App spec: the version to compile (needed when it has several)."),
    Option(("--app-id",), "app_id", "App spec: the app's id, for ${app.id}.", kind="int"),
    Option(("--app-name",), "app_name", "App spec: the app's name, for ${app.name}."),
    Option(
        ("--workunit-ref",),
        "workunit_ref",
        "App spec: the workunit (id or definition file) passed to dispatch and collect.",
        complete="file",
    ),
    Option(
        ("--work-dir",),
        "work_dir",
        "App spec: the work directory (default $STORAGE_PATH/work; relative to the submit directory).",
        complete="dir",
    ),
    Option(
        ("--app-dir",),
        "app_dir",
        "App spec: ${app.dir} and the base of relative paths (default: the spec file's directory, symlinks resolved; stdin: the current directory).",
        complete="dir",
    ),
    Option(
        ("--submitter",),
        "submitter",
        "App spec: YAML file of submitters' Slurm parameters (partition, nodelist, mem, time).",
        complete="spec",
    ),
    Option(("--cpus-per-task",), "cpus", "App spec: CPUs of each command (default 1).", kind="int"),
    Option(
        ("--mem",),
        "mem",
        "App spec: memory of each command, such as 8G (default: the submitter's mem, else 1G per CPU).",
    ),
    Option(
        ("--container-runtime",),
        "runtime",
        "App spec: run docker commands with docker, apptainer or enroot (default: the site profile's, else docker).",
        metavar="RUNTIME",
        choices=("docker", "apptainer", "enroot"),
    ),
)

SITE = "Site profile (TOML). Default: $JOBC_SITE, else built-in defaults."

COMMANDS = {
    command.name: command
    for command in (
        Command(
            "compile",
            "Compile each SPEC into one sbatch script (with --check or --diff: check the scripts are current).",
            (
                Option(
                    ("-o", "--output"),
                    "output",
                    "Write the script here (atomically) and print its path (one spec).",
                    metavar="FILE",
                    complete="file",
                ),
                Option(
                    ("--out-dir",),
                    "out_dir",
                    "Write each spec's script to DIR/<spec name>.sh and print the paths.",
                    metavar="DIR",
                    complete="dir",
                ),
                Option(
                    ("--check",),
                    "check",
                    "Write nothing; exit 1 when a script (-o or --out-dir) is not what jobc would write.",
                    kind="flag",
                ),
                Option(
                    ("--diff",),
                    "diff",
                    "Like --check, and print a unified diff (file -> fresh script) of each stale one.",
                    kind="flag",
                ),
                Option(("--site",), "site_file", SITE, metavar="FILE", complete="file"),
                Option(
                    ("--sbatch",),
                    "sbatch",
                    "Extra #SBATCH directive as key=value (repeatable), e.g. partition=gpu.",
                    kind="list",
                    metavar="KEY=VALUE",
                ),
                Option(("--job-name",), "job_name", "Slurm job name (default: the spec's file name)."),
                Option(
                    ("--redact",),
                    "redact",
                    "Replace every secret by a marker naming its field (for review).",
                    kind="flag",
                ),
                *APP_OPTIONS,
            ),
            Argument("specs", "SPEC", "Specs: .json, .yaml or .yml files, or - for standard input."),
            body="compile_command",
        ),
        Command(
            "validate",
            "Check specs offline and report every problem of every file (an app spec: every version).",
            (Option(("--site",), "site_file", SITE, metavar="FILE", complete="file"), *APP_OPTIONS),
            Argument("specs", "SPEC", "Spec files to check (or - for standard input)."),
            body="validate_command",
        ),
        Command(
            "schema",
            "Print the JSON Schema of a job spec or an app spec (for editors such as yaml-language-server).",
            (
                Option(
                    ("--kind",),
                    "kind",
                    "job (DeepSquare job spec) or app (bfabric app spec).",
                    default="job",
                    choices=("job", "app"),
                ),
            ),
            body="schema_command",
        ),
        Command(
            "completion",
            "Print the shell completion script for SHELL (bash, zsh or fish); see the README.",
            (),
            Argument("shell", "SHELL", "bash, zsh or fish.", complete="shells"),
            body="completion_command",
        ),
    )
}
SHELLS = ("bash", "zsh", "fish")
TOP_OPTIONS = (Option(("--version",), "version", "Print the version and exit.", kind="flag"), HELP)


def _usage(message: str, command: Command | None = None) -> Exit:
    where = f"jobc {command.name}" if command else "jobc"
    print(f"jobc: {message} (see '{where} --help')", file=sys.stderr)
    return Exit(EXIT_INVALID)


def parse(command: Command, argv: list[str]) -> dict[str, object]:
    """The values of `command`'s options and argument; `--help` prints the help and leaves with 0."""
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
            raise _usage(f"no such option: {flag}", command)
        if option is HELP:
            print(help_text(command))
            raise Exit(0)
        if not option.takes_value:
            if given:
                raise _usage(f"{flag} takes no value", command)
            values[option.dest] = True
            continue
        if not given:
            value = next(tokens, None)
            if value is None:
                raise _usage(f"{flag} needs a value", command)
        values[option.dest] = _value(option, flag, value, command, values[option.dest])
    if command.argument is None:
        if positional:
            raise _usage(f"unexpected argument: {positional[0]}", command)
    elif not positional:
        raise _usage(f"missing {command.argument.metavar}", command)
    else:
        values[command.argument.dest] = positional
    return values


def _value(option: Option, flag: str, value: str, command: Command, current: object) -> object:
    if option.kind == "int":
        try:
            return int(value)
        except ValueError:
            raise _usage(f"{flag} {value}: not an integer", command) from None
    if option.kind == "list":
        return [*current, value]  # type: ignore[misc]
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

            print("\n".join(complete(argv[1:])))
            return 0
        if not argv:
            print(help_text(), file=sys.stderr)
            return EXIT_INVALID
        first = argv[0]
        if first in ("-h", "--help"):
            print(help_text())
            return 0
        if first == "--version":
            print(f"jobc {__version__}")
            return 0
        command = COMMANDS.get(first)
        if command is None:
            raise _usage(f"no such option: {first}" if first.startswith("-") else f"no such command: {first}")
        values = parse(command, argv[1:])
        from . import cli_commands

        getattr(cli_commands, command.body)(**values)
        return 0
    except Exit as exc:
        return exc.code
    except KeyboardInterrupt:
        return 130


def main() -> None:
    sys.exit(run(sys.argv[1:]))
