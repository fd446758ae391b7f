"""What a lab device says about itself: exec-mode show commands in its platform's words.

FakeNOS answers `show version` and friends from canned templates (a CSR1000V with a
fixed serial, whatever the inventory says). The lab answers them here instead: the
model, serial and OS version come from the device's inventory row (its `Chassis`), the
interfaces, descriptions, addresses and shutdown state from its live configuration, so
a pushed description shows in the next `show interfaces`. Each platform answers in its
own format, the one ntc-templates (Netmiko's `use_textfsm`) and NAPALM's `ios` getters
parse. The in-memory test devices (tests/fakes/devices.py) answer from the same code.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from automation.lab.config import DeviceConfig

INVALID = "% Invalid input detected at '^' marker."

IOS = "cisco_ios"
EOS = "arista_eos"


#: Models for devices made without an inventory row (tests, hand-built labs).
PLACEHOLDER_MODELS = {IOS: "ASR-920-24SZ", EOS: "7050SX3"}


@dataclass(frozen=True)
class Chassis:
    """What a device is, as opposed to how it is configured: from its inventory row."""

    platform: str
    model: str
    serial: str
    vendor: str = ""
    #: Interfaces whose link is down (nothing plugged in, far end down), by name.
    links_down: frozenset[str] = frozenset()
    #: When it booted (seconds since the epoch): `show version` counts its uptime from here.
    booted_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Port:
    """One interface as the running configuration and the chassis make it."""

    name: str
    description: str
    #: "10.0.1.1/30", or None when it has no address.
    address: str | None
    shutdown: bool
    link_down: bool
    mtu: int | None

    @property
    def up(self) -> bool:
        return not self.shutdown and not self.link_down


def ports(config: DeviceConfig, links_down: frozenset[str] = frozenset()) -> list[Port]:
    """The device's interfaces, in the order of its running configuration."""
    with config.lock:
        sections = [(t, list(c)) for t, c in config.sections.items() if t.startswith("interface ")]
    out = []
    for top, children in sections:
        name = top.split(None, 1)[1]
        description, address, shutdown, mtu = "", None, False, None
        for line in children:
            if line.startswith("description "):
                description = line.removeprefix("description ")
            elif line.startswith("ip address ") and not line.endswith(" secondary"):
                address = _prefix(line.removeprefix("ip address "))
            elif line == "shutdown":
                shutdown = True
            elif line.startswith("mtu ") and line[4:].isdigit():
                mtu = int(line[4:])
        out.append(Port(name, description, address, shutdown, name in links_down, mtu))
    return out


def show_command(
    line: str, config: DeviceConfig, chassis: Chassis | None = None, *, enabled: bool = True
) -> str | None:
    """What the device prints for an exec-mode show command; None when it is not one of
    the commands the lab answers (the caller falls back to FakeNOS's canned outputs).

    Words may be abbreviated as on the CLI (`sh ip int br`); one output modifier
    (`| include|exclude|begin|section REGEX`) filters the output.
    """
    base, pipe, modifier = line.partition("|")
    platform = chassis.platform if chassis is not None else ""
    commands = (*COMMON, *BY_PLATFORM.get(platform, ()))
    found = _match(base.split(), commands)
    if found is None:
        return None
    if isinstance(found, str):
        return found
    command, arg = found
    if command.privileged and not enabled:
        return INVALID
    view = _View(config, chassis or Chassis(platform, "", ""), datetime.now(UTC))
    text = command.render(view, arg)
    if text is None:
        return None
    return _filter(text, modifier) if pipe else text


# -- reading a command line --------------------------------------------------------------


