"""The Netmiko driver: CLI devices, with diffs and rollbacks computed by hier_config.

Before a change: the running config. The candidate is merged into it with hier_config,
which gives the lines to send (remediation) and the lines that undo them (rollback).
Commit sends them with send_config_set, stops at the first error line the device
prints, and saves.

Devices with a commit-confirm of their own (EOS sessions, IOS-XR and Junos
`commit confirmed`) subclass this: `_configure(lines, hold=True)` leaves the change
running but pending, `_confirm_commit()` keeps it, and the device reverts it by itself
if the confirmation never comes (`automation.drivers.eos_session`,
`automation.drivers.commit_confirmed`).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Sequence

from netmiko import ConnectHandler
from netmiko.exceptions import (
    ConfigInvalidException,
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
    ReadTimeout,
)
from netmiko.utilities import get_structured_data_textfsm
from paramiko.ssh_exception import SSHException
from textfsm.parser import Error as TextFSMError

from automation.drivers.base import (
    ConfigRejected,
    Credentials,
    DeviceUnreachable,
    Facts,
    Target,
)
from automation.drivers.staging import StagedCLIChanges
from domain.errors import DomainError
from domain.secrets import mask_config

# Paramiko logs a device that is not there, or not speaking SSH, as an ERROR with a
# traceback on stderr; the driver says it once, in one line (DeviceUnreachable).
logging.getLogger("paramiko.transport").setLevel(logging.CRITICAL)

#: What CLI devices print when they refuse a line.
ERROR_PATTERN = r"% ?(Invalid|Incomplete|Ambiguous|Unknown|Error)"

RUNNING = {"juniper_junos": "show configuration | display set"}

#: How a device says it will not run a read-only command, in the first lines it prints:
#: `% Invalid input` (IOS, IOS-XR, EOS), `% Invalid command` (NX-OS), `syntax error`
#: (Junos), `Error: Unrecognized command` (VRP), `Error: Bad command` (SR OS).
SHOW_REFUSED = re.compile(
    r"\s*(% ?(Invalid|Incomplete|Ambiguous|Unknown|Bad)|syntax error|error:"
    r"|(unknown|unrecognized|invalid|bad) command)",
    re.IGNORECASE,
)


class CommandFailed(DomainError):
    """The device refused a read-only command, or did not finish it in time."""


def show_output(target: Target, command: str, text: str, parse: bool) -> str | list[dict[str, str]]:
    """What a read-only command printed, as a driver's show() returns it.

    The device's refusal is CommandFailed, in one line of its words. Secrets are masked
    (`domain.secrets.mask_config`) before anything else reads the text, parsers too: a
    parsed row has no line left to mask by. With `parse`, the rows of the ntc-templates
    template for the platform and command; the text when there is none, or it does not
    read this output (a template that meets what it does not expect fails, it never
    guesses)."""
    refusal = show_refusal(text)
    if refusal is not None:
        raise show_refused(target, command, mask_config(refusal))
    text = mask_config(text)
    if not parse:
        return text
    return parsed_rows(target, command, text) or text


def parsed_rows(target: Target, command: str, text: str) -> list[dict[str, str]] | None:
    """`text` read by the TextFSM template for the target's platform and `command`, as
    Netmiko's use_textfsm reads it; None when no template reads it."""
    try:
        rows = get_structured_data_textfsm(
            text, platform=target.platform.info.netmiko_device_type, command=command
        )
    except (TextFSMError, ValueError):  # a state error, or no ntc-templates installed
        return None
    return rows if isinstance(rows, list) and rows else None


def show_refusal(output: str) -> str | None:
    """The device's refusal at the top of a command's output (past the `^` marker line),
    or None when it ran the command."""
    lines = [x.strip() for x in output.splitlines() if x.strip() and x.strip() != "^"]
    return next((x for x in lines[:3] if SHOW_REFUSED.match(x)), None)


def show_timed_out(target: Target, command: str, waited_s: float | None) -> CommandFailed:
    """The one-line error for a read-only command the device did not finish in time."""
    within = f"within {waited_s:g} s" if waited_s else "in time"
    return CommandFailed(
        f"{target.hostname} did not finish `{command}` {within}",
        # A modifier does not help here: it filters the output after the device printed it.
        hint="raise devices.command_timeout_s in config.yaml, or ask for a part (an "
        "interface's config, one route)",
    )


def show_refused(target: Target, command: str, refusal: str) -> CommandFailed:
    """The one-line error for a read-only command the device would not run."""
    return CommandFailed(
        f"{target.hostname} refused `{command}`: {refusal}",
        hint=f"{target.platform.value} may not have this command, or not with these arguments",
    )


