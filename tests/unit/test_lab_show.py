"""What a lab device prints for show commands (automation/lab/show.py), without SSH: the
inventory's identity and the live configuration, in formats ntc-templates parse."""

from __future__ import annotations

import pytest
from ntc_templates.parse import parse_output

from automation.lab.config import DeviceConfig, baseline
from automation.lab.show import INVALID, Chassis, show_command

PORTS = {
    "cisco_ios": ("GigabitEthernet0/0/0", "GigabitEthernet0/0/1", "Loopback0"),
    "arista_eos": ("Ethernet1", "Ethernet2", "Loopback0"),
}


def device(platform: str) -> tuple[Chassis, DeviceConfig]:
    uplink, customer, loopback = PORTS[platform]
    config = baseline(
        "r1-mum",
        [
            (uplink, "uplink", "10.0.1.1/30"),
            (customer, "", None),
            (loopback, "rid", "172.16.0.1/32"),
        ],
        "17.6.5" if platform == "cisco_ios" else "4.31.2F",
    )
    chassis = Chassis(platform, "ASR-920-24SZ" if platform == "cisco_ios" else "7280R3", "FOC1")
    return chassis, config


@pytest.mark.parametrize("platform", sorted(PORTS))
def test_each_platform_speaks_its_own_format(platform: str) -> None:
    chassis, config = device(platform)
    text = show_command("show version", config, chassis)
    version = parse_output(platform=platform, command="show version", data=text)[0]
    if platform == "cisco_ios":
        assert (version["hardware"], version["serial"], version["version"]) == (
            ["ASR-920-24SZ"],
            ["FOC1"],
            "17.6.5",
        )
    else:
        assert (version["model"], version["serial_number"], version["image"]) == (
            "7280R3",
            "FOC1",
            "4.31.2F",
        )
    uplink, customer, _ = PORTS[platform]
    ctx = config.apply(f"interface {customer}", None)
    config.apply("description CUST 4711", ctx)
    config.apply("shutdown", ctx)
    text = show_command("show interfaces", config, chassis)
    rows = parse_output(platform=platform, command="show interfaces", data=text)
    assert [(r["interface"], r["description"], r["link_status"]) for r in rows] == [
        (uplink, "uplink", "up"),
        (customer, "CUST 4711", "administratively down"),
        ("Loopback0", "rid", "up"),
    ]


def test_abbreviations_modifiers_and_refusals_as_on_the_cli() -> None:
    chassis, config = device("cisco_ios")

    def show(line: str, enabled: bool = True) -> str | None:
        return show_command(line, config, chassis, enabled=enabled)

    assert show("sh ip int br") == show("show ip interface brief")
    assert show("sh int gi0/0/1") == show("show interfaces GigabitEthernet0/0/1")
    assert str(show("show interfaces Gi0/0/1")).startswith("GigabitEthernet0/0/1 is up")
    assert show("show i") == '% Ambiguous command:  "show i"'
    assert show("show version | include Processor") == "Processor board ID FOC1"
    excluded = str(show("show version | exclude Version"))
    assert "Version" not in excluded and "Processor board ID FOC1" in excluded
    assert show("show version | begin ^Configuration") == "Configuration register is 0x2102"
    section = show("show running-config | section ^interface Gi.*0/0/0")
    assert section == (
        "interface GigabitEthernet0/0/0\n description uplink\n ip address 10.0.1.1 255.255.255.252"
    )
    for bad in (
        "show version | redirect flash:x",
        "show version | tee x",
        "show version | include",
    ):
        assert show(bad) == INVALID, bad
    assert show("show running-config", enabled=False) == INVALID  # privileged, as on IOS
    assert show("show ip route") is None  # not the lab's: FakeNOS's canned answer
    assert show("show interfaces Gi0/0/9") is None
