"""Commit-confirm over real SSH to the lab: an EOS push that is never confirmed (the session
cut off after commit, or the driver gone) is reverted by the device itself; IOS commits
are final at once, as before."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from netmiko import ConnectHandler

from automation.drivers import connect
from automation.drivers.base import ConfigRejected, Credentials, DeviceUnreachable, Target
from automation.drivers.cli import NetmikoDriver
from automation.drivers.eos_session import EosSessionDriver
from automation.drivers.napalm_driver import NapalmDriver
from automation.lab.lab import Lab
from domain.inventory.choices import Platform

CREDS = Credentials("admin", "lab-secret", connect_timeout_s=5, command_timeout_s=10)
CHANGE = ["ntp server 10.0.0.9", "interface Ethernet1", " description core-uplink"]


def target(lab: Lab, hostname: str) -> Target:
    d = next(d for d in lab.devices if d.hostname == hostname)
    return Target(d.hostname, Platform(d.platform), "127.0.0.1", d.port)


def eventually(check: Callable[[], bool], within_s: float) -> bool:
    """True as soon as `check()` is, False if it never is within `within_s`."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_a_confirmed_eos_push_stays_and_is_saved(lab: Lab) -> None:
    device = lab.configs["r3-ka"]
    driver = EosSessionDriver(target(lab, "r3-ka"), CREDS, confirm_within_s=1)
    assert driver.confirm_within_s == 1
    driver.load_candidate(CHANGE)
    driver.commit()
    assert driver.awaiting_confirm
    assert "ntp server 10.0.0.9" in driver.running_config()  # running at once
    assert "ntp server 10.0.0.9" not in device.startup_text()  # not saved before confirm
    driver.confirm()
    assert not driver.awaiting_confirm
    time.sleep(1.5)  # past the timer: nothing reverts a confirmed commit
    running = driver.running_config()
    driver.close()
    assert "ntp server 10.0.0.9" in running and "description core-uplink" in running
    assert "ntp server 10.0.0.9" in device.startup_text()
    assert device.pending is None and not device.sessions


def test_an_eos_push_never_confirmed_reverts_by_itself(lab: Lab) -> None:
    device = lab.configs["r3-ka"]
    before, saved = device.text(), device.startup_text()
    driver = EosSessionDriver(target(lab, "r3-ka"), CREDS, confirm_within_s=2)
    driver.load_candidate(CHANGE)
    driver.commit()
    assert "ntp server 10.0.0.9" in device.text()
    driver.close()  # Switchboard is gone before its post-check: nobody confirms
    assert device.text() != before
    assert eventually(lambda: device.text() == before, within_s=4)
    assert device.startup_text() == saved
    again = connect(target(lab, "r3-ka"), CREDS)
    assert "ntp server 10.0.0.9" not in again.running_config()
    again.close()


def test_an_eos_push_that_cuts_the_session_off_reverts_by_itself(lab: Lab) -> None:
    device = lab.configs["r3-ka"]
    device.commit_timer_cap_s = 5  # the driver asks for minutes; the lab makes it seconds
    device.faults.drop_after_commit = True  # the change takes the management path away
    # Netmiko notices a dead session only when a read times out: keep that short.
    first = connect(target(lab, "r3-ka"), replace(CREDS, command_timeout_s=2))
    assert isinstance(first, EosSessionDriver) and first.confirm_within_s == 120
    before = first.running_config()
    first.load_candidate(CHANGE)
    with pytest.raises(DeviceUnreachable, match=r"^r3-ka dropped the session"):
        first.commit()
    first.close()
    assert "ntp server 10.0.0.9" in device.text()  # the device took it, then lost us
    assert device.pending is not None
    assert eventually(lambda: device.pending is None, within_s=6)
    device.faults.drop_after_commit = False
    again = connect(target(lab, "r3-ka"), CREDS)
    assert again.running_config() == before  # exactly as before, read over SSH
    again.close()


def test_eos_rollback_before_confirm_reverts_at_once(lab: Lab) -> None:
    device = lab.configs["r3-ka"]
    before, saved = device.text(), device.startup_text()
    driver = EosSessionDriver(target(lab, "r3-ka"), CREDS, confirm_within_s=60)
    driver.load_candidate(CHANGE)
    driver.commit()
    driver.rollback()
    assert not driver.awaiting_confirm
    assert device.text() == before and device.pending is None
    assert device.startup_text() == saved
    assert "pendingCommitTimer" not in str(driver._conn.send_command("show configuration sessions"))
    driver.close()