@dataclass(frozen=True)
class _View:
    config: DeviceConfig
    chassis: Chassis
    now: datetime

    @property
    def hostname(self) -> str:
        return self.config.hostname

    @property
    def version(self) -> str:
        return self.config.version

    def ports(self, name: str | None = None) -> list[Port] | None:
        """All ports, or the one `name` calls for (None when there is no such port)."""
        every = ports(self.config, self.chassis.links_down)
        if name is None:
            return every
        wanted = _canonical(name)
        chosen = [p for p in every if _canonical(p.name) == wanted]
        if not chosen:
            chosen = [p for p in every if _abbreviates(name, p.name)]
        return chosen[:1] or None

    @property
    def uptime_s(self) -> int:
        return max(0, int(self.now.timestamp() - self.chassis.booted_at))

    def mac(self, index: int = 0) -> str:
        """A stable MAC address per device (from its serial) and port."""
        seed = int(hashlib.sha256(self.chassis.serial.encode()).hexdigest()[:6], 16)
        value = (0x70E422 << 24) | ((seed + index) & 0xFFFFFF)
        digits = f"{value:012x}"
        return ".".join(digits[i : i + 4] for i in (0, 4, 8))

    def domain(self) -> str | None:
        with self.config.lock:
            tops = list(self.config.sections)
        for top in tops:
            for prefix in ("ip domain name ", "ip domain-name ", "dns domain "):
                if top.startswith(prefix):
                    return top.removeprefix(prefix)
        return None


Render = Callable[[_View, str | None], str | None]


@dataclass(frozen=True)
class _Command:
    words: tuple[str, ...]
    render: Render
    #: Only in privileged (enable) mode, as on the device.
    privileged: bool = False
    #: Takes one interface name after its words (`show interfaces Gi0/0/1`).
    takes_interface: bool = False


#: A command and its interface argument.
_Found = tuple[_Command, str | None]


def _match(words: Sequence[str], commands: Sequence[_Command]) -> _Found | str | None:
    """The command the words name (each may be a prefix of its keyword), its interface
    argument, or the device's complaint when the words fit more than one command."""
    if not words:
        return None
    candidates = list(commands)
    for i, word in enumerate(words):
        lowered = word.lower()
        fitting = [c for c in candidates if len(c.words) > i and c.words[i].startswith(lowered)]
        exact = [c for c in fitting if c.words[i] == lowered]
        fitting = exact or fitting
        if len({c.words[i] for c in fitting}) > 1:
            return f'% Ambiguous command:  "{" ".join(words)}"'
        if not fitting:
            takers = [c for c in candidates if len(c.words) == i and c.takes_interface]
            if takers and len(words) == i + 1:
                return takers[0], word
            return None
        candidates = fitting
    complete = [c for c in candidates if len(c.words) == len(words)]
    return (complete[0], None) if complete else None


def _filter(text: str, modifier: str) -> str:
    """`| include|exclude|begin|section REGEX`, as IOS and EOS apply them."""
    kind, _, pattern = modifier.strip().partition(" ")
    pattern = pattern.strip()
    kinds = [k for k in ("include", "exclude", "begin", "section") if kind and k.startswith(kind)]
    if len(kinds) != 1 or not pattern:
        return INVALID
    try:
        regex = re.compile(pattern)
    except re.error:
        return INVALID
    lines = text.splitlines()
    if kinds[0] == "include":
        return "\n".join(x for x in lines if regex.search(x))
    if kinds[0] == "exclude":
        return "\n".join(x for x in lines if not regex.search(x))
    if kinds[0] == "begin":
        start = next((i for i, x in enumerate(lines) if regex.search(x)), len(lines))
        return "\n".join(lines[start:])
    blocks: list[list[str]] = []
    for x in lines:
        if x.startswith(" ") and blocks:
            blocks[-1].append(x)
        else:
            blocks.append([x])
    return "\n".join(x for b in blocks if any(regex.search(y) for y in b) for x in b)


# -- what every platform answers ---------------------------------------------------------


def _running(view: _View, _: str | None) -> str:
    return view.config.text()


def _startup(view: _View, _: str | None) -> str:
    return view.config.startup_text()


def _running_interface(view: _View, name: str | None) -> str | None:
    chosen = view.ports(name)
    if chosen is None:
        return None
    top = f"interface {chosen[0].name}"
    with view.config.lock:
        children = list(view.config.sections.get(top, []))
    body = "\n".join([top, *(f" {c}" for c in children), "end"])
    return f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n!\n{body}"


