"""Config intents: Jinja2 templates per platform, fed only validated values.

A platform's template is `templates/<platform>/<name>.j2`, else the one of the family
whose dialect the platform really speaks (`DIALECTS`). A platform with neither has no
template: the intent is refused for it (`check_platforms`, `render`), never sent in a
dialect the device does not speak.

Every variable is checked before rendering (VLANs 1-4094, addresses and prefixes
through `ipaddress`, text printable, single-line and bounded), so no value can carry
a second CLI line into a device.

A field typed `SecretStr` (an SNMP community; any key or password to come) is a secret:
only `render` reads its value, for the device. Everything shown to people goes through
`shown_params` (the values, masked) and `domain.secrets.mask_config` (config text and
diffs), and a refused secret is described by its length, never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from domain.errors import DomainError
from domain.inventory.choices import Platform
from domain.secrets import mask_values

TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=False,
    keep_trailing_newline=False,
    autoescape=False,
)  # device CLI, not HTML: values are validated instead


_T = TypeVar("_T", str, SecretStr)


def _text(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _single_line(value: _T) -> _T:
    text = _text(value)
    if not text.isprintable():
        raise ValueError("must be one line of printable text (no newlines or control keys)")
    if any(c in text for c in '^"'):
        raise ValueError('may not contain ^ or "')
    return value


def _shaped(pattern: str, example: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: _T) -> _T:
        if not compiled.fullmatch(_text(value)):
            raise ValueError(f"must look like {example}")
        return value

    return AfterValidator(check)


Text = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_single_line)]
Word = Annotated[str, _shaped(r"[A-Za-z0-9_.-]{1,32}", "CUST-VLAN (letters, digits, _ . -)")]
InterfaceName = Annotated[
    str, _shaped(r"[A-Za-z][A-Za-z-]*[0-9][0-9/.:]{0,30}", "GigabitEthernet0/0/1")
]
VlanId = Annotated[int, Field(ge=1, le=4094)]


class Intent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ntp(Intent):
    """NTP servers."""

    servers: list[IPv4Address] = Field(min_length=1, max_length=4)


class Syslog(Intent):
    """A syslog host."""

    host: IPv4Address
    level: Literal[
        "emergencies",
        "alerts",
        "critical",
        "errors",
        "warnings",
        "notifications",
        "informational",
        "debugging",
    ] = "informational"


class Snmp(Intent):
    """An SNMP community and location."""

    community: Annotated[SecretStr, _shaped(r"[A-Za-z0-9_-]{8,32}", "8-32 letters, digits, _ or -")]
    access: Literal["ro", "rw"] = "ro"
    location: Text | None = None


def _banner_text(value: str) -> str:
    # A banner is kept between delimiters; these would end it, or vanish, on the way.
    if value.strip() in ("!", "%", "EOF") or not any(c.isalnum() for c in value):
        raise ValueError("must say something in letters or digits (not just !, % or EOF)")
    if value != value.strip() or "  " in value:
        raise ValueError("must not start or end with a space, or have two in a row")
    return value


class Banner(Intent):
    """The login banner."""

    text: Annotated[Text, AfterValidator(_banner_text)]


class InterfaceDescription(Intent):
    """An interface's description."""

    interface: InterfaceName
    description: Text


class Vlan(Intent):
    """A VLAN."""

    vlan: VlanId
    name: Word


class CustomerAccessPort(Intent):
    """A customer's access port (used by order provisioning)."""

    interface: InterfaceName
    vlan: VlanId
    description: Text


class CustomerPortState(Intent):
    """A customer's access port shut (a suspended line) or open again (used by orders)."""

    interface: InterfaceName
    state: Literal["up", "down"]


class AclEntry(Intent):
    """One access-list entry."""

    acl: Word
    sequence: int = Field(ge=1, le=65535)
    action: Literal["permit", "deny"]
    protocol: Literal["ip", "tcp", "udp", "icmp"] = "ip"
    source: IPv4Network
    destination: IPv4Network


INTENTS: dict[str, type[Intent]] = {
    "ntp": Ntp,
    "syslog": Syslog,
    "snmp": Snmp,
    "banner": Banner,
    "interface_description": InterfaceDescription,
    "vlan": Vlan,
    "customer_access_port": CustomerAccessPort,
    "customer_port_state": CustomerPortState,
    "acl_entry": AclEntry,
}

#: The family folder whose dialect a platform really speaks, tried after its own folder.
#: IOS XR and NX-OS look like IOS but differ (commit, ACL and banner syntax); VRP and SR OS
#: are other languages: they have templates only where their own folder has one.
DIALECTS: dict[Platform, str] = {
    Platform.CISCO_IOS: "ios",
    Platform.ARISTA_EOS: "ios",
    Platform.JUNIPER_JUNOS: "junos",
}

