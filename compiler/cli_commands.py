"""The bodies of jobc's commands (the options they take are in `jobc.cli`); imported when a command runs."""

from __future__ import annotations

import gc
import os
import shlex
import sys
from typing import Any, Iterable, Iterator, List, Optional

from .cli_table import EXIT_INVALID, SHELLS, Exit

EXIT_INTERNAL = 70
EXIT_STALE = 1


def echo(message: str, *, err: bool = False) -> None:
    print(message, file=sys.stderr if err else sys.stdout)


def _read(spec: str) -> str:
    return _read_spec(spec)[0]


def _read_spec(spec: str) -> tuple[str, str | None]:
    """The spec's text and the SHA-256 of its bytes (files: newlines read as `\\n`, as Python does)."""
    import hashlib

    if spec == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        if isinstance(data, str):
            return data, None
        try:
            return data.decode("utf-8"), hashlib.sha256(data).hexdigest()
        except UnicodeDecodeError:
            raise _Usage("<stdin>: not UTF-8 text") from None
    try:
        with open(spec, "rb") as fh:
            data = fh.read()
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Usage(f"{spec}: not UTF-8 text") from None
    except OSError as exc:
        raise _Usage(f"{spec}: {exc.strerror}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n"), hashlib.sha256(data).hexdigest()


class _Usage(Exception):
    """A problem with the command line or the files it names (exit code 2)."""


def _shown(spec: str) -> str:
    return "<stdin>" if spec == "-" else spec


def _report(spec: str, exc, reporter) -> None:
    from .diagnostics import SourceError

    if isinstance(exc, SourceError):
        reporter.report(_shown(spec), exc.diagnostics, None, (exc.line, exc.col))
    else:
        reporter.report(_shown(spec), exc.diagnostics, exc.source_map)


def _one_by_one(specs: Iterable[Any]) -> Iterator[Any]:
    """The specs in turn; with Python's cyclic collector off, it is on from the second spec, and off again after.

    `jobc.cli.main` turns the collector off, as the process ends with the command. `compile_spec` pauses the
    collector while it runs, and its first pass once turned back on walked every object made meanwhile: the
    modules, classes, validators and templates a cold compile imports and builds (15 ms after the minimal job,
    for a process about to exit). With more specs, each compile's cycles are collected before the next.
    """
    paused = not gc.isenabled()
    try:
        for index, spec in enumerate(specs):
            if paused and index == 1:
                gc.enable()
            yield spec
    finally:
        if paused:
            gc.disable()


def _site(site_file: Optional[str], sbatch: List[str]):
    from .site import load_site

    return load_site(site_file or os.environ.get("JOBC_SITE")).with_sbatch(sbatch or [])