COMMON: tuple[_Command, ...] = (
    _Command(("show", "running-config"), _running, privileged=True),
    _Command(("more", "system:running-config"), _running, privileged=True),
    _Command(("show", "startup-config"), _startup, privileged=True),
    _Command(
        ("show", "running-config", "interface"),
        _running_interface,
        privileged=True,
        takes_interface=True,
    ),
)


# -- Cisco IOS (IOS XE) ------------------------------------------------------------------

#: IOS XE release trains, as `show version` names them.
TRAINS = {
    "16.9": "Fuji",
    "16.12": "Gibraltar",
    "17.3": "Amsterdam",
    "17.6": "Bengaluru",
    "17.9": "Cupertino",
    "17.12": "Dublin",
}


def _ios_version(view: _View, _: str | None) -> str:
    c, v = view.chassis, view.version
    train = TRAINS.get(".".join(v.split(".")[:2]))
    family = re.sub(r"[^A-Z0-9]", "", "-".join(c.model.split("-")[:2]).upper()) or "IOS-XE"
    image = "X86_64_LINUX_IOSD-UNIVERSALK9-M"
    every = view.ports() or []
    gig = sum(1 for p in every if not p.name.lower().startswith(("loopback", "vlan", "tunnel")))
    return "\n".join(
        [
            f"Cisco IOS XE Software, Version {v}",
            f"Cisco IOS Software{f' [{train}]' if train else ''}, {family} Software ({image}), "
            f"Version {v}, RELEASE SOFTWARE (fc2)",
            "Technical Support: http://www.cisco.com/techsupport",
            "Copyright (c) 1986-2024 by Cisco Systems, Inc.",
            "Compiled Tue 12-Mar-24 10:00 by mcpre",
            "",
            "",
            "ROM: IOS-XE ROMMON",
            "",
            f"{view.hostname} uptime is {_ios_uptime(view.uptime_s)}",
            "System returned to ROM by reload",
            f'System image file is "bootflash:{family.lower()}-universalk9.{v}.SPA.bin"',
            "Last reload reason: Reload Command",
            "",
            "",
            f"cisco {c.model} (2RU) processor (revision 1.0) with 2030277K/6147K bytes of memory.",
            f"Processor board ID {c.serial}",
            f"{gig} Gigabit Ethernet interfaces",
            "32768K bytes of non-volatile configuration memory.",
            "3964736K bytes of physical memory.",
            "1605631K bytes of Bootflash at bootflash:.",
            "",
            "Configuration register is 0x2102",
            "",
        ]
    )


def _ios_uptime(seconds: int) -> str:
    weeks, days, hours, minutes = _units(seconds)
    parts = [(weeks, "week"), (days, "day"), (hours, "hour")]
    shown = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    shown.append(f"{minutes} minute{'' if minutes == 1 else 's'}")
    return ", ".join(shown)


def _ios_inventory(view: _View, _: str | None) -> str:
    c = view.chassis
    return (
        f'NAME: "Chassis", DESCR: "Cisco {c.model} Chassis"\n'
        f"PID: {c.model:<18}, VID: V01  , SN: {c.serial}\n"
    )


def _ios_kind(name: str) -> tuple[str, int]:
    """Hardware description and bandwidth (kbit/s) of an IOS interface, by its name."""
    lowered = name.lower()
    for prefix, kind, kbit in (
        ("hundredgig", "Hundred Gigabit Ethernet", 100_000_000),
        ("fortygig", "Forty Gigabit Ethernet", 40_000_000),
        ("tengig", "Ten Gigabit Ethernet", 10_000_000),
        ("gigabit", "Gigabit Ethernet", 1_000_000),
        ("fastethernet", "Fast Ethernet", 100_000),
        ("loopback", "Loopback", 8_000_000),
        ("vlan", "Ethernet SVI", 1_000_000),
        ("port-channel", "GEChannel", 1_000_000),
        ("tunnel", "Tunnel", 100),
    ):
        if lowered.startswith(prefix):
            return kind, kbit
    return "Ethernet", 1_000_000


