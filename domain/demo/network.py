"""The network inventory: circles, sites, devices (the lab's among them) and interfaces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from domain.demo import reference as ref
from domain.demo.columns import DAY, Columns
from domain.inventory.choices import (
    PLATFORMS,
    DeviceRole,
    DeviceStatus,
    InterfaceKind,
    OperStatus,
    Platform,
    SiteKind,
)


@dataclass(frozen=True)
class Network:
    """The inventory tables, and what the customer side and usage need from them."""

    tables: dict[str, Columns]
    #: Cell ids per circle (index into reference.CIRCLES): where mobile usage happens.
    tower_cells: list[list[str]]
    #: Customer-facing port names per access device id.
    access_ports: dict[int, list[str]]


def build_network(
    rng: np.random.Generator, devices: int, lab_devices: int, now: int, lab_base_port: int
) -> Network:
    """About `devices` devices over the circles, `lab_devices` of them for the device lab."""
    sites, device_cols, tower_cells = _sites_and_devices(
        rng, devices, lab_devices, now, lab_base_port
    )
    interfaces, access_ports = _interfaces(rng, device_cols)
    tables = {
        "regions": {
            "id": list(range(1, len(ref.CIRCLES) + 1)),
            "code": [c.code for c in ref.CIRCLES],
            "name": [c.name for c in ref.CIRCLES],
        },
        "sites": sites,
        "devices": device_cols,
        "interfaces": interfaces,
    }
    return Network(tables, tower_cells, access_ports)


def _sites_and_devices(
    rng: np.random.Generator, n_devices: int, lab_devices: int, now: int, lab_base_port: int
) -> tuple[Columns, Columns, list[list[str]]]:
    weights = np.array([c.weight for c in ref.CIRCLES])
    weights = weights / weights.sum()
    sites: dict[str, list[Any]] = {
        k: [] for k in ("id", "code", "name", "kind", "region_id", "city", "latitude", "longitude")
    }
    devices: dict[str, list[Any]] = {
        k: []
        for k in (
            "id",
            "hostname",
            "site_id",
            "role",
            "platform",
            "vendor",
            "model",
            "os_version",
            "serial",
            "mgmt_host",
            "mgmt_port",
            "status",
            "lab",
            "created_at",
        )
    }
    models_by_role: dict[DeviceRole, list[ref.DeviceModel]] = {}
    for m in ref.DEVICE_MODELS:
        for role in m.roles:
            models_by_role.setdefault(role, []).append(m)

    def add_site(circle_ix: int, kind: SiteKind, code: str, name: str) -> int:
        c = ref.CIRCLES[circle_ix]
        sid = len(sites["id"]) + 1
        sites["id"].append(sid)
        sites["code"].append(code)
        sites["name"].append(name)
        sites["kind"].append(kind.value)
        sites["region_id"].append(circle_ix + 1)
        sites["city"].append(c.city)
        sites["latitude"].append(round(c.lat + float(rng.normal(0, 0.08)), 5))
        sites["longitude"].append(round(c.lon + float(rng.normal(0, 0.08)), 5))
        return sid

    def add_device(
        site_id: int,
        site_code: str,
        role: DeviceRole,
        n: int,
        hostname: str | None = None,
        platform: Platform | None = None,
    ) -> int:
        candidates = models_by_role[role]
        if platform is not None:
            candidates = [m for m in candidates if m.platform == platform] or [
                m
                for m in ref.DEVICE_MODELS
                if m.platform == platform and DeviceRole.FIREWALL not in m.roles
            ]
        m = candidates[int(rng.integers(0, len(candidates)))]
        did = len(devices["id"]) + 1
        abbr = {
            "core": "cr",
            "aggregation": "agg",
            "access": "acc",
            "bng": "bng",
            "pe": "pe",
            "firewall": "fw",
            "ran": "csr",
        }[role.value]
        devices["id"].append(did)
        devices["hostname"].append(hostname or f"{abbr}{n:02d}-{site_code.lower()}")
        devices["site_id"].append(site_id)
        devices["role"].append(role.value)
        devices["platform"].append(m.platform.value)
        devices["vendor"].append(PLATFORMS[m.platform].vendor)
        devices["model"].append(m.model)
        devices["os_version"].append(m.os_versions[int(rng.integers(0, len(m.os_versions)))])
        prefix = {
            "Cisco": "FOC",
            "Juniper": "JN",
            "Arista": "JPE",
            "Huawei": "2102",
            "Nokia": "NS",
        }[PLATFORMS[m.platform].vendor]
        devices["serial"].append(f"{prefix}{did:05d}{int(rng.integers(0, 16**5)):05X}")
        # Inventory-only devices get loopback-range addresses that nothing listens on,
        # so a stray connection never leaves the machine.
        devices["mgmt_host"].append(f"127.{20 + (did >> 16)}.{(did >> 8) & 255}.{did & 255}")
        devices["mgmt_port"].append(22)
        r = rng.random()
        status = (
            DeviceStatus.ACTIVE
            if r < 0.95
            else DeviceStatus.OFFLINE
            if r < 0.97
            else DeviceStatus.PLANNED
            if r < 0.99
            else DeviceStatus.DECOMMISSIONING
        )
        devices["status"].append(status.value)
        devices["lab"].append(False)
        devices["created_at"].append(now - int(rng.integers(30, 2000)) * DAY)
        return did

    # Backbone per circle: a data centre, exchanges and a PoP; towers fill the rest.
    backbone = 0
    tower_budget = n_devices - lab_devices
    exchanges_per_circle = max(2, round(n_devices / 2500))
    localities = list(ref.LOCALITIES)
    exchange_sites: list[tuple[int, str, int]] = []
    for ci, c in enumerate(ref.CIRCLES):
        dc = add_site(ci, SiteKind.DATA_CENTRE, f"{c.code}-DC1", f"{c.city} Data Centre 1")
        for role, count in ((DeviceRole.CORE, 2), (DeviceRole.FIREWALL, 2), (DeviceRole.PE, 2)):
            for k in range(1, count + 1):
                add_device(dc, f"{c.code}-DC1", role, k)
                backbone += 1
        pop = add_site(ci, SiteKind.POP, f"{c.code}-POP1", f"{c.city} Internet PoP")
        add_device(pop, f"{c.code}-POP1", DeviceRole.PE, 1)
        backbone += 1
        for e in range(exchanges_per_circle):
            loc = localities[(ci * 3 + e) % len(localities)]
            code = f"{c.code}-{loc[:3].upper()}{e + 1}"
            sid = add_site(ci, SiteKind.EXCHANGE, code, f"{loc} Exchange")
            exchange_sites.append((sid, code, ci))
            add_device(sid, code, DeviceRole.AGGREGATION, 1)
            add_device(sid, code, DeviceRole.ACCESS, 1)
            backbone += 2
            if e == 0:
                add_device(sid, code, DeviceRole.BNG, 1)
                backbone += 1
    towers = max(len(ref.CIRCLES) * 2, tower_budget - backbone)
    # Every circle gets towers (usage needs home cells), the rest by weight.
    per_circle = np.maximum(2, np.floor(weights * towers)).astype(int)
    tower_cells: list[list[str]] = [[] for _ in ref.CIRCLES]
    for ci, count in enumerate(per_circle):
        c = ref.CIRCLES[ci]
        for t in range(1, int(count) + 1):
            code = f"{c.code}-TWR-{t:04d}"
            sid = add_site(ci, SiteKind.TOWER, code, f"{c.city} tower {t}")
            add_device(sid, code, DeviceRole.RAN, 1)
            tower_cells[ci].extend(f"{code}-{sector}" for sector in (1, 2, 3))
    # The device lab: simulated devices over SSH on 127.0.0.1, at exchanges.
    for i in range(lab_devices):
        # One circle after another: r1-mum, r2-del, r3-ka, ...
        sid, code, ci = exchange_sites[(i * exchanges_per_circle) % len(exchange_sites)]
        platform = ref.LAB_PLATFORMS[[0, 0, 1, 0, 0, 0, 1, 0][i % 8]]
        role = DeviceRole.ACCESS if i % 4 else DeviceRole.AGGREGATION
        did = add_device(
            sid,
            code,
            role,
            0,
            hostname=f"r{i + 1}-{ref.CIRCLES[ci].code.lower()}",
            platform=platform,
        )
        devices["mgmt_host"][did - 1] = "127.0.0.1"
        devices["mgmt_port"][did - 1] = lab_base_port + i
        devices["status"][did - 1] = DeviceStatus.ACTIVE.value
        devices["lab"][did - 1] = True
    return sites, devices, tower_cells


def _interfaces(rng: np.random.Generator, dev: Columns) -> tuple[Columns, dict[int, list[str]]]:
    ports_by_role = {
        "core": 16,
        "aggregation": 24,
        "access": 12,
        "bng": 12,
        "pe": 16,
        "firewall": 8,
        "ran": 6,
    }
    speed_by_role = {
        "core": 100_000,
        "aggregation": 10_000,
        "access": 1_000,
        "bng": 10_000,
        "pe": 100_000,
        "firewall": 10_000,
        "ran": 1_000,
    }
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "id",
            "device_id",
            "name",
            "kind",
            "speed_mbps",
            "mtu",
            "description",
            "enabled",
            "oper_status",
            "ip_address",
        )
    }
    access_ports: dict[int, list[str]] = {}
    for did, role, platform, host in zip(
        dev["id"], dev["role"], dev["platform"], dev["hostname"], strict=True
    ):
        n = ports_by_role[role]
        names = [_port_name(Platform(platform), p) for p in range(n)]
        down = rng.random(n) < 0.04
        for p, name in enumerate(names):
            cols["name"].append(name)
            cols["kind"].append(InterfaceKind.ETHERNET.value)
            cols["speed_mbps"].append(speed_by_role[role])
            uplink = p < 2
            cols["description"].append("uplink" if uplink else "")
            cols["enabled"].append(True)
            cols["oper_status"].append((OperStatus.DOWN if down[p] else OperStatus.UP).value)
            cols["ip_address"].append(
                f"10.{did >> 8 & 255}.{did & 255}.{4 * p + 1}/30" if uplink else None
            )
            cols["mtu"].append(9000 if uplink else 1500)
            cols["device_id"].append(did)
        if role == "access":
            access_ports[did] = names[2:]
        cols["device_id"].append(did)
        cols["name"].append("Loopback0" if platform != "juniper_junos" else "lo0.0")
        cols["kind"].append(InterfaceKind.LOOPBACK.value)
        cols["speed_mbps"].append(None)
        cols["mtu"].append(1500)
        cols["description"].append(f"router-id {host}")
        cols["enabled"].append(True)
        cols["oper_status"].append(OperStatus.UP.value)
        cols["ip_address"].append(f"172.16.{did >> 8 & 255}.{did & 255}/32")
    cols["id"] = list(range(1, len(cols["device_id"]) + 1))
    return cols, access_ports


def _port_name(platform: Platform, p: int) -> str:
    return {
        Platform.CISCO_IOS: f"GigabitEthernet0/0/{p}",
        Platform.CISCO_XR: f"HundredGigE0/0/0/{p}",
        Platform.CISCO_NXOS: f"Ethernet1/{p + 1}",
        Platform.ARISTA_EOS: f"Ethernet{p + 1}",
        Platform.JUNIPER_JUNOS: f"xe-0/0/{p}",
        Platform.HUAWEI_VRP: f"GigabitEthernet0/1/{p}",
        Platform.NOKIA_SROS: f"1/1/{p + 1}",
    }[platform]
