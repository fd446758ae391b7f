"""Device drivers: the platform in inventory picks NAPALM or the CLI (Netmiko).

`DeviceConnector` is the one way in: bootstrap builds it from the `devices` and
`automation` settings, and every caller (changes, `/device run`, `/inventory facts`,
`/config backup`) opens a device through it, so credentials, timeouts and the choice
of library live in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from automation.drivers.base import Credentials, Driver, Target
from domain.config import DeviceSettings
from domain.inventory.choices import Platform
from domain.inventory.models import Device


def target_of(device: Device) -> Target:
    return Target(device.hostname, device.platform, device.mgmt_host, device.mgmt_port)


def credentials_from(settings: DeviceSettings) -> Credentials:
    """Device credentials from config (and so from the environment); never logged."""
    return Credentials(
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else "",
        enable_secret=settings.enable_secret.get_secret_value() if settings.enable_secret else "",
        connect_timeout_s=settings.connect_timeout_s,
        command_timeout_s=settings.command_timeout_s,
    )


def connect(
    target: Target, credentials: Credentials, napalm_platforms: Collection[str] = ()
) -> Driver:
    """Open the driver the target's platform calls for: NAPALM where configured, else the
    CLI, with the device's own commit-confirm where it has one (EOS sessions with a commit
    timer, IOS-XR and Junos `commit confirmed`)."""
    if target.platform.value in napalm_platforms and target.platform.info.napalm_driver:
        from automation.drivers.napalm_driver import NapalmDriver

        return NapalmDriver(target, credentials)
    if target.platform is Platform.ARISTA_EOS:
        from automation.drivers.eos_session import EosSessionDriver

        return EosSessionDriver(target, credentials)
    if target.platform in (Platform.CISCO_XR, Platform.JUNIPER_JUNOS):
        from automation.drivers.commit_confirmed import CommitConfirmedDriver

        return CommitConfirmedDriver(target, credentials)
    from automation.drivers.cli import NetmikoDriver

    return NetmikoDriver(target, credentials)


#: How a driver is opened: (where, who) -> a connected driver. Tests pass an in-memory one.
Opener = Callable[[Target, Credentials], Driver]


@dataclass(frozen=True)
class DeviceConnector:
    """Opens devices with the configured credentials and the platform's library."""

    credentials: Credentials
    napalm_platforms: tuple[str, ...] = ()
    #: Replaces the real libraries (an in-memory driver in tests).
    opener: Opener | None = None

    @classmethod
    def from_settings(
        cls,
        devices: DeviceSettings,
        napalm_platforms: Collection[str] = (),
        opener: Opener | None = None,
    ) -> DeviceConnector:
        return cls(credentials_from(devices), tuple(napalm_platforms), opener)

    def __call__(self, target: Target) -> Driver:
        if self.opener is not None:
            return self.opener(target, self.credentials)
        return connect(target, self.credentials, self.napalm_platforms)

    def impatient(self, connect_timeout_s: float) -> DeviceConnector:
        """The same, waiting at most `connect_timeout_s` for a device to answer."""
        timeout = min(self.credentials.connect_timeout_s, connect_timeout_s)
        return replace(self, credentials=replace(self.credentials, connect_timeout_s=timeout))

    @contextmanager
    def session(self, device: Device | Target) -> Iterator[Driver]:
        """A connected driver for one device, closed however the block ends."""
        driver = self(device if isinstance(device, Target) else target_of(device))
        try:
            yield driver
        finally:
            driver.close()