def _ios_state(port: Port) -> tuple[str, str]:
    if port.shutdown:
        return "administratively down", "down"
    return ("down", "down") if port.link_down else ("up", "up")


def _ios_interfaces(view: _View, name: str | None) -> str | None:
    chosen = view.ports(name)
    if chosen is None:
        return None
    out = []
    for i, p in enumerate(view.ports() or []):
        if p not in chosen:
            continue
        kind, kbit = _ios_kind(p.name)
        status, proto = _ios_state(p)
        loopback = kind == "Loopback"
        out.append(f"{p.name} is {status}, line protocol is {proto} ")
        if loopback:
            out.append("  Hardware is Loopback")
        else:
            out.append(f"  Hardware is {kind}, address is {view.mac(i)} (bia {view.mac(i)})")
        if p.description:
            out.append(f"  Description: {p.description}")
        if p.address:
            out.append(f"  Internet address is {p.address}")
        mtu = p.mtu or (1514 if loopback else 1500)
        delay = "5000 usec" if loopback else "10 usec"
        out += [
            f"  MTU {mtu} bytes, BW {kbit} Kbit/sec, DLY {delay}, ",
            "     reliability 255/255, txload 1/255, rxload 1/255",
            f"  Encapsulation {'LOOPBACK' if loopback else 'ARPA'}, loopback not set",
        ]
        if not loopback:
            speed = f"{kbit // 1000}Mbps" if p.up else "Auto-speed"
            out += [
                "  Keepalive not supported ",
                f"  Full Duplex, {speed}, link type is auto, media type is SFP-LR",
                "  ARP type: ARPA, ARP Timeout 04:00:00",
            ]
        out += [
            "  Last input never, output never, output hang never",
            '  Last clearing of "show interface" counters never',
            "  Input queue: 0/375/0/0 (size/max/drops/flushes); Total output drops: 0",
            "  Queueing strategy: fifo",
            "  Output queue: 0/40 (size/max)",
            "  5 minute input rate 0 bits/sec, 0 packets/sec",
            "  5 minute output rate 0 bits/sec, 0 packets/sec",
            "     0 packets input, 0 bytes, 0 no buffer",
            "     Received 0 broadcasts (0 IP multicasts)",
            "     0 runts, 0 giants, 0 throttles ",
            "     0 input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored",
            "     0 packets output, 0 bytes, 0 underruns",
            "     0 output errors, 0 collisions, 0 interface resets",
        ]
    return "\n".join(out)


def _ios_ip_brief(view: _View, _: str | None) -> str:
    out = [f"{'Interface':<23}{'IP-Address':<16}OK? Method Status                Protocol"]
    for p in view.ports() or []:
        status, proto = _ios_state(p)
        address = p.address.split("/")[0] if p.address else "unassigned"
        method = "NVRAM" if p.address else "unset"
        out.append(f"{p.name:<23}{address:<16}YES {method:<7}{status:<22}{proto}")
    return "\n".join(out)


def _ios_descriptions(view: _View, _: str | None) -> str:
    out = [f"{'Interface':<31}{'Status':<15}Protocol Description"]
    for p in view.ports() or []:
        status, proto = _ios_state(p)
        status = "admin down" if p.shutdown else status
        out.append(f"{short_name(p.name):<31}{status:<15}{proto:<9}{p.description}".rstrip())
    return "\n".join(out)


def _ios_status(view: _View, _: str | None) -> str:
    out = ["", "Port      Name               Status       Vlan       Duplex  Speed Type "]
    for p in view.ports() or []:
        kind, kbit = _ios_kind(p.name)
        if kind in ("Loopback", "Ethernet SVI", "Tunnel"):
            continue  # only ports with a connector
        state = "disabled" if p.shutdown else "notconnect" if p.link_down else "connected"
        speed = f"a-{kbit // 1000}" if p.up else "auto"
        duplex = "a-full" if p.up else "auto"
        out.append(
            f"{short_name(p.name):<10}{p.description[:18]:<19}{state:<13}{_vlan(view, p):<11}"
            f"{duplex:<7} {speed:<6} 1000BaseSX SFP"
        )
    return "\n".join(out)


