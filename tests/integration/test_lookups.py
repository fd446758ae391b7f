"""One lookup grammar on a real SQLite world: every entry point that takes a customer's
number finds the same line however it is written, and every command that targets
devices selects the same devices for the same selector."""

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
from domain.catalog.choices import Segment
from domain.config import PROJECT_ROOT, load_settings
from domain.customers.choices import IdDocument, PaymentMethod
from domain.customers.models import BillingAccount, Customer
from domain.db import Database
from domain.errors import DomainError, NotFound
from domain.faults.models import Ticket
from domain.inventory.choices import DeviceRole, DeviceStatus, Platform, SiteKind
from domain.inventory.models import Device, Site
from domain.inventory.queries import devices_matching, search_devices
from domain.lookup import CARE, TICKET_SUBJECT, parse_selector, resolve_subject
from domain.orders.models import ProductOrder
from models.fraud.desk import FraudDesk
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
                mgmt_host="127.0.0.1",
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


@pytest.fixture(scope="module")
def looked(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[Database, Router]]:
    path = tmp_path_factory.mktemp("lookups") / "l.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
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


def _ticket_line(db: Database, router: Router, typed: str) -> int | None:
    opened = router.handle(ACCESS.user("carol"), f'/ticket open "{typed}" "No data"')
    assert opened.ok, (opened.text, opened.hint)
    with db.read() as s:
        return s.scalars(sa.select(Ticket.subscription_id).order_by(Ticket.id.desc())).first()


def _order_customer(db: Database, ref: str) -> int:
    with db.read() as s:
        return s.scalars(
            sa.select(ProductOrder.customer_id).where(ProductOrder.id == int(ref[2:]))
        ).one()


@pytest.mark.parametrize("typed", SPELLINGS)
def test_every_entry_point_finds_the_same_line_however_the_number_is_written(
    looked: tuple[Database, Router], fraud_line: list[list[int]], typed: str
) -> None:
    db, router = looked
    carol, erin = ACCESS.user("carol"), ACCESS.user("erin")

    assert _ticket_line(db, router, typed) == 1

    ordered = router.handle(carol, f'/order new "{typed}" POST-399')
    assert ordered.ok, (ordered.text, ordered.hint)
    assert _order_customer(db, ordered.meta["order"]) == 1

    status, answer = receive(db, SETTINGS, {"customer": typed, "offering": "POST-399"})
    assert status in (201, 202), answer
    assert _order_customer(db, answer["order"]) == 1

    bill = router.handle(carol, f'/bill "{typed}"')
    assert bill.text == "Bill for BA100000001", (bill.text, bill.hint)

    card = router.handle(carol, f'/customer "{typed}"')
    assert card.text == "Priya Nair", (card.text, card.hint)

    checked = router.handle(erin, f'/fraud check "{typed}"')
    assert checked.text == "scored" and fraud_line[-1] == [1]


@pytest.mark.parametrize("typed", ["9999999999", "+91 99999 99999", "099999-99999"])
def test_a_number_nobody_has_is_the_same_refusal_everywhere(
    looked: tuple[Database, Router], typed: str
) -> None:
    _, router = looked
    said = {
        "ticket": router.handle(ACCESS.user("carol"), f'/ticket open "{typed}" "x"').text,
        "order": router.handle(ACCESS.user("carol"), f'/order new "{typed}" POST-399').text,
        "bill": router.handle(ACCESS.user("carol"), f'/bill "{typed}"').text,
        "customer": router.handle(ACCESS.user("carol"), f'/customer "{typed}"').text,
        "fraud": router.handle(ACCESS.user("erin"), f'/fraud check "{typed}"').text,
    }
    assert set(said.values()) == {"no subscription with number 919999999999"}, said


def test_names_accounts_invoices_and_devices_in_the_one_grammar(
    looked: tuple[Database, Router],
) -> None:
    db, router = looked
    carol = ACCESS.user("carol")
    several = router.handle(carol, "/customer Priya")
    assert several.text == (
        "'Priya' matches several customers: Priya Nair (Mumbai, BA100000001), "
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
    assert planned.ok, (planned.text, planned.hint)
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
    assert text.endswith(": nothing to apply; 1 device(s) could not be read")


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
    if not selector.hostnames:  # search takes plain words as search words, not hostnames
        assert searched.total == len(meant)
