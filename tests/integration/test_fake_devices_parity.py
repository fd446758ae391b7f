"""The in-memory devices against the lab over real SSH: the same change gives the same
diff and leaves the same configuration, so tests that use them stand for the real path."""

from __future__ import annotations

from typing import Any

import pytest

from automation import intents
from automation.drivers.base import Credentials, Target
from automation.drivers.cli import NetmikoDriver
from automation.lab.lab import Lab
from domain.inventory.choices import Platform
from tests.fakes.devices import FakeNetwork

CREDS = Credentials("admin", "lab-secret", connect_timeout_s=5, command_timeout_s=20)

#: Changes in the order they are applied, each on top of the last.
CHANGES: list[tuple[str, dict[str, Any]]] = [
    ("ntp", {"servers": "10.0.0.9,10.0.0.10"}),
    ("syslog", {"host": "10.0.1.10", "level": "warnings"}),
    ("interface_description", {"interface": "GigabitEthernet0/0/0", "description": "core-uplink"}),
    ("snmp", {"community": "noc-ro-2026", "location": "Andheri MDF"}),
    ("vlan", {"vlan": 210, "name": "CUST-210"}),
    (
        "customer_access_port",
        {"interface": "GigabitEthernet0/0/1", "vlan": 210, "description": "CUST 4711"},
    ),
    ("customer_port_state", {"interface": "GigabitEthernet0/0/1", "state": "down"}),
    # Not `banner`: no driver can plan it yet (see test_change_policy.py).
]


@pytest.mark.slow
def test_the_fake_and_the_lab_agree_change_by_change(lab: Lab) -> None:
    device = next(d for d in lab.devices if d.hostname == "r1-mum")
    network = FakeNetwork()
    fake = network.add("r1-mum", interfaces=device.interfaces, version=device.os_version)
    assert fake.running() == lab.configs["r1-mum"].text()  # the same starting point
    where = Target("r1-mum", Platform.CISCO_IOS, "127.0.0.1", device.port)
    for template, params in CHANGES:
        lines = intents.render(template, Platform.CISCO_IOS, params)
        real = NetmikoDriver(where, CREDS)
        double = network(where, CREDS)
        try:
            real.load_candidate(lines)
            double.load_candidate(lines)
            assert double.diff() == real.diff(), template
            real.commit()
            double.commit()
            assert fake.running() == lab.configs["r1-mum"].text(), template
            assert fake.startup() == lab.configs["r1-mum"].startup_text(), template
        finally:
            real.close()
            double.close()
    # And back again, one change at a time, the way the workflow rolls back.
    real, double = NetmikoDriver(where, CREDS), network(where, CREDS)
    try:
        real.load_candidate(["ntp server 10.0.0.11"])
        double.load_candidate(["ntp server 10.0.0.11"])
        real.commit()
        double.commit()
        real.rollback()
        double.rollback()
        assert fake.running() == lab.configs["r1-mum"].text()
    finally:
        real.close()
        double.close()
