"""Pydantic models of the DeepSquare Job Reference, one class per type it names.

Field names are the reference's (camelCase) so that error paths read exactly like
the user's file. Rules the reference states and the decisions of the project's
notes (docs/decisions.md) live here, each with its message in `fields.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from .fields import (
    AbsolutePath,
    AtLeast0,
    AtLeast1,
    Bool,
    Cidr,
    Credential,
    Decimal,
    Endpoint,
    EnvName,
    HandleName,
    HostName,
    HttpUrl,
    ImageRef,
    Int,
    IpAddress,
    ListOf,
    MountPath,
    OneOf,
    Port,
    RegistryHost,
    Str,
    WireguardKey,
    as_list,
    invalid,
    rule,
)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @classmethod
    def _checks(cls, data: dict) -> list[str]:
        """Rules across fields, checked on the mapping as written (see `_all_problems`)."""
        return []

    @model_validator(mode="wrap")
    @classmethod
    def _all_problems(cls, data: Any, handler: Any) -> Any:
        """Report the rules across fields together with the problems of the fields themselves.

        An `after` validator would not run once a field has failed, so a step
        giving both `run` and `for` with a typo inside `run` would report only
        the typo. The rules look only at which fields are given, so they can be
        checked on the raw mapping, before and whatever the fields' validation.
        """
        if not isinstance(data, dict) or id(data) in _CHECKING:
            # pydantic may apply an inherited wrap validator twice to a model used before its
            # forward references were resolved (Step); the outer application does the checks.
            return handler(data)
        problems = cls._checks(data)
        _CHECKING.add(id(data))
        try:
            result = handler(data)
        except ValidationError as exc:
            if not problems:
                raise
            raise ValidationError.from_exception_data(
                exc.title, [_problem(message, data) for message in problems] + [_again(e) for e in exc.errors()]
            ) from None
        finally:
            _CHECKING.discard(id(data))
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, [_problem(message, data) for message in problems])
        return result


_CHECKING: set[int] = set()  # ids of the mappings whose checks are running


def _given(data: dict, *names: str) -> list[str]:
    return [name for name in names if data.get(name) is not None]


def _problem(message: str, data: Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("jobc", message), loc=(), input=data)


def _again(err: Any) -> InitErrorDetails:
    """A line of a caught ValidationError, as it must be given to raise it again."""
    kind = err["type"]
    if kind == "jobc":
        kind = PydanticCustomError("jobc", err["msg"])
    details = InitErrorDetails(type=kind, loc=tuple(err["loc"]), input=err.get("input"))
    if err.get("ctx") and kind != "jobc":
        details["ctx"] = err["ctx"]
    return details


class JobResources(Model):
    """Allocated resources for the job."""

    tasks: AtLeast1
    cpusPerTask: AtLeast1
    memPerCpu: AtLeast1
    gpusPerTask: AtLeast0


class EnvVar(Model):
    """An environment variable; `key` follows POSIX naming."""

    key: EnvName
    value: Str


def _env_list(value: Any) -> Any:
    """`env: {FOO: bar}` is the commonest mistake: say what env is, once, instead of three field errors."""
    if isinstance(value, dict) and not set(value) <= {"key", "value"}:  # one {key, value}: a list of one
        raise PydanticCustomError("jobc", "must be a list of {key, value} mappings, not a mapping")
    return value


EnvList = Annotated[ListOf(EnvVar), BeforeValidator(_env_list)]


class HTTPData(Model):
    url: HttpUrl


class S3Data(Model):
    region: Str
    bucketUrl: Annotated[
        Str,
        rule(lambda v: v.startswith("s3://") and len(v) > 5, "must start with s3://, such as s3://my-bucket"),
        rule(lambda v: not v.endswith("/"), "must not end with /"),
    ]
    path: AbsolutePath
    accessKeyId: Str
    secretAccessKey: Str
    endpointUrl: HttpUrl
    deleteSync: Optional[Bool] = None


class TransportData(Model):
    http: Optional[HTTPData] = None
    s3: Optional[S3Data] = None

    @classmethod
    def _checks(cls, data: dict) -> list[str]:
        return [] if len(_given(data, "http", "s3")) == 1 else ["give exactly one of http, s3"]


class StepRunResources(Model):
    tasks: Optional[AtLeast1] = None
    cpusPerTask: Optional[AtLeast1] = None
    memPerCpu: Optional[AtLeast1] = None
    gpusPerTask: Optional[AtLeast0] = None


class Mount(Model):
    hostDir: MountPath
    containerDir: MountPath
    options: OneOf("ro", "rw")


class ContainerRun(Model):
    image: ImageRef
    mounts: Optional[ListOf(Mount)] = None
    username: Optional[Credential] = None
    password: Optional[Credential] = None
    registry: Optional[RegistryHost] = None
    apptainer: Optional[Bool] = None
    deepsquareHosted: Optional[Bool] = None
    x11: Optional[Bool] = None

    @classmethod
    def _checks(cls, data: dict) -> list[str]:
        if len(_given(data, "username", "password")) == 1:
            return ["username and password go together: give both or neither"]
        return []


class WireguardPeer(Model):
    publicKey: WireguardKey
    preSharedKey: Optional[WireguardKey] = None
    allowedIPs: Optional[ListOf(Cidr)] = None
    endpoint: Optional[Endpoint] = None
    persistentKeepalive: Optional[Annotated[Int, Field(ge=0, le=65535)]] = None


class Wireguard(Model):
    address: Optional[ListOf(Cidr)] = None
    privateKey: WireguardKey
    peers: Optional[ListOf(WireguardPeer)] = None


class Bore(Model):
    address: HostName
    port: Port
    targetPort: Port


class NetworkInterface(Model):
    wireguard: Optional[Wireguard] = None
    bore: Optional[Bore] = None

    @classmethod
    def _checks(cls, data: dict) -> list[str]:
        return [] if len(_given(data, "wireguard", "bore")) == 1 else ["give exactly one of wireguard, bore"]


class StepRun(Model):
    command: Str
    shell: Optional[OneOf("/bin/bash", "/bin/ash", "/bin/sh")] = None
    resources: Optional[StepRunResources] = None
    container: Optional[ContainerRun] = None
    network: Optional[OneOf("host", "slirp4netns")] = None
    dns: Optional[ListOf(IpAddress)] = None
    customNetworkInterfaces: Optional[ListOf(NetworkInterface)] = None
    env: Optional[EnvList] = None
    mapRoot: Optional[Bool] = None
    workDir: Optional[Str] = None
    disableCpuBinding: Optional[Bool] = None
    mpi: Optional[OneOf("none", "pmix_v4", "pmi2")] = None

    @field_validator("dns", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        """The reference calls dns "a comma-separated list": split a string on commas."""
        value = as_list(value)
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) and "," in value[0]:
            return [part.strip() for part in value[0].split(",")]
        return value

    @classmethod
    def _checks(cls, data: dict) -> list[str]:
        if data.get("network") not in (None, "host"):  # slirp4netns, or a bad value reported at network
            return []
        given = [name for name in ("dns", "customNetworkInterfaces") if data.get(name) not in (None, "", [])]
        return (
            [
                f"{' and '.join(given)} {'needs' if len(given) == 1 else 'need'} network: slirp4netns (the default is host)"
            ]
            if given
            else []
        )


class ForRange(Model):
    begin: Int
    end: Int
    increment: Optional[Int] = None

    @field_validator("increment")
    @classmethod
    def _not_zero(cls, value):
        if value == 0:
            raise invalid("must not be 0 (the loop would never end)")
        return value


class StepFor(Model):
    parallel: Bool = False  # required by the reference's table, left out by its own "Step (for)" example
    items: Optional[ListOf(Str)] = None
    range: Optional[ForRange] = None
    steps: ListOf("Step")

    @classmethod
    def _checks(cls, data: dict) -> list[str]:
        given = _given(data, "items", "range")
        if len(given) == 2:
            return ["items and range are exclusive: give one of them"]
        return [] if given else ["give items or range"]


class StepAsyncLaunch(Model):
    handleName: Optional[HandleName] = None
    signalOnParentStepExit: Optional[
        Annotated[Int, rule(lambda v: 0 <= v <= 64, "must be a signal number from 1 to 64, or 0 for no signal")]
    ] = None
    steps: ListOf("Step")


class Step(Model):
    name: Optional[Str] = None
    dependsOn: Optional[ListOf(HandleName)] = None
    run: Optional[StepRun] = None
    for_: Optional[StepFor] = Field(default=None, alias="for")
    launch: Optional[StepAsyncLaunch] = None

    @classmethod
    def _checks(cls, data: dict) -> list[str]:
        given = _given(data, "run", "for", "launch")
        if len(given) > 1:
            return [f"run, for and launch are exclusive: this step gives {' and '.join(given)}"]
        return []


class Job(Model):
    """A DeepSquare job: resources, data in and out, and a sequence of steps."""

    resources: JobResources
    env: Optional[EnvList] = None
    enableLogging: Optional[Bool] = None
    input: Optional[TransportData] = None
    inputMode: Optional[
        Annotated[
            Decimal, rule(lambda v: 0 <= v <= 512, "must be a decimal mode between 0 and 512 (493 means chmod 755)")
        ]
    ] = None
    steps: ListOf(Step)
    output: Optional[TransportData] = None
    continuousOutputSync: Optional[Bool] = None


StepFor.model_rebuild()
StepAsyncLaunch.model_rebuild()
