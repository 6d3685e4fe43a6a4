"""Pydantic models of the bfabric-app-runner App Specification, one class per model it names.

Field names are the specification's (snake_case), so error paths read like the
user's file. The models check strings after Mako substitution (bfabric.py
substitutes first, as bfabric-app-runner does), so a rule sees the value the
command will get. Rules the specification leaves open are jobc decisions,
documented in docs/bfabric.md; each message is next to its rule.
"""

import re
import shlex
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from ...source import Plain
from ..fields import Bool, PosixName, Str, image_rule, invalid, is_host, keywords, rule

DEFAULT = "[default]"  # a submitter parameter that leaves the site's default


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class CommandLine(str):
    """A command as written, with the words `shlex.split` made of it when it was validated (`words`).

    shlex.split is pure Python, a character at a time: lowering takes these words instead of splitting again."""

    words: tuple[str, ...]


def _words(value: str) -> CommandLine:
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise invalid(f"cannot be split into words with shlex.split: {str(exc).lower()}") from None
    line = CommandLine(value)
    line.words = tuple(words)
    return line


def _command(value: str) -> CommandLine:
    return _words(value)


def _program(words: tuple[str, ...]) -> None:
    if not words:
        raise invalid("must name a program to run (it is split with shlex.split, not run by a shell)")


def _shell_command(value: str) -> CommandLine:
    """A command that splits and names a program."""
    line = _words(value)
    _program(line.words)
    return line


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise invalid("must not contain newlines or other control characters")
    return value


def _not_option(value: str) -> str:
    if value.startswith("-"):
        raise invalid("must not start with '-' (the container engine would read it as an option)")
    return value


def _after(fn):
    return AfterValidator(fn)


def templated(pattern: str) -> Any:
    """JSON Schema for a string checked after Mako substitution: the pattern, unless it holds `${…}` (or `%`)."""
    return keywords(pattern=f"\\$\\{{|%|{pattern}")


_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
_NOT_BLANK = keywords(pattern=r"\S")


Command = Annotated[Str, _after(_command)]
ShellCommand = Annotated[Str, _after(_shell_command), _NOT_BLANK]
Text = Annotated[Str, _after(_no_control), templated(_NO_CONTROL)]
Image = Annotated[
    Str,
    _after(_not_option),
    image_rule(host_allowed=True),
    templated(r"^[^\s\x00-\x1f\x7f-][^\s\x00-\x1f\x7f]*$"),
]
MacAddress = Annotated[
    Str,
    rule(
        lambda v: not v or bool(re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}", v)),
        "must be a MAC address such as 02:42:ac:11:00:02",
    ),
    templated("^$|^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$"),
]
# Empty: unset, as bfabric-app-runner passes --hostname and --mac-address only for a non-empty value.
HostName = Annotated[
    Str, rule(lambda v: not v or (is_host(v) and len(v) <= 253), "must be a host name such as worker-1")
]
EngineArg = Annotated[Str, _after(_no_control), templated(_NO_CONTROL)]


def _path_rules(value: str) -> str:
    if not value:
        raise invalid("must not be empty")
    return _no_control(value)


def _host_path(value: str) -> str:
    _path_rules(value)
    if value.startswith("~") and not (value == "~" or value.startswith("~/")):
        raise invalid("only ~ and ~/… are expanded (to $HOME), not ~user")
    return value


def _container_path(value: str) -> str:
    _path_rules(value)
    if not value.startswith("/"):
        raise invalid("must be an absolute path in the container (starting with /)")
    return value


HostPath = Annotated[Str, _after(_host_path), templated(r"^(~/|~$|[^~\x00-\x1f\x7f])[^\x00-\x1f\x7f]*$")]
ContainerPath = Annotated[Str, _after(_container_path), templated(r"^/[^\x00-\x1f\x7f]*$")]


def _pair(value: Any) -> Any:
    if not isinstance(value, list) or len(value) != 2:
        raise invalid("must be a pair [host path, container path]")
    return tuple(value)


MountPair = Annotated[tuple[HostPath, ContainerPath], BeforeValidator(_pair)]


class MountOptions(Model):
    """Bind mounts of a docker command: the work directory, the B-Fabric config, and the lists."""

    work_dir_target: Optional[ContainerPath] = None
    read_only: list[MountPair] = []
    writeable: list[MountPair] = []
    share_bfabric_config: Bool = True


class CommandShell(Model):
    """A command split with shlex.split and run as an argv (not a shell script)."""

    type: Literal["shell"]
    command: ShellCommand