def test_a_restore_while_pending_aborts_first_and_is_final(lab: Lab) -> None:
    device = lab.configs["r3-ka"]
    before = device.text()
    driver = EosSessionDriver(target(lab, "r3-ka"), CREDS, confirm_within_s=1)
    driver.load_candidate(CHANGE)
    driver.commit()
    driver.send_lines(["no ntp server 10.0.0.9"])  # what a restore from the backup sends
    assert not driver.awaiting_confirm and device.pending is None
    time.sleep(1.5)
    driver.close()
    assert device.text() == before


def test_a_refused_line_in_an_eos_session_changes_nothing(lab: Lab) -> None:
    device = lab.configs["r3-ka"]
    device.faults.reject = re.compile(r"^snmp-server")
    before = device.text()
    driver = connect(target(lab, "r3-ka"), CREDS)
    driver.load_candidate(["ntp server 10.0.0.9", "snmp-server community s3cret RO"])
    with pytest.raises(ConfigRejected, match=r"^r3-ka refused the change: "):
        driver.commit()
    assert not driver.awaiting_confirm
    driver.close()
    assert device.text() == before  # not even the line before the refused one
    assert not device.sessions and device.pending is None


def test_ios_commits_are_final_at_once_as_before(lab: Lab) -> None:
    device = lab.configs["r1-mum"]
    device.commit_timer_cap_s = 1  # no timer is ever set on IOS, capped or not
    driver = connect(target(lab, "r1-mum"), CREDS)
    assert type(driver) is NetmikoDriver and driver.confirm_within_s is None
    driver.load_candidate(["ntp server 10.0.0.9"])
    driver.commit()
    assert not driver.awaiting_confirm
    assert "ntp server 10.0.0.9" in device.startup_text()  # saved at commit
    driver.confirm()  # nothing to confirm; still fine to call
    driver.close()
    time.sleep(1.5)
    assert "ntp server 10.0.0.9" in device.text() and device.pending is None


def test_lab_sessions_as_eos_has_them(lab: Lab) -> None:
    port = target(lab, "r3-ka").port
    device = lab.configs["r3-ka"]
    before = device.text()
    conn = ConnectHandler(
        device_type="arista_eos",
        host="127.0.0.1",
        port=port,
        username="admin",
        password="lab-secret",
    )
    conn.enable()
    conn.send_config_set(["ntp server 10.0.0.9"], config_mode_command="configure session s1")
    assert device.text() == before  # a session edits a copy
    assert "+ntp server 10.0.0.9" in str(conn.send_command("show session-config named s1 diffs"))
    assert "s1" in str(conn.send_command("show configuration sessions"))
    assert conn.send_command("configure session s1 commit timer 00:00:03") == ""
    assert "s1" in str(conn.send_command("show configuration sessions detail"))
    # Saving while the timer runs saves the pending change; the revert is the running
    # config's only (the lab's choice, documented in automation.lab.sessions).
    conn.save_config()
    assert eventually(lambda: device.text() == before, within_s=5)
    assert "ntp server 10.0.0.9" in device.startup_text()
    assert "No session named s1" in str(conn.send_command("configure session s1 commit"))
    conn.disconnect()
    ios = ConnectHandler(
        device_type="cisco_ios",
        host="127.0.0.1",
        port=target(lab, "r1-mum").port,
        username="admin",
        password="lab-secret",
    )
    ios.enable()
    assert "Invalid input" in str(ios.send_command("configure session s1"))  # IOS has none
    ios.disconnect()


def test_napalm_says_which_commits_revert_by_themselves(tmp_path: Path) -> None:
    for name in ("load_merge_candidate.1", "commit_config.1", "confirm_commit.1"):
        (tmp_path / name).write_text(json.dumps({}))
    t = Target("cr01-mum-dc1", Platform.CISCO_XR, "127.0.0.1", 22)
    driver = NapalmDriver(t, CREDS, driver_name="mock", optional_args={"path": str(tmp_path)})
    assert driver.confirm_within_s == NapalmDriver.REVERT_IN_S
    driver.load_candidate(["ntp server 10.0.0.9"])
    driver.commit()
    assert driver.awaiting_confirm and driver._device.has_pending_commit()
    driver.confirm()
    assert not driver.awaiting_confirm
    driver.close()
    # NAPALM's iosxr and nxos drivers have no revert_in: a commit there is final at once.
    assert "iosxr" not in NapalmDriver.REVERTING and "nxos_ssh" not in NapalmDriver.REVERTING
