"""Pydantic models of the DeepSquare Job Reference, one class per type it names.

Field names are the reference's (camelCase) so that error paths read exactly like
the user's file. Rules the reference states and the decisions of the project's
notes (docs/decisions.md) live here, each with its message in `fields.py`.
"""

import shlex
from typing import Annotated, Any, ClassVar, Optional, Union

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
    HostPort,
    HttpUrl,
    ImageRef,
    Int,
    IpAddress,
    ListOf,
    MountPath,
    NonEmpty,
    OneOf,
    Port,
    PosixName,
    RegistryHost,
    Str,
    Token,
    WireguardKey,
    as_list,
    exclusive_bodies,
    rule,
)

Problem = Union[str, tuple[str, str]]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    # Fields given together or not at all, as `_checks` checks them and `jobc schema` states them.
    exactly_one_of: ClassVar[tuple[str, ...]] = ()
    at_most_one_of: ClassVar[tuple[str, ...]] = ()
    given_together: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _checks(cls, data: dict) -> list[Problem]:
        """Rules across fields, checked on the mapping as written (see `_all_problems`).

        A problem is a message about the whole mapping, or `(field, message)` about one of its fields.
        """
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
        if not problems:  # most mappings: a second application finds none either
            return handler(data)
        _CHECKING.add(id(data))
        try:
            handler(data)
        except ValidationError as exc:
            raise ValidationError.from_exception_data(
                exc.title, [_problem(message, data) for message in problems] + [_again(e) for e in exc.errors()]
            ) from None
        finally:
            _CHECKING.discard(id(data))
        raise ValidationError.from_exception_data(cls.__name__, [_problem(message, data) for message in problems])


_CHECKING: set[int] = set()  # ids of the mappings whose checks are running


def _given(data: dict, *names: str) -> list[str]:
    return [name for name in names if data.get(name) is not None]


def _and(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1]


def _problem(problem: Problem, data: Any) -> InitErrorDetails:
    loc, message = ((), problem) if isinstance(problem, str) else ((problem[0],), problem[1])
    return InitErrorDetails(type=PydanticCustomError("jobc", message), loc=loc, input=data)


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
    """Allocated resources for the job.

    The job's GPUs come in two generations: the current schema's `gpus` (for the
    whole job; steps get none unless they ask) and the Job Reference's
    `gpusPerTask` (per task; steps inherit it). Exactly one of them is given.
    """

    model_config = ConfigDict(
        **Model.model_config,
        json_schema_extra={
            "oneOf": [
                {"required": [name], "properties": {name: {"not": {"const": None}}}} for name in ("gpus", "gpusPerTask")
            ]
        },
    )

    tasks: AtLeast1
    cpusPerTask: AtLeast1
    memPerCpu: AtLeast1
    gpus: Optional[AtLeast0] = None
    gpusPerTask: Optional[AtLeast0] = None

    @classmethod
    def _checks(cls, data: dict) -> list[Problem]:
        given = _given(data, "gpus", "gpusPerTask")
        if len(given) == 2:
            return ["gpus and gpusPerTask are two forms of the job's GPUs: give one of them (gpus is the current form)"]
        return [] if given else ["give gpus (the job's GPUs), or the Job Reference's gpusPerTask"]


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
        rule(
            lambda v: v.startswith("s3://") and len(v) > 5,
            "must start with s3://, such as s3://my-bucket",
            pattern="^s3://.",
        ),
        rule(lambda v: not v.endswith("/"), "must not end with /", pattern="[^/]$"),
    ]
    path: AbsolutePath
    accessKeyId: Str
    secretAccessKey: Str
    endpointUrl: HttpUrl
    deleteSync: Optional[Bool] = None


