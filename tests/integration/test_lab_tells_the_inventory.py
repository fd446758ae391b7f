"""The lab tells the inventory's truth: every device of a seeded lab, over real SSH, says
the model, serial, OS version and interfaces of its inventory row, as ntc-templates
(Netmiko's use_textfsm), NAPALM's ios getters and `/inventory facts` read them."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from napalm import get_network_driver
from netmiko import ConnectHandler

from automation.drivers.base import Credentials, Facts, Target
from automation.lab.lab import Lab
from domain.db import Database
from domain.inventory.choices import OperStatus, Platform
from domain.inventory.models import Device, Interface
from tests.fakes.devices import FakeNetwork
from tests.world import lab_router

T = TypeVar("T")

#: Where ntc-templates' `show version` puts (model, serial, OS version), per platform.
VERSION_KEYS = {
    "cisco_ios": ("hardware", "serial", "version"),
    "arista_eos": ("model", "serial_number", "image"),
}


@dataclass(frozen=True)
class Port:
    name: str
    description: str
    address: str | None
    up: bool


@dataclass(frozen=True)
class Row:
    """A lab device as the inventory has it."""

    hostname: str
    platform: str
    model: str
    serial: str
    os_version: str
    port: int
    ports: tuple[Port, ...]


def inventory(db: Database) -> list[Row]:
    with db.read() as s:
        devices = s.scalars(sa.select(Device).where(Device.lab).order_by(Device.mgmt_port)).all()
        rows = []
        for d in devices:
            ifaces = s.scalars(
                sa.select(Interface).where(Interface.device_id == d.id).order_by(Interface.id)
            ).all()
            ports = tuple(
                Port(i.name, i.description, i.ip_address, i.oper_status == OperStatus.UP)
                for i in ifaces
            )
            row = Row(
                d.hostname, d.platform.value, d.model, d.serial, d.os_version, d.mgmt_port, ports
            )
            rows.append(row)
    assert {r.platform for r in rows} == set(VERSION_KEYS)  # both lab platforms are swept
    return rows


def connect(row: Row) -> Any:
    conn = ConnectHandler(
        device_type=row.platform,
        host="127.0.0.1",
        port=row.port,
        username="netops",
        password="lab-pw",
        conn_timeout=5,
    )
    conn.enable()
    return conn


def sweep(rows: list[Row], check: Callable[[Row], T]) -> dict[str, T]:
    """`check` on every device at once (Netmiko's waits, not CPU, make one at a time slow)."""
    with ThreadPoolExecutor(max_workers=len(rows)) as pool:
        return dict(zip([r.hostname for r in rows], pool.map(check, rows), strict=True))


def parsed(conn: Any, command: str) -> list[dict[str, Any]]:
    out = conn.send_command(command, use_textfsm=True)
    assert isinstance(out, list), f"{command!r} did not parse:\n{out}"
    return out


def first(value: str | list[str]) -> str:
    return value[0] if isinstance(value, list) and value else str(value or "")


def test_show_version_and_inventory_parse_into_each_devices_row(
    lab_db: tuple[Database, Lab],
) -> None:
    db, _ = lab_db
    rows = inventory(db)

    def read(row: Row) -> tuple[str, ...]:
        conn = connect(row)
        try:
            version = parsed(conn, "show version")[0]
            chassis = parsed(conn, "show inventory")[0]
            clock = parsed(conn, "show clock")[0]
            if row.platform == "cisco_ios":
                hostname = version["hostname"]
            else:
                hostname = parsed(conn, "show hostname")[0]["hostname"]
        finally:
            conn.disconnect()
        model, serial, os_version = (first(version[k]) for k in VERSION_KEYS[row.platform])
        assert clock["timezone"] == "UTC" and clock["year"].isdigit()
        return hostname, model, serial, os_version, chassis["pid"], chassis["sn"]

    said = sweep(rows, read)
    truth = {
        r.hostname: (r.hostname, r.model, r.serial, r.os_version, r.model, r.serial) for r in rows
    }
    assert said == truth


def test_inventory_facts_agree_with_the_inventory_row(lab_db: tuple[Database, Lab]) -> None:
    db, _ = lab_db
    rows = inventory(db)
    router, access = lab_router(db)
    alice = access.user("alice")

    def facts(row: Row) -> tuple[str, ...]:
        reply = router.handle(alice, f"/inventory facts {row.hostname}")
        assert reply.ok and isinstance(reply.data, Facts), reply.text
        f = reply.data
        return f.hostname, f.vendor, f.model, f.serial, f.os_version

    said = sweep(rows, facts)
    vendor = {"cisco_ios": "Cisco", "arista_eos": "Arista"}
    truth = {
        r.hostname: (r.hostname, vendor[r.platform], r.model, r.serial, r.os_version) for r in rows
    }
    assert said == truth


def test_napalm_ios_getters_read_the_inventory_row(lab_db: tuple[Database, Lab]) -> None:
    db, _ = lab_db
    rows = [r for r in inventory(db) if r.platform == "cisco_ios"]
    driver = get_network_driver("ios")

    def getters(row: Row) -> tuple[Any, ...]:
        device = driver(
            "127.0.0.1", "netops", "lab-pw", timeout=10, optional_args={"port": row.port}
        )
        device.open()
        try:
            facts = device.get_facts()
            interfaces = device.get_interfaces()
            addresses = device.get_interfaces_ip()
        finally:
            device.close()
        return (
            facts["hostname"],
            facts["model"],
            facts["serial_number"],
            f"Version {row.os_version}," in facts["os_version"],
            facts["interface_list"],
            {n: (i["description"], i["is_up"], i["is_enabled"]) for n, i in interfaces.items()},
            {
                n: [f"{ip}/{v['prefix_length']}" for ip, v in a["ipv4"].items()]
                for n, a in addresses.items()
            },
        )

    said = sweep(rows, getters)
    truth = {
        r.hostname: (
            r.hostname,
            r.model,
            r.serial,
            True,
            [p.name for p in r.ports],
            {p.name: (p.description, p.up, True) for p in r.ports},
            {p.name: [p.address] for p in r.ports if p.address},
        )
        for r in rows
    }
    assert said == truth


def test_interfaces_list_the_inventory_and_show_a_pushed_description(
    lab_db: tuple[Database, Lab],
) -> None:
    db, lab = lab_db
    rows = inventory(db)

    def interfaces(conn: Any, row: Row, command: str = "show interfaces") -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for i in parsed(conn, command):
            address = i["ip_address"] or ""
            if address and row.platform == "cisco_ios":
                address = f"{address}/{i['prefix_length']}"
            out.append((i["interface"], i["description"], address, i["link_status"]))
        return out

    def brief(conn: Any) -> list[tuple[str, str, str]]:
        rows = parsed(conn, "show ip interface brief")
        return [(b["interface"], b["ip_address"], b["status"]) for b in rows]

    def read_push_read(row: Row) -> tuple[Any, ...]:
        customer_port = row.ports[2].name  # the first port that is not an uplink
        conn = connect(row)
        try:
            before = interfaces(conn, row), brief(conn)
            conn.send_config_set(
                [f"interface {customer_port}", f"description CUST {row.hostname}", "shutdown"]
            )
        finally:
            conn.disconnect()
        conn = connect(row)  # a later session sees it
        try:
            after = interfaces(conn, row), brief(conn)
            one = interfaces(conn, row, f"show interfaces {customer_port}")
            descriptions = [d["description"] for d in parsed(conn, "show interfaces description")]
        finally:
            conn.disconnect()
        return before, after, one, descriptions

    def listed(p: Port, status: str, ios: bool) -> tuple[str, str, str]:
        """A port as `show ip interface brief` lists it (IOS leaves the prefix out)."""
        address = (p.address.split("/")[0] if ios else p.address) if p.address else None
        return p.name, address or "unassigned", status

    said = sweep(rows, read_push_read)
    for row in rows:
        ios = row.platform == "cisco_ios"
        link = {p.name: "up" if p.up else "down" for p in row.ports}

        (shown, listing), (shown_after, listing_after), one, descriptions = said[row.hostname]
        assert shown == [(p.name, p.description, p.address or "", link[p.name]) for p in row.ports]
        assert listing == [listed(p, link[p.name], ios) for p in row.ports]
        customer_port = row.ports[2]
        pushed = f"CUST {row.hostname}"
        now = (customer_port.name, pushed, customer_port.address or "", "administratively down")
        assert one == [now]
        assert shown_after == [now if s[0] == now[0] else s for s in shown]
        admin_down = listed(customer_port, "administratively down" if ios else "adminDown", ios)
        assert listing_after == [admin_down if b[0] == now[0] else b for b in listing]
        assert descriptions == [pushed if p == customer_port else p.description for p in row.ports]
    # What the show commands said is the running configuration the lab keeps.
    r1 = rows[0]
    assert f"description CUST {r1.hostname}\n shutdown" in lab.configs[r1.hostname].text()


#: Commands the in-memory devices and the lab must answer alike.
COMPARED = (
    "show version",
    "show inventory",
    "show interfaces",
    "show ip interface brief",
    "show interfaces description",
    "show running-config",
)


def test_the_fake_devices_answer_as_the_lab_does(lab_db: tuple[Database, Lab]) -> None:
    """tests/fakes/devices.py answers from the lab's code: the same device says the same."""
    db, _ = lab_db
    rows = inventory(db)
    network = FakeNetwork()
    for row in rows:
        fake = network.add(
            row.hostname,
            row.platform,
            interfaces=[(p.name, p.description, p.address) for p in row.ports],
            version=row.os_version,
            model=row.model,
            serial=row.serial,
        )
        fake.links_down = frozenset(p.name for p in row.ports if not p.up)

    def real(row: Row) -> dict[str, str]:
        conn = connect(row)
        try:
            return {c: steady(conn.send_command(c)) for c in COMPARED}
        finally:
            conn.disconnect()

    said = sweep(rows, real)
    for row in rows:
        where = Target(row.hostname, Platform(row.platform), "127.0.0.1", row.port)
        double = network(where, Credentials("netops", "lab-pw"))
        assert said[row.hostname] == {c: steady(str(double.show(c))) for c in COMPARED}


def steady(text: str) -> str:
    """The output without what moves with time (uptime, how long a link has been up)."""
    return re.sub(r"uptime is .*|Uptime: .*|(Up|Down) \d+ minutes, \d+ seconds", "~", text).strip()
