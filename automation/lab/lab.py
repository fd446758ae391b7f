"""The device lab: simulated devices over real SSH on 127.0.0.1, one port each.

Each device runs FakeNOS's Paramiko SSH server with the lab's stateful shell. Servers
bind 127.0.0.1 only (not FakeNOS's port-probing decorator, which binds every
interface), start and stop in parallel, and share one parsed platform per kind.
"""

from __future__ import annotations

import logging
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import sqlalchemy as sa
from fakenos.core.nos import Nos
from fakenos.plugins.nos import nos_plugins
from fakenos.plugins.servers.ssh_server_paramiko import ParamikoSshServer

from automation.lab.config import DeviceConfig, baseline
from automation.lab.shell import LabShell
from automation.lab.show import PLACEHOLDER_MODELS, Chassis
from domain.db import Database
from domain.inventory.choices import OperStatus, Platform
from domain.inventory.models import Device, Interface

log = logging.getLogger(__name__)
# FakeNOS logs an ERROR for every command it does not know; the lab answers many itself.
logging.getLogger("fakenos").setLevel(logging.CRITICAL)
# Paramiko logs every client that hangs up as a "socket exception"; in the lab that is normal.
logging.getLogger("paramiko.transport").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class LabDevice:
    """One simulated device: its inventory row as far as the device itself tells it."""

    hostname: str
    platform: str
    port: int
    os_version: str
    #: (name, description, address "10.0.1.1/30" or None), in inventory order.
    interfaces: tuple[tuple[str, str, str | None], ...] = ()
    #: Model and serial `show version` and `show inventory` print; a device built without
    #: an inventory row gets a placeholder of its platform.
    model: str = ""
    serial: str = ""
    vendor: str = ""
    #: Interfaces whose link the inventory has down.
    links_down: tuple[str, ...] = ()

    def chassis(self) -> Chassis:
        """The device's hardware, as its show commands describe it (booted now)."""
        known = self.platform in {p.value for p in Platform}
        return Chassis(
            platform=self.platform,
            model=self.model or PLACEHOLDER_MODELS.get(self.platform, "LAB-1000"),
            serial=self.serial or f"LAB{self.port:08d}",
            vendor=self.vendor or (Platform(self.platform).info.vendor if known else ""),
            links_down=frozenset(self.links_down),
        )


def lab_devices(db: Database) -> list[LabDevice]:
    """The inventory's lab devices with their model, serial and interfaces, in port order."""
    with db.read() as s:
        devices = s.scalars(sa.select(Device).where(Device.lab).order_by(Device.mgmt_port)).all()
        out = []
        for d in devices:
            ifaces = s.scalars(
                sa.select(Interface).where(Interface.device_id == d.id).order_by(Interface.id)
            ).all()
            out.append(
                LabDevice(
                    d.hostname,
                    d.platform.value,
                    d.mgmt_port,
                    d.os_version,
                    tuple((i.name, i.description, i.ip_address) for i in ifaces),
                    model=d.model,
                    serial=d.serial,
                    vendor=d.vendor,
                    links_down=tuple(i.name for i in ifaces if i.oper_status == OperStatus.DOWN),
                )
            )
    return out


@dataclass
class Lab:
    devices: list[LabDevice]
    username: str
    password: str
    host: str = "127.0.0.1"
    configs: dict[str, DeviceConfig] = field(default_factory=dict)
    _servers: dict[str, ParamikoSshServer] = field(default_factory=dict)
    _platforms: dict[str, Nos] = field(default_factory=dict)

    def _nos(self, platform: str) -> Nos:
        if platform not in self._platforms:
            self._platforms[platform] = Nos(filename=nos_plugins[platform])
        return self._platforms[platform]

    def _start_one(self, device: LabDevice) -> None:
        config = self.configs.setdefault(
            device.hostname, baseline(device.hostname, list(device.interfaces), device.os_version)
        )
        server = ParamikoSshServer(
            shell=LabShell,
            nos=self._nos(device.platform),
            nos_inventory_config={},
            port=device.port,
            username=self.username,
            password=self.password,
            address=self.host,
            ssh_banner=f"{device.hostname} (Switchboard lab)",
            shell_configuration={
                "base_prompt": device.hostname,
                "device": config,
                "chassis": device.chassis(),
            },
        )
        server.start()
        self._servers[device.hostname] = server
        # FakeNOS calls listen() from its own thread, so a client that connects as soon as
        # start() returns can be refused (a busy machine shows it). Listening here first
        # makes the device up when start() returns; the thread's own listen() is harmless.
        if server._socket is not None:
            server._socket.listen(16)

    def start(self) -> None:
        """Start every device (in parallel); already running ones are left alone."""
        for platform in {d.platform for d in self.devices}:
            self._nos(platform)  # parse each platform once, before the threads
        todo = [d for d in self.devices if d.hostname not in self._servers]
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(self._start_one, todo))

    def stop(self) -> None:
        """Stop every device in parallel (one by one is slow)."""
        servers = list(self._servers.values())
        self._servers.clear()
        with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
            list(pool.map(lambda s: s.stop(), servers))

    def stop_device(self, hostname: str) -> None:
        """Take one device off the network: it stops answering on its port."""
        server = self._servers.pop(hostname, None)
        if server is not None:
            server.stop()

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def answering(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
