"""The device lab over real SSH: configuration that sticks, and devices that misbehave."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from netmiko import ConnectHandler
from netmiko.exceptions import ConfigInvalidException, NetmikoTimeoutException

from automation.lab.lab import Lab, answering
from domain.config import PROJECT_ROOT
from domain.db import Database
from domain.demo.seed import seed
from tests.conftest import free_ports
from tests.world import AS_OF, SMALL


def connect(lab: Lab, hostname: str, **kw: object) -> ConnectHandler:
    device = next(d for d in lab.devices if d.hostname == hostname)
    conn = ConnectHandler(
        device_type=device.platform,
        host="127.0.0.1",
        port=device.port,
        username="admin",
        password="lab-secret",
        conn_timeout=5,
        **kw,
    )
    conn.enable()
    return conn


def test_pushed_lines_are_in_the_running_config_of_a_later_session(lab: Lab) -> None:
    conn = connect(lab, "r1-mum")
    before = conn.send_command("show running-config")
    assert "interface GigabitEthernet0/0/0\n description uplink" in before
    conn.send_config_set(
        ["interface GigabitEthernet0/0/1", " description CUST-42", "ntp server 10.0.0.9"]
    )
    conn.save_config()
    conn.disconnect()
    again = connect(lab, "r1-mum")
    after = again.send_command("show running-config")
    startup = again.send_command("show startup-config")
    again.disconnect()
    assert "interface GigabitEthernet0/0/1\n no ip address\n description CUST-42" in after
    assert re.search(r"^ntp server 10\.0\.0\.9$", after, re.M)  # global, not under the interface
    assert "ntp server 10.0.0.9" in startup


def test_a_removed_line_is_gone_and_eos_speaks_the_same_dialect(lab: Lab) -> None:
    conn = connect(lab, "r3-ka")
    conn.send_config_set(["no ntp server 10.0.0.1", "logging host 10.0.1.10"])
    running = conn.send_command("show running-config")
    conn.disconnect()
    assert "ntp server 10.0.0.1" not in running and "logging host 10.0.1.10" in running
    assert lab.configs["r1-mum"].text().count("ntp server 10.0.0.1") == 1  # devices are apart


def test_a_device_can_refuse_a_line(lab: Lab) -> None:
    lab.configs["r1-mum"].faults.reject = re.compile(r"^snmp-server")
    conn = connect(lab, "r1-mum")
    with pytest.raises(ConfigInvalidException):
        conn.send_config_set(["snmp-server community s3cr3t RO"], error_pattern=r"% Invalid")
    conn.disconnect()
    assert "snmp-server" not in lab.configs["r1-mum"].text()


def test_a_device_can_drop_the_session_or_stop_answering(lab: Lab) -> None:
    lab.configs["r1-mum"].faults.drop_after_lines = 1
    conn = connect(lab, "r1-mum")
    with pytest.raises(Exception):  # noqa: B017 - the session just ends, as with a reboot
        conn.send_config_set(
            ["logging host 10.0.1.11", "logging host 10.0.1.12", "logging host 10.0.1.13"],
            read_timeout=5,
        )
    text = lab.configs["r1-mum"].text()
    assert "logging host 10.0.1.11" in text and "logging host 10.0.1.13" not in text
    port = next(d.port for d in lab.devices if d.hostname == "r1-mum")
    lab.stop_device("r1-mum")
    assert not answering("127.0.0.1", port)
    with pytest.raises(NetmikoTimeoutException):
        connect(lab, "r1-mum")


def test_lab_commands_start_report_and_stop(tmp_path: Path) -> None:
    base = free_ports(SMALL.lab_devices)[0]
    db_url = f"sqlite:///{tmp_path / 'lab.db'}"
    db = Database(db_url)
    seed(db, SMALL, seed=3, as_of=AS_OF, lab_base_port=base)
    db.dispose()
    config = tmp_path / "config.yaml"
    text = (
        (PROJECT_ROOT / "config.yaml").read_text().replace("base_port: 6000", f"base_port: {base}")
    )
    config.write_text(text)
    env = {
        **os.environ,
        "SWITCHBOARD_CONFIG": str(config),
        "SWITCHBOARD_DATABASE_URL": db_url,
        "COLUMNS": "120",
    }
    exe = str(Path(sys.executable).with_name("switchboard"))

    def lab_cmd(action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, "lab", action], capture_output=True, text=True, env=env, timeout=120
        )

    try:
        started = lab_cmd("start")
        assert started.returncode == 0, started.stdout + started.stderr
        assert "r1-mum" in started.stdout and f"127.0.0.1:{base + 7}" in started.stdout
        assert all(answering("127.0.0.1", base + i) for i in range(8))
        status = lab_cmd("status")
        assert status.returncode == 0 and "running, pid" in status.stdout
    finally:
        stopped = lab_cmd("stop")
    assert stopped.returncode == 0 and "lab stopped" in stopped.stdout
    assert not any(answering("127.0.0.1", base + i) for i in range(8))
    down = lab_cmd("status")
    assert down.returncode == 1 and "stopped" in down.stdout
