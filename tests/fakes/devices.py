"""In-memory network devices behind the `Driver` protocol, as httpx's MockTransport is
behind its client: the change workflow runs for real, only SSH is left out.

A `FakeNetwork` holds devices by hostname. Each keeps a running and a startup
configuration as IOS-style sections (the lab's own model, `automation.lab.config`), so a
pushed line shows up in the next session and a rollback can be seen to work. Diffs and
the lines to send come from `automation.diffing`, exactly as the CLI driver computes
them, and a line is refused by the same rule (`automation.drivers.cli.ERROR_PATTERN`
over what the device prints).

Faults a test sets on a `FakeDevice`: `refuse` (lines matching it are refused, in the
device's words), `reachable = False` (nothing answers: DeviceUnreachable on connect;
`logins_left` makes it go dark after so many logins),
`drop_after_lines` (the session dies after that many config lines of one push, once or
every time), `hold` (a push waits for the test to let it go: a change in flight).

The network is an opener (`automation.drivers.Opener`):
`ChangeWorkflow(db, automation, DeviceConnector.from_settings(settings, opener=network))`,
or `bot.bootstrap.build_services(settings, db, opener=network)`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from automation.drivers.base import (
    ConfigRejected,
    Credentials,
    DeviceUnreachable,
    Facts,
    Target,
)
from automation.drivers.cli import ERROR_PATTERN
from automation.drivers.staging import StagedCLIChanges
from automation.lab.config import DeviceConfig, baseline
from automation.lab.show import PLACEHOLDER_MODELS, Chassis, show_command
from domain.inventory.choices import Platform
from domain.secrets import mask_config

#: What an IOS-style device prints for a line it does not take.
INVALID = "% Invalid input detected at '^' marker."


@dataclass
class FakeDevice:
    """One device: its configuration, what it was sent, and the faults a test gave it."""

    hostname: str
    platform: Platform
    config: DeviceConfig
    model: str = "ASR-920"
    serial: str = "FOC0000"
    #: The login it takes; None takes any.
    password: str | None = None
    #: False: nothing answers on its management address.
    reachable: bool = True
    #: Logins it still answers before it goes dark for good (None: no end).
    logins_left: int | None = None
    #: Config lines matching this are refused with "% Invalid input".
    refuse: re.Pattern[str] | None = None
    #: The session dies after this many config lines of one push (a reboot, a cut link).
    drop_after_lines: int | None = None
    #: Only the first such push dies; the device answers again afterwards.
    drop_once: bool = True
    #: While set and not yet released, a push waits here (a change in flight).
    hold: threading.Event | None = None
    #: Read-only commands and what they print (`show running-config` is always there).
    outputs: dict[str, str] = field(default_factory=dict)
    #: Every config line the device was sent, in order, refused ones included.
    received: list[str] = field(default_factory=list)
    #: Logins so far.
    sessions: int = 0
    #: Fires when a push reaches `hold` (the test then knows the change is in flight).
    holding: threading.Event = field(default_factory=threading.Event)
    #: When it booted: `show version` counts its uptime from here.
    booted_at: float = field(default_factory=time.time)
    #: Interfaces whose link is down (its show commands say so).
    links_down: frozenset[str] = frozenset()

    def chassis(self) -> Chassis:
        """What its show commands say it is, as a lab device's do."""
        return Chassis(
            self.platform.value,
            self.model,
            self.serial,
            self.platform.info.vendor,
            links_down=self.links_down,
            booted_at=self.booted_at,
        )

    def running(self) -> str:
        return self.config.text()

    def startup(self) -> str:
        return self.config.startup_text()


