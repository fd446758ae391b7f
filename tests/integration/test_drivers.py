"""Drivers: the CLI driver over real SSH to the lab, the NAPALM driver on NAPALM's mock."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from automation.drivers import connect
from automation.drivers.base import ConfigRejected, Credentials, DeviceUnreachable, Target
from automation.drivers.cli import NetmikoDriver
from automation.drivers.napalm_driver import NapalmDriver
from automation.lab.lab import Lab
from domain.inventory.choices import Platform
from tests.conftest import free_ports

CREDS = Credentials("admin", "lab-secret", connect_timeout_s=5, command_timeout_s=20)


def target(lab: Lab, hostname: str) -> Target:
    d = next(d for d in lab.devices if d.hostname == hostname)
    return Target(d.hostname, Platform(d.platform), "127.0.0.1", d.port)


def test_cli_change_diff_commit_and_rollback(lab: Lab) -> None:
    driver = connect(target(lab, "r1-mum"), CREDS)
    assert isinstance(driver, NetmikoDriver)
    original = lab.configs["r1-mum"].text()
    driver.load_candidate(
        ["interface GigabitEthernet0/0/0", " description core-uplink", "ntp server 10.0.0.9"]
    )
    diff = driver.diff()
    assert "- description uplink" in diff and "+ description core-uplink" in diff
    assert "+ ntp server 10.0.0.9" in diff
    driver.commit()
    assert "description core-uplink" in driver.running_config()
    assert "ntp server 10.0.0.9" in lab.configs["r1-mum"].startup_text()  # saved
    driver.rollback()
    driver.close()
    assert lab.configs["r1-mum"].text() == original


def test_cli_nothing_to_do_means_an_empty_diff(lab: Lab) -> None:
    driver = connect(target(lab, "r1-mum"), CREDS)
    driver.load_candidate(["ntp server 10.0.0.1"])
    assert driver.diff() == ""
    driver.close()


def test_cli_refusals_and_silence_are_one_line_errors(lab: Lab) -> None:
    lab.configs["r1-mum"].faults.reject = re.compile("^snmp-server")
    driver = connect(target(lab, "r1-mum"), CREDS)
    driver.load_candidate(["snmp-server community public RO"])
    with pytest.raises(ConfigRejected, match=r"^r1-mum refused the change"):
        driver.commit()
    driver.close()
    lab.stop_device("r1-mum")
    with pytest.raises(DeviceUnreachable) as exc:
        connect(target(lab, "r1-mum"), CREDS)
    assert str(exc.value).startswith("r1-mum does not answer on 127.0.0.1:")
    assert "lab-secret" not in str(exc.value)


def test_napalm_path_through_napalm_mock_driver(tmp_path: Path) -> None:
    files = {
        "get_facts.1": {
            "hostname": "cr01-mum-dc1",
            "vendor": "Cisco",
            "model": "ASR-9906",
            "os_version": "7.10.1",
            "serial_number": "FOC123",
            "uptime": 3600.0,
            "fqdn": "",
            "interface_list": [],
        },
        "load_merge_candidate.1": {},
        "compare_config.1": {"diff": "+ntp server 10.0.0.9"},
        "commit_config.1": {},
        "confirm_commit.1": {},
        "get_config.1": {"running": "ntp server 10.0.0.9\n", "startup": "", "candidate": ""},
    }
    for name, data in files.items():
        (tmp_path / name).write_text(json.dumps(data))
    t = Target("cr01-mum-dc1", Platform.CISCO_XR, "127.0.0.1", 22)
    driver = NapalmDriver(t, CREDS, driver_name="mock", optional_args={"path": str(tmp_path)})
    assert driver.facts().model == "ASR-9906"
    driver.load_candidate(["ntp server 10.0.0.9"])
    assert driver.diff() == "+ntp server 10.0.0.9"
    driver.commit()
    assert driver._device.has_pending_commit()  # reverts by itself unless confirmed
    assert "ntp server 10.0.0.9" in driver.running_config()
    driver.confirm()
    assert not driver._device.has_pending_commit()
    driver.rollback()
    driver.close()


def test_platform_picks_the_driver() -> None:
    with pytest.raises(DeviceUnreachable):  # NAPALM's iosxr driver, nothing listening there
        connect(
            Target("x", Platform.CISCO_XR, "127.0.0.1", free_ports(1)[0]),
            Credentials("a", "b", connect_timeout_s=1, command_timeout_s=2),
            napalm_platforms=("cisco_xr",),
        )