def _guarded(run, reporter=None) -> None:
    """Run a command body, mapping expected failures to exit codes and anything else to 70."""
    from .diagnostics import SpecError
    from .report import Reporter
    from .site import SiteError

    reporter = reporter or Reporter()
    try:
        run()
    except SpecError as exc:
        if getattr(exc, "file", None):  # a file named by an option (--submitter), not a spec
            _report(exc.file, exc, reporter)
        reporter.finish()
        raise Exit(EXIT_INVALID) from None
    except SiteError as exc:
        reporter.report(exc.file, exc.diagnostics, exc.source_map)
        reporter.finish()
        raise Exit(EXIT_INVALID) from None
    except _Usage as exc:
        reporter.usage(str(exc))
        reporter.finish()
        raise Exit(EXIT_INVALID) from None
    except (Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into exit code 70
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line, whatever the exception says
        echo(f"jobc: internal error (a bug in jobc; please report it with the spec): {detail}", err=True)
        raise Exit(EXIT_INTERNAL) from None


def _options(
    sbatch: List[str],
    *,
    job_name=None,
    app_version,
    app_id,
    app_name,
    workunit_ref,
    work_dir,
    submitter,
    app_dir,
    cpus,
    mem,
    runtime,
    validate: bool = False,
    offline: bool = False,
    module_cache: Optional[str] = None,
):
    """compile_spec options; the app options are refused by DeepSquare jobs when given."""
    from .options import AppOptions, CompileOptions

    app = AppOptions(
        app_version=app_version,
        app_id=app_id,
        app_name=app_name,
        workunit_ref=workunit_ref,
        work_dir=work_dir,
        app_dir=app_dir,
        cpus_per_task=cpus,
        mem=mem,
        container_runtime=runtime,
        submitters=_submitters(submitter) if submitter else None,
        submitters_file=submitter,
        cli_sbatch_keys=frozenset(pair.partition("=")[0].strip().removeprefix("--") for pair in sbatch),
    )
    return CompileOptions(
        job_name=job_name, app=app, validate_only=validate, offline=offline, module_cache=module_cache
    )


def _submitters(path: str):
    from .diagnostics import SpecError
    from .frontends.bfabric.settings import load_submitters

    try:
        return load_submitters(_read(path), path)
    except SpecError as exc:
        exc.file = path
        raise


def compile_command(
    *,
    specs: List[str],
    output: Optional[str],
    out_dir: Optional[str],
    check: bool,
    diff: bool,
    site_file: Optional[str],
    sbatch: List[str],
    job_name: Optional[str],
    redact: bool,
    app_version: Optional[str],
    app_id: Optional[int],
    app_name: Optional[str],
    workunit_ref: Optional[str],
    work_dir: Optional[str],
    app_dir: Optional[str],
    submitter: Optional[str],
    cpus: Optional[int],
    mem: Optional[str],
    runtime: Optional[str],
    offline: bool = False,
    module_cache: Optional[str] = None,
    fmt: str = "human",
) -> None:
    """Compile each SPEC into one sbatch script (with --check or --diff: check the scripts are current)."""

    def run() -> None:
        from . import compile_spec
        from .diagnostics import SpecError

        targets = _targets(specs, output, out_dir, checking=check or diff)
        if out_dir is not None and not (check or diff):
            try:
                os.makedirs(out_dir, exist_ok=True)
            except OSError as exc:
                raise _Usage(f"--out-dir {out_dir}: cannot create it: {exc.strerror}") from None
        site = _site(site_file, sbatch)
        options = _options(
            sbatch,
            job_name=job_name,
            app_version=app_version,
            app_id=app_id,
            app_name=app_name,
            workunit_ref=workunit_ref,
            work_dir=work_dir,
            app_dir=app_dir,
            submitter=submitter,
            cpus=cpus,
            mem=mem,
            runtime=runtime,
            offline=offline,
            module_cache=module_cache,
        )
        invalid = stale = False
        checking = check or diff
        for spec, target in _one_by_one(zip(specs, targets)):
            try:
                text, digest = _read_spec(spec)
                held = [text]  # compile_spec lets go of it once read: not beside the script as it is rendered
                del text
                result = compile_spec(
                    held, name=spec, site=site, redact=redact, options=options, digest=digest, stream=not checking
                )
            except SpecError as exc:
                _report(spec, exc, reporter)
                invalid = True
                continue
            except _Usage as exc:
                if len(specs) == 1:
                    raise
                reporter.usage(str(exc))
                invalid = True
                continue
            reporter.report(_shown(spec), result.warnings, result.source_map)
            if checking:
                stale = _check_current(target, result.script, show_diff=diff) or stale
            elif target is None:
                if result.has_secrets and not redact and not sys.stdout.isatty():
                    reporter.usage(
                        "this script holds secrets; write it with -o to get a file of mode 0600, "
                        "or use --redact for review",
                        severity="warning",
                    )
                _write_stdout(result.chunks())
            else:
                _write_atomically(target, result.chunks(), private=result.has_secrets and not redact)
                _write_stdout(target + "\n")
        reporter.finish()
        if invalid:
            raise Exit(EXIT_INVALID)
        if stale:
            raise Exit(EXIT_STALE)

    reporter = _reporter(fmt)
    _guarded(run, reporter)


def _reporter(fmt: str):
    from .report import Reporter

    return Reporter(fmt)


def _targets(specs: List[str], output: Optional[str], out_dir: Optional[str], *, checking: bool) -> list:
    """The file each spec's script goes to (None: standard output)."""
    if output is not None and out_dir is not None:
        raise _Usage("-o and --out-dir: give one of them")
    if output == "":
        raise _Usage("-o: must name a file; leave it out, or give -o -, for standard output")
    if output == "-":
        output = None  # standard output, as a spec `-` is standard input
    if output is not None:
        if len(specs) > 1:
            raise _Usage(f"-o {output}: names one script, for one spec; use --out-dir for {len(specs)} specs")
        return [output]
    if out_dir is not None:
        if "-" in specs:
            raise _Usage("--out-dir: standard input has no name to give its script; use -o FILE")
        targets = [os.path.join(out_dir, _stem(spec) + ".sh") for spec in specs]
        seen: dict[str, str] = {}
        for spec, target in zip(specs, targets):
            if target in seen:
                raise _Usage(f"--out-dir: {seen[target]} and {spec} would both write {target}")
            seen[target] = spec
        return targets
    if checking:
        raise _Usage("--check and --diff compare with the scripts written: give -o FILE or --out-dir DIR")
    if len(specs) > 1:
        raise _Usage(f"{len(specs)} specs: give --out-dir DIR to write a script for each")
    return [None]


def _stem(spec: str) -> str:
    base = os.path.basename(spec)
    return base.rsplit(".", 1)[0] if "." in base else base


def _check_current(target: str, fresh: str, *, show_diff: bool) -> bool:
    """True when `target` is stale or missing; says which file and how to refresh it on stderr."""
    try:
        with open(target, encoding="utf-8", newline="") as fh:
            current: Optional[str] = fh.read()
    except FileNotFoundError:
        current = None
    except (OSError, UnicodeDecodeError) as exc:
        raise _Usage(f"{target}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if current == fresh:
        return False
    refresh = shlex.join(["jobc", *(a for a in sys.argv[1:] if a not in ("--check", "--diff"))])
    what = "is missing" if current is None else "is not what jobc writes from its spec"
    echo(f"jobc: {target} {what}; refresh it with: {refresh}", err=True)
    if show_diff:
        import difflib

        lines = difflib.unified_diff(
            (current or "").splitlines(True),
            fresh.splitlines(True),
            fromfile=target if current is not None else "/dev/null",
            tofile=f"{target} (fresh)",
        )
        _write_stdout(
            "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
        )
    return True


def validate_command(
    *,
    specs: List[str],
    site_file: Optional[str],
    app_version: Optional[str],
    app_id: Optional[int],
    app_name: Optional[str],
    workunit_ref: Optional[str],
    work_dir: Optional[str],
    app_dir: Optional[str],
    submitter: Optional[str],
    cpus: Optional[int],
    mem: Optional[str],
    runtime: Optional[str],
    offline: bool = False,
    module_cache: Optional[str] = None,
    fmt: str = "human",
) -> None:
    """Check specs and report every problem of every file (an app spec: every version; git modules: fetched unless --offline)."""

    def run() -> None:
        from . import compile_spec
        from .diagnostics import SpecError

        site = _site(site_file, [])
        options = _options(
            [],
            app_version=app_version,
            app_id=app_id,
            app_name=app_name,
            workunit_ref=workunit_ref,
            work_dir=work_dir,
            app_dir=app_dir,
            submitter=submitter,
            cpus=cpus,
            mem=mem,
            runtime=runtime,
            validate=True,
            offline=offline,
            module_cache=module_cache,
        )
        failed = False
        for spec in _one_by_one(specs):
            try:
                held = [_read(spec)]  # let go of once read, as by compile
                result = compile_spec(held, name=spec, site=site, options=options, stream=True)
                for _ in result.chunks():  # rendered as by compile (the render finds problems too), never held
                    pass
            except SpecError as exc:
                _report(spec, exc, reporter)
                failed = True
                continue
            except _Usage as exc:
                reporter.usage(str(exc))
                failed = True
                continue
            reporter.report(_shown(spec), result.warnings, result.source_map)
            reporter.ok(spec)
        reporter.finish()
        if failed:
            raise Exit(EXIT_INVALID)

    reporter = _reporter(fmt)
    _guarded(run, reporter)


def schema_command(*, kind: str) -> None:
    """Print the JSON Schema of a job spec or an app spec (for editors such as yaml-language-server)."""

    def run() -> None:
        import json

        from .schema import app_schema, job_schema

        _write_stdout(json.dumps(job_schema() if kind == "job" else app_schema(), indent=2, sort_keys=True) + "\n")

    _guarded(run)


def _write_atomically(path: str, text: str | Iterable[str], *, private: bool) -> None:
    """Write the script to `-o PATH`: atomically, or straight to a FIFO or a device (see compiler/output.py)."""
    from .output import UsageError, WriteError, write_file

    try:
        write_file(path, text, private=private)
    except UsageError as exc:
        raise _Usage(str(exc)) from None
    except WriteError as exc:
        write_failed(exc)


def _write_stdout(text: str | Iterable[str]) -> None:
    """Write to standard output; a full disk or a closed pipe is one `jobc:` line and exit code 74."""
    from .output import WriteError, write_stdout

    try:
        write_stdout(text)
    except WriteError as exc:
        write_failed(exc)


def write_failed(exc: Exception) -> None:
    """A failed write, on stdout or -o: one `jobc:` line and exit code 74."""
    from .diagnostics import Diagnostic
    from .output import EXIT_IOERR

    try:
        echo(f"jobc: {Diagnostic((), str(exc)).text()}", err=True)
    except OSError:  # stderr is gone too: the exit code still says it
        pass
    raise Exit(EXIT_IOERR)


def completion_command(*, shell: List[str]) -> None:
    """Print the completion script of a shell (docs in the README)."""
    from .completion import script

    if len(shell) != 1 or shell[0] not in SHELLS:
        _usage_exit(f"completion {' '.join(shell) or '(none)'}: must be one of {', '.join(SHELLS)}")
    _write_stdout(script(shell[0]))


def explain_command(*, code: List[str]) -> None:
    """Print the explanation of a diagnostic's code (`jobc explain E0203`)."""
    from .messages import explain

    text = explain(code[0]) if len(code) == 1 else None
    if text is None:
        _usage_exit(f"{' '.join(code)}: no such diagnostic code (codes look like E0203 or W0101)")
    _write_stdout(text)


def _usage_exit(message: str) -> None:
    from .report import Reporter

    Reporter().usage(message)
    raise Exit(EXIT_INVALID)
