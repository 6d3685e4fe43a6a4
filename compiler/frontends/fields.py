"""Field types shared by the frontends' pydantic models.

Each type states one rule of the specs, with the exact message a user sees.
Plain YAML scalars arrive as `source.Plain` (text plus typed value): string
fields take the text the user wrote, integer and boolean fields take the value.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Any, Callable, List, Union

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError, core_schema

from ..patterns import Pattern
from ..reserved import RESERVED_PATTERN, describe, is_reserved
from ..source_map import _SURROGATE, Plain

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("jobc", message)


def _text(value: Any) -> Any:
    return value.text if isinstance(value, Plain) else value


def _typed(value: Any) -> Any:
    return value.value if isinstance(value, Plain) else value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise invalid("must not contain NUL characters")
    if _SURROGATE.search(value):
        raise invalid("must be valid Unicode text (a lone surrogate such as \\ud800 is not)")
    return value


def _int32(value: int) -> int:
    if not INT32_MIN <= value <= INT32_MAX:
        raise invalid(f"must be a 32-bit integer ({INT32_MIN} to {INT32_MAX})")
    return value


def _no_leading_zero(value: Any) -> Any:
    """`0755` is octal to some YAML readers and decimal to others: refuse to guess."""
    if isinstance(value, Plain) and re.match(r"[-+]?0[0-9]", value.text):
        raise invalid(
            f"must be written in decimal without a leading 0 ({value.text} reads as octal in YAML 1.1; "
            "write 493 for chmod 755)"
        )
    return value


def exclusive_bodies(names: tuple[str, ...], given: list[str]) -> str:
    """A step gives more than one of the fields that say what it does."""
    return f"{', '.join(names[:-1])} and {names[-1]} are exclusive: this step gives {' and '.join(given)}"


def as_list(value: Any) -> Any:
    """GraphQL input coercion: a single value where a list is expected is a one-element list."""
    return value if isinstance(value, list) or value is None else [value]


def merge_keywords(schema: dict[str, Any], keywords: dict[str, Any]) -> None:
    """Add JSON Schema keywords to `schema`; a bound already there stays when it is the tighter one."""
    for key, value in keywords.items():
        if key in ("minimum", "exclusiveMinimum", "minLength", "minItems") and key in schema:
            schema[key] = max(schema[key], value)
        elif key in ("maximum", "exclusiveMaximum", "maxLength", "maxItems") and key in schema:
            schema[key] = min(schema[key], value)
        elif key == "not" and "not" in schema:
            schema["not"] = {"anyOf": [schema["not"], value]}
        else:
            schema[key] = value


@dataclass(frozen=True, eq=False)
class Rule:
    """One rule of a field with the message a user sees, and the JSON Schema keywords that state it.

    `schema` holds the keywords only where JSON Schema can say exactly the rule or a looser one (a schema
    stricter than jobc would flag valid specs in an editor); the rest is said by `message` in the reference.
    """

    check: Callable[[Any], bool]
    message: str
    schema: tuple[tuple[str, Any], ...] = ()

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.no_info_after_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> Any:
        out = handler(schema)
        merge_keywords(out, dict(self.schema))
        return out

    def _validate(self, value: Any) -> Any:
        if not self.check(value):
            raise invalid(self.message)
        return value


@dataclass(frozen=True, eq=False)
class Schema:
    """JSON Schema keywords of a type whose rule is checked elsewhere (a validator, a pydantic constraint)."""

    keywords: tuple[tuple[str, Any], ...]

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> Any:
        out = handler(schema)
        merge_keywords(out, dict(self.keywords))
        return out


def rule(check: Callable[[Any], bool], message: str, **schema: Any) -> Rule:
    """A rule and its message; `schema` gives the JSON Schema keywords that express it, where they can."""
    return Rule(check, message, tuple(schema.items()))


def keywords(**schema: Any) -> Schema:
    return Schema(tuple(schema.items()))


class Before:
    """`pydantic.BeforeValidator` of a function of the value alone, said so to pydantic's core schema.

    A `BeforeValidator` or `AfterValidator` has pydantic inspect its function's signature at every field whose
    type holds it, to learn whether it takes an `info` argument: 180 inspections (2.8 ms) at a cold compile
    for these types. The core schema, and so the validation and the JSON Schema, is the same.
    """

    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.no_info_before_validator_function(self.func, handler(source))


class After(Before):
    """`pydantic.AfterValidator` of a function of the value alone (see `Before`)."""

    __slots__ = ()

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.no_info_after_validator_function(self.func, handler(source))


Str = Annotated[str, Before(_text), After(_no_nul)]
Int = Annotated[int, Before(_typed), After(_int32), keywords(minimum=INT32_MIN, maximum=INT32_MAX)]
Bool = Annotated[bool, Before(_typed)]
AtLeast1 = Annotated[Int, Field(ge=1), keywords(minimum=1)]
AtLeast0 = Annotated[Int, Field(ge=0), keywords(minimum=0)]
Decimal = Annotated[Int, Before(_no_leading_zero)]


def ListOf(item: Any) -> Any:
    """`typing.List`, not `list`: on Python 3.9 `list["Step"]` keeps the name a string that nothing resolves."""
    return Annotated[List[item], BeforeValidator(as_list, json_schema_input_type=Union[item, List[item]])]


def OneOf(*choices: str) -> Any:
    allowed = ", ".join(choices)

    return Annotated[Str, rule(lambda v: v in choices, f"must be one of {allowed}", enum=list(choices))]


_POSIX_NAME = Pattern(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HANDLE = Pattern(r"[A-Za-z0-9_]+\Z")
_WG_KEY = Pattern(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=\Z")
_HOST = Pattern(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\Z")
_CONTROL = Pattern(r"[\x00-\x1f\x7f]")


def is_posix_name(value: str) -> bool:
    return bool(_POSIX_NAME.match(value))


def _is_cidr(value: str) -> bool:
    if "/" not in value:
        return False
    try:
        ipaddress.ip_interface(value)
    except ValueError:
        return False
    return True


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_host(value: str) -> bool:
    return _is_ip(value) or bool(_HOST.match(value))


def _is_endpoint(value: str) -> bool:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
        return False
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return is_host(host)


_LABEL = Pattern(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")


def is_rfc1123_host(value: str) -> bool:
    """A host name as RFC 1123 allows it (labels of letters, digits and inner hyphens; an IPv4 address is one)."""
    return 0 < len(value) <= 253 and all(_LABEL.match(label) for label in value.removesuffix(".").split("."))


def _is_host_port(value: str) -> bool:
    host, sep, port = value.rpartition(":")
    return bool(sep) and port.isdigit() and 1 <= int(port) <= 65535 and is_rfc1123_host(host)


def _is_http_url(value: str) -> bool:
    return bool(re.match(r"https?://[^\s/]+", value)) and not _CONTROL.search(value) and " " not in value


def _is_registry(value: str) -> bool:
    host, _, port = value.partition(":")
    return is_host(host) and (not port or port.isdigit())


_PATH_COMPONENT = Pattern(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_TAG = Pattern(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_DIGEST = Pattern(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\Z")
_DOMAIN = Pattern(
    r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])(?:\.(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]))*"
    r"(?::[0-9]+)?\Z"
)


def image_problem(value: str, *, host_allowed: bool) -> str | None:
    """Why `value` is not a registry reference (the distribution grammar; an absolute path is a file), or None.

    Without `host_allowed` (DeepSquare, whose registry is a field of its own) a first component that
    names a host (`ghcr.io/...`, `localhost:5000/...`) is refused. With it (bfabric app specs, run as
    bfabric-app-runner runs them), upper-case letters in the path are left to the engine: app specs build
    images from `${app.name}`, which is often mixed case.
    """
    if value.startswith("/"):
        return None if not _CONTROL.search(value) else "must not contain control characters"
    if host_allowed and "${" in value:  # an app spec's substitution that failed: reported as such
        return None
    if "://" in value:
        return f"leave out the scheme {value.split('://')[0]}://"
    name, at, digest = value.partition("@")
    if at and not _DIGEST.match(digest):
        return f"the digest {digest!r} is not algorithm:hex, such as sha256:<64 hex digits>"
    head, slash, last = name.rpartition("/")
    last, colon, tag = last.partition(":")
    if colon and not _TAG.match(tag):
        bad = next((c for c in tag if not (c.isalnum() or c in "_.-")), tag[:1])
        return _bad_char(tag, bad, "tag", "letters, digits, '_', '.', '-'; at most 128") if tag else "the tag is empty"
    components = (head.split("/") if slash else []) + [last]
    if len(components) > 1 and ("." in components[0] or ":" in components[0] or components[0] == "localhost"):
        if not host_allowed:
            return "give the registry host in registry, not in the image"
        if not _DOMAIN.match(components[0]):
            return f"{components[0]!r} is not a registry host such as registry.example.com:5000"
        components = components[1:]
    for part in components:
        if not _PATH_COMPONENT.match(part.lower() if host_allowed else part):
            bad = next((c for c in part if not (c.islower() or c.isdigit() or c in "._-")), None)
            if bad is None:
                return f"the name {part!r} has a separator ('.', '_', '-') that is not between letters or digits"
            return _bad_char(part, bad, "name", "lower-case letters and digits, with '.', '_' or '-' between them")
    return None


def _bad_char(part: str, bad: str, what: str, allowed: str) -> str:
    shown = repr(bad)[1:-1] if not bad.isprintable() or bad.isspace() else bad
    return f"{shown!r} is not allowed in the {what} {part!r} ({allowed})"


@dataclass(frozen=True, eq=False)
class ImageRule(Rule):
    """The image reference grammar (`image_problem`): the reference and the schema show `message`, a refused
    value gets it with what is wrong in this one."""

    host_allowed: bool = False

    def _validate(self, value: Any) -> Any:
        problem = image_problem(value, host_allowed=self.host_allowed) if value else "must not be empty"
        if problem:
            raise invalid(f"{self.message}: {problem}")
        return value


_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_PATTERN = (  # looser than image_problem where JSON Schema cannot say it (a host is refused by jobc)
    rf"^(?:/[^\x00-\x1f\x7f]*|{_COMPONENT}(?:/{_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?)$"
)


def image_rule(host_allowed: bool) -> ImageRule:
    example = "registry.example.com/app:1.0" if host_allowed else "library/ubuntu:latest"
    schema = () if host_allowed else (("pattern", _IMAGE_PATTERN),)
    return ImageRule(bool, f"must be an image reference such as {example}", schema, host_allowed)


PosixName = Annotated[
    Str,
    rule(
        is_posix_name,
        "must be a POSIX name: letters, digits and underscores, not starting with a digit",
        pattern="^[A-Za-z_][A-Za-z0-9_]*$",
    ),
]
EnvName = Annotated[
    PosixName,
    rule(
        lambda v: not is_reserved(v),
        f"is reserved {describe()}: choose another name",
        **{"not": {"pattern": RESERVED_PATTERN}},
    ),
]
HandleName = Annotated[
    Str,
    rule(
        lambda v: bool(_HANDLE.match(v)),
        "must be snake_case: letters, digits and underscores",
        pattern="^[A-Za-z0-9_]+$",
    ),
]
Cidr = Annotated[Str, rule(_is_cidr, "must be a CIDR address such as 10.0.0.2/24 or fd00::2/64")]
IpAddress = Annotated[Str, rule(_is_ip, "must be an IP address such as 1.1.1.1")]
WireguardKey = Annotated[
    Str,
    rule(
        lambda v: bool(_WG_KEY.match(v)),
        "must be a WireGuard key: 44 characters of base64 ending in '=' (as printed by wg genkey)",
        pattern="^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$",
    ),
]
Endpoint = Annotated[Str, rule(_is_endpoint, "must be host:port, such as 203.0.113.7:51820", pattern=":[0-9]{1,5}$")]
HostName = Annotated[Str, rule(is_host, "must be a host name or IP address")]
HostPort = Annotated[
    Str,
    rule(
        _is_host_port,
        "must be host:port, such as proxy.example.org:2200 (an RFC 1123 host name or IPv4 address, port 1 to 65535)",
    ),
]
NonEmpty = Annotated[Str, rule(lambda v: bool(v.strip()), "must not be empty")]
Token = Annotated[
    Str, rule(lambda v: bool(v) and not _CONTROL.search(v), "must be non-empty, without control characters")
]
HttpUrl = Annotated[
    Str, rule(_is_http_url, "must be an http:// or https:// URL without spaces", pattern=r"^https?://[^\s/]+[^\s]*$")
]
Port = Annotated[
    Int, rule(lambda v: 1 <= v <= 65535, "must be a port number between 1 and 65535", minimum=1, maximum=65535)
]
AbsolutePath = Annotated[Str, rule(lambda v: v.startswith("/"), "must start with /", pattern="^/")]
RegistryHost = Annotated[Str, rule(_is_registry, "must be a registry host such as registry-1.docker.io")]
ImageRef = Annotated[Str, image_rule(host_allowed=False)]
Credential = Annotated[
    Str,
    rule(
        lambda v: bool(v) and not _CONTROL.search(v) and not any(c.isspace() for c in v),
        "must be non-empty, without spaces or control characters",
        pattern=r"^[^\s\x00-\x1f\x7f]+$",
    ),
]
MountPath = Annotated[
    Str,
    rule(
        lambda v: v.startswith("/") and ":" not in v and "," not in v,
        "must be an absolute path without ':' or ','",
        pattern="^/[^:,]*$",
    ),
]
