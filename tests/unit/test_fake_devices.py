"""The in-memory devices behave as the CLI driver does against a real one."""

from __future__ import annotations

import re

import pytest

from automation.diffing import plan
from automation.drivers import Opener
from automation.drivers.base import ConfigRejected, Credentials, DeviceUnreachable, Driver, Target
from domain.inventory.choices import Platform
from tests.fakes.devices import FakeNetwork

CREDS = Credentials("netops", "lab-pw")
UPLINK = (("GigabitEthernet0/0/0", "uplink", "10.0.1.1/30"), ("GigabitEthernet0/0/1", "", None))


def target(hostname: str = "r1-mum") -> Target:
    return Target(hostname, Platform.CISCO_IOS, "10.255.0.1", 22)


@pytest.fixture
def network() -> FakeNetwork:
    net = FakeNetwork()
    net.add("r1-mum", interfaces=UPLINK)
    return net


def test_diff_commit_and_rollback_as_the_cli_driver_does(network: FakeNetwork) -> None:
    connect: Opener = network  # what DeviceConnector takes (checked by mypy)
    driver: Driver = connect(target(), CREDS)
    before = driver.running_config()
    assert "ntp server 10.0.0.1" in before and " description uplink" in before
    intended = ["interface GigabitEthernet0/0/0", " description core-uplink", "ntp server 10.0.0.9"]
    driver.load_candidate(intended)
    # The same diff the real drivers compute: automation.diffing over the running config.
    assert driver.diff() == plan(Platform.CISCO_IOS, before, "\n".join(intended)).diff
    assert "- description uplink" in driver.diff() and "+ ntp server 10.0.0.9" in driver.diff()
    driver.commit()
    after = driver.running_config()
    assert "interface GigabitEthernet0/0/0\n description core-uplink\n" in after
    assert "ntp server 10.0.0.9" in network["r1-mum"].startup()  # saved
    driver.rollback()
    assert driver.running_config() == before
    sent = network["r1-mum"].received
    assert [line.strip() for line in sent[:2]] == [
        "interface GigabitEthernet0/0/0",
        "description core-uplink",
    ]
    assert sent[1].startswith(" ")  # hier_config indents what belongs to the section
    driver.close()


def test_a_change_stays_for_the_next_session_and_nothing_to_do_is_an_empty_diff(
    network: FakeNetwork,
) -> None:
    first = network(target(), CREDS)
    first.load_candidate(["logging host 10.0.1.10"])
    first.commit()
    first.close()
    second = network(target(), CREDS)
    second.load_candidate(["logging host 10.0.1.10", "ntp server 10.0.0.1"])
    assert second.diff() == ""
    assert network["r1-mum"].sessions == 2


def test_a_refused_line_stops_the_push_in_the_devices_words_unsaved(network: FakeNetwork) -> None:
    device = network["r1-mum"]
    device.refuse = re.compile("^logging trap")
    startup = device.startup()
    driver = network(target(), CREDS)
    driver.load_candidate(["logging host 10.0.1.10", "logging trap warnings"])
    with pytest.raises(ConfigRejected) as refused:
        driver.commit()
    assert str(refused.value) == (
        "r1-mum refused the change: Invalid input detected at command: logging trap "
        "warnings, matched error: % Invalid input detected at '^' marker."
    )
    assert "logging host 10.0.1.10" in device.running()  # taken before the refusal
    assert device.startup() == startup  # and not saved


def test_an_unreachable_device_and_a_wrong_password_do_not_answer() -> None:
    network = FakeNetwork()
    network.add("r2-del", password="lab-pw").reachable = False
    with pytest.raises(DeviceUnreachable, match=r"^r2-del does not answer on 10.255.0.1:22"):
        network(target("r2-del"), CREDS)
    network["r2-del"].reachable = True
    with pytest.raises(DeviceUnreachable, match="Authentication to device failed"):
        network(target("r2-del"), Credentials("netops", "wrong"))
    with pytest.raises(DeviceUnreachable, match=r"^r9-xx does not answer"):
        network(target("r9-xx"), CREDS)  # nothing at that address
    assert network(target("r2-del"), CREDS).facts().serial == "FOC0001"


def test_a_session_dropped_mid_commit_leaves_what_it_took_and_answers_again(
    network: FakeNetwork,
) -> None:
    device = network["r1-mum"]
    device.drop_after_lines = 1
    driver = network(target(), CREDS)
    driver.load_candidate(["logging host 10.0.1.11", "logging trap warnings"])
    with pytest.raises(DeviceUnreachable, match="r1-mum dropped the session during the change"):
        driver.commit()
    with pytest.raises(DeviceUnreachable):
        driver.running_config()  # that session is gone
    assert "logging host 10.0.1.11" in device.running()
    assert "logging trap" not in device.running()
    assert "logging host 10.0.1.11" not in device.startup()
    again = network(target(), CREDS)  # it reboots once, then answers
    assert "logging host 10.0.1.11" in again.running_config()


def test_show_commands_answer_like_the_device() -> None:
    network = FakeNetwork()
    device = network.add("r1-mum")
    device.outputs["show ip interface brief"] = "Interface  IP-Address  OK? Method Status"
    driver = network(target(), CREDS)
    assert str(driver.show("show ip interface brief")).startswith("Interface")
    assert "Version 17.6" in str(driver.show("show version"))
    assert str(driver.show("show running-config")) == device.running()
    assert str(driver.show("show bogus")).endswith("% Invalid input detected at '^' marker.")
