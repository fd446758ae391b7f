"""The Netmiko driver: CLI devices, with diffs and rollbacks computed by hier_config.

Before a change: the running config. The candidate is merged into it with hier_config,
which gives the lines to send (remediation) and the lines that undo them (rollback).
Commit sends them with send_config_set, stops at the first error line the device
prints, and saves.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence

from netmiko import ConnectHandler
from netmiko.exceptions import (
    ConfigInvalidException,
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
)

from automation.drivers.base import (
    ConfigRejected,
    Credentials,
    DeviceUnreachable,
    Facts,
    Target,
)
from automation.drivers.staging import StagedCLIChanges

#: What CLI devices print when they refuse a line.
ERROR_PATTERN = r"% ?(Invalid|Incomplete|Ambiguous|Unknown|Error)"

RUNNING = {"juniper_junos": "show configuration | display set"}


class NetmikoDriver(StagedCLIChanges):
    def __init__(self, target: Target, credentials: Credentials) -> None:
        self.target = target
        info = target.platform.info
        try:
            self._conn = ConnectHandler(
                device_type=info.netmiko_device_type,
                host=target.host,
                port=target.port,
                username=credentials.username,
                password=credentials.password,
                secret=credentials.enable_secret,
                conn_timeout=credentials.connect_timeout_s,
                read_timeout_override=credentials.command_timeout_s,
            )
            if info.netmiko_device_type.startswith(("cisco", "arista")):
                self._conn.enable()
        except (NetmikoTimeoutException, NetmikoAuthenticationException, OSError) as exc:
            raise DeviceUnreachable(
                f"{target.hostname} does not answer on {target.host}:{target.port} "
                f"({_first_line(exc)})",
                hint="check the device is up (`switchboard lab status` for the lab)",
            ) from None

    def facts(self) -> Facts:
        version = self._conn.send_command("show version")
        return Facts(
            hostname=self.target.hostname,
            vendor=self.target.platform.info.vendor,
            model=_find(r"[Cc]isco (\S+) .*processor|Model: (\S+)", version) or "",
            os_version=_find(r"Version ([^\s,]+)", version) or "",
            serial=_find(r"Processor board ID (\S+)|Serial number: (\S+)", version) or "",
            uptime_s=None,
        )

    def running_config(self) -> str:
        command = RUNNING.get(self.target.platform.value, "show running-config")
        return str(self._conn.send_command(command))

    def show(self, command: str) -> str | list[dict[str, str]]:
        output = self._conn.send_command(command, use_textfsm=True)
        return output if isinstance(output, list | str) else str(output)

    def _send(self, lines: Sequence[str]) -> None:
        try:
            self._conn.send_config_set(list(lines), error_pattern=ERROR_PATTERN)
        except ConfigInvalidException as exc:
            # Netmiko stops at the refused line and leaves the device in config mode.
            with contextlib.suppress(OSError, EOFError, ValueError):
                self._conn.exit_config_mode()
            raise ConfigRejected(
                f"{self.target.hostname} refused the change: {_first_line(exc)}"
            ) from None
        except (OSError, EOFError, NetmikoTimeoutException, ReadException) as exc:
            raise DeviceUnreachable(
                f"{self.target.hostname} dropped the session during the change ({_first_line(exc)})"
            ) from None
        self._conn.save_config()

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._conn.disconnect()


def _find(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text)
    if not match:
        return None
    return next((g for g in match.groups() if g), None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
