"""A simulated device's configuration: IOS-style sections kept as an ordered tree.

FakeNOS answers `show running-config` from a fixed template and has no config mode on
most platforms; the lab keeps each device's running and startup configuration here so
that pushed lines show up in a later session and a rollback can be seen to work.

It also keeps what a commit-confirm needs on the device side: named candidate copies
(EOS configuration sessions, `automation.lab.sessions`) and the one commit that waits for
confirmation, with a timer thread that reverts it if no confirmation comes, whether or
not the SSH session that made it is still there.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

#: Commands that open a sub-mode; the lines after them belong to that section.
SECTION = re.compile(
    r"^(interface|router|line|ip access-list|ipv6 access-list|vlan \d+|vrf definition|"
    r"policy-map|class-map|route-map|ip vrf|controller|key chain)\b"
)


#: Negations IOS keeps in the running config; any other `no X` with no X just does nothing.
#: Not `no shutdown`: an interface that is up shows neither line, on IOS as on EOS.
KEPT_NEGATIONS = re.compile(
    r"^no (ip address|ip domain lookup|ip domain-lookup|service pad|ip http server|"
    r"switchport|cdp enable|ip redirects|ip proxy-arp)$"
)

#: Commands that hold one value: setting them again replaces the old line, as on IOS.
SINGLE_VALUED = re.compile(
    r"^(description|ip address(?!.* secondary)|mtu|speed|duplex|bandwidth|encapsulation|"
    r"hostname|switchport access vlan|switchport mode|logging buffered|ip domain name|"
    r"snmp-server location|snmp-server contact|clock timezone|banner motd|exec-timeout|"
    r"logging trap|name)\b"
)

#: Global commands: typed inside a section they leave it, as on IOS.
GLOBAL = re.compile(
    r"^(no )?(ntp|logging|snmp-server|banner|hostname|ip route|ip domain|ip name-server|"
    r"username|aaa|service|access-list|spanning-tree|clock|archive|crypto|boot|end)\b"
)


@dataclass
class Faults:
    """Ways to make a lab device misbehave, for tests of failure handling."""

    #: Config lines matching this pattern are refused with "% Invalid input".
    reject: re.Pattern[str] | None = None
    #: Drop the SSH session after this many config lines in one session.
    drop_after_lines: int | None = None
    #: Drop only the first such session (a device that reboots once, then answers).
    drop_once: bool = False
    #: Seconds each config line takes (a slow device, a change that runs a while).
    slow_line_s: float = 0.0
    #: End the SSH session right after a commit (the change cut the management path off).
    drop_after_commit: bool = False


@dataclass
class PendingCommit:
    """A commit that is running but reverts by itself unless confirmed in time."""

    session: str
    before: dict[str, list[str]]
    deadline: float  # time.monotonic()
    timer: threading.Timer = field(repr=False)

    @property
    def seconds_left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


@dataclass
class DeviceConfig:
    """Running and startup configuration of one lab device; safe across sessions."""

    hostname: str
    version: str = "17.6"
    sections: dict[str, list[str]] = field(default_factory=dict)
    startup: dict[str, list[str]] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    #: Named configuration sessions: candidate copies that become running on commit.
    sessions: dict[str, DeviceConfig] = field(default_factory=dict, repr=False)
    #: The commit waiting for confirmation, if any (one at a time, as on EOS).
    pending: PendingCommit | None = field(default=None, repr=False)
    #: Commit timers run out after at most this many seconds, whatever the command asked:
    #: a test sees a revert without waiting the minutes a driver asks for.
    commit_timer_cap_s: float | None = None

    def apply(self, line: str, context: str | None) -> str | None:
        """Apply one config line in a section (or at top level); returns the new context.

        `no X` removes X (and lines that extend it, as IOS does for `no description`);
        the negations IOS shows (`no ip address`, `no cdp enable`) are kept in its place.
        """
        line = " ".join(line.split())
        if context is not None and (GLOBAL.match(line) or SECTION.match(line)):
            context = None
        with self.lock:
            lines = (
                list(self.sections) if context is None else self.sections.setdefault(context, [])
            )
            if line.startswith("no "):
                target = line[3:]
                gone = [x for x in lines if x == target or x.startswith(target + " ")]
                for x in gone:
                    self._remove(x, context)
                if not KEPT_NEGATIONS.match(line):
                    return context
            else:
                self._remove("no " + line, context)
                if self._replace_single_valued(line, context):
                    return context
            if context is None:
                self.sections.setdefault(line, [])
                return line if SECTION.match(line) else None
            if line not in self.sections[context]:
                self.sections[context].append(line)
            return context

    def _replace_single_valued(self, line: str, context: str | None) -> bool:
        """Put a one-value command in place of its old value; True if it replaced one."""
        single = SINGLE_VALUED.match(line)
        if single is None:
            return False
        if context is None:
            for old in self.sections:
                match = SINGLE_VALUED.match(old)
                if match and match.group(1) == single.group(1) and old != line:
                    self.sections = {(line if k == old else k): v for k, v in self.sections.items()}
                    return True
            return False
        children = self.sections[context]
        for i, old in enumerate(children):
            match = SINGLE_VALUED.match(old)
            if match and match.group(1) == single.group(1):
                children[i] = line
                return True
        return False

    def _remove(self, line: str, context: str | None) -> None:
        if context is None:
            self.sections.pop(line, None)
        elif line in self.sections.get(context, []):
            self.sections[context].remove(line)

    def save(self) -> None:
        with self.lock:
            self.startup = {k: list(v) for k, v in self.sections.items()}

    def candidate(self) -> DeviceConfig:
        """A copy of the running configuration to edit apart from it (a session)."""
        with self.lock:
            return DeviceConfig(self.hostname, self.version, _copy(self.sections))

    def commit(self, candidate: DeviceConfig, session: str, timer_s: float | None = None) -> float:
        """Make a candidate the running config; with `timer_s`, it reverts by itself after
        that many seconds (capped by `commit_timer_cap_s`) unless `confirm()` comes first.
        Returns the seconds the timer was set to (0 without one)."""
        with self.lock:
            if timer_s is not None and self.pending is not None:
                raise ValueError(
                    f"session {self.pending.session} already has a commit timer pending"
                )
            before = _copy(self.sections)
            with candidate.lock:
                self.sections = _copy(candidate.sections)
            if timer_s is None:
                return 0.0
            if self.commit_timer_cap_s is not None:
                timer_s = min(timer_s, self.commit_timer_cap_s)
            timer = threading.Timer(timer_s, self._expire, args=(session,))
            timer.daemon = True
            self.pending = PendingCommit(session, before, time.monotonic() + timer_s, timer)
            timer.start()
            return timer_s

    def confirm(self, session: str) -> bool:
        """Keep the pending commit of `session`; False when it has none (any more)."""
        with self.lock:
            if self.pending is None or self.pending.session != session:
                return False
            self.pending.timer.cancel()
            self.pending = None
            return True

    def revert(self, session: str) -> bool:
        """Put back the running config from before the pending commit of `session`, now."""
        with self.lock:
            if self.pending is None or self.pending.session != session:
                return False
            self.pending.timer.cancel()
            self.sections, self.pending = self.pending.before, None
            return True

    def _expire(self, session: str) -> None:
        # The timer thread: no confirmation came in time. Only the running config goes
        # back; a `write memory` made meanwhile stays in the startup config (see sessions).
        self.revert(session)

    def text(self) -> str:
        """The configuration as `show running-config` prints it."""
        with self.lock:
            body = [f"version {self.version}", f"hostname {self.hostname}", "!"]
            for top, children in self.sections.items():
                if top.startswith("hostname "):
                    continue
                body.append(top)
                body.extend(f" {c}" for c in children)
                if SECTION.match(top):
                    body.append("!")
            body.append("end")
        text = "\n".join(body)
        return f"Building configuration...\n\nCurrent configuration : {len(text)} bytes\n!\n{text}"

    def startup_text(self) -> str:
        with self.lock:
            saved = DeviceConfig(self.hostname, self.version, dict(self.startup))
        return saved.text().replace("Current configuration", "Startup configuration")


def _copy(sections: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: list(v) for k, v in sections.items()}


def baseline(
    hostname: str, interfaces: list[tuple[str, str, str | None]], version: str = "17.6"
) -> DeviceConfig:
    """A believable starting configuration from the inventory's interfaces."""
    cfg = DeviceConfig(hostname=hostname, version=version)
    for line in (
        "service timestamps log datetime msec",
        "no ip domain lookup",
        "ip domain name lab.switchboard.example",
        "logging buffered 64000",
        "ntp server 10.0.0.1",
    ):
        cfg.apply(line, None)
    for name, description, address in interfaces:
        ctx = cfg.apply(f"interface {name}", None)
        if description:
            cfg.apply(f"description {description}", ctx)
        if address:
            ip, _, prefix = address.partition("/")
            cfg.apply(f"ip address {ip} {_netmask(int(prefix or 32))}", ctx)
        else:
            cfg.apply("no ip address", ctx)
    for line in ("line vty 0 4",):
        ctx = cfg.apply(line, None)
        cfg.apply("transport input ssh", ctx)
    cfg.save()
    return cfg


def _netmask(prefix: int) -> str:
    bits = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    return ".".join(str((bits >> s) & 255) for s in (24, 16, 8, 0))