class NetmikoDriver(StagedCLIChanges):
    #: Seconds a commit waits for confirm() before the device reverts it by itself; None
    #: here: IOS-style devices have no commit-confirm, a commit is final at once.
    confirm_within_s: float | None = None
    #: What the device prints when it refuses a line.
    error_pattern = ERROR_PATTERN
    _awaiting_confirm = False

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
        except NetmikoAuthenticationException:
            raise DeviceUnreachable(
                f"{target.hostname} refused the login on {target.host}:{target.port}",
                hint="check the device credentials (SWITCHBOARD_DEVICE_USER / _PASSWORD)",
            ) from None
        except (
            NetmikoTimeoutException,
            SSHException,
            ReadException,
            OSError,
            EOFError,
            ValueError,  # Netmiko's word for a prompt or enable mode it could not find
        ) as exc:
            raise DeviceUnreachable(
                f"{target.hostname} does not answer on {target.host}:{target.port} "
                f"({one_line(exc)})",
                hint="check the device is up (`switchboard lab status` for the lab)",
            ) from None

    def facts(self) -> Facts:
        version = str(self._conn.send_command("show version"))
        return Facts(
            hostname=self.target.hostname,
            vendor=self.target.platform.info.vendor,
            model=_find(r"[Cc]isco (\S+) .*processor|Model: (\S+)|(?m:^Arista (\S+))", version)
            or "",
            os_version=_find(r"Version ([^\s,]+)|Software image version: (\S+)", version) or "",
            serial=_find(r"Processor board ID (\S+)|Serial number: (\S+)", version) or "",
            uptime_s=None,
        )

    def running_config(self) -> str:
        command = RUNNING.get(self.target.platform.value, "show running-config")
        try:
            return str(self._conn.send_command(command))
        except (OSError, EOFError, NetmikoTimeoutException, ReadException) as exc:
            # A session that stops answering mid-change: what it holds must be checked.
            raise DeviceUnreachable(
                f"{self.target.hostname} stopped answering `{command}` ({one_line(exc)})"
            ) from None

    def show(self, command: str, parse: bool = True) -> str | list[dict[str, str]]:
        try:
            output = self._conn.send_command(command)
        except ReadTimeout:
            waited = self._conn.read_timeout_override or 10.0  # Netmiko's own default
            raise show_timed_out(self.target, command, waited) from None
        except (OSError, EOFError, NetmikoTimeoutException, ReadException, SSHException) as exc:
            raise DeviceUnreachable(
                f"{self.target.hostname} dropped the session during `{command}` ({one_line(exc)})"
            ) from None
        return show_output(self.target, command, str(output), parse)

    @property
    def awaiting_confirm(self) -> bool:
        """A commit is running on the device and reverts by itself unless confirmed."""
        return self._awaiting_confirm

    def commit(self) -> None:
        # The change is the one push a device may hold for confirmation; rollbacks and
        # restores (`_send` from elsewhere) are final at once.
        if self._plan is None or self._plan.empty:
            return
        self._send(self._plan.remediation, hold=self.confirm_within_s is not None)
        self._applied, self._plan = self._plan, None

    def confirm(self) -> None:
        if self._awaiting_confirm:
            with self._device_errors():
                self._confirm_commit()
            self._awaiting_confirm = False

    def _send(self, lines: Sequence[str], hold: bool = False) -> None:
        with self._device_errors():
            self._configure(lines, hold)
        self._awaiting_confirm = hold

    def _configure(self, lines: Sequence[str], hold: bool) -> None:
        """Send lines in config mode and make them stick; with `hold`, leave the commit
        pending confirmation (only drivers whose device has commit-confirm get it)."""
        self._conn.send_config_set(list(lines), error_pattern=self.error_pattern)
        self._conn.save_config()

    def _confirm_commit(self) -> None:
        """Keep a commit `_configure(..., hold=True)` left pending."""

    def _abandon_config_mode(self) -> None:
        """Leave config mode after a refused line, keeping nothing of the change."""
        self._conn.exit_config_mode()

    @contextlib.contextmanager
    def _device_errors(self) -> Iterator[None]:
        """The device's refusals and a lost session, as the errors a change reports."""
        try:
            yield
        except ConfigInvalidException as exc:
            # Netmiko stops at the refused line and leaves the device in config mode.
            with contextlib.suppress(OSError, EOFError, ValueError, ReadException):
                self._abandon_config_mode()
            raise ConfigRejected(
                f"{self.target.hostname} refused the change: {one_line(exc)}"
            ) from None
        except (OSError, EOFError, NetmikoTimeoutException, ReadException) as exc:
            raise DeviceUnreachable(
                f"{self.target.hostname} dropped the session during the change ({one_line(exc)})"
            ) from None

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._conn.disconnect()


def _find(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text)
    if not match:
        return None
    return next((g for g in match.groups() if g), None)


def one_line(exc: BaseException) -> str:
    """What an exception says, in one line. Netmiko's and NAPALM's messages run to a dozen
    lines of advice ("Common causes of this problem are: ..."); the first line that says
    something is kept, with the line after it when it only announces one (ends in ':')."""
    lines = [x.strip() for x in str(exc).splitlines() if x.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].endswith(":") and len(lines) > 1:
        return f"{lines[0]} {lines[1]}"
    return lines[0]
