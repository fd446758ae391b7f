"""The NAPALM driver: merge candidate, compare, commit (with revert where the driver has
it) and rollback, all done by the device's own NAPALM driver."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from napalm import get_network_driver
from napalm.base.exceptions import (
    CommandErrorException,
    CommandTimeoutException,
    CommitConfirmException,
    ConnectionException,
    MergeConfigException,
)
from netmiko.exceptions import NetmikoAuthenticationException, ReadException, ReadTimeout
from paramiko.ssh_exception import SSHException

from automation.drivers.base import ConfigRejected, Credentials, DeviceUnreachable, Facts, Target
from automation.drivers.cli import one_line, show_output, show_refused, show_timed_out

# NAPALM's drivers log a device that does not answer as an ERROR (on stderr when nothing
# else takes the log), in Netmiko's dozen lines; the driver says it once, in one line.
logging.getLogger("napalm").setLevel(logging.CRITICAL)


class NapalmDriver:
    def __init__(
        self,
        target: Target,
        credentials: Credentials,
        driver_name: str | None = None,
        optional_args: dict[str, Any] | None = None,
    ) -> None:
        self.target = target
        name = driver_name or target.platform.info.napalm_driver
        if name is None:
            raise ConfigRejected(
                f"{target.platform} has no NAPALM driver",
                hint="use the CLI (Netmiko) driver for this platform",
            )
        self._napalm_name = name
        args = {"port": target.port, **(optional_args or {})}
        if credentials.enable_secret:
            args.setdefault("secret", credentials.enable_secret)
        self._device = get_network_driver(name)(
            hostname=target.host,
            username=credentials.username,
            password=credentials.password,
            timeout=int(credentials.command_timeout_s),
            optional_args=args,
        )
        try:
            self._device.open()
        except (
            NetmikoAuthenticationException,
            ConnectionException,
            SSHException,
            ReadException,
            OSError,
            EOFError,
        ) as exc:
            said = one_line(exc)
            # NAPALM's IOS-XR driver reports a refused login as a ConnectionException.
            if isinstance(exc, NetmikoAuthenticationException) or said.startswith("Authentication"):
                raise DeviceUnreachable(
                    f"{target.hostname} refused the login on {target.host}:{target.port}",
                    hint="check the device credentials (SWITCHBOARD_DEVICE_USER / _PASSWORD)",
                ) from None
            raise DeviceUnreachable(
                f"{target.hostname} does not answer NAPALM on {target.host}:{target.port} ({said})",
                hint="check the device is up (`switchboard lab status` for the lab)",
            ) from None

    def facts(self) -> Facts:
        f = self._device.get_facts()
        return Facts(
            hostname=f.get("hostname") or self.target.hostname,
            vendor=f.get("vendor", ""),
            model=f.get("model", ""),
            os_version=f.get("os_version", ""),
            serial=f.get("serial_number", ""),
            uptime_s=f.get("uptime"),
        )

    def running_config(self) -> str:
        return str(self._device.get_config(retrieve="running")["running"])

    def show(self, command: str, parse: bool = True) -> str | list[dict[str, str]]:
        try:
            output = str(self._device.cli([command])[command])
        except (CommandTimeoutException, ReadTimeout, TimeoutError):
            # IOS-XR raises the first; SSH-based drivers (ios, nxos_ssh) let Netmiko's out.
            waited = getattr(self._device, "timeout", None)
            raise show_timed_out(self.target, command, waited) from None
        except CommandErrorException as exc:  # EOS: {command: the device's refusal}
            said = one_line(exc)
            said = re.sub(r"^\{'.*?': ['\"](.*)['\"]\}$", r"\1", said)
            raise show_refused(self.target, command, said) from None
        except (ConnectionException, ReadException, OSError, EOFError) as exc:
            raise DeviceUnreachable(
                f"{self.target.hostname} dropped the session during `{command}` ({one_line(exc)})"
            ) from None
        return show_output(self.target, command, output, parse)

    def load_candidate(self, lines: Sequence[str]) -> None:
        try:
            self._device.load_merge_candidate(config="\n".join(lines))
        except MergeConfigException as exc:
            raise ConfigRejected(f"{self.target.hostname} refused the candidate: {exc}") from None

    def diff(self) -> str:
        return str(self._device.compare_config() or "")

    #: Seconds a commit stays pending before the device reverts it on its own.
    REVERT_IN_S = 300
    #: NAPALM drivers whose commit_config takes revert_in (ios only where `archive` is set
    #: up; iosxr and nxos raise NotImplementedError, so a commit there is final at once).
    REVERTING = frozenset({"eos", "junos", "ios", "mock"})
    _pending = False
    _revert_refused = False

    @property
    def confirm_within_s(self) -> float | None:
        if self._napalm_name in self.REVERTING and not self._revert_refused:
            return float(self.REVERT_IN_S)
        return None

    @property
    def awaiting_confirm(self) -> bool:
        return self._pending

    def commit(self) -> None:
        # Commit-confirm where the driver has it: if the session is cut off, or Switchboard
        # dies, before the post-check confirms, the device reverts by itself.
        if self.confirm_within_s is None:
            self._device.commit_config()
            return
        try:
            self._device.commit_config(revert_in=self.REVERT_IN_S)
            self._pending = True
        except (NotImplementedError, CommitConfirmException):
            # Refused before anything was sent (an IOS device without `archive`).
            self._revert_refused = True
            self._device.commit_config()

    def confirm(self) -> None:
        if self._pending:
            self._device.confirm_commit()
            self._pending = False

    def rollback(self) -> None:
        self._device.rollback()
        self._pending = False  # the device is back; nothing waits for a confirm

    def discard(self) -> None:
        self._device.discard_config()

    def close(self) -> None:
        self._device.close()
