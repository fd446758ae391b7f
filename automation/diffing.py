"""Config diffs and remediation with hier_config: what to send, and how to undo it."""

from __future__ import annotations

from dataclasses import dataclass

from hier_config import HConfig, Platform, WorkflowRemediation, get_hconfig

from domain.inventory.choices import Platform as DevicePlatform

_HIER = {
    DevicePlatform.CISCO_IOS: Platform.CISCO_IOS,
    DevicePlatform.CISCO_XR: Platform.CISCO_XR,
    DevicePlatform.CISCO_NXOS: Platform.CISCO_NXOS,
    DevicePlatform.ARISTA_EOS: Platform.ARISTA_EOS,
    DevicePlatform.JUNIPER_JUNOS: Platform.JUNIPER_JUNOS,
    DevicePlatform.HUAWEI_VRP: Platform.HUAWEI_VRP,
}

#: Lines of `show running-config` that are not configuration.
_NOISE = ("Building configuration", "Current configuration", "Startup configuration", "end")


@dataclass(frozen=True)
class ConfigPlan:
    """The lines that bring a device to the intended state, the lines that undo them,
    and a readable diff of the whole configuration."""

    remediation: tuple[str, ...]
    rollback: tuple[str, ...]
    diff: str

    @property
    def empty(self) -> bool:
        return not self.remediation


def config_lines(text: str) -> list[str]:
    """The lines of `show running-config` that are configuration (no banner, `!` or blank).

    Change plans and `/config diff` both compare configurations through this.
    """
    return [
        ln
        for ln in text.splitlines()
        if ln.strip() and ln.strip() != "!" and not ln.startswith(_NOISE)
    ]


def _tree(platform: DevicePlatform, text: str) -> HConfig:
    return get_hconfig(_HIER.get(platform, Platform.GENERIC), "\n".join(config_lines(text)))


def _lines(config: HConfig) -> tuple[str, ...]:
    return tuple(child.cisco_style_text() for child in config.all_children_sorted())


def plan(platform: DevicePlatform, running: str, intended: str) -> ConfigPlan:
    """Merge the intended lines into the running config; compute both directions."""
    current = _tree(platform, running)
    future = current.future(_tree(platform, intended))
    flow = WorkflowRemediation(current, future)
    diff = "\n".join(current.unified_diff(future))
    return ConfigPlan(_lines(flow.remediation_config), _lines(flow.rollback_config), diff)


def restore(platform: DevicePlatform, running: str, backup: str) -> tuple[str, ...]:
    """The lines that take a device from its running config back to a backup."""
    flow = WorkflowRemediation(_tree(platform, running), _tree(platform, backup))
    return _lines(flow.remediation_config)


def missing_lines(platform: DevicePlatform, running: str, intended: str) -> list[str]:
    """Intended lines that the running config does not hold (a post-check)."""
    flow = WorkflowRemediation(
        _tree(platform, running), _tree(platform, running).future(_tree(platform, intended))
    )
    return list(_lines(flow.remediation_config))
