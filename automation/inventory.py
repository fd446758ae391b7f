"""Nornir inventory from the database, and change targets from what people type.

Targets are a device selector (domain/lookup.py): hostnames, globs (`r1-*`),
`site:CODE`, `role:ROLE`, `platform:NAME`, `status:STATE`, `vendor:NAME` or `lab`;
different keys AND together, the same key ORs. A change goes to the active devices
among those the selector matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nornir.core import Nornir
from nornir.core.inventory import Defaults, Groups, Host, Hosts, Inventory
from nornir.core.plugins.inventory import InventoryPluginRegister
from nornir.plugins.runners import ThreadedRunner

from automation.drivers.base import Credentials
from domain.db import Database
from domain.errors import DomainError
from domain.inventory.choices import DeviceStatus
from domain.inventory.models import Device
from domain.inventory.queries import devices_matching
from domain.lookup import DeviceSelector, parse_selector, shown


@dataclass(frozen=True)
class Selection:
    """The devices a change's targets matched: the active ones it goes to, and the rest."""

    selector: DeviceSelector
    devices: list[Device]
    #: Matched, but not active (planned, offline, ...): left out of the change.
    left_out: list[Device]

    @property
    def matched(self) -> int:
        return len(self.devices) + len(self.left_out)

    @property
    def sentence(self) -> str:
        """'3 devices matched site:MUM-AND1 role:access', and what was left out."""
        said = f"{self.matched} device{'' if self.matched == 1 else 's'} matched {self.selector}"
        if self.left_out:
            names = ", ".join(f"{d.hostname} ({d.status.value})" for d in self.left_out[:5])
            more = f" and {len(self.left_out) - 5} more" if len(self.left_out) > 5 else ""
            said += f"; not active, left out: {names}{more}"
        return said


def select_targets(db: Database, targets: Sequence[str]) -> Selection:
    """What the typed targets select; a bad or empty selection is a one-line error."""
    selector = parse_selector(targets)
    with db.read() as s:
        matched = devices_matching(s, selector)
        s.expunge_all()
    active = [d for d in matched if d.status == DeviceStatus.ACTIVE]
    if not active:
        raise DomainError(
            f"no active device matches {shown(str(selector))}",
            hint=f"{len(matched)} matched, none active"
            if matched
            else "/inventory search it first",
        )
    return Selection(selector, active, [d for d in matched if d.status != DeviceStatus.ACTIVE])


def select_devices(db: Database, targets: Sequence[str]) -> list[Device]:
    """The active devices the typed targets select, in hostname order."""
    return select_targets(db, targets).devices


class DatabaseInventory:
    """Nornir inventory plugin: hosts are the chosen devices of the inventory database."""

    def __init__(self, devices: Iterable[Device], credentials: Credentials) -> None:
        self.devices = list(devices)
        self.credentials = credentials

    def load(self) -> Inventory:
        hosts = Hosts()
        for d in self.devices:
            hosts[d.hostname] = Host(
                name=d.hostname,
                hostname=d.mgmt_host,
                port=d.mgmt_port,
                username=self.credentials.username,
                password=self.credentials.password,
                platform=d.platform.value,
                data={"device_id": d.id, "role": d.role.value, "platform": d.platform.value},
            )
        return Inventory(hosts=hosts, groups=Groups(), defaults=Defaults())


InventoryPluginRegister.register("SwitchboardInventory", DatabaseInventory)


def nornir_for(devices: Iterable[Device], credentials: Credentials, workers: int) -> Nornir:
    """Nornir over these devices with the threaded runner."""
    inventory = DatabaseInventory(devices, credentials).load()
    return Nornir(inventory=inventory, runner=ThreadedRunner(num_workers=workers))