def _ios_ip_interface(view: _View, name: str | None) -> str | None:
    chosen = view.ports(name)
    if chosen is None:
        return None
    out = []
    for p in chosen:
        status, proto = _ios_state(p)
        out.append(f"{p.name} is {status}, line protocol is {proto}")
        if not p.address:
            out.append("  Internet protocol processing disabled")
            continue
        out += [
            f"  Internet address is {p.address}",
            "  Broadcast address is 255.255.255.255",
            "  Address determined by non-volatile memory",
            f"  MTU is {p.mtu or 1500} bytes",
            "  Helper address is not set",
            "  Directed broadcast forwarding is disabled",
            "  Outgoing access list is not set",
            "  Inbound  access list is not set",
            "  Proxy ARP is enabled",
        ]
    return "\n".join(out)


def _ios_ipv6_interface(view: _View, _: str | None) -> str:
    return ""  # no interface has IPv6 configured


def _ios_clock(view: _View, _: str | None) -> str:
    t = view.now
    return f"{t:%H:%M:%S}.{t.microsecond // 1000:03d} UTC {t:%a %b} {t.day} {t.year}"


def _ios_hosts(view: _View, _: str | None) -> str:
    domain = view.domain()
    return "\n".join(
        [
            f"Default domain is {domain}" if domain else "Default domain is not set",
            "Name/address lookup uses static mappings",
            "",
            "Codes: UN - unknown, EX - expired, OK - OK, ?? - revalidate",
            "       temp - temporary, perm - permanent",
            "       NA - Not Applicable None - Not defined",
            "",
            "Host                      Port  Flags      Age Type   Address(es)",
        ]
    )


# -- Arista EOS --------------------------------------------------------------------------


def _eos_version(view: _View, _: str | None) -> str:
    c, v = view.chassis, view.version
    build = int(hashlib.sha256(f"{v}".encode()).hexdigest()[:8], 16) % 90_000_000 + 10_000_000
    return "\n".join(
        [
            f"Arista {c.model}",
            "Hardware version: 11.00",
            f"Serial number: {c.serial}",
            f"Hardware MAC address: {view.mac()}",
            f"System MAC address: {view.mac()}",
            "",
            f"Software image version: {v}",
            "Architecture: x86_64",
            f"Internal build version: {v}-{build}.{v.replace('.', '')}",
            f"Internal build ID: {hashlib.sha256(v.encode()).hexdigest()[:8]}-lab",
            "Image format version: 3.0",
            "Image optimization: Strata-4GB",
            "",
            f"Uptime: {_eos_uptime(view.uptime_s)}",
            "Total memory: 8099732 kB",
            "Free memory: 5872420 kB",
            "",
        ]
    )


def _eos_uptime(seconds: int) -> str:
    weeks, days, hours, minutes = _units(seconds)
    parts = [(weeks, "week"), (days, "day"), (hours, "hour")]
    first = next((i for i, (n, _) in enumerate(parts) if n), len(parts))
    shown = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts[first:]]
    last = f"{minutes} minute{'' if minutes == 1 else 's'}"
    return f"{', '.join(shown)} and {last}" if shown else last


def _eos_inventory(view: _View, _: str | None) -> str:
    c = view.chassis
    return "\n".join(
        [
            "System information",
            "  Model                    Description",
            "  ------------------------ ----------------------------------------------------",
            f"  {c.model:<24} {c.vendor or 'Arista'} {c.model} switch",
            "",
            "  HW Version  Serial Number  Mfg Date   Epoch",
            "  ----------- -------------- ---------- -----",
            f"  11.00       {c.serial:<14} 2023-05-11 01.00",
            "",
        ]
    )


def _eos_state(port: Port) -> tuple[str, str, str]:
    """Link, protocol and the word EOS puts in brackets."""
    if port.shutdown:
        return "administratively down", "down", "disabled"
    return ("down", "down", "notconnect") if port.link_down else ("up", "up", "connected")