#: Family templates a platform does not take although it speaks the family otherwise.
UNSPOKEN: dict[Platform, frozenset[str]] = {
    # EOS has no one-line `banner motd ^text^`: it reads the text up to a line `EOF`,
    # which neither the lab nor the diff knows yet.
    Platform.ARISTA_EOS: frozenset({"banner"}),
}


def template_file(name: str, platform: Platform) -> Path | None:
    """The template `name` renders from on `platform`; None when the platform has none."""
    own = TEMPLATES / platform.value / f"{name}.j2"
    if own.is_file():
        return own
    family = DIALECTS.get(platform)
    if family is None or name in UNSPOKEN.get(platform, frozenset()):
        return None
    shared = TEMPLATES / family / f"{name}.j2"
    return shared if shared.is_file() else None


def supported(name: str, platform: Platform) -> bool:
    """Whether template `name` exists in a dialect `platform` speaks."""
    return template_file(name, platform) is not None


def check_platforms(name: str, platforms: Iterable[Platform] | Mapping[str, Platform]) -> None:
    """Refuse template `name` unless every device's platform has it (DomainError).

    `platforms` has one entry per device; given as {hostname: platform}, the refusal also
    names the devices.
    """
    if name not in INTENTS:
        raise DomainError(f"no template {name!r}", hint=f"templates: {', '.join(INTENTS)}")
    if isinstance(platforms, Mapping):
        hosts: dict[Platform, list[str]] = {}
        for host, platform in platforms.items():
            hosts.setdefault(platform, []).append(host)
        given = list(platforms.values())
    else:
        given = list(platforms)
        hosts = {}
    missing = [p for p in Platform if p in given and not supported(name, p)]
    if not missing:
        return
    parts = []
    for platform in missing:
        count = given.count(platform)
        names = sorted(hosts.get(platform, []))
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        which = f": {shown}" if shown else ""
        parts.append(f"{platform.value} ({count} device{'' if count == 1 else 's'}{which})")
    raise _no_template(name, parts, given)


def _no_template(name: str, parts: list[str], given: Iterable[Platform]) -> DomainError:
    having = [p for p in Platform if supported(name, p)]
    if not having:
        return DomainError(f"{name} has no template for {_and(parts)}", hint="no platform has one")
    example = next((p for p in having if p in given), having[0])
    return DomainError(
        f"{name} has no template for {_and(parts)}",
        hint=f"templates exist for {', '.join(p.value for p in having)}; "
        f"narrow the targets, e.g. platform:{example.value}",
    )


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def validate(name: str, params: dict[str, Any]) -> Intent:
    """The intent's values, checked; a DomainError naming the first bad value otherwise."""
    model = INTENTS.get(name)
    if model is None:
        raise DomainError(f"no template {name!r}", hint=f"templates: {', '.join(INTENTS)}")
    if "servers" in params and isinstance(params["servers"], str):
        params = {**params, "servers": [s for s in re.split(r"[,\s]+", params["servers"]) if s]}
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "values"
        if err["type"] == "missing":
            raise DomainError(f"template {name} needs {field}=", hint=_usage(name, model)) from None
        if err["type"] == "extra_forbidden":
            raise DomainError(
                f"template {name} has no value {field}", hint=_usage(name, model)
            ) from None
        msg = err["msg"].removeprefix("Value error, ")
        given = err.get("input")
        got = repr(given)
        if err["loc"] and err["loc"][0] in secret_fields(name):
            size = len(str(given))  # a secret is described, never echoed
            got = f"a value of {size} character{'' if size == 1 else 's'}"
        raise DomainError(f"{field}: {msg} (got {got})", hint=_usage(name, model)) from None


def _holds_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(_holds_secret(a) for a in get_args(annotation))


def secret_fields(name: str) -> frozenset[str]:
    """The values of template `name` that are secrets (typed `SecretStr`)."""
    model = INTENTS.get(name)
    if model is None:
        return frozenset()
    return frozenset(k for k, f in model.model_fields.items() if _holds_secret(f.annotation))


def shown_params(name: str, params: Mapping[str, Any]) -> dict[str, str]:
    """A change's values as they may be shown: each secret as `********`."""
    return mask_values(params, secret_fields(name))


def _usage(name: str, model: type[Intent]) -> str:
    words = [f"{k}=..." if f.is_required() else f"[{k}=...]" for k, f in model.model_fields.items()]
    return f"{name} takes {' '.join(words)}"


def render(name: str, platform: Platform, params: dict[str, Any]) -> list[str]:
    """The configuration lines an intent stands for on a platform."""
    intent = validate(name, params)
    source = template_file(name, platform)
    if source is None:
        raise _no_template(name, [platform.value], [platform])
    # The one place a secret's value is read: to send it to the device.
    values = {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in intent}
    text = _ENV.get_template(source.relative_to(TEMPLATES).as_posix()).render(**values)
    return [line for line in text.splitlines() if line.strip()]
