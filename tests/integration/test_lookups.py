"""One lookup grammar on a real world (SQLite, and PostgreSQL when configured): every
entry point that takes a customer's number finds the same line however it is written,
quoted or not; every command that takes one device takes it in the same forms; every
command that targets devices selects the same devices for the same selector; and the
filters that name a site, a severity or a user are checked as a selector's keys are."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automation.inventory import select_devices
from bot.access import Access
from bot.orders import receive
from bot.router import Router
from domain.audit.choices import Outcome
from domain.catalog.choices import Segment
from domain.changes.models import ConfigBackup
from domain.changes.services import record_backup
from domain.config import PROJECT_ROOT, load_settings
from domain.customers.choices import IdDocument, PaymentMethod
from domain.customers.models import BillingAccount, Customer
from domain.db import Database, utcnow
from domain.errors import DomainError, NotFound
from domain.faults.choices import AlarmSource, PerceivedSeverity
from domain.faults.models import Ticket
from domain.faults.services import raise_alarm
from domain.inventory.choices import DeviceRole, DeviceStatus, Platform, SiteKind
from domain.inventory.models import Device, Site
from domain.inventory.queries import devices_matching, search_devices
from domain.lookup import CARE, TICKET_SUBJECT, parse_selector, resolve_subject
from domain.orders.intake import OrderWords, read_order_words
from domain.orders.models import ProductOrder
from models.fraud.desk import FraudDesk
from tests.conftest import BACKENDS, _need_postgres, _pg_database, _pg_url
from tests.unit.test_lookup import SPELLINGS, TERMS
from tests.world import make_router, populate_world, reset_sequences

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
ACCESS = Access(SETTINGS)

#: Devices beside the world's r1-mum, on 127.0.0.1 ports nothing listens on, so a plan
#: reaches each of them at once and records that it could not.
DEVICES = [
    ("r10-mum", 1, DeviceRole.ACCESS, Platform.CISCO_IOS, "Cisco", DeviceStatus.ACTIVE, False),
    ("cr1-mum", 1, DeviceRole.CORE, Platform.ARISTA_EOS, "Arista", DeviceStatus.ACTIVE, False),
    ("r1-mum-old", 1, DeviceRole.ACCESS, Platform.CISCO_IOS, "Cisco", DeviceStatus.OFFLINE, False),
    ("r2-del", 2, DeviceRole.ACCESS, Platform.JUNIPER_JUNOS, "Juniper", DeviceStatus.ACTIVE, True),
    ("cr2-del", 2, DeviceRole.CORE, Platform.JUNIPER_JUNOS, "Juniper", DeviceStatus.ACTIVE, False),
    ("r3-ka", 3, DeviceRole.ACCESS, Platform.ARISTA_EOS, "Arista", DeviceStatus.ACTIVE, True),
]


def lookup_world(db: Database) -> Database:
    """The world, two more sites and six more devices, and two more customers named Priya."""
    populate_world(db)
    rows: list[Any] = [
        Site(
            id=2,
            code="DEL-CP1",
            name="Connaught Place",
            kind=SiteKind.EXCHANGE,
            region_id=1,
            city="Delhi",
        ),
        Site(
            id=3,
            code="KA-BLR1",
            name="Koramangala",
            kind=SiteKind.POP,
            region_id=1,
            city="Bengaluru",
        ),
    ]
    for i, (host, site, role, platform, vendor, status, lab) in enumerate(DEVICES, start=2):
        rows.append(
            Device(
                id=i,
                hostname=host,
                site_id=site,
                role=role,
                platform=platform,
                vendor=vendor,
                model="X",
                os_version="1",
                serial=f"SER{i:04d}",
                # r3-ka has an address of its own, so an address can name it.
                mgmt_host="127.0.0.7" if host == "r3-ka" else "127.0.0.1",
                mgmt_port=1 + i,
                status=status,
                lab=lab,
            )
        )
    for i, (name, city) in enumerate([("Priya Sharma", "Pune"), ("Rahul Verma", "Delhi")], 2):
        rows += [
            Customer(
                id=i,
                name=name,
                segment=Segment.CONSUMER,
                id_document=IdDocument.AADHAAR,
                id_number=f"23456789012{i}",
                email=f"c{i}@example.in",
                phone=f"91980000000{i}",
                address="1, Main Road",
                city=city,
                region_id=1,
            ),
            BillingAccount(
                id=i,
                account_number=f"BA10000000{i}",
                customer_id=i,
                credit_limit_minor=500000,
                payment_method=PaymentMethod.UPI,
            ),
        ]
    with db.transaction() as s:
        for row in rows:
            s.add(row)
            s.flush()
    reset_sequences(db)
    return db


@pytest.fixture(scope="module", params=BACKENDS)
def looked(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    pg_template: str,
) -> Iterator[tuple[Database, Router]]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("lookups") / "l.db"
        shutil.copy(sqlite_template, path)
        db = Database(f"sqlite:///{path}")
        lookup_world(db)
        yield db, make_router(db, SETTINGS)
        db.dispose()
        return
    _need_postgres()
    with _pg_database(template=pg_template) as name:
        db = Database(_pg_url(name))
        lookup_world(db)
        yield db, make_router(db, SETTINGS)
        db.dispose()


# -- one line, however its number is written, through every entry point -----------------------


class Scored(DomainError):
    """Stands in for the model: /fraud check got as far as scoring this line."""


@pytest.fixture
def fraud_line(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """/fraud check with the model replaced: records the line it would score."""
    seen: list[list[int]] = []

    def usage(db: Database, *, since: Any, subscription_ids: list[int]) -> None:
        seen.append(subscription_ids)
        raise Scored("scored")

    model = SimpleNamespace(version="test", model=SimpleNamespace(threshold=0.5))
    monkeypatch.setattr(FraudDesk, "model", lambda self: model)
    monkeypatch.setattr("models.fraud.data.usage_from_db", usage)
    return seen


def _ticket_line(db: Database, router: Router, subject: str) -> int | None:
    opened = router.handle(ACCESS.user("carol"), f'/ticket open {subject} "No data"')
    assert opened.ok, (opened.text, opened.hint)
    with db.read() as s:
        return s.scalars(sa.select(Ticket.subscription_id).order_by(Ticket.id.desc())).first()


def _order_customer(db: Database, ref: str) -> int:
    with db.read() as s:
        return s.scalars(
            sa.select(ProductOrder.customer_id).where(ProductOrder.id == int(ref[2:]))
        ).one()


#: Each spelling quoted, as one word, and as typed, unquoted: a number written with spaces
#: is then several words, which every command that takes a subject reads as one subject.
AS_TYPED = [
    pytest.param(typed, quoted, id=f"{'quoted' if quoted else 'unquoted'}:{typed.strip()}")
    for typed in SPELLINGS
    for quoted in (True, False)
]


@pytest.mark.parametrize(("typed", "quoted"), AS_TYPED)
def test_every_entry_point_finds_the_same_line_however_the_number_is_written(
    looked: tuple[Database, Router], fraud_line: list[list[int]], typed: str, quoted: bool
) -> None:
    db, router = looked
    carol, erin = ACCESS.user("carol"), ACCESS.user("erin")
    subject = f'"{typed}"' if quoted else typed

    assert _ticket_line(db, router, subject) == 1

    ordered = router.handle(carol, f"/order new {subject} POST-399")
    assert ordered.ok, (ordered.text, ordered.hint)
    assert _order_customer(db, ordered.meta["order"]) == 1

    # The order API takes the customer as one JSON string, spaces and all.
    status, answer = receive(db, SETTINGS, {"customer": typed, "offering": "POST-399"})
    assert status in (201, 202), answer
    assert _order_customer(db, answer["order"]) == 1

    bill = router.handle(carol, f"/bill {subject}")
    assert bill.text == "Bill for BA100000001", (bill.text, bill.hint)

    card = router.handle(carol, f"/customer {subject}")
    assert card.text == "Priya Nair", (card.text, card.hint)

    checked = router.handle(erin, f"/fraud check {subject}")
    assert checked.text == "scored" and fraud_line[-1] == [1], (checked.text, checked.hint)


@pytest.mark.parametrize("typed", ["9999999999", "+91 99999 99999", "099999-99999"])
@pytest.mark.parametrize("quoted", [True, False])
def test_a_number_nobody_has_is_the_same_refusal_everywhere(
    looked: tuple[Database, Router], typed: str, quoted: bool
) -> None:
    _, router = looked
    subject = f'"{typed}"' if quoted else typed
    said = {
        "ticket": router.handle(ACCESS.user("carol"), f'/ticket open {subject} "x"').text,
        "order": router.handle(ACCESS.user("carol"), f"/order new {subject} POST-399").text,
        "bill": router.handle(ACCESS.user("carol"), f"/bill {subject}").text,
        "customer": router.handle(ACCESS.user("carol"), f"/customer {subject}").text,
        "fraud": router.handle(ACCESS.user("erin"), f"/fraud check {subject}").text,
    }
    assert set(said.values()) == {"no subscription with number 919999999999"}, said


def test_the_words_after_a_spaced_number_are_read_as_before(
    looked: tuple[Database, Router],
) -> None:
    """The subject takes the words it needs; what follows it reads as it always did."""
    db, router = looked
    with db.read() as s:
        assert read_order_words(s, ["+91", "98765", "43210", "POST-399"]) == OrderWords(
            "+91 98765 43210", "POST-399", ()
        )
        assert read_order_words(
            s, ["(+91)", "98765", "43210", "fibre-100", "site:MUM-AND1", "port:Gi0/0/1"]
        ) == OrderWords("(+91) 98765 43210", "fibre-100", ("site:MUM-AND1", "port:Gi0/0/1"))
        # No word names an offering: the last one is taken as one, to be refused by name...
        assert read_order_words(s, ["BA100000001", "NOPE"]) == OrderWords("BA100000001", "NOPE", ())
        # ... unless all the words are one identifier: then the offering was left out.
        assert read_order_words(s, ["+91", "98765", "43210"]).offering is None
        assert read_order_words(s, ["BA", "100000001", "site:MUM-AND1"]).offering is None

    def said(text: str, user: str = "carol") -> tuple[str, str]:
        reply = router.handle(ACCESS.user(user), text)
        return reply.text, reply.hint

    missing = said("/order new +91 98765 43210")
    assert missing[0] == "missing <offering>"
    assert missing[1].startswith("usage: /order new <customer> <offering> ")
    assert said("/order new +91 98765 43210 NOPE")[0] == "no offering 'NOPE'"
    assert said("/order new +91 98765 43210 POST-399 today") == (
        "unexpected 'today'",
        "say where a fixed line goes: site:TN-WHI1 port:Gi0/0/5",
    )
    assert said("/order new 98765 43210 POST-399 site:MUM-AND1 port:Gi0/0/1")[0] == (
        "POST-399 is a mobile line; it needs no site or port"
    )
    # A ticket's title is its last word; a number alone is a subject without a title.
    no_title = said("/ticket open +91 98765 43210")
    assert no_title[0] == "missing <title>"
    assert no_title[1].startswith("usage: /ticket open <device|customer|msisdn>... <title>")
    assert said('/ticket open +91 98765 43210 title="No data" sev=2')[0].endswith(": No data")
    assert said("/fraud check", "erin")[0] == "missing <msisdn>"


def test_names_accounts_invoices_and_devices_in_the_one_grammar(
    looked: tuple[Database, Router],
) -> None:
    db, router = looked
    carol = ACCESS.user("carol")
    several = router.handle(carol, "/customer Priya")
    assert several.text == (
        "'Priya' matches 2 customers: Priya Nair (Mumbai, BA100000001), "
        "Priya Sharma (Pune, BA100000002)"
    )
    assert several.hint == "use the full name, a mobile number or an account number"
    assert router.handle(carol, "/customer priya sharma").text == "Priya Sharma"
    assert router.handle(carol, "/bill ba100000003").text == "Bill for BA100000003"
    assert router.handle(carol, "/customer C-3").text == "Rahul Verma"
    typo = router.handle(carol, "/customer Pirya Nair")
    assert (typo.text, typo.hint) == (
        "no customer matches 'Pirya Nair'",
        "did you mean Priya Nair?",
    )
    short = router.handle(carol, "/bill Rahl")
    assert (short.text, short.hint) == ("no customer matches 'Rahl'", "did you mean Rahul Verma?")

    # An order needs an identifier, not a name that could match someone else tomorrow.
    by_name = router.handle(carol, "/order new 'Priya Nair' POST-399")
    assert by_name.text == "'Priya Nair' does not name a customer"
    assert by_name.hint.startswith("use an account number (BA100000001), a mobile number")
    # /fraud check scores a mobile line, and says so.
    not_a_line = router.handle(ACCESS.user("erin"), "/fraud check BA100000001")
    assert not_a_line.text == "'BA100000001' is an account number, which is not taken here"
    assert not_a_line.hint == "use a mobile number (9876543210)"

    # A ticket may be about a device; a near hostname gets a "did you mean".
    with db.read() as s:
        assert resolve_subject(s, "R1-MUM", TICKET_SUBJECT).device_id == 1
        assert resolve_subject(s, "BA100000002", TICKET_SUBJECT).customer_id == 2
        with pytest.raises(NotFound) as err:
            resolve_subject(s, "r1-mun", TICKET_SUBJECT)
        assert (str(err.value), err.value.hint) == (
            "no device, number or customer 'r1-mun'",
            "did you mean r1-mum, r10-mum or r1-mum-old?",
        )
        with pytest.raises(NotFound, match="no customer matches 'r1-mum'"):
            resolve_subject(s, "r1-mum", CARE)  # care lookups take no devices


# -- device selectors: the same devices through search, targeting and plans --------------------


def _searched(router: Router, selector: str) -> list[str]:
    found = router.handle(ACCESS.user("alice"), f"/inventory search {selector}")
    assert found.ok, (found.text, found.hint)
    return sorted(row[0] for row in found.tables[0].rows)


def _planned(router: Router, selector: str) -> tuple[str, list[str]]:
    planned = router.handle(ACCESS.user("alice"), f"/config plan ntp {selector} servers=10.0.0.5")
    # Nothing listens on these devices' ports: each plan is made, and fails honestly.
    assert "change" in planned.meta, (planned.text, planned.hint)
    assert not planned.ok and " plan failed: " in planned.text
    return planned.text, [row[0] for row in planned.tables[0].rows]


@pytest.mark.parametrize(
    ("selector", "hosts"),
    [
        ("site:MUM-AND1 role:access", ["r1-mum", "r10-mum"]),
        ("site:mum-and1 site:DEL-CP1 role:core", ["cr1-mum", "cr2-del"]),
        ("r1-* r2-*", ["r1-mum", "r2-del"]),
        ("*-del", ["cr2-del", "r2-del"]),
        ("lab", ["r2-del", "r3-ka"]),
        ("platform:arista_eos", ["cr1-mum", "r3-ka"]),
        ("vendor:juniper role:access", ["r2-del"]),
    ],
)
def test_search_and_plan_select_the_same_devices(
    looked: tuple[Database, Router], selector: str, hosts: list[str]
) -> None:
    _, router = looked
    text, planned = _planned(router, selector)
    assert _searched(router, f"{selector} status:active") == planned == hosts
    matched = len(_searched(router, selector))  # a plan leaves out devices not active
    shown = str(parse_selector(selector.split()))
    assert text.startswith(f"{matched} device{'' if matched == 1 else 's'} matched {shown}")


def test_a_plan_says_what_it_left_out_and_search_shows_it(looked: tuple[Database, Router]) -> None:
    _, router = looked
    assert _searched(router, "r1-*") == ["r1-mum", "r1-mum-old"]
    text, planned = _planned(router, "r1-*")
    assert planned == ["r1-mum"]
    assert text.startswith("2 devices matched r1-*; not active, left out: r1-mum-old (offline). ")
    # Nothing listens on r1-mum's port: an unread device is never "already as intended".
    assert "nothing to apply" not in text
    assert text.endswith(
        "plan failed: 1 unreachable. 1 device(s) could not be read, so it cannot be applied; "
        "plan it again when they answer, or leave them out of the targets"
    )


def test_a_bare_word_is_one_hostname_not_every_hostname_containing_it(
    looked: tuple[Database, Router],
) -> None:
    db, router = looked
    alice = ACCESS.user("alice")
    for command in ("/config plan ntp r1 servers=10.0.0.5", "/config history r1"):
        refused = router.handle(alice, command)
        assert (refused.ok, refused.text) == (False, "no device 'r1'"), command
        assert refused.hint == "a bare word is one exact hostname; *r1* selects the 4 containing it"
    with pytest.raises(NotFound, match="no device 'r1'"):
        select_devices(db, ["r1"])
    assert [d.hostname for d in select_devices(db, ["r1-mum"])] == ["r1-mum"]
    # Search still takes plain words as search words, best match first.
    found = router.handle(alice, "/inventory search r1")
    assert [row[0] for row in found.tables[0].rows] == [
        "r1-mum",
        "r1-mum-old",
        "r10-mum",
        "cr1-mum",
    ]


@pytest.mark.parametrize(
    ("command", "message", "hint"),
    [
        ("/config plan ntp platform:foo servers=1.1.1.1", "no platform 'foo'", "platforms: "),
        ("/inventory search platform:foo", "no platform 'foo'", "platforms: cisco_ios"),
        ("/config plan ntp site:MUM-AND2 servers=1.1.1.1", "no site 'MUM-AND2'", "did you mean"),
        ("/inventory search vendor:nokia", "no vendor 'nokia'", "vendors: arista, cisco, juniper"),
        ("/config plan ntp colour:red servers=1.1.1.1", "unknown selector colour:", "selectors"),
        (
            "/device run r1-* 'show version'",
            "r1-* matches 2 devices (r1-mum, r1-mum-old); this takes one",
            "name the device by its hostname",
        ),
        (
            "/config backup 'site:KA-BLR1 role:core'",
            "no device matches site:KA-BLR1 role:core",
            "hostnames, globs",
        ),
        (
            "/config plan ntp status:offline servers=1.1.1.1",
            "no active device matches status:offline",
            "1 matched, none active",
        ),
    ],
)
def test_selector_errors_are_one_line_with_a_hint(
    looked: tuple[Database, Router], command: str, message: str, hint: str
) -> None:
    _, router = looked
    reply = router.handle(ACCESS.user("alice"), command)
    assert (reply.ok, reply.text) == (False, message)
    assert reply.hint.startswith(hint), reply.hint


def test_one_device_commands_take_a_selector_that_names_one(
    looked: tuple[Database, Router],
) -> None:
    _, router = looked
    history = router.handle(ACCESS.user("alice"), "/config history site:KA-BLR1")
    assert history.text.startswith("r3-ka: ")
    by_serial = router.handle(ACCESS.user("alice"), "/config history SER0007")
    assert by_serial.text == history.text
    two_keys = router.handle(ACCESS.user("alice"), "/config history 'site:MUM-AND1 role:core'")
    assert two_keys.text.startswith("cr1-mum: ")
    shared = router.handle(ACCESS.user("alice"), "/config history 127.0.0.1")
    assert shared.text.startswith("127.0.0.1 is the management address of several devices")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    words=st.lists(
        st.sampled_from(
            [t for t in TERMS if t != "site:KA-BLR1"] + ["r10-mum", "cr?-*", "site:KA-BLR1"]
        ),
        min_size=1,
        max_size=5,
    )
)
def test_the_query_means_what_the_selector_says(
    looked: tuple[Database, Router], words: list[str]
) -> None:
    """The SQL of domain/inventory/queries.py and DeviceSelector.matches agree."""
    db, _ = looked
    try:
        selector = parse_selector(words)
    except DomainError:
        return
    with db.read() as s:
        every = s.execute(sa.select(Device, Site.code).join(Site)).all()
        meant = sorted(d.hostname for d, code in every if selector.matches(d, code))
        try:
            got = [d.hostname for d in devices_matching(s, selector)]
        except NotFound:  # a hostname or vendor this world does not have
            return
        searched = search_devices(s, parse_selector(words, search=True))
    assert got == meant
    # In a search too, a word that is exactly a hostname is that hostname.
    assert searched.total == len(meant)


# -- one device, in the same forms, through every command that takes one -------------------------

#: Ways of naming r3-ka alone (id 7, serial SER0007, 127.0.0.7, the only device at KA-BLR1,
#: the only Arista in the lab), as people type them: quoted or as several words.
ONE_DEVICE = [
    "r3-ka",
    "R3-KA",
    "SER0007",
    "ser0007",
    "127.0.0.7",
    "site:KA-BLR1",
    "site:ka-blr1 role:access lab",
    "'site:KA-BLR1 role:access'",
    "lab platform:arista_eos",
    "r?-ka",
    "r3-*",
    "r3-ka vendor:arista status:active",
    "r3-ka r3-* site:KA-BLR1",
]


class Reached(DomainError):
    """Stands in for SSH: the command got as far as opening this device."""


@pytest.fixture
def no_ssh(looked: tuple[Database, Router], monkeypatch: pytest.MonkeyPatch) -> None:
    """The device connector replaced: opening a device says which one it was."""

    def session(device: Device) -> Any:
        raise Reached(f"reached {device.hostname}")

    monkeypatch.setattr(looked[1].services, "devices", SimpleNamespace(session=session))


@pytest.mark.parametrize("named", ONE_DEVICE)
def test_every_command_that_takes_one_device_takes_the_same_forms(
    looked: tuple[Database, Router], no_ssh: None, named: str
) -> None:
    db, router = looked
    alice = ACCESS.user("alice")

    def said(text: str) -> str:
        reply = router.handle(alice, text)
        return reply.text

    assert said(f'/device run {named} "show version"') == "reached r3-ka"
    assert said(f"/config backup {named}") == "reached r3-ka"
    assert said(f"/config history {named}").startswith("r3-ka: ")
    assert said(f"/config diff {named} 999999") == "r3-ka has no backup 999999"
    with db.read() as s:
        backup = max(
            (b.id for b in s.scalars(sa.select(ConfigBackup).where(ConfigBackup.device_id == 7))),
            default=None,
        )
    if backup is None:
        backup = record_backup(db, 7, "hostname r3-ka", "test", utcnow()).backup
    assert said(f"/config diff {named} {backup}") == "reached r3-ka"  # the backup id read

    opened = router.handle(alice, f'/ticket open {named} "Fan failed" sev=2')
    assert opened.ok, (opened.text, opened.hint)
    with db.read() as s:
        ticket = s.scalars(sa.select(Ticket).order_by(Ticket.id.desc())).first()
        assert ticket is not None and (ticket.device_id, ticket.severity) == (7, 2)


@pytest.mark.parametrize(
    ("named", "message", "hint"),
    [
        (
            "site:MUM-AND1 role:access",
            "site:MUM-AND1 role:access matches 3 devices (r1-mum, r1-mum-old, r10-mum); "
            "this takes one",
            "name the device by its hostname",
        ),
        ("site:KA-BLR1 role:core", "no device matches site:KA-BLR1 role:core", "hostnames, "),
        ("site:KA-BLR2", "no site 'KA-BLR2'", "did you mean KA-BLR1?"),
        ("r3-ka platform:foo", "no platform 'foo'", "platforms: "),
        (
            "127.0.0.1",
            "127.0.0.1 is the management address of several devices "
            "(cr1-mum, cr2-del, r1-mum, r1-mum-old, r10-mum)",
            "name the device by its hostname",
        ),
    ],
)
def test_one_device_refusals_are_the_same_everywhere(
    looked: tuple[Database, Router], no_ssh: None, named: str, message: str, hint: str
) -> None:
    _, router = looked
    for text in (
        f'/device run {named} "show version"',
        f"/config backup {named}",
        f"/config history {named}",
        f"/config diff {named}",
        f'/ticket open {named} "Fan failed"',
    ):
        reply = router.handle(ACCESS.user("alice"), text)
        assert (reply.ok, reply.text) == (False, message), text
        assert reply.hint.startswith(hint), (text, reply.hint)


def test_an_unquoted_show_command_gets_a_hint_to_quote_it(
    looked: tuple[Database, Router], no_ssh: None
) -> None:
    _, router = looked
    reply = router.handle(ACCESS.user("alice"), "/device run site:KA-BLR1 lab show version")
    assert reply.text == "'version' is not an allowed read-only command"
    assert reply.hint == 'quote the command: /device run site:KA-BLR1 lab "show version"'
    missing = router.handle(ACCESS.user("alice"), "/device run r3-ka")
    assert (missing.text, missing.hint) == (
        "missing <show command>",
        "usage: /device run <device>... <show command>",
    )


# -- search with status:active finds what a plan with the same selector changes ----------------


@pytest.mark.parametrize(
    "selector",
    [
        "r1-mum",
        "r1-mum r2-*",
        "r1-mum cr2-del",
        "r1-mum r1-mum-old",
        "r1-mum-old",
        "r10-mum role:access",
        "r3-ka lab",
        "cr1-mum r3-ka lab",
        "*-mum site:MUM-AND1",
        "r2-del vendor:juniper",
        "cr?-* platform:juniper_junos",
        "r1-mum site:DEL-CP1",
        "site:MUM-AND1 site:DEL-CP1 role:core",
        "r1-* *-del",
        "lab",
    ],
)
def test_search_with_status_active_finds_what_a_plan_would_change(
    looked: tuple[Database, Router], selector: str
) -> None:
    db, router = looked
    try:
        planned = [d.hostname for d in select_devices(db, selector.split())]
    except DomainError as exc:  # a plan refuses a selector that no active device matches
        assert str(exc).startswith("no active device matches"), exc
        planned = []
    assert _searched(router, f"{selector} status:active") == planned
    with db.read() as s:
        found = search_devices(s, parse_selector([*selector.split(), "status:active"], search=True))
    assert found.total == len(planned)


def test_search_still_finds_words_inside_hostnames(looked: tuple[Database, Router]) -> None:
    """A word that is no hostname stays a search word, best match first."""
    _, router = looked
    assert _searched(router, "r1-mu") == ["cr1-mum", "r1-mum", "r1-mum-old"]
    assert _searched(router, "r1-mum") == ["r1-mum"]
    assert _searched(router, "r1-mum koramangala") == []  # a hostname AND a search word
    assert _searched(router, "r1-mum cr1-mum mum") == ["cr1-mum", "r1-mum"]


# -- filters that name a site, a severity or a user are checked --------------------------------


@pytest.mark.parametrize(
    ("command", "message", "hint"),
    [
        ("/ticket list site:NOPE", "no site 'NOPE'", "site codes look like MUM-AND1"),
        ("/ticket list site:DEL-CP2", "no site 'DEL-CP2'", "did you mean DEL-CP1?"),
        ("/ticket list site:mum-and2", "no site 'MUM-AND2'", "did you mean MUM-AND1?"),
        ("/ticket list site:", "site: needs a value", "site codes look like MUM-AND1"),
        ("/ticket list sev=0", "severity 0 is not 1-4", "1 is the most urgent"),
        ("/ticket list sev=5", "severity 5 is not 1-4", "1 is the most urgent"),
        ("/ticket list open sev=-1", "severity -1 is not 1-4", "1 is the most urgent"),
        ("/ticket list hers", "unknown filter 'hers'", "mine, open, breached, site:X, sev=N"),
        ("/alarm list site:DEL-CP2", "no site 'DEL-CP2'", "did you mean DEL-CP1?"),
        ("/alarm list site:", "site: needs a value", "site codes look like MUM-AND1"),
        (
            "/alarm list DEL-CP2",
            "'DEL-CP2' is not a severity, site or device",
            "did you mean DEL-CP1? severities: ",
        ),
        ("/alarm list r1-mun", "'r1-mun' is not a severity, site or device", "did you mean r1-mum"),
        ("/alarm list critcal", "'critcal' is not a severity, site or device", "did you mean crit"),
        (
            "/audit recent nosuchuser",
            "no user 'nosuchuser'",
            "users: alice, bob, carol, dave, erin, root",
        ),
    ],
)
def test_filters_naming_a_site_severity_or_user_are_checked(
    looked: tuple[Database, Router], command: str, message: str, hint: str
) -> None:
    _, router = looked
    reply = router.handle(ACCESS.user("root"), command)
    assert (reply.ok, reply.text) == (False, message)
    assert reply.hint.startswith(hint), reply.hint


def test_filters_that_exist_filter(looked: tuple[Database, Router]) -> None:
    db, router = looked
    root = ACCESS.user("root")
    opened = router.handle(root, '/ticket open cr2-del "Card down" sev=1')
    assert opened.ok, (opened.text, opened.hint)
    ref = opened.text.split(" ")[0]

    def tickets(filters: str) -> list[str]:
        reply = router.handle(root, f"/ticket list {filters}")
        assert reply.ok, (reply.text, reply.hint)
        return [row[0] for row in reply.tables[0].rows]

    assert ref in tickets("site:DEL-CP1") and ref in tickets("site:del-cp1 sev=1")
    assert ref in tickets("site:KA-BLR1 site:DEL-CP1")  # the same key ORs, as in a selector
    assert ref not in tickets("site:MUM-AND1") and ref not in tickets("site:DEL-CP1 sev=2")

    with db.transaction() as s:
        for name, device, severity in (("down", 5, "critical"), ("hot", 1, "major")):
            raise_alarm(
                s,
                fingerprint=f"lookups-{name}",
                source=AlarmSource.DEVICE,
                alarm_type=name,
                severity=PerceivedSeverity(severity),
                summary=name,
                device_id=device,
            )

    def alarms(filters: str) -> list[str]:
        reply = router.handle(root, f"/alarm list {filters}")
        assert reply.ok, (reply.text, reply.hint)
        return sorted(row[2] for row in reply.tables[0].rows)

    assert alarms("site:DEL-CP1") == alarms("DEL-CP1") == alarms("del-cp1") == ["r2-del"]
    assert alarms("site:DEL-CP1 site:MUM-AND1") == ["r1-mum", "r2-del"]
    assert alarms("critical major") == ["r1-mum", "r2-del"]
    assert alarms("critical site:MUM-AND1") == []

    # Someone who is no configured user (an unknown Slack user) has their events shown.
    stranger = ACCESS.slack_user("U0STRANGER")
    assert not router.handle(stranger, "/bill BA100000001").ok
    trail = router.handle(root, "/audit recent U0STRANGER")
    assert trail.text == "1 latest audit events by U0STRANGER"
    assert trail.tables[0].rows[0][3] == Outcome.REFUSED.value
    assert router.handle(root, "/audit recent dave").ok  # configured, whatever they did
