"""Inventory choices (TMF639 resource inventory, NetBox-like)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SiteKind(StrEnum):
    EXCHANGE = "exchange"
    TOWER = "tower"
    POP = "pop"
    DATA_CENTRE = "data_centre"


class DeviceRole(StrEnum):
    CORE = "core"
    AGGREGATION = "aggregation"
    ACCESS = "access"
    BNG = "bng"
    PE = "pe"
    FIREWALL = "firewall"
    RAN = "ran"


class DeviceStatus(StrEnum):
    ACTIVE = "active"
    PLANNED = "planned"
    STAGED = "staged"
    OFFLINE = "offline"
    FAILED = "failed"
    DECOMMISSIONING = "decommissioning"


class InterfaceKind(StrEnum):
    ETHERNET = "ethernet"
    LAG = "lag"
    LOOPBACK = "loopback"
    VIRTUAL = "virtual"


class OperStatus(StrEnum):
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class PlatformInfo:
    vendor: str
    netmiko_device_type: str
    napalm_driver: str | None


class Platform(StrEnum):
    """The software a device runs; it picks the automation driver."""

    CISCO_IOS = "cisco_ios"
    CISCO_XR = "cisco_xr"
    CISCO_NXOS = "cisco_nxos"
    ARISTA_EOS = "arista_eos"
    JUNIPER_JUNOS = "juniper_junos"
    HUAWEI_VRP = "huawei_vrp"
    NOKIA_SROS = "nokia_sros"

    @property
    def info(self) -> PlatformInfo:
        return PLATFORMS[self]


PLATFORMS: dict[Platform, PlatformInfo] = {
    Platform.CISCO_IOS: PlatformInfo("Cisco", "cisco_ios", "ios"),
    Platform.CISCO_XR: PlatformInfo("Cisco", "cisco_xr", "iosxr"),
    Platform.CISCO_NXOS: PlatformInfo("Cisco", "cisco_nxos", "nxos_ssh"),
    Platform.ARISTA_EOS: PlatformInfo("Arista", "arista_eos", "eos"),
    Platform.JUNIPER_JUNOS: PlatformInfo("Juniper", "juniper_junos", "junos"),
    Platform.HUAWEI_VRP: PlatformInfo("Huawei", "huawei", None),
    Platform.NOKIA_SROS: PlatformInfo("Nokia", "nokia_sros", None),
}