def _eos_interfaces(view: _View, name: str | None) -> str | None:
    chosen = view.ports(name)
    if chosen is None:
        return None
    out = []
    for i, p in enumerate(view.ports() or []):
        if p not in chosen:
            continue
        link, proto, why = _eos_state(p)
        loopback = p.name.lower().startswith("loopback")
        out.append(f"{p.name} is {link}, line protocol is {proto} ({why})")
        if loopback:
            out.append("  Hardware is Loopback")
        else:
            out.append(f"  Hardware is Ethernet, address is {view.mac(i)} (bia {view.mac(i)})")
        if p.description:
            out.append(f"  Description: {p.description}")
        if p.address:
            out += [
                f"  Internet address is {p.address}",
                "  Broadcast address is 255.255.255.255",
                "  Address determined by manual configuration",
            ]
        else:
            out.append("  No Internet protocol address assigned")
        if loopback:
            out.append(f"  IP MTU {p.mtu or 65535} bytes")
            continue
        out += [
            f"  IP MTU {p.mtu or 1500} bytes , BW 10000000 kbit",
            "  Full-duplex, 10Gb/s, auto negotiation: off, uni-link: unknown",
            f"  {'Up' if p.up else 'Down'} {_eos_duration(view.uptime_s)}",
            "  1 link status changes since last clear",
            '  Last clearing of "show interface" counters never',
            "  5 minutes input rate 0 bps (0.0% with framing overhead), 0 packets/sec",
            "  5 minutes output rate 0 bps (0.0% with framing overhead), 0 packets/sec",
            "     0 packets input, 0 bytes",
            "     Received 0 broadcasts, 0 multicast",
            "     0 runts, 0 giants",
            "     0 input errors, 0 CRC, 0 alignment, 0 symbol, 0 input discards",
            "     0 PAUSE input",
            "     0 packets output, 0 bytes",
            "     Sent 0 broadcasts, 0 multicast",
            "     0 output errors, 0 collisions",
            "     0 late collision, 0 deferred, 0 output discards",
            "     0 PAUSE output",
        ]
    return "\n".join(out)


def _eos_duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} minutes, {secs} seconds"


def _eos_ip_brief(view: _View, _: str | None) -> str:
    out = [
        f"{'':<72}Address",
        "Interface         IP Address            Status       Protocol          MTU    Owner  ",
        "----------------- --------------------- ------------ -------------- ---------- -------",
    ]
    for p in view.ports() or []:
        link, proto, _ = _eos_state(p)
        status = "adminDown" if p.shutdown else link
        mtu = p.mtu or (65535 if p.name.lower().startswith("loopback") else 1500)
        address = p.address or "unassigned"
        out.append(f"{p.name:<17} {address:<21} {status:<12} {proto:<14} {mtu:>10}")
    return "\n".join(out)


def _eos_descriptions(view: _View, _: str | None) -> str:
    out = [f"{'Interface':<31}{'Status':<15}Protocol Description"]
    for p in view.ports() or []:
        link, proto, _ = _eos_state(p)
        status = "admin down" if p.shutdown else link
        out.append(f"{short_name(p.name):<31}{status:<15}{proto:<9}{p.description}".rstrip())
    return "\n".join(out)


def _eos_status(view: _View, _: str | None) -> str:
    out = ["Port       Name        Status       Vlan     Duplex Speed  Type            Flags"]
    for p in view.ports() or []:
        if not p.name.lower().startswith("ethernet"):
            continue  # only front-panel ports
        _, _, state = _eos_state(p)
        out.append(
            f"{short_name(p.name):<10} {p.description[:11]:<11} {state:<12} {_vlan(view, p):<8} "
            f"{'full':<6} {'10G':<6} 10GBASE-SR"
        )
    return "\n".join(out)


def _eos_clock(view: _View, _: str | None) -> str:
    t = view.now
    return f"{t:%a %b} {t.day} {t:%H:%M:%S} {t.year}\nTimezone: UTC\nClock source: local"