class TransportData(Model):
    exactly_one_of = ("http", "s3")

    http: Optional[HTTPData] = None
    s3: Optional[S3Data] = None

    @classmethod
    def _checks(cls, data: dict) -> list[Problem]:
        names = cls.exactly_one_of
        return [] if len(_given(data, *names)) == 1 else [f"give exactly one of {', '.join(names)}"]


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
    given_together = ("username", "password")

    image: ImageRef
    mounts: Optional[ListOf(Mount)] = Field(default=None, json_schema_extra={"deprecated": True})
    username: Optional[Credential] = None
    password: Optional[Credential] = None
    registry: Optional[RegistryHost] = None
    apptainer: Optional[Bool] = None
    deepsquareHosted: Optional[Bool] = None
    x11: Optional[Bool] = None
    mountHome: Optional[Bool] = None
    readOnlyRootFS: Optional[Bool] = None

    @classmethod
    def _checks(cls, data: dict) -> list[Problem]:
        if len(_given(data, *cls.given_together)) == 1:
            return [f"{_and(cls.given_together)} go together: give both or neither"]
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
    """Both generations: the Job Reference's `address` + `port`, or the current `boreAddress` (and `secret`)."""

    address: Optional[HostName] = None
    port: Optional[Port] = None
    boreAddress: Optional[HostPort] = None
    targetPort: Port
    secret: Optional[Token] = None

    @classmethod
    def _checks(cls, data: dict) -> list[Problem]:
        old = _given(data, "address", "port")
        if data.get("boreAddress") is not None:
            if old:
                return [
                    f"boreAddress and {' and '.join(old)} are two forms of one setting: "
                    "give boreAddress (host:port), or address and port (the Job Reference's form)"
                ]
            return []
        if len(old) == 2:
            return []
        if old:
            return [f"{old[0]} needs {'port' if old[0] == 'address' else 'address'}: give both, or boreAddress"]
        return ["give boreAddress (host:port), or address and port"]


class VNet(Model):
    name: NonEmpty
    address: Cidr


class VirtualNetwork(Model):
    name: NonEmpty
    gatewayAddress: Cidr


class NetworkInterface(Model):
    exactly_one_of = ("wireguard", "bore", "vnet")

    wireguard: Optional[Wireguard] = None
    bore: Optional[Bore] = None
    vnet: Optional[VNet] = None

    @classmethod
    def _checks(cls, data: dict) -> list[Problem]:
        names = cls.exactly_one_of
        return [] if len(_given(data, *names)) == 1 else [f"give exactly one of {', '.join(names)}"]


# A WireGuard or vnet entry of customNetworkInterfaces: wg-quick brings it up as root, so mapUid must be 0 (or none).
_WG_QUICK_INTERFACE = {
    "type": "object",
    "anyOf": [{"required": [kind], "properties": {kind: {"type": "object"}}} for kind in ("wireguard", "vnet")],
}


class StepRun(Model):
    model_config = ConfigDict(
        json_schema_extra={  # rules of `_checks` and of plan_networks, for editors
            "allOf": [
                {
                    "if": {
                        "anyOf": [
                            {"required": [name], "properties": {name: {"not": {"enum": [None, "", []]}}}}
                            for name in ("dns", "customNetworkInterfaces")
                        ]
                    },
                    "then": {"required": ["network"], "properties": {"network": {"not": {"enum": [None, "host"]}}}},
                },
                {
                    "if": {
                        "required": ["customNetworkInterfaces"],
                        "properties": {
                            "customNetworkInterfaces": {
                                "anyOf": [{"type": "array", "contains": _WG_QUICK_INTERFACE}, _WG_QUICK_INTERFACE]
                            }
                        },
                    },
                    "then": {"properties": {"mapUid": {"enum": [0, None]}}},
                },
            ]
        }
    )

    command: Str
    shell: Optional[OneOf("/bin/bash", "/bin/ash", "/bin/sh", "ENTRYPOINT")] = None
    resources: Optional[StepRunResources] = None
    container: Optional[ContainerRun] = None
    network: Optional[OneOf("host", "slirp4netns", "pasta")] = None
    dns: Optional[ListOf(IpAddress)] = None
    customNetworkInterfaces: Optional[ListOf(NetworkInterface)] = None
    env: Optional[EnvList] = None
    mapRoot: Optional[Bool] = None
    mapUid: Optional[AtLeast0] = None
    mapGid: Optional[AtLeast0] = None
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
    def _checks(cls, data: dict) -> list[Problem]:
        if data.keys().isdisjoint(_RUN_RULE_FIELDS):  # most steps: none of the rules applies
            return []
        return _entrypoint_problems(data) + _map_problems(data) + _network_problems(data)


# The fields without which no rule of StepRun._checks applies (each rule needs one of them given).
_RUN_RULE_FIELDS = frozenset(("shell", "mapRoot", "dns", "customNetworkInterfaces"))


def _entrypoint_problems(data: dict) -> list[Problem]:
    """`shell: ENTRYPOINT` hands the command's words to the image's entrypoint: it needs an image and words."""
    if data.get("shell") != "ENTRYPOINT":
        return []
    problems: list[Problem] = []
    if data.get("container") is None:
        problems.append(("shell", "ENTRYPOINT needs a container: it runs the image's entrypoint"))
    command = data.get("command")
    if isinstance(command, str):
        try:
            shlex.split(command)
        except ValueError as exc:
            problems.append(
                (
                    "command",
                    f"cannot be split into words (shell: ENTRYPOINT splits it like a shell): {str(exc).lower()}",
                )
            )
    return problems


