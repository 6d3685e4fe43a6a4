"""jobc's command line as data: every command, its options and argument, one `Option(...)` line each.

`jobc.cli` parses with these tables and prints the help from them; `jobc.completion` completes from them.
Plain classes, not dataclasses: the `dataclasses` module alone would double the time of `jobc --help`.
"""

from __future__ import annotations

EXIT_INVALID = 2
SUMMARY = (
    "Compile a declarative HPC job spec (DeepSquare job or bfabric app, JSON or YAML) into one Slurm batch script."
)


class Exit(Exception):
    """Leave with an exit code (what the command printed already says why)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Option:
    """A command-line option. `kind`: text, int, flag (no value) or list (repeatable); `complete`: what a value
    is, for shell completion (spec, file, dir, or words from `choices`)."""

    def __init__(
        self,
        flags: tuple[str, ...],
        dest: str,
        help: str,
        *,
        kind: str = "text",
        metavar: str = "",
        default: object = None,
        complete: str = "",
        choices: tuple[str, ...] = (),
    ) -> None:
        self.flags, self.dest, self.help, self.kind, self.metavar = flags, dest, help, kind, metavar
        self.default, self.complete, self.choices = default, complete, choices
        self.takes_value = kind != "flag"


class Argument:
    def __init__(self, dest: str, metavar: str, help: str, *, complete: str = "spec") -> None:
        self.dest, self.metavar, self.help, self.complete = dest, metavar, help, complete


class Command:
    """`body`: the function of jobc.cli_commands that runs it."""

    def __init__(
        self,
        name: str,
        help: str,
        options: tuple[Option, ...],
        argument: Argument | None = None,
        *,
        body: str = "",
        hidden: bool = False,
    ) -> None:
        self.name, self.help, self.options, self.argument, self.body, self.hidden = (
            name,
            help,
            options,
            argument,
            body,
            hidden,
        )
        self.options_by_flag = {flag: option for option in (*options, HELP) for flag in option.flags}


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

# DeepSquare `use` modules (docs/modules.md); shared by compile and validate.
MODULE_OPTIONS = (
    Option(
        ("--offline",),
        "offline",
        "DeepSquare use: take git modules from the module cache only, fetch nothing.",
        kind="flag",
    ),
    Option(
        ("--module-cache",),
        "module_cache",
        "DeepSquare use: the git module cache (default: $JOBC_MODULE_CACHE, else $XDG_CACHE_HOME/jobc/modules).",
        metavar="DIR",
        complete="dir",
    ),
)

SITE = "Site profile (TOML). Default: $JOBC_SITE, else built-in defaults."
FORMATS = ("human", "json", "github")  # compiler/report.py
FORMAT = Option(
    ("--format",),
    "fmt",
    "Diagnostics as human (file:line:col lines), json (one list) or github (GitHub Actions annotations).",
    default="human",
    choices=FORMATS,
)

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
                    "Write the script here (atomically) and print its path (one spec); - is standard output.",
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
                FORMAT,
                *APP_OPTIONS,
                *MODULE_OPTIONS,
            ),
            Argument("specs", "SPEC", "Specs: .json, .yaml or .yml files, or - for standard input."),
            body="compile_command",
        ),
        Command(
            "validate",
            "Check specs and report every problem of every file (an app spec: every version; git modules: fetched unless --offline).",
            (
                Option(("--site",), "site_file", SITE, metavar="FILE", complete="file"),
                FORMAT,
                *APP_OPTIONS,
                *MODULE_OPTIONS,
            ),
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
            "explain",
            "Explain a diagnostic's code (such as E0203), with an incorrect and a correct example.",
            (),
            Argument("code", "CODE", "A diagnostic's code, as printed in brackets after its message.", complete="none"),
            body="explain_command",
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
