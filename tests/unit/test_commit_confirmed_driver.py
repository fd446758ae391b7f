"""IOS-XR and Junos over the CLI: which Netmiko calls a commit-confirmed change makes.

The lab has no IOS-XR or Junos dialect, so these run the driver on a hand-written
connection that records what Netmiko would be asked to do (Netmiko's own `commit()` then
types `commit confirmed N` / `commit`); the EOS path runs over real SSH in
tests/integration/test_commit_confirm.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from automation.drivers import cli, connect
from automation.drivers.base import ConfigRejected, Credentials, Target
from automation.drivers.commit_confirmed import CommitConfirmedDriver
from domain.inventory.choices import Platform

CREDS = Credentials("admin", "pw")
RUNNING = {
    Platform.CISCO_XR: "hostname r5-xr\nntp server 10.0.0.1\n",
    Platform.JUNIPER_JUNOS: "set system host-name r6-jun\nset system ntp server 10.0.0.1\n",
}


class RecordingConnection:
    """Stands where Netmiko's connection stands; records calls, answers `show`."""

    base_prompt = "r5"

    def __init__(self, running: str, refuse_commit: bool = False) -> None:
        self.running = running
        self.refuse_commit = refuse_commit
        self.calls: list[tuple[Any, ...]] = []

    def enable(self) -> None:
        self.calls.append(("enable",))

    def send_command(self, command: str, **_: Any) -> str:
        self.calls.append(("send_command", command))
        return self.running

    def send_config_set(self, lines: list[str], **kwargs: Any) -> str:
        mode, stay = kwargs.get("config_mode_command"), not kwargs.get("exit_config_mode", True)
        self.calls.append(("config", tuple(lines), mode, "stays in config mode" if stay else ""))
        return ""

    def commit(self, confirm: bool = False, confirm_delay: int | None = None) -> str:
        self.calls.append(("commit", confirm, confirm_delay))
        if self.refuse_commit:
            raise ValueError("Commit failed with the following errors:\n\n% Failed to commit")
        return ""

    def exit_config_mode(self) -> str:
        self.calls.append(("exit_config_mode",))
        return ""

    def save_config(self) -> str:
        raise NotImplementedError  # as Netmiko's IOS-XR and Junos classes do

    def disconnect(self) -> None:
        self.calls.append(("disconnect",))


def open_driver(
    monkeypatch: pytest.MonkeyPatch, platform: Platform, refuse_commit: bool = False
) -> tuple[CommitConfirmedDriver, RecordingConnection]:
    conn = RecordingConnection(RUNNING[platform], refuse_commit)
    monkeypatch.setattr(cli, "ConnectHandler", lambda **_: conn)
    driver = connect(Target("r5", platform, "127.0.0.1", 22), CREDS)
    assert isinstance(driver, CommitConfirmedDriver)
    conn.calls.clear()
    return driver, conn


def test_ios_xr_commits_confirmed_in_seconds_then_confirms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    driver, conn = open_driver(monkeypatch, Platform.CISCO_XR)
    assert driver.confirm_within_s == 120
    driver.load_candidate(["ntp server 10.0.0.9"])
    driver.commit()
    assert driver.awaiting_confirm
    assert conn.calls[-3:] == [
        ("config", ("ntp server 10.0.0.9",), "configure terminal", "stays in config mode"),
        ("commit", True, 120),
        ("exit_config_mode",),
    ]
    driver.confirm()
    assert not driver.awaiting_confirm
    assert conn.calls[-2:] == [("commit", False, None), ("exit_config_mode",)]


def test_junos_counts_minutes_and_a_rollback_is_a_plain_commit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    driver, conn = open_driver(monkeypatch, Platform.JUNIPER_JUNOS)
    assert driver.confirm_within_s == 120
    driver.load_candidate(["set system ntp server 10.0.0.9"])
    driver.commit()
    assert conn.calls[-3:] == [
        (
            "config",
            ("set system ntp server 10.0.0.9",),
            "configure exclusive",
            "stays in config mode",
        ),
        ("commit", True, 2),  # minutes on Junos
        ("exit_config_mode",),
    ]
    driver.rollback()  # the undo lines, committed for good (confirming the pending one)
    assert not driver.awaiting_confirm
    assert conn.calls[-2:] == [("commit", False, None), ("exit_config_mode",)]
    assert any(c[0] == "config" and c[1][0].startswith("delete ") for c in conn.calls[-3:])


def test_a_refused_commit_is_one_line_and_leaves_config_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    driver, conn = open_driver(monkeypatch, Platform.CISCO_XR, refuse_commit=True)
    driver.load_candidate(["ntp server 10.0.0.9"])
    with pytest.raises(ConfigRejected, match=r"^r5 refused the commit: Commit failed"):
        driver.commit()
    assert not driver.awaiting_confirm
    assert conn.calls[-1] == ("exit_config_mode",)  # IOS-XR then drops the candidate


def test_short_timers_are_raised_to_what_the_device_takes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn = RecordingConnection(RUNNING[Platform.CISCO_XR])
    monkeypatch.setattr(cli, "ConnectHandler", lambda **_: conn)
    xr = CommitConfirmedDriver(Target("r5", Platform.CISCO_XR, "h", 22), CREDS, 5)
    junos = CommitConfirmedDriver(Target("r6", Platform.JUNIPER_JUNOS, "h", 22), CREDS, 61)
    assert xr.confirm_within_s == 30 and junos.confirm_within_s == 120