class FakeNetwork:
    """Devices by hostname; call it as a connector: `network(target, credentials)`."""

    def __init__(self) -> None:
        self.devices: dict[str, FakeDevice] = {}
        self._lock = threading.Lock()

    def add(
        self,
        hostname: str,
        platform: Platform | str = Platform.CISCO_IOS,
        *,
        interfaces: Sequence[tuple[str, str, str | None]] = (),
        lines: Sequence[str] = (),
        version: str = "17.6",
        password: str | None = None,
        model: str | None = None,
        serial: str | None = None,
    ) -> FakeDevice:
        """A device with a believable, saved baseline configuration (and `lines` on top);
        model and serial as its inventory row has them (placeholders when not given)."""
        config = baseline(hostname, list(interfaces), version)
        context: str | None = None
        for line in lines:
            context = _apply(config, line, context)
        config.save()
        platform = Platform(platform)
        device = FakeDevice(
            hostname,
            platform,
            config,
            model=model or PLACEHOLDER_MODELS.get(platform.value, "ASR-920"),
            serial=serial or f"FOC{len(self.devices) + 1:04d}",
            password=password,
        )
        self.devices[hostname] = device
        return device

    def __getitem__(self, hostname: str) -> FakeDevice:
        return self.devices[hostname]

    def running(self) -> dict[str, str]:
        """Every device's running configuration, by hostname."""
        return {h: d.running() for h, d in self.devices.items()}

    def connect(self, target: Target, credentials: Credentials) -> FakeDriver:
        """Log in to a device, as `automation.drivers.connect` does over SSH."""
        device = self.devices.get(target.hostname)
        with self._lock:
            if device is not None and device.logins_left is not None:
                if device.logins_left <= 0:
                    device.reachable = False
                device.logins_left -= 1
        if device is None or not device.reachable:
            raise DeviceUnreachable(
                f"{target.hostname} does not answer on {target.host}:{target.port} "
                "(TCP connection to device failed.)",
                hint="check the device is up (`switchboard lab status` for the lab)",
            )
        if device.password is not None and credentials.password != device.password:
            raise DeviceUnreachable(
                f"{target.hostname} does not answer on {target.host}:{target.port} "
                "(Authentication to device failed.)",
                hint="check the device credentials (SWITCHBOARD_DEVICE_USER / _PASSWORD)",
            )
        with self._lock:
            device.sessions += 1
        return FakeDriver(target, device)

    __call__ = connect


class FakeDriver(StagedCLIChanges):
    """A logged-in session to a FakeDevice, with the CLI driver's behaviour: the candidate
    is merged with hier_config, commit sends the remediation lines and saves, rollback
    sends the lines that undo them, a refused line stops the push unsaved."""

    #: As the IOS CLI: a commit is final at once (no device-side timer).
    confirm_within_s: float | None = None
    awaiting_confirm = False

    def __init__(self, target: Target, device: FakeDevice) -> None:
        self.target = target
        self.device = device
        self._dropped = False

    # -- reads -----------------------------------------------------------------------------

    def facts(self) -> Facts:
        self._alive()
        return Facts(
            hostname=self.target.hostname,
            vendor=self.target.platform.info.vendor,
            model=self.device.model,
            os_version=self.device.config.version,
            serial=self.device.serial,
            uptime_s=None,
        )

    def running_config(self) -> str:
        self._alive()
        return self.device.running()

    def show(self, command: str, parse: bool = True) -> str | list[dict[str, str]]:
        """What the device prints, always as text (as for a command no template reads,
        whatever `parse` asks), its secrets masked as the real drivers mask them."""
        self._alive()
        words = " ".join(command.split())
        if words in self.device.outputs:
            return mask_config(self.device.outputs[words])
        # The lab's own answers (show version, interfaces, running-config, ...), raw text.
        shown = show_command(words, self.device.config, self.device.chassis())
        return f"{command}\n{INVALID}" if shown is None else mask_config(shown)

    # -- staging, commit and rollback are StagedCLIChanges', as in the real CLI driver ---

    def close(self) -> None:
        self._dropped = True

    # -- the device's side -----------------------------------------------------------------

    def _alive(self) -> None:
        if self._dropped:
            raise DeviceUnreachable(f"{self.target.hostname}: the session is closed")

    def _send(self, lines: Sequence[str]) -> None:
        """One config session: lines go in one by one; a refusal or a drop stops it unsaved."""
        self._alive()
        device = self.device
        if device.hold is not None:
            device.holding.set()
            device.hold.wait(timeout=30)
        context: str | None = None
        for count, line in enumerate(lines, start=1):
            if device.drop_after_lines is not None and count > device.drop_after_lines:
                if device.drop_once:
                    device.drop_after_lines = None
                self._dropped = True
                raise DeviceUnreachable(
                    f"{self.target.hostname} dropped the session during the change "
                    "(Socket is closed)"
                )
            with device.config.lock:
                device.received.append(line)
                refused = (device.refuse is not None and device.refuse.search(line.strip())) or (
                    not line.isprintable()
                )
                if refused:
                    # What the device prints decides, by the CLI driver's own pattern.
                    if re.search(ERROR_PATTERN, INVALID):
                        raise ConfigRejected(
                            f"{self.target.hostname} refused the change: Invalid input "
                            f"detected at command: {line.strip()}, matched error: {INVALID}"
                        )
                    continue
                context = _apply(device.config, line, context)
        device.config.save()


def _apply(config: DeviceConfig, line: str, context: str | None) -> str | None:
    """One config line as the lab's shell takes it: leading spaces do not reach the device
    (its sub-mode says where a line belongs), `exit` leaves a sub-mode."""
    words = line.strip()
    if not words or words == "!":
        return context
    if words in ("exit", "end"):
        return None
    return config.apply(words, context)
