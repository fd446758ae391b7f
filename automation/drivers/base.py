"""One typed interface for talking to a device, whatever library does the talking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.errors import DomainError
from domain.inventory.choices import Platform


@dataclass(frozen=True)
class Target:
    """A device as the automation layer needs it: where it is and what it runs."""

    hostname: str
    platform: Platform
    host: str
    port: int


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    enable_secret: str = ""
    connect_timeout_s: float = 10.0
    command_timeout_s: float = 30.0

    def __repr__(self) -> str:  # never print the password, not even in a traceback
        return f"Credentials(username={self.username!r}, password='***')"


@dataclass(frozen=True)
class Facts:
    hostname: str
    vendor: str
    model: str
    os_version: str
    serial: str
    uptime_s: float | None


class DeviceUnreachable(DomainError):
    """The device does not answer, or refuses the login."""


class ConfigRejected(DomainError):
    """The device refused a configuration line."""


class Driver(Protocol):
    """What a change needs from a device. Implementations: Netmiko (CLI), NAPALM."""

    target: Target

    @property
    def confirm_within_s(self) -> float | None:
        """Seconds a commit stays pending before the device itself reverts it, unless
        confirm() comes first; None when a commit is final at once (then only the
        post-check and a restore from the backup protect a push)."""

    @property
    def awaiting_confirm(self) -> bool:
        """A commit is running on the device and reverts by itself unless confirmed."""

    def facts(self) -> Facts: ...

    def running_config(self) -> str: ...

    def show(self, command: str, parse: bool = True) -> str | list[dict[str, str]]:
        """What a read-only command printed, its secrets masked: with `parse`, the rows
        of the TextFSM template that reads it, else (or when none does) the text; the
        device's refusal or a timeout is CommandFailed. Send no output modifier: the
        caller filters the masked text (`domain.show_commands.ShowCommand.keep`)."""

    def load_candidate(self, lines: Sequence[str]) -> None:
        """Stage lines to merge into the running configuration."""

    def diff(self) -> str:
        """What committing the staged lines would change ("" when nothing)."""

    def commit(self) -> None:
        """Apply the staged lines and save them (pending confirmation where the driver can)."""

    def confirm(self) -> None:
        """Keep a commit that passed its post-check; drivers without commit-confirm keep it
        already, and one that is never confirmed reverts by itself."""

    def rollback(self) -> None:
        """Undo the last commit (a pending one is reverted on the device at once)."""

    def discard(self) -> None:
        """Forget the staged lines."""

    def close(self) -> None: ...