def _exec_command(value: str) -> CommandLine:
    line = _words(value)
    _program(line.words)
    if "=" in line.words[0]:
        raise invalid("must not start with a word holding '=' (the program would be read as a variable assignment)")
    return line


def _string_only(value: Any) -> Any:
    """bfabric-app-runner 0.9's new fields are `str` for pydantic: YAML's numbers and booleans are refused."""
    if isinstance(value, Plain):
        kind = "a boolean" if isinstance(value.value, bool) else "a number"
        raise invalid(f"must be a string: YAML reads {value.text} as {kind}; quote it")
    return value


StrictStr = Annotated[Str, BeforeValidator(_string_only)]
ExecCommand = Annotated[StrictStr, _after(_exec_command), _NOT_BLANK]
SpecPath = Annotated[StrictStr, _after(_host_path), templated(r"^(~/|~$|[^~\x00-\x1f\x7f])[^\x00-\x1f\x7f]*$")]
EnvValue = StrictStr


class CommandExec(Model):
    """bfabric-app-runner 0.9's exec: the command split with shlex.split, run with `env` and `prepend_paths`."""

    type: Literal["exec"]
    command: ExecCommand
    env: dict[PosixName, EnvValue] = {}
    prepend_paths: list[SpecPath] = []


def _python_version(value: str) -> str:
    if not re.fullmatch(r"((cpython|pypy|graalpy)-?)?3(\.[0-9]+){0,2}t?", value):
        raise invalid("must be a Python version such as 3.13, 3.12.4 or pypy3.10 (uv venv -p)")
    return value


PythonVersion = Annotated[
    StrictStr, _after(_python_version), templated(r"^((cpython|pypy|graalpy)-?)?3(\.[0-9]+){0,2}t?$")
]


class CommandPythonEnv(Model):
    """bfabric-app-runner 0.9's python_env: exec inside a uv environment made from a pylock file."""

    type: Literal["python_env"]
    pylock: SpecPath
    command: ExecCommand
    python_version: PythonVersion = "3.13"
    local_extra_deps: list[SpecPath] = []
    env: dict[PosixName, EnvValue] = {}
    prepend_paths: list[SpecPath] = []
    refresh: Bool = False


class CommandDocker(Model):
    """A command run in a container by docker or podman (or the site's container runtime)."""

    type: Literal["docker"]
    image: Image
    command: Command
    entrypoint: Optional[Text] = None
    engine: Literal["docker", "podman"] = "docker"
    env: dict[PosixName, Str] = {}
    mac_address: Optional[MacAddress] = None
    mounts: MountOptions = MountOptions()
    hostname: Optional[HostName] = None
    custom_args: list[EngineArg] = []


AnyCommand = Annotated[Union[CommandShell, CommandExec, CommandPythonEnv, CommandDocker], Field(discriminator="type")]


class CommandsSpec(Model):
    """dispatch ($workunit_ref $work_dir), process ($chunk_dir), collect ($workunit_ref $chunk_dir)."""

    dispatch: AnyCommand
    process: AnyCommand
    collect: Optional[AnyCommand] = None


# --- submitters -----------------------------------------------------------------------------------


def _default_marker(value: Any) -> Any:
    """`[default]` unquoted is a YAML list holding "default": read it as the marker it looks like."""
    if isinstance(value, list) and len(value) == 1 and value[0] == "default":
        return DEFAULT
    return value


def _sbatch_text(value: str) -> str:
    from ...directives import DirectiveError, sbatch_value

    if not value:
        raise invalid(f"must not be empty (write {DEFAULT} for the site's default)")
    try:
        sbatch_value(value)
    except DirectiveError as exc:
        raise invalid(str(exc)) from None
    return value


_MEM = re.compile(r"([0-9]+)([KMGT]?)B?\Z", re.I)
_TIME = re.compile(r"([0-9]+(:[0-9]+){0,2}|[0-9]+-[0-9]+(:[0-9]+){0,2})\Z")
_UNITS_MB = {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1024 * 1024}


def mem_mb(value: str) -> int:
    """A Slurm memory size (`8G`, `500M`, `8000` megabytes) in megabytes, rounded up."""
    match = _MEM.match(value)
    assert match, value
    import math

    return math.ceil(int(match.group(1)) * _UNITS_MB[match.group(2).upper()])


def _mem(value: str) -> str:
    if value == DEFAULT:
        return value
    match = _MEM.match(value)
    if not match:
        raise invalid(f"must be a memory size such as 8G, 500M or 8000 (megabytes), or {DEFAULT}")
    if mem_mb(value) < 1 or mem_mb(value) > 2**31 - 1:
        raise invalid("must be between 1M and 2147483647M")
    return value


