"""What a change plans and how it is undone, for commands that hold one value.

A new value replaces the old one on the device; undoing the change must put the old one
back, not send `no <new value>` (which leaves nothing). Swept over every one-value
command the templates set, on every IOS-style platform the lab runs.
"""

from __future__ import annotations

import pytest

from automation import diffing
from domain.inventory.choices import Platform

RUNNING = """hostname r1
banner motd ^Old banner^
logging trap warnings
snmp-server location Old Exchange
interface Ethernet1
 description uplink
 switchport mode trunk
 switchport access vlan 10
 ip address 10.0.0.1 255.255.255.0
vlan 10
 name OLD
ntp server 10.0.0.1
"""

#: (new lines, the lines that must undo them)
ONE_VALUE = [
    ("banner motd ^New banner^", ("banner motd ^Old banner^",)),
    ("logging trap informational", ("logging trap warnings",)),
    ("snmp-server location New Exchange", ("snmp-server location Old Exchange",)),
    (
        "interface Ethernet1\n description to cust 42",
        ("interface Ethernet1", "  description uplink"),
    ),
    (
        "interface Ethernet1\n switchport mode access",
        ("interface Ethernet1", "  switchport mode trunk"),
    ),
    (
        "interface Ethernet1\n switchport access vlan 20",
        ("interface Ethernet1", "  switchport access vlan 10"),
    ),
    (
        "interface Ethernet1\n ip address 10.0.0.2 255.255.255.0",
        ("interface Ethernet1", "  ip address 10.0.0.1 255.255.255.0"),
    ),
    ("vlan 10\n name NEW", ("vlan 10", "  name OLD")),
]

PLATFORMS = [Platform.CISCO_IOS, Platform.ARISTA_EOS]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize(("change", "undo"), ONE_VALUE)
def test_undoing_a_new_value_puts_the_old_one_back(
    platform: Platform, change: str, undo: tuple[str, ...]
) -> None:
    plan = diffing.plan(platform, RUNNING, change)
    assert not plan.empty
    assert plan.rollback == undo
    # Nothing is taken away first: the new value replaces the old one in one line.
    assert not any(line.strip().startswith("no ") for line in plan.remediation)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_secondary_address_is_one_more_not_the_address_replaced(platform: Platform) -> None:
    plan = diffing.plan(
        platform, RUNNING, "interface Ethernet1\n ip address 10.9.0.1 255.255.255.0 secondary"
    )
    assert plan.rollback == (
        "interface Ethernet1",
        "  no ip address 10.9.0.1 255.255.255.0 secondary",
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_x_when_x_is_absent_is_already_as_intended(platform: Platform) -> None:
    assert diffing.plan(platform, RUNNING, "no ntp server 10.9.9.9").empty
    assert diffing.missing_lines(platform, RUNNING, "no ntp server 10.9.9.9") == []
    removed = diffing.plan(platform, RUNNING, "no ntp server 10.0.0.1")
    assert (removed.remediation, removed.rollback) == (
        ("no ntp server 10.0.0.1",),
        ("ntp server 10.0.0.1",),
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_one_line_banner_is_read_and_sent_on_one_line(platform: Platform) -> None:
    plan = diffing.plan(platform, "hostname r1\n", "banner motd ^Authorised access only^")
    assert plan.remediation == ("banner motd ^Authorised access only^",)
    assert plan.rollback == ("no banner motd",)
    running = "hostname r1\nbanner motd ^Authorised access only^\n"
    assert diffing.missing_lines(platform, running, "banner motd ^Authorised access only^") == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_rollback_names_what_it_would_take_from_a_later_change(platform: Platform) -> None:
    running = RUNNING + "ntp server 10.0.0.9\nntp server 10.0.0.8\n"
    # The later change wanted 10.0.0.9 too: removing it would undo that change.
    assert diffing.undone_by(
        platform, running, "no ntp server 10.0.0.9", "ntp server 10.0.0.9\nntp server 10.0.0.8"
    ) == ["ntp server 10.0.0.9"]
    # A later change that only added 10.0.0.8 is left alone.
    assert (
        diffing.undone_by(platform, running, "no ntp server 10.0.0.9", "ntp server 10.0.0.8") == []
    )
