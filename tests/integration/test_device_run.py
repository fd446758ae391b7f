"""/device run: allowlisted read-only commands over SSH, parsed with ntc-templates.

What may be sent is decided by the show-command grammar before any device is contacted;
a device that does not finish a command, or refuses it, is one line, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from automation.drivers.base import Credentials, Target
from automation.drivers.cli import CommandFailed
from automation.drivers.napalm_driver import NapalmDriver
from automation.lab.lab import Lab
from bot.access import Access
from bot.bootstrap import build_services, load_skills
from bot.router import Router
from domain.audit.choices import Outcome
from domain.audit.models import AuditEvent
from domain.db import Database
from domain.inventory.choices import Platform
from tests.fakes.devices import FakeNetwork
from tests.world import lab_router, lab_settings, make_router

CREDS = Credentials("admin", "lab-secret", connect_timeout_s=5, command_timeout_s=20)


def last_audit(db: Database) -> AuditEvent:
    with db.read() as s:
        event = s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    return event


def test_device_run_parses_refuses_and_audits(lab_db: tuple[Database, Lab]) -> None:
    db, _ = lab_db
    router, access = lab_router(db)
    alice = access.user("alice")
    brief = router.handle(alice, '/device run r1-mum "show ip interface brief"')
    assert brief.ok and brief.tables[0].columns[:2] == ("interface", "ip_address")
    version = router.handle(alice, '/device run r1-mum "sh ver"')
    assert version.ok and any(f.label == "hostname" for f in version.sections[0].fields)
    assert version.text == "r1-mum: show version"  # what was sent: rebuilt, not as typed
    refused = router.handle(alice, '/device run r1-mum "configure terminal"')
    assert not refused.ok
    assert refused.text == "'configure' is not a read-only command /device run allows"
    assert refused.hint.startswith("allowed: show version, ")
    last = last_audit(db)
    assert (last.command, last.outcome) == ("device run", "refused")


# -- refused before any device is contacted ---------------------------------------------------

ISSUE_EXAMPLES = {
    '/device run r1-mum "show running-config > flash:pwn.cfg"': (
        "'>' would send the output to a file: /device run only reads"
    ),
    '/device run r1-mum "show version && reload"': (
        "'&&' would run a second command: /device run sends one read-only command"
    ),
    # The same, unquoted: the words after the device are judged as one command.
    "/device run r1-mum show running-config > flash:pwn.cfg": (
        "'>' would send the output to a file: /device run only reads"
    ),
    "/device run r1-mum show version && reload": (
        "'&&' would run a second command: /device run sends one read-only command"
    ),
    '/device run r1-mum "show running-config | redirect flash:pwn.cfg"': (
        "'| redirect' would write the output to a file: /device run only reads"
    ),
    '/device run r1-mum "show running-config | tee flash:pwn.cfg"': (
        "'| tee' would write the output to a file: /device run only reads"
    ),
    '/device run r1-mum "show version; reload"': (
        "';' would run a second command: /device run sends one read-only command"
    ),
    '/device run r1-mum "show version\nreload"': (
        "'version\\nreload' holds a line break, U+000A (LINE FEED): one command, one line"
    ),
    '/device run r1-mum "show version\u2028reload"': (
        "'version\\u2028reload' holds a line break, U+2028 (LINE SEPARATOR): one command, one line"
    ),
    '/device run r1-mum "show running-config flash:pwn.cfg"': (
        "'flash:pwn.cfg' names a file or file system: /device run only reads"
    ),
    '/device run r1-mum "reload"': "'reload' is not a read-only command /device run allows",
}


def fake_router(db: Database) -> tuple[Router, Access, FakeNetwork]:
    """The shipped settings over in-memory devices that count every login."""
    network = FakeNetwork()
    network.add("r1-mum", interfaces=(("GigabitEthernet0/0/0", "uplink", "10.0.1.1/30"),))
    settings = lab_settings()
    router = Router(load_skills(), build_services(settings, db, opener=network))
    return router, Access(settings), network


def test_the_issue_examples_are_refused_before_any_device_is_contacted(world: Database) -> None:
    router, access, network = fake_router(world)
    alice = access.user("alice")
    device = network["r1-mum"]
    for text, message in ISSUE_EXAMPLES.items():
        routed = router.route(alice, text)
        assert (routed.outcome, routed.reply.text) == (Outcome.REFUSED, message), text
        assert "\n" not in routed.reply.text + routed.reply.hint
        assert device.sessions == 0, text  # nobody logged in to the device
        assert (last_audit(world).command, last_audit(world).outcome) == ("device run", "refused")
    assert device.received == []
    # The same router does reach the device with a command the grammar takes.
    routed = router.route(alice, '/device run r1-mum "SHOW   version"')
    assert (routed.outcome, routed.reply.text) == (Outcome.OK, "r1-mum: show version")
    assert device.sessions == 1


def test_an_unquoted_command_gets_a_hint_to_quote_it(world: Database) -> None:
    router, access, network = fake_router(world)
    reply = router.handle(access.user("alice"), "/device run r1-mum sh ip int br")
    assert (reply.ok, reply.text) == (False, "'br' is not an allowed read-only command")
    assert reply.hint == 'quote the command: /device run r1-mum "sh ip int br"'
    reply = router.handle(access.user("alice"), "/device run r1-mum show ip route vrf a:b")
    assert reply.text == "'a:b' names a file or file system: /device run only reads"
    assert network["r1-mum"].sessions == 0


# -- the device's side: too slow, or refusing, is one line -------------------------------------


def test_a_command_the_device_does_not_finish_is_one_line(lab_db: tuple[Database, Lab]) -> None:
    db, lab = lab_db
    shipped = lab_settings()
    settings = shipped.model_copy(
        update={"devices": shipped.devices.model_copy(update={"command_timeout_s": 2.0})}
    )
    router = make_router(db, settings)
    alice = Access(settings).user("alice")
    # The lab prints its running config under this lock: holding it, the device never
    # finishes `show running-config`, as a router busy with a huge config would not.
    config = lab.configs["r1-mum"]
    config.lock.acquire()
    try:
        routed = router.route(alice, '/device run r1-mum "show run"')
    finally:
        config.lock.release()
    assert routed.outcome == Outcome.FAILED
    assert routed.reply.text == "r1-mum did not finish `show running-config` within 2 s"
    assert routed.reply.hint == (
        "narrow it with | include or | section, or raise devices.command_timeout_s in config.yaml"
    )
    # Once it answers again, so does /device run.
    assert router.handle(alice, '/device run r1-mum "show clock"').ok


def test_a_command_the_device_refuses_is_one_line(lab_db: tuple[Database, Lab]) -> None:
    db, _ = lab_db
    router, access = lab_router(db)
    # The grammar takes it; the lab's IOS does not have it.
    routed = router.route(access.user("alice"), '/device run r1-mum "sh ntp assoc"')
    assert routed.outcome == Outcome.FAILED
    text = routed.reply.text
    assert text.startswith("r1-mum refused `show ntp associations`: ") and "\n" not in text
    assert "unexpectedly" not in text
    assert routed.reply.hint == "cisco_ios may not have this command, or not with these arguments"


def test_napalm_show_refusal_is_one_line(tmp_path: Path) -> None:
    """The NAPALM driver reads the device's refusal the same way (NAPALM's mock device)."""
    (tmp_path / "cli.1.show_ntp_associations.0").write_text(
        "show ntp associations\n                 ^\n% Invalid input detected at '^' marker.\n"
    )
    (tmp_path / "cli.2.show_clock.0").write_text("*09:00:00.000 IST Fri Nov 20 2026\n")
    target = Target("cr01-mum-dc1", Platform.CISCO_XR, "127.0.0.1", 22)
    driver = NapalmDriver(target, CREDS, driver_name="mock", optional_args={"path": str(tmp_path)})
    with pytest.raises(CommandFailed) as refused:
        driver.show("show ntp associations")
    assert str(refused.value) == (
        "cr01-mum-dc1 refused `show ntp associations`: % Invalid input detected at '^' marker."
    )
    assert driver.show("show clock") == "*09:00:00.000 IST Fri Nov 20 2026\n"
    driver.close()
