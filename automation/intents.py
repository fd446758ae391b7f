"""Config intents: Jinja2 templates per platform family, fed only validated values.

Every variable is checked before rendering (VLANs 1-4094, addresses and prefixes
through `ipaddress`, text printable, single-line and bounded), so no value can carry
a second CLI line into a device.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from domain.errors import DomainError
from domain.inventory.choices import Platform

TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=False,
    keep_trailing_newline=False,
    autoescape=False,
)  # device CLI, not HTML: values are validated instead


def _single_line(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must be one line of printable text (no newlines or control keys)")
    if any(c in value for c in '^"'):
        raise ValueError('may not contain ^ or "')
    return value


def _shaped(pattern: str, example: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
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

    community: Annotated[str, _shaped(r"[A-Za-z0-9_-]{8,32}", "8-32 letters, digits, _ or -")]
    access: Literal["ro", "rw"] = "ro"
    location: Text | None = None


class Banner(Intent):
    """The login banner."""

    text: Text


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

_FAMILY = {Platform.JUNIPER_JUNOS: "junos"}


def family(platform: Platform) -> str:
    """IOS-like CLIs (IOS, IOS XR, NX-OS, EOS, VRP, SR OS) share the `ios` templates."""
    return _FAMILY.get(platform, "ios")


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
        raise DomainError(
            f"{field}: {msg} (got {err.get('input')!r})", hint=_usage(name, model)
        ) from None


def _usage(name: str, model: type[Intent]) -> str:
    words = [f"{k}=..." if f.is_required() else f"[{k}=...]" for k, f in model.model_fields.items()]
    return f"{name} takes {' '.join(words)}"


def render(name: str, platform: Platform, params: dict[str, Any]) -> list[str]:
    """The configuration lines an intent stands for on a platform."""
    intent = validate(name, params)
    text = _ENV.get_template(f"{family(platform)}/{name}.j2").render(**dict(intent))
    return [line for line in text.splitlines() if line.strip()]
