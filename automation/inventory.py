"""Nornir inventory from the database, and target selection from what people type.

Targets: hostnames, `site:CODE`, `role:ROLE`, `platform:NAME`, `lab` (the lab devices),
or a word found in hostnames (`mum` is every Mumbai device).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from nornir.core import Nornir
from nornir.core.inventory import Defaults, Groups, Host, Hosts, Inventory
from nornir.core.plugins.inventory import InventoryPluginRegister
from nornir.plugins.runners import ThreadedRunner

from automation.drivers.base import Credentials
from domain.db import Database
from domain.errors import DomainError
from domain.inventory.choices import DeviceRole, DeviceStatus
from domain.inventory.models import Device, Site


def select_devices(db: Database, targets: Sequence[str]) -> list[Device]:
    """The devices the typed targets name, in a stable order; unknown names are errors."""
    if not targets:
        raise DomainError(
            "name the devices to change",
            hint="hostnames, site:CODE, role:ROLE, platform:NAME or lab",
        )
    query = sa.select(Device).join(Site, Site.id == Device.site_id)
    clauses = []
    unknown = []
    with db.read() as s:
        for word in targets:
            key, _, value = word.partition(":")
            if key == "site" and value:
                clauses.append(Site.code == value.upper())
            elif key == "role" and value:
                if value not in {r.value for r in DeviceRole}:
                    raise DomainError(
                        f"no role {value!r}",
                        hint=f"roles: {', '.join(r.value for r in DeviceRole)}",
                    )
                clauses.append(Device.role == DeviceRole(value))
            elif key == "platform" and value:
                clauses.append(Device.platform == value)
            elif word == "lab":
                clauses.append(Device.lab.is_(True))
            elif s.scalar(sa.select(Device.id).where(Device.hostname == word.lower())):
                clauses.append(Device.hostname == word.lower())
            elif s.scalar(
                sa.select(Device.id).where(Device.hostname.contains(word.lower(), autoescape=True))
            ):
                clauses.append(Device.hostname.contains(word.lower(), autoescape=True))
            else:
                unknown.append(word)
        if unknown:
            raise DomainError(
                f"no device {', '.join(unknown)}", hint="check the hostname with /inventory search"
            )
        devices = (
            s.scalars(
                query.where(sa.or_(*clauses), Device.status == DeviceStatus.ACTIVE).order_by(
                    Device.hostname
                )
            )
            .unique()
            .all()
        )
        s.expunge_all()
    if not devices:
        raise DomainError(f"no active device matches {' '.join(targets)}")
    return list(devices)


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
