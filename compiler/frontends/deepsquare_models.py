"""Pydantic models of the DeepSquare Job Reference, one class per type it names.

Field names are the reference's (camelCase) so that error paths read exactly like
the user's file. Rules the reference states and the decisions of the project's
notes (docs/decisions.md) live here, each with its message in `fields.py`.
"""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .fields import (
    AbsolutePath, AtLeast0, AtLeast1, Bool, Cidr, Credential, Endpoint, HandleName, HostName, HttpUrl,
    ImageRef, Int, IpAddress, ListOf, MountPath, OneOf, Port, PosixName, RegistryHost, Str, WireguardKey,
    as_list, invalid, rule,
)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class JobResources(Model):
    """Allocated resources for the job."""

    tasks: AtLeast1
    cpusPerTask: AtLeast1
    memPerCpu: AtLeast1
    gpusPerTask: AtLeast0


class EnvVar(Model):
    """An environment variable; `key` follows POSIX naming."""

    key: PosixName
    value: Str


class HTTPData(Model):
    url: HttpUrl


class S3Data(Model):
    region: Str
    bucketUrl: Annotated[Str, rule(lambda v: v.startswith("s3://") and len(v) > 5, "must start with s3://, such as s3://my-bucket"),
                         rule(lambda v: not v.endswith("/"), "must not end with /")]
    path: AbsolutePath
    accessKeyId: Str
    secretAccessKey: Str
    endpointUrl: HttpUrl
    deleteSync: Optional[Bool] = None


class TransportData(Model):
    http: Optional[HTTPData] = None
    s3: Optional[S3Data] = None

    @model_validator(mode="after")
    def _one_transport(self) -> "TransportData":
        if (self.http is None) == (self.s3 is None):
            raise invalid("give exactly one of http, s3")
        return self


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

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> "ContainerRun":
        if (self.username is None) != (self.password is None):
            raise invalid("username and password go together: give both or neither")
        return self


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

    @model_validator(mode="after")
    def _one_transport(self) -> "NetworkInterface":
        if (self.wireguard is None) == (self.bore is None):
            raise invalid("give exactly one of wireguard, bore")
        return self


class StepRun(Model):
    command: Str
    shell: Optional[OneOf("/bin/bash", "/bin/ash", "/bin/sh")] = None
    resources: Optional[StepRunResources] = None
    container: Optional[ContainerRun] = None
    network: Optional[OneOf("host", "slirp4netns")] = None
    dns: Optional[ListOf(IpAddress)] = None
    customNetworkInterfaces: Optional[ListOf(NetworkInterface)] = None
    env: Optional[ListOf(EnvVar)] = None
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

    @model_validator(mode="after")
    def _network_options_need_slirp(self) -> "StepRun":
        if self.network != "slirp4netns":
            given = [name for name in ("dns", "customNetworkInterfaces") if getattr(self, name)]
            if given:
                raise invalid(f"{' and '.join(given)} need network: slirp4netns")
        return self


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
    parallel: Bool
    items: Optional[ListOf(Str)] = None
    range: Optional[ForRange] = None
    steps: ListOf("Step")

    @model_validator(mode="after")
    def _items_or_range(self) -> "StepFor":
        if self.items is not None and self.range is not None:
            raise invalid("items and range are exclusive: give one of them")
        if self.items is None and self.range is None:
            raise invalid("give items or range")
        return self


class StepAsyncLaunch(Model):
    handleName: Optional[HandleName] = None
    signalOnParentStepExit: Optional[Annotated[Int, rule(lambda v: 0 <= v <= 64, "must be a signal number from 1 to 64, or 0 for no signal")]] = None
    steps: ListOf("Step")


class Step(Model):
    name: Optional[Str] = None
    dependsOn: Optional[ListOf(HandleName)] = None
    run: Optional[StepRun] = None
    for_: Optional[StepFor] = Field(default=None, alias="for")
    launch: Optional[StepAsyncLaunch] = None

    @model_validator(mode="after")
    def _one_action(self) -> "Step":
        given = [name for name, value in (("run", self.run), ("for", self.for_), ("launch", self.launch)) if value is not None]
        if len(given) > 1:
            raise invalid(f"run, for and launch are exclusive: this step gives {' and '.join(given)}")
        return self


class Job(Model):
    """A DeepSquare job: resources, data in and out, and a sequence of steps."""

    resources: JobResources
    env: Optional[ListOf(EnvVar)] = None
    enableLogging: Optional[Bool] = None
    input: Optional[TransportData] = None
    inputMode: Optional[Annotated[Int, rule(lambda v: 0 <= v <= 512, "must be a decimal mode between 0 and 512 (493 means chmod 755)")]] = None
    steps: ListOf(Step)
    output: Optional[TransportData] = None
    continuousOutputSync: Optional[Bool] = None


StepFor.model_rebuild()
StepAsyncLaunch.model_rebuild()
