"""The `jobc` command line.

Exit codes: 0 ok, 2 invalid spec or usage, 70 internal error (a bug in jobc).
Diagnostics print one per line as `file:line:col: field.path: message`. Heavy
modules are imported inside the commands, so `--help` and `--version` import
neither pydantic nor jinja2.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional

import typer

from . import __version__

EXIT_INVALID = 2
EXIT_INTERNAL = 70
MAX_DIAGNOSTICS = 50

app = typer.Typer(
    name="jobc",
    help="Compile a declarative HPC job spec (DeepSquare job or bfabric app, JSON or YAML) into one Slurm batch script.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jobc {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """jobc: job specs in, one sbatch script out."""


def _read(spec: str) -> str:
    if spec == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        if isinstance(data, str):
            return data
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise _Usage("<stdin>: not UTF-8 text") from None
    try:
        with open(spec, encoding="utf-8") as fh:
            return fh.read()
    except UnicodeDecodeError:
        raise _Usage(f"{spec}: not UTF-8 text") from None
    except OSError as exc:
        raise _Usage(f"{spec}: {exc.strerror}") from None


class _Usage(Exception):
    """A problem with the command line or the files it names (exit code 2)."""


def _where(spec: str, line: int | None, col: int | None) -> str:
    shown = "<stdin>" if spec == "-" else spec
    return f"{shown}:{line}:{col}" if line else shown


def _print_diagnostics(spec: str, diagnostics, source_map, fallback: tuple[int, int] | None = None) -> None:
    located = []
    for diag in diagnostics:
        pos = source_map.locate(diag.path, key=diag.message.startswith(("not a ", "not an "))) if source_map else None
        located.append((pos or fallback, diag))
    # In source order, whichever model or pass found them (a stable sort keeps the order of equals).
    located.sort(key=lambda pair: pair[0] or (0, 0))
    for pos, diag in located[:MAX_DIAGNOSTICS]:
        typer.echo(diag.render(_where(spec, *(pos or (None, None)))), err=True)
    if len(diagnostics) > MAX_DIAGNOSTICS:
        typer.echo(f"…and {len(diagnostics) - MAX_DIAGNOSTICS} more", err=True)


def _report(spec: str, exc) -> None:
    from .diagnostics import SourceError

    if isinstance(exc, SourceError):
        _print_diagnostics(spec, exc.diagnostics, None, (exc.line, exc.col))
    else:
        _print_diagnostics(spec, exc.diagnostics, exc.source_map)


def _site(site_file: Optional[str], sbatch: List[str]):
    from .site import load_site

    return load_site(site_file or os.environ.get("JOBC_SITE")).with_sbatch(sbatch or [])


def _guarded(run) -> None:
    """Run a command body, mapping expected failures to exit codes and anything else to 70."""
    from .diagnostics import SpecError
    from .site import SiteError

    try:
        run()
    except SpecError:
        raise typer.Exit(EXIT_INVALID)
    except (_Usage, SiteError) as exc:
        typer.echo(f"jobc: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID)
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into exit code 70
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line, whatever the exception says
        typer.echo(f"jobc: internal error (a bug in jobc; please report it with the spec): {detail}", err=True)
        raise typer.Exit(EXIT_INTERNAL)


# bfabric app specs only (docs/bfabric.md); shared by compile and validate.
_APP_VERSION = typer.Option(None, "--app-version", help="App spec: the version to compile (needed when it has several).")
_APP_ID = typer.Option(None, "--app-id", help="App spec: the app's id, for ${app.id}.")
_APP_NAME = typer.Option(None, "--app-name", help="App spec: the app's name, for ${app.name}.")
_WORKUNIT_REF = typer.Option(None, "--workunit-ref", help="App spec: the workunit (id or definition file) passed to dispatch and collect.")
_WORK_DIR = typer.Option(None, "--work-dir", help="App spec: the work directory (default $STORAGE_PATH/work; relative to the submit directory).")
_APP_DIR = typer.Option(None, "--app-dir", help="App spec: ${app.dir} and the base of relative paths (default: the spec file's directory, symlinks resolved; stdin: the current directory).")
_SUBMITTER = typer.Option(None, "--submitter", help="App spec: YAML file of submitters' Slurm parameters (partition, nodelist, mem, time).")
_CPUS = typer.Option(None, "--cpus-per-task", help="App spec: CPUs of each command (default 1).")
_MEM = typer.Option(None, "--mem", help="App spec: memory of each command, such as 8G (default: the submitter's mem, else 1G per CPU).")
_RUNTIME = typer.Option(None, "--container-runtime", help="App spec: run docker commands with docker, apptainer or enroot (default: the site profile's, else docker).")


def _options(sbatch: List[str], *, job_name=None, app_version, app_id, app_name, workunit_ref, work_dir, submitter, app_dir,
             cpus, mem, runtime, validate: bool = False):
    """compile_spec options; the app options are refused by DeepSquare jobs when given."""
    from .options import AppOptions, CompileOptions

    app = AppOptions(
        app_version=app_version, app_id=app_id, app_name=app_name, workunit_ref=workunit_ref, work_dir=work_dir,
        app_dir=app_dir, cpus_per_task=cpus, mem=mem, container_runtime=runtime,
        submitters=_submitters(submitter) if submitter else None, submitters_file=submitter,
        cli_sbatch_keys=frozenset(pair.partition("=")[0].strip().removeprefix("--") for pair in sbatch),
    )
    return CompileOptions(job_name=job_name, app=app, validate_only=validate)


def _submitters(path: str):
    from .diagnostics import SpecError
    from .frontends.bfabric.settings import load_submitters

    try:
        return load_submitters(_read(path), path)
    except SpecError as exc:
        _report(path, exc)
        raise


@app.command()
def compile(
    spec: str = typer.Argument(..., help="The spec: a .json, .yaml or .yml file, or - for standard input."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write the script here (atomically) and print its path."),
    site_file: Optional[str] = typer.Option(None, "--site", help="Site profile (TOML). Default: $JOBC_SITE, else built-in defaults."),
    sbatch: List[str] = typer.Option([], "--sbatch", help="Extra #SBATCH directive as key=value (repeatable), e.g. partition=gpu."),
    job_name: Optional[str] = typer.Option(None, "--job-name", help="Slurm job name (default: the spec's file name)."),
    redact: bool = typer.Option(False, "--redact", help="Replace every secret by a marker naming its field (for review)."),
    app_version: Optional[str] = _APP_VERSION,
    app_id: Optional[int] = _APP_ID,
    app_name: Optional[str] = _APP_NAME,
    workunit_ref: Optional[str] = _WORKUNIT_REF,
    work_dir: Optional[str] = _WORK_DIR,
    app_dir: Optional[str] = _APP_DIR,
    submitter: Optional[str] = _SUBMITTER,
    cpus: Optional[int] = _CPUS,
    mem: Optional[str] = _MEM,
    runtime: Optional[str] = _RUNTIME,
) -> None:
    """Compile SPEC into one sbatch script."""

    def run() -> None:
        from . import compile_spec
        from .diagnostics import SpecError

        text = _read(spec)
        site = _site(site_file, sbatch)
        options = _options(sbatch, job_name=job_name, app_version=app_version, app_id=app_id, app_name=app_name,
                           workunit_ref=workunit_ref, work_dir=work_dir, app_dir=app_dir, submitter=submitter, cpus=cpus, mem=mem,
                           runtime=runtime)
        try:
            result = compile_spec(text, name=spec, site=site, redact=redact, options=options)
        except SpecError as exc:
            _report(spec, exc)
            raise
        _print_diagnostics(spec, result.warnings, result.source_map)
        if output is None:
            if result.has_secrets and not redact and not sys.stdout.isatty():
                typer.echo("jobc: warning: this script holds secrets; write it with -o to get a file of mode 0600, "
                           "or use --redact for review", err=True)
            sys.stdout.write(result.script)
            return
        _write_atomically(output, result.script, private=result.has_secrets and not redact)
        typer.echo(output)

    _guarded(run)


@app.command()
def validate(
    specs: List[str] = typer.Argument(..., help="Spec files to check (or - for standard input)."),
    site_file: Optional[str] = typer.Option(None, "--site", help="Site profile (TOML)."),
    app_version: Optional[str] = _APP_VERSION,
    app_id: Optional[int] = _APP_ID,
    app_name: Optional[str] = _APP_NAME,
    workunit_ref: Optional[str] = _WORKUNIT_REF,
    work_dir: Optional[str] = _WORK_DIR,
    app_dir: Optional[str] = _APP_DIR,
    submitter: Optional[str] = _SUBMITTER,
    cpus: Optional[int] = _CPUS,
    mem: Optional[str] = _MEM,
    runtime: Optional[str] = _RUNTIME,
) -> None:
    """Check specs offline and report every problem of every file (an app spec: every version)."""

    def run() -> None:
        from . import compile_spec
        from .diagnostics import SpecError

        site = _site(site_file, [])
        options = _options([], app_version=app_version, app_id=app_id, app_name=app_name, workunit_ref=workunit_ref,
                           work_dir=work_dir, app_dir=app_dir, submitter=submitter, cpus=cpus, mem=mem, runtime=runtime, validate=True)
        failed = False
        for spec in specs:
            try:
                result = compile_spec(_read(spec), name=spec, site=site, options=options)
            except SpecError as exc:
                _report(spec, exc)
                failed = True
                continue
            except _Usage as exc:
                typer.echo(f"jobc: {exc}", err=True)
                failed = True
                continue
            _print_diagnostics(spec, result.warnings, result.source_map)
            typer.echo(f"{spec}: ok", err=True)
        if failed:
            raise typer.Exit(EXIT_INVALID)

    _guarded(run)


@app.command()
def schema(
    kind: str = typer.Option("job", "--kind", help="job (DeepSquare job spec) or app (bfabric app spec)."),
) -> None:
    """Print the JSON Schema of a job spec or an app spec (for editors such as yaml-language-server)."""

    def run() -> None:
        import json

        from .schema import app_schema, job_schema

        if kind not in ("job", "app"):
            raise _Usage(f"--kind {kind}: must be job or app")
        sys.stdout.write(json.dumps(job_schema() if kind == "job" else app_schema(), indent=2, sort_keys=True) + "\n")

    _guarded(run)


def _write_atomically(path: str, text: str, *, private: bool) -> None:
    """Write `text` to `path` through a temporary file in the same directory, then rename it."""
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".jobc-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise _Usage(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):  # a full disk or a directory in the way is not a bug in jobc
            raise _Usage(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise


def main() -> None:
    app()