def _time(value: str) -> str:
    if value == DEFAULT or value.upper() in ("UNLIMITED", "INFINITE") or _TIME.match(value):
        return value
    raise invalid(f"must be a Slurm time limit such as 30, 2:00:00 or 1-12:00:00, or {DEFAULT}")


def _marker(text: Any = str, number: bool = False) -> BeforeValidator:
    """`[default]` read as the marker; in the JSON Schema, the text or the one-element list YAML makes of it
    (and, for `mem` and `time`, the unquoted number a YAML file gives: `mem: 8000`, `time: 30`)."""
    unquoted = Annotated[list[Literal["default"]], keywords(minItems=1, maxItems=1)]
    if number:
        return BeforeValidator(
            _default_marker, json_schema_input_type=Union[text, Annotated[int, keywords(minimum=1)], unquoted]
        )
    return BeforeValidator(_default_marker, json_schema_input_type=Union[text, unquoted])


_SLURM_MEM = r"^(\[default\]|[0-9]+[KMGTkmgt]?[Bb]?)$"
_SLURM_TIME = r"^(\[default\]|UNLIMITED|INFINITE|[0-9]+(:[0-9]+){0,2}|[0-9]+-[0-9]+(:[0-9]+){0,2})$"
SbatchText = Annotated[Str, _after(_sbatch_text), _marker()]
MemSize = Annotated[
    Str, _after(_sbatch_text), _after(_mem), _marker(Annotated[str, templated(_SLURM_MEM)], number=True)
]
TimeLimit = Annotated[
    Str, _after(_sbatch_text), _after(_time), _marker(Annotated[str, templated(_SLURM_TIME)], number=True)
]


class SubmitterParams(Model):
    """The Slurm parameters of a submitter; `[default]` leaves the site's default."""

    partition: Optional[SbatchText] = None
    nodelist: Optional[SbatchText] = None
    mem: Optional[MemSize] = None
    time: Optional[TimeLimit] = None


SubmitterName = Annotated[
    Str, rule(lambda v: bool(v.strip()) and not _CONTROL.search(v), "must be a submitter name, not empty"), _NOT_BLANK
]


class SubmitterRef(Model):
    """Reference of a submitter (by name) and overrides of its parameters."""

    name: SubmitterName
    config: SubmitterParams = SubmitterParams()


class SubmittersFile(Model):
    """The file given with `--submitter`: Slurm parameters of each submitter, by name."""

    submitters: dict[SubmitterName, SubmitterParams]


# --- versions -------------------------------------------------------------------------------------


def _version_list(value: Any) -> Any:
    """bfabric-app-runner's `_version_ensure_list`: a single version is a one-element list."""
    if value is None:
        raise invalid("must be a version such as 1.0.0, or a list of versions")
    return value if isinstance(value, list) else [value]


VersionName = Annotated[
    Str,
    rule(lambda v: bool(v.strip()) and not _CONTROL.search(v), "must be a version such as 1.0.0, not empty"),
    _NOT_BLANK,
]


class AppVersionTemplate(Model):
    """One version of an app, after its `version` list is expanded."""

    version: VersionName
    commands: CommandsSpec
    submitter: Optional[SubmitterRef] = None  # bfabric-app-runner 0.9 dropped it (the site chooses)
    reuse_default_resource: Bool = True


class AppVersionMultiTemplate(Model):
    """An entry of `versions`: one version or a list of versions sharing these commands."""

    version: Annotated[
        list[VersionName],
        Field(min_length=1),
        BeforeValidator(
            _version_list,
            json_schema_input_type=Union[
                VersionName, Annotated[list[VersionName], keywords(minItems=1, uniqueItems=True)]
            ],
        ),
    ]
    commands: CommandsSpec
    submitter: Optional[SubmitterRef] = None  # bfabric-app-runner 0.9 dropped it (the site chooses)
    reuse_default_resource: Bool = True

    @field_validator("version", mode="after")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        seen = set()
        for version in value:
            if version in seen:
                raise invalid(f"lists version {version} twice")
            seen.add(version)
        return value


class BfabricSection(Model):
    """bfabric-app-runner's settings for B-Fabric (accepted for compatibility; the script does not use them)."""

    app_runner: Str
    workflow_template_step_id: Optional[Annotated[int, BeforeValidator(lambda v: getattr(v, "value", v))]] = None


class AppSpec(Model):
    """An app specification: its versions (and, optionally, bfabric-app-runner's B-Fabric settings)."""

    versions: Annotated[list[AppVersionMultiTemplate], Field(min_length=1)]
    bfabric: Optional[BfabricSection] = None