def _eos_hostname(view: _View, _: str | None) -> str:
    domain = view.domain()
    fqdn = f"{view.hostname}.{domain}" if domain else view.hostname
    return f"Hostname: {view.hostname}\nFQDN:     {fqdn}"


BY_PLATFORM: dict[str, tuple[_Command, ...]] = {
    IOS: (
        _Command(("show", "version"), _ios_version),
        _Command(("show", "inventory"), _ios_inventory),
        _Command(("show", "interfaces"), _ios_interfaces, takes_interface=True),
        _Command(("show", "interfaces", "description"), _ios_descriptions),
        _Command(("show", "interfaces", "status"), _ios_status),
        _Command(("show", "ip", "interface"), _ios_ip_interface, takes_interface=True),
        _Command(("show", "ip", "interface", "brief"), _ios_ip_brief),
        _Command(("show", "ipv6", "interface"), _ios_ipv6_interface),
        _Command(("show", "clock"), _ios_clock),
        _Command(("show", "hosts"), _ios_hosts),
    ),
    EOS: (
        _Command(("show", "version"), _eos_version),
        _Command(("show", "inventory"), _eos_inventory),
        _Command(("show", "interfaces"), _eos_interfaces, takes_interface=True),
        _Command(("show", "interfaces", "description"), _eos_descriptions),
        _Command(("show", "interfaces", "status"), _eos_status),
        _Command(("show", "ip", "interface", "brief"), _eos_ip_brief),
        _Command(("show", "clock"), _eos_clock),
        _Command(("show", "hostname"), _eos_hostname),
    ),
}


# -- small helpers -----------------------------------------------------------------------


def _units(seconds: int) -> tuple[int, int, int, int]:
    minutes = seconds // 60
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    weeks, days = divmod(days, 7)
    return weeks, days, hours, minutes


def _prefix(words: str) -> str | None:
    """`10.0.1.1 255.255.255.252` or `10.0.1.1/30` as `10.0.1.1/30`."""
    address = "/".join(words.split()[:2])
    try:
        return ipaddress.IPv4Interface(address).with_prefixlen
    except ValueError:
        return None


#: How `show interfaces description|status` shorten interface names.
SHORT_NAMES = (
    ("HundredGigE", "Hu"),
    ("FortyGigabitEthernet", "Fo"),
    ("TenGigabitEthernet", "Te"),
    ("GigabitEthernet", "Gi"),
    ("FastEthernet", "Fa"),
    ("Ethernet", "Et"),
    ("Loopback", "Lo"),
    ("Port-channel", "Po"),
    ("Vlan", "Vl"),
    ("Tunnel", "Tu"),
    ("Management", "Ma"),
)


def short_name(name: str) -> str:
    """`GigabitEthernet0/0/1` as `Gi0/0/1`, `Ethernet1` as `Et1`."""
    for long, short in SHORT_NAMES:
        if name.startswith(long):
            return short + name.removeprefix(long)
    return name


def _vlan(view: _View, port: Port) -> str:
    """The Vlan column of `show interfaces status`: the access VLAN, trunk, or routed."""
    with view.config.lock:
        children = list(view.config.sections.get(f"interface {port.name}", []))
    if "switchport mode trunk" in children:
        return "trunk"
    access = next((c.split()[-1] for c in children if c.startswith("switchport access vlan")), None)
    if access:
        return access
    return "1" if "switchport mode access" in children else "routed"


def _canonical(name: str) -> str:
    return name.replace(" ", "").lower()


def _abbreviates(short: str, name: str) -> bool:
    """`Gi0/0/1` for GigabitEthernet0/0/1, `Et1` for Ethernet1, `Lo0` for Loopback0."""
    split_short = re.match(r"([A-Za-z-]+)\s*(\S*)$", short)
    split_name = re.match(r"([A-Za-z-]+)(\S*)$", name)
    if not split_short or not split_name:
        return False
    kind_fits = split_name.group(1).lower().startswith(split_short.group(1).lower())
    return kind_fits and split_short.group(2) == split_name.group(2)
