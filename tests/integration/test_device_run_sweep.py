"""Every read-only command the shipped allowlist allows, on every lab platform, over real
SSH through the router: none ends in a traceback or "failed unexpectedly", a device's
refusal is one line in its words, and no secret planted in the running configuration
comes back, whatever the output modifier asks for.

The commands are the allowlist's own forms (`domain.show_commands.forms`), each value
slot filled with its kind's example (`Placeholder.example`): a new entry is swept the
day it is added, with nothing to list here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from automation.lab.lab import Lab
from bot.router import Routed
from domain.audit.choices import Outcome
from domain.config import DeviceSettings
from domain.db import Database
from domain.inventory.models import Device
from domain.show_commands import PLACEHOLDERS, Keyword, forms, grammar
from tests.world import lab_router

SHIPPED = DeviceSettings().show_allowlist

#: Planted in every lab device's running configuration before the sweep.
COMMUNITY = "Qz7SweepCommunity"
USER_SECRET = "Qz7SweepUserPass"
TACACS_KEY = "Qz7SweepTacacsKey"
OSPF_KEY = "Qz7SweepOspfKey"
SECRETS = (COMMUNITY, USER_SECRET, TACACS_KEY, OSPF_KEY)
#: The interface the placeholder's example names, so `show ... interface <interface>`
#: reaches a real section (holding a secret of its own) on every platform.
EXAMPLE_INTERFACE = PLACEHOLDERS["interface"].example


def every_command() -> list[str]:
    """Each form of each shipped entry, its value slots filled with their examples."""
    commands = []
    for entry in SHIPPED:
        for form in forms(entry):
            words = [
                e.word if isinstance(e, Keyword) else PLACEHOLDERS[e.kind].example for e in form
            ]
            commands.append(" ".join(words))
    allowed = grammar(SHIPPED)
    assert [str(allowed.parse(c)) for c in commands] == commands  # the grammar takes them all
    return commands


#: Output modifiers aimed at the planted secrets: a guess at each one's start, and the
#: lines around them, all of which must come back masked or not at all.
PROBES = (
    f"show running-config | include community {COMMUNITY[:3]}",
    f"show running-config | include {COMMUNITY[:4]}",
    "show running-config | include community",
    "show running-config | section ^username|^snmp",  # refused: one modifier, no '|'
    "show running-config | begin ^snmp",
    "show running-config | section ^tacacs",
    f"show running-config | section {EXAMPLE_INTERFACE[:2]}",
    f"show running-config interface {EXAMPLE_INTERFACE} | include key",
    f"show running-config | exclude {TACACS_KEY[:2]}",
)


def plant_secrets(lab: Lab) -> None:
    for config in lab.configs.values():
        config.apply(f"snmp-server community {COMMUNITY} RO", None)
        config.apply(f"username ops privilege 15 secret 0 {USER_SECRET}", None)
        config.apply(f"tacacs-server key {TACACS_KEY}", None)
        interface = config.apply(f"interface {EXAMPLE_INTERFACE}", None)
        config.apply("description sweep", interface)
        config.apply(f"ip ospf authentication-key {OSPF_KEY}", interface)
        assert COMMUNITY in config.text() and OSPF_KEY in config.text()


def lab_hosts(db: Database) -> dict[str, list[str]]:
    """The lab devices of each platform, by platform."""
    with db.read() as s:
        rows = s.execute(sa.select(Device.hostname, Device.platform).where(Device.lab)).all()
    out: dict[str, list[str]] = defaultdict(list)
    for hostname, platform in rows:
        out[platform.value].append(hostname)
    return dict(out)


def test_every_allowed_command_on_every_lab_platform_is_one_honest_reply(
    lab_db: tuple[Database, Lab],
) -> None:
    db, lab = lab_db
    plant_secrets(lab)
    router, access = lab_router(db)
    alice = access.user("alice")
    hosts = lab_hosts(db)
    assert set(hosts) == {"cisco_ios", "arista_eos"}  # both lab platforms are swept
    commands = [*every_command(), *PROBES]

    # Each platform's commands are shared out over its devices, one session at a time
    # per device (Netmiko waits, it does not compute: the devices run side by side).
    work: dict[str, list[str]] = defaultdict(list)
    for hostnames in hosts.values():
        for i, command in enumerate(commands):
            work[hostnames[i % len(hostnames)]].append(command)

    def run(hostname: str) -> list[tuple[str, str, Routed]]:
        return [
            (hostname, c, router.route(alice, f'/device run {hostname} "{c}"'))
            for c in work[hostname]
        ]

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        results = [r for batch in pool.map(run, work) for r in batch]

    assert len(results) == len(commands) * len(hosts)
    answered: dict[str, set[str]] = defaultdict(set)
    for hostname, command, routed in results:
        reply, where = routed.reply, f"{hostname}: {command}"
        shown = json.dumps(reply.to_json())
        assert "unexpectedly" not in shown, where
        assert routed.outcome in (Outcome.OK, Outcome.FAILED, Outcome.REFUSED), where
        for secret in SECRETS:
            assert secret not in shown, f"{where} shows {secret}"
        if routed.outcome == Outcome.OK:
            answered[command].add(hostname)
            assert reply.text.startswith(f"{hostname}: show "), where
        else:
            # A refusal, the device's or the grammar's, is one line with a hint.
            assert "\n" not in reply.text and reply.hint and "\n" not in reply.hint, where
            if routed.outcome == Outcome.FAILED:
                assert reply.text.startswith(f"{hostname} refused `show "), where

    # The sweep saw real output, not only refusals: the planted lines come back masked.
    for platform, hostnames in hosts.items():
        community = [
            r.reply
            for h, c, r in results
            if h in hostnames and c == "show running-config | include community"
        ]
        assert [r.sections[0].text for r in community] == [
            "```snmp-server community ******** RO```"
        ], platform
    section = next(
        r.reply
        for _, c, r in results
        if c == f"show running-config interface {EXAMPLE_INTERFACE} | include key"
    )
    assert section.sections[0].text == "``` ip ospf authentication-key ********```"
    assert {"show version", "show running-config", "show ip interface brief"} <= set(answered)
