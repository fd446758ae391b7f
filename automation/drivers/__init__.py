"""Device drivers: the platform in inventory picks NAPALM or the CLI (Netmiko)."""

from __future__ import annotations

from collections.abc import Collection

from automation.drivers.base import Credentials, Driver, Target
from domain.config import DeviceSettings
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
    """Open the driver the target's platform calls for."""
    if target.platform.value in napalm_platforms and target.platform.info.napalm_driver:
        from automation.drivers.napalm_driver import NapalmDriver

        return NapalmDriver(target, credentials)
    from automation.drivers.cli import NetmikoDriver

    return NetmikoDriver(target, credentials)
