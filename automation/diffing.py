"""Config diffs and remediation with hier_config: what to send, and how to undo it.

Two things hier_config does not do the way a device does, mended here once for every
caller (plans, post-checks, rollbacks, the in-memory test devices):

* A one-line banner (`banner motd ^Authorised access only^`, what the `banner` template
  sends and what IOS takes) is read by hier_config as a banner that never ends. It is
  turned into the multi-line form hier_config knows, and back into one line to send.
  A banner is one value: a new one replaces the old, and undoing it puts the old back.
* `no X` when X is not configured is already as intended. hier_config would keep it as
  a line of its own, plan to send it, and "undo" it by configuring X.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from hier_config import HConfig, Platform, WorkflowRemediation, get_hconfig, get_hconfig_driver
from hier_config.models import IdempotentCommandsRule, MatchRule
from hier_config.platforms.driver_base import HConfigDriverBase

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

#: Commands that hold one value on IOS-style devices: a new value replaces the old one,
#: and undoing it puts the old one back (not `no <new value>`, which leaves nothing).
#: hier_config's drivers know some of these per platform; this makes them the same on all.
_ONE_VALUE: tuple[tuple[str, ...], ...] = (
    ("banner motd ",),
    ("banner login ",),
    ("banner exec ",),
    ("logging trap ",),
    ("snmp-server location ",),
    ("snmp-server contact ",),
    ("hostname ",),
    ("interface ", "description "),
    ("interface ", "switchport access vlan "),
    ("interface ", "switchport mode "),
    ("interface ", "mtu "),
    ("vlan ", "name "),
)
#: `ip address A M` on an interface, but not a secondary address (there may be several).
#: (The group is the rule's key: every primary address shares it.)
_PRIMARY_ADDRESS = MatchRule(re_search=r"^(ip address) \S+ \S+$")

#: `banner motd ^text^` on one line (not the `^C` that opens a multi-line banner).
_BANNER_ONE_LINE = re.compile(r"^(banner \S+) (\S)(?!C$)(.*)\2\s*$")
#: A banner as hier_config keeps it: `banner motd ^C`, its lines, `^C`.
_BANNER_BLOCK = re.compile(r"^(no )?(banner \S+) \^C\n(.*)\n\^C$", re.S)


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
    """The lines of `show running-config` that are configuration (no `!`, blank or
    `Building configuration` noise).

    Change plans and `/config diff` both compare configurations through this.
    """
    return [
        ln
        for ln in text.splitlines()
        if ln.strip() and ln.strip() != "!" and not ln.startswith(_NOISE)
    ]


@cache
def _driver(platform: DevicePlatform) -> HConfigDriverBase:
    driver = get_hconfig_driver(_HIER.get(platform, Platform.GENERIC))
    if platform != DevicePlatform.JUNIPER_JUNOS:
        driver.rules.idempotent_commands.extend(
            IdempotentCommandsRule(match_rules=tuple(MatchRule(startswith=p) for p in path))
            for path in _ONE_VALUE
        )
        # A secondary address is one more, not the address replaced (hier_config's IOS rule
        # takes every `ip address` as one value).
        driver.rules.idempotent_commands[:] = [
            rule
            for rule in driver.rules.idempotent_commands
            if [str(m.startswith or "").strip() for m in rule.match_rules]
            != ["interface", "ip address"]
        ]
        driver.rules.idempotent_commands.append(
            IdempotentCommandsRule(
                match_rules=(MatchRule(startswith="interface "), _PRIMARY_ADDRESS)
            )
        )
    return driver


def _banners_as_blocks(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        match = _BANNER_ONE_LINE.match(line)
        out.append(f"{match[1]} ^C\n{match[3]}\n^C" if match else line)
    return out


def _tree(platform: DevicePlatform, text: str) -> HConfig:
    return get_hconfig(_driver(platform), "\n".join(_banners_as_blocks(config_lines(text))))


def _sendable(text: str) -> str:
    """A line as a device takes it: a banner block back on one line."""
    match = _BANNER_BLOCK.match(text.strip())
    if match is None:
        return text
    if match[1]:
        return f"no {match[2]}"
    body = " ".join(part.strip() for part in match[3].splitlines() if part.strip())
    return f"{match[2]} ^{body}^"


def _lines(config: HConfig) -> tuple[str, ...]:
    return tuple(_sendable(child.cisco_style_text()) for child in config.all_children_sorted())


def _without_idle_negations(current: HConfig, intended: HConfig) -> HConfig:
    """The intended config less its `no X` lines where X is not configured."""

    def keep(node: HConfig | object, have: object, depth: int, out: list[str]) -> None:
        present = [c.text for c in getattr(have, "children", ())]
        for child in getattr(node, "children", ()):
            text = child.text
            if text.startswith("no "):
                target = text[3:]
                if not any(t == target or t.startswith(target + " ") for t in present):
                    continue
            out.append(" " * depth + text)
            match = next((c for c in getattr(have, "children", ()) if c.text == text), None)
            keep(child, match, depth + 1, out)

    lines: list[str] = []
    keep(intended, current, 0, lines)
    return get_hconfig(current.driver, "\n".join(lines))


def _future(platform: DevicePlatform, running: str, intended: str) -> tuple[HConfig, HConfig]:
    current = _tree(platform, running)
    wanted = _without_idle_negations(current, _tree(platform, intended))
    return current, current.future(wanted)


def plan(platform: DevicePlatform, running: str, intended: str) -> ConfigPlan:
    """Merge the intended lines into the running config; compute both directions."""
    current, future = _future(platform, running, intended)
    flow = WorkflowRemediation(current, future)
    diff = "\n".join(current.unified_diff(future))
    return ConfigPlan(_lines(flow.remediation_config), _lines(flow.rollback_config), diff)


def restore(platform: DevicePlatform, running: str, backup: str) -> tuple[str, ...]:
    """The lines that take a device from its running config back to a backup."""
    flow = WorkflowRemediation(_tree(platform, running), _tree(platform, backup))
    return _lines(flow.remediation_config)


def missing_lines(platform: DevicePlatform, running: str, intended: str) -> list[str]:
    """Intended lines that the running config does not hold (a post-check)."""
    current, future = _future(platform, running, intended)
    return list(_lines(WorkflowRemediation(current, future).remediation_config))


def undone_by(platform: DevicePlatform, running: str, candidate: str, other: str) -> list[str]:
    """The lines of `other` (another change's intended lines) that pushing `candidate`
    onto `running` would take away: what a rollback would undo of a later change."""
    _, future = _future(platform, running, candidate)
    after = "\n".join(child.cisco_style_text() for child in future.all_children_sorted())
    already = set(missing_lines(platform, running, other))  # gone before this push
    return [line for line in missing_lines(platform, after, other) if line not in already]