def _map_problems(data: dict) -> list[Problem]:
    ids = _given(data, "mapUid", "mapGid")
    if not ids or data.get("mapRoot") is None:
        return []
    return [
        f"mapRoot and {' and '.join(ids)} are two forms of one setting: give mapRoot (the Job Reference's "
        "form) or mapUid/mapGid, not both"
    ]


def _network_problems(data: dict) -> list[Problem]:
    if data.get("network") not in (None, "host"):  # a namespace, or a bad value reported at network
        return []
    given = [name for name in ("dns", "customNetworkInterfaces") if data.get(name) not in (None, "", [])]
    if not given:
        return []
    return [
        f"{' and '.join(given)} {'needs' if len(given) == 1 else 'need'} network: slirp4netns or pasta "
        "(the default is host)"
    ]


class ForRange(Model):
    begin: Int
    end: Int
    increment: Optional[
        Annotated[Int, rule(lambda v: v != 0, "must not be 0 (the loop would never end)", **{"not": {"const": 0}})]
    ] = None


# What a step does: at most one of them (`use` is the modules' field; an empty `steps` counts as absent).
BODY_FIELDS = ("run", "for", "launch", "use", "steps")


class Step(Model):
    at_most_one_of = BODY_FIELDS  # NOTES decision 4: a step with none of them only prints its name

    name: Optional[Str] = None
    dependsOn: Optional[ListOf(HandleName)] = None
    if_: Optional[Str] = Field(default=None, alias="if")
    run: Optional[StepRun] = None
    for_: Optional["StepFor"] = Field(default=None, alias="for")
    launch: Optional["StepAsyncLaunch"] = None
    use: Optional["StepUse"] = None
    steps: Optional[ListOf("Step")] = None
    catch: Optional[ListOf("Step")] = None
    finally_: Optional[ListOf("Step")] = Field(default=None, alias="finally")

    @classmethod
    def _checks(cls, data: dict) -> list[str]:
        given = [name for name in cls.at_most_one_of if name in data and data[name] is not None and data[name] != []]
        if len(given) > 1:
            return [exclusive_bodies(cls.at_most_one_of, given)]
        return []


class StepFor(Model):
    exactly_one_of = ("items", "range")

    parallel: Bool = False  # required by the reference's table, left out by its own "Step (for)" example
    items: Optional[ListOf(Str)] = None
    range: Optional[ForRange] = None
    steps: ListOf(Step)

    @classmethod
    def _checks(cls, data: dict) -> list[Problem]:
        given = _given(data, *cls.exactly_one_of)
        if len(given) > 1:
            return [f"{_and(cls.exactly_one_of)} are exclusive: give one of them"]
        return [] if given else [f"give {' or '.join(cls.exactly_one_of)}"]


class StepAsyncLaunch(Model):
    handleName: Optional[HandleName] = None
    signalOnParentStepExit: Optional[
        Annotated[
            Int,
            rule(
                lambda v: 0 <= v <= 64,
                "must be a signal number from 1 to 64, or 0 for no signal",
                minimum=0,
                maximum=64,
            ),
        ]
    ] = None
    steps: ListOf(Step)


class StepUse(Model):
    """A module's steps (DeepSquare `use`), resolved when the job is compiled (docs/modules.md)."""

    source: Str
    args: Optional[ListOf(EnvVar)] = None
    exportEnvAs: Optional[PosixName] = None
    steps: Optional[ListOf(Step)] = None


class Job(Model):
    """A DeepSquare job: resources, data in and out, and a sequence of steps."""

    resources: JobResources
    env: Optional[EnvList] = None
    enableLogging: Optional[Bool] = None
    input: Optional[TransportData] = None
    inputMode: Optional[
        Annotated[
            Decimal,
            rule(
                lambda v: 0 <= v <= 512,
                "must be a decimal mode between 0 and 512 (493 means chmod 755)",
                minimum=0,
                maximum=512,
            ),
        ]
    ] = None
    steps: ListOf(Step)
    output: Optional[TransportData] = None
    continuousOutputSync: Optional[Bool] = None
    virtualNetworks: Optional[ListOf(VirtualNetwork)] = None


# Step is defined before the kinds of steps that hold steps, so that only its own fields need resolving here.
Step.model_rebuild()
