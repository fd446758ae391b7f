"""/device run: allowlisted read-only commands over SSH, parsed with ntc-templates.

What may be sent is decided by the show-command grammar before any device is contacted;
the device is sent the command without its output modifier, which runs here on the masked
output. A device that does not finish a command, refuses it, or does not answer at all is
one line, never a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from pathlib import Path

import paramiko
import pytest
import sqlalchemy as sa

from automation.drivers import connect
from automation.drivers.base import Credentials, DeviceUnreachable, Driver, Target
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
from domain.inventory.models import Device
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
        "raise devices.command_timeout_s in config.yaml, or ask for a part (an interface's "
        "config, one route)"
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


# -- the output modifier runs on Switchboard's side, on masked output --------------------------


def test_a_modifier_cannot_read_a_secret_one_character_at_a_time(
    lab_db: tuple[Database, Lab],
) -> None:
    """The issue's oracle: `| include community S3c` said whether the community started
    with S3c. The device is sent `show running-config` alone; the regex runs on the
    masked text, so a right guess and a wrong one answer the same."""
    db, lab = lab_db
    lab.configs["r1-mum"].apply("snmp-server community S3cr3tComm RO", None)
    router, access = lab_router(db)
    alice = access.user("alice")

    def run(command: str) -> tuple[str, tuple[str, ...]]:
        reply = router.handle(alice, f'/device run r1-mum "{command}"')
        assert reply.ok, reply.text
        return reply.text, tuple(s.text for s in reply.sections)

    right = run("show running-config | include community S3c")
    wrong = run("show running-config | include community X")
    assert right[1] == ("`| include community S3c` kept no line of the output",)
    assert wrong[1] == ("`| include community X` kept no line of the output",)
    for guess in ("S3cr", "community S3cr3tComm"):
        for modifier in ("include", "section"):
            kept = run(f"show running-config | {modifier} {guess}")[1]
            assert kept == (f"`| {modifier} {guess}` kept no line of the output",)
    # What a regex can see is the mask, in the form every other view shows it.
    masked = run("show running-config | include community")
    assert masked == (
        "r1-mum: show running-config | include community",
        ("```snmp-server community ******** RO```",),
    )
    assert run("show run | sec ^snmp")[1] == ("```snmp-server community ******** RO```",)
    # A guess typed in full is not repeated back in clear either.
    typed = run("show running-config | include snmp-server community S3cr3tComm")
    assert typed == (
        "r1-mum: show running-config | include snmp-server community ********",
        ("`| include snmp-server community ********` kept no line of the output",),
    )


class Recording:
    """An opener over in-memory devices that notes every read-only command sent."""

    def __init__(self, network: FakeNetwork) -> None:
        self.network = network
        self.sent: list[tuple[str, bool]] = []

    def __call__(self, target: Target, credentials: Credentials) -> Driver:
        driver = self.network(target, credentials)
        show = driver.show

        def noted(command: str, parse: bool = True) -> str | list[dict[str, str]]:
            self.sent.append((command, parse))
            return show(command, parse)

        driver.show = noted  # type: ignore[method-assign]
        return driver


def test_no_modifier_and_no_file_word_ever_reaches_the_device(world: Database) -> None:
    network = FakeNetwork()
    network.add(
        "r1-mum",
        interfaces=(("GigabitEthernet0/0/0", "uplink", "10.0.1.1/30"),),
        lines=["snmp-server community S3cr3tComm RO"],
    )
    recording = Recording(network)
    settings = lab_settings()
    router = Router(load_skills(), build_services(settings, world, opener=recording))
    alice = Access(settings).user("alice")
    commands = {
        "show running-config | include community S3c": "show running-config",
        "sh run | inc x file flash:y": "show running-config",
        "show ip int br | exclude unassigned": "show ip interface brief",
        "show running-config | begin ^interface": "show running-config",
        "show version": "show version",
    }
    for typed, sent in commands.items():
        reply = router.handle(alice, f'/device run r1-mum "{typed}"')
        assert reply.ok, reply.text
        assert recording.sent[-1] == (sent, "|" not in typed), typed
    assert all("|" not in c and "file" not in c for c, _ in recording.sent)
    # A modifier keeps lines of the raw text: nothing is parsed into rows under it.
    kept = router.handle(alice, '/device run r1-mum "sh ip int br | inc ^Gi"')
    assert kept.tables == () and kept.sections[0].text.startswith("```GigabitEthernet0/0/0")


# -- what tracebacked: a refusal or odd output is one line, or the text ------------------------

TRACEBACKS = {
    # The lab's IOS prints `end` under the section: ntc-templates' template stops on it.
    ("r1-mum", "show running-config interface Gi0/0/1"): "ok",
    ("r3-ka", "show ip interface Ethernet1"): "r3-ka refused `show ip interface Ethernet1`: "
    "% Invalid input",
    ("r3-ka", "show interfaces Gi0/0/1"): "r3-ka refused `show interfaces Gi0/0/1`: "
    "% Invalid input",
    ("r1-mum", "show ip route vrf MGMT"): "r1-mum refused `show ip route vrf MGMT`: "
    "% Invalid input detected at '^' marker.",
    ("r1-mum", "show ip route 10.1.31.1"): "r1-mum refused `show ip route 10.1.31.1`: "
    "% Invalid input detected at '^' marker.",
    ("r1-mum", "show ip route 10.0.0.0/8"): "r1-mum refused `show ip route 10.0.0.0/8`: "
    "% Invalid input detected at '^' marker.",
}


def test_the_commands_that_failed_unexpectedly_answer_or_are_refused_in_one_line(
    lab_db: tuple[Database, Lab],
) -> None:
    db, _ = lab_db
    router, access = lab_router(db)
    alice = access.user("alice")
    for (hostname, command), said in TRACEBACKS.items():
        routed = router.route(alice, f'/device run {hostname} "{command}"')
        if said == "ok":
            assert routed.outcome == Outcome.OK, routed.reply.text
            # The template did not read it: the text, as the device printed it.
            assert "interface GigabitEthernet0/0/1\n description" in routed.reply.sections[0].text
        else:
            assert (routed.outcome, routed.reply.text) == (Outcome.FAILED, said)


# -- a device nothing answers on is one line --------------------------------------------------


def test_a_device_nothing_answers_on_is_one_line_and_logged_once(
    lab_db: tuple[Database, Lab], caplog: pytest.LogCaptureFixture
) -> None:
    """cr01-del-dc1 (IOS-XR, through NAPALM) printed Netmiko's eight lines of advice, and
    NAPALM logged them again; cr01-ka-dc1 (Junos, through the CLI) is the other path."""
    db, _ = lab_db
    router, access = lab_router(db)
    alice = access.user("alice")
    with db.read() as s:
        hosts = {
            d.hostname: f"{d.mgmt_host}:{d.mgmt_port}"
            for d in s.scalars(sa.select(Device).where(Device.hostname.like("cr01-%")))
        }
    expected = {
        "cr01-del-dc1": "does not answer NAPALM on",  # cisco_xr: napalm_platforms
        "cr01-ka-dc1": "does not answer on",  # juniper_junos: the CLI
    }
    caplog.set_level(logging.DEBUG)
    for hostname, words in expected.items():
        routed = router.route(alice, f'/device run {hostname} "show version"')
        assert routed.outcome == Outcome.FAILED
        assert routed.reply.text == (
            f"{hostname} {words} {hosts[hostname]} (TCP connection to device failed.)"
        )
        assert routed.reply.hint == "check the device is up (`switchboard lab status` for the lab)"
    noisy = [
        r
        for r in caplog.records
        if r.name.startswith(("napalm", "paramiko", "netmiko")) and r.levelno >= logging.WARNING
    ]
    assert noisy == []


@pytest.mark.parametrize("answer", [b"HTTP/1.0 400 Bad Request\r\n\r\n", b""])
def test_a_port_that_does_not_speak_ssh_is_one_line_from_every_driver(answer: bytes) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]

        def serve() -> None:
            with contextlib.suppress(OSError):
                while True:
                    conn, _ = server.accept()
                    with conn:
                        conn.sendall(answer)

        threading.Thread(target=serve, daemon=True).start()
        quick = Credentials("admin", "x", connect_timeout_s=3, command_timeout_s=3)
        for platform, napalm in (
            (Platform.CISCO_IOS, ()),
            (Platform.ARISTA_EOS, ()),
            (Platform.JUNIPER_JUNOS, ()),
            (Platform.CISCO_XR, ("cisco_xr",)),
        ):
            target = Target("x1", platform, "127.0.0.1", port)
            with pytest.raises(DeviceUnreachable) as down:
                connect(target, quick, napalm)
            text = str(down.value)
            assert "\n" not in text and "Error reading SSH protocol banner" in text, text
            assert text.startswith("x1 does not answer "), text


class RefusingServer(paramiko.ServerInterface):
    """An SSH server that takes no password (a device with other credentials)."""

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        return paramiko.AUTH_FAILED


def test_a_refused_login_says_so_in_one_line() -> None:
    key = paramiko.RSAKey.generate(1024)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]

        def serve() -> None:
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                while True:
                    conn, _ = server.accept()
                    transport = paramiko.Transport(conn)
                    transport.add_server_key(key)
                    transport.start_server(server=RefusingServer())

        threading.Thread(target=serve, daemon=True).start()
        for platform, napalm in ((Platform.CISCO_IOS, ()), (Platform.CISCO_XR, ("cisco_xr",))):
            target = Target("r1-mum", platform, "127.0.0.1", port)
            with pytest.raises(DeviceUnreachable) as refused:
                connect(target, Credentials("admin", "wrong", connect_timeout_s=5), napalm)
            assert str(refused.value) == f"r1-mum refused the login on 127.0.0.1:{port}"
            assert refused.value.hint == (
                "check the device credentials (SWITCHBOARD_DEVICE_USER / _PASSWORD)"
            )


def test_napalm_show_parses_only_when_asked_and_masks_first(tmp_path: Path) -> None:
    """The NAPALM driver reads output as the CLI driver does (NAPALM's mock device)."""
    clock = "*09:00:00.000 IST Fri Nov 20 2026\n"
    (tmp_path / "cli.1.show_clock.0").write_text(clock)
    (tmp_path / "cli.2.show_clock.0").write_text(clock)
    running = "hostname r9\nsnmp-server community S3cr3tComm RO\nend\n"
    (tmp_path / "cli.3.show_running_config.0").write_text(running)
    target = Target("r9", Platform.CISCO_IOS, "127.0.0.1", 22)
    driver = NapalmDriver(target, CREDS, driver_name="mock", optional_args={"path": str(tmp_path)})
    rows = driver.show("show clock")
    assert isinstance(rows, list) and rows[0]["time"] == "09:00:00.000"
    assert driver.show("show clock", parse=False) == clock
    assert driver.show("show running-config") == (
        "hostname r9\nsnmp-server community ******** RO\nend\n"
    )
    driver.close()
