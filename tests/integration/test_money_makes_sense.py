"""Amounts, dates and references that make no sense are refused, in chat and in payment
files alike: a comma as a decimal point, digits grouped wrongly, another currency, a date
that has not begun in the operator's zone, a reference reused for another payment.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.access import Access
from bot.cli import main
from domain.billing.models import Adjustment, CreditRequest, Payment
from domain.billing.services import PAYMENT_COLUMNS, import_payments
from domain.config import BillingSettings
from domain.db import Database
from tests.integration.test_care import invoice
from tests.world import NOW, lab_router, lab_settings, make_router

#: Typed amounts that are not rupees as an Indian operator writes them.
NONSENSE = ("1499,50", "1,0,0", "1_000", "10,00", "1,2345", "USD100", "€5", "$5", "100 EUR")
#: And what is fine: plain, Western and Indian grouping, the rupee's sign, code and name.
SENSE = {
    "1499.50": 149950,
    "1,499.50": 149950,
    "1,49,950.00": 14995000,
    "₹1,499.5": 149950,
    "Rs 100": 10000,
    "Rs.100": 10000,
    "INR 1,00,000": 10000000,
    "250 INR": 25000,
}


@pytest.fixture
def invoiced(world: Database) -> Database:
    with world.transaction() as s:
        invoice(s, 1, date(2026, 10, 1), recurring=39900)
    return world


def stored(db: Database) -> tuple[int, int, int]:
    with db.read() as s:
        return tuple(  # type: ignore[return-value]
            int(s.scalar(sa.select(sa.func.count()).select_from(t)) or 0)
            for t in (Payment, Adjustment, CreditRequest)
        )


def test_chat_refuses_amounts_that_make_no_sense_in_one_line(invoiced: Database) -> None:
    router, access = lab_router(invoiced)
    opened = router.handle(access.user("carol"), '/dispute open INV-202610-0000001 "sweep"')
    ticket = re.match(r"T-\d+", opened.text)
    assert ticket, opened.text
    for bad in NONSENSE:
        for user, typed in (
            ("root", f'/payment record BA100000001 "{bad}" ref=EU1'),
            ("dave", f'/dispute resolve {ticket.group(0)} "sweep" "credit={bad}"'),
        ):
            reply = router.handle(access.user(user), typed)
            said = f"{typed}: {reply.text!r} / {reply.hint!r}"
            assert not reply.ok, said
            assert reply.text.startswith(f"{bad!r} is "), said
            assert "\n" not in reply.text and reply.hint.strip(), said
    assert stored(invoiced) == (0, 0, 0)


def test_what_the_refusals_say(invoiced: Database) -> None:
    router, access = lab_router(invoiced)
    root = access.user("root")
    comma = router.handle(root, "/payment record BA100000008 1499,50 ref=EU1")
    assert comma.text == (
        "'1499,50' is not an amount: digits are grouped only by commas, in thousands "
        "(1,499) or lakhs (1,49,950)"
    )
    assert comma.hint == "write it like 1499.50 or 1,499.50; decimals follow a point"
    dollars = router.handle(root, "/payment record BA100000001 USD100 ref=EU1")
    assert dollars.text == "'USD100' is in USD; amounts here are in INR"
    assert dollars.hint == "write the amount in INR, like ₹1499.50"
    assert router.handle(root, "/payment record BA100000001 €5 ref=EU1").text == (
        "'€5' is in EUR; amounts here are in INR"
    )


def test_rupees_written_every_sane_way_are_taken(invoiced: Database) -> None:
    router, access = lab_router(invoiced)
    for n, (typed, minor) in enumerate(SENSE.items()):
        reply = router.handle(
            access.user("root"), f'/payment record BA100000001 "{typed}" ref=OK-{n}'
        )
        assert reply.ok, (typed, reply.text, reply.hint)
        assert reply.data.amount.minor == minor, typed
    assert stored(invoiced) == (len(SENSE), 0, 0)


def _file(rows: list[str]) -> str:
    return "\n".join([",".join(PAYMENT_COLUMNS), *rows]) + "\n"


@pytest.mark.parametrize("bad", NONSENSE)
def test_a_payment_file_refuses_the_same_amounts_naming_the_row(
    invoiced: Database, bad: str
) -> None:
    text = _file(
        [
            "UTR-OK,BA100000001,470.82,2026-11-02T10:00:00Z,upi",
            f'UTR-BAD,BA100000001,"{bad}",2026-11-02T10:00:00Z,upi',
        ]
    )
    r = import_payments(invoiced, text, BillingSettings(), now=NOW)
    (line,) = r.refused
    assert line.startswith(f"row 3: amount {bad!r} is "), line
    assert stored(invoiced) == (0, 0, 0)


#: 02:46 on 2 December in Kolkata, still 1 December in UTC.
AFTER_MIDNIGHT = datetime(2026, 12, 1, 21, 16, tzinfo=UTC)
#: 23:30 on 1 December in Kolkata.
BEFORE_MIDNIGHT = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def _paid(db: Database, reference: str) -> datetime | None:
    with db.read() as s:
        when = s.scalar(sa.select(Payment.received_at).where(Payment.reference == reference))
    return when.replace(tzinfo=UTC) if when and when.tzinfo is None else when


@pytest.mark.parametrize(
    ("now", "day", "taken"),
    [
        (AFTER_MIDNIGHT, "2026-12-02", True),
        (AFTER_MIDNIGHT, "2026-12-03", False),
        (BEFORE_MIDNIGHT, "2026-12-02", False),
        (BEFORE_MIDNIGHT, "2026-12-01", True),
    ],
)
def test_chat_and_files_date_a_payment_by_the_operators_day_never_after_now(
    invoiced: Database, now: datetime, day: str, taken: bool
) -> None:
    settings = lab_settings()
    assert settings.billing.timezone == "Asia/Kolkata"
    router = make_router(invoiced, settings, clock=lambda: now)
    access = Access(settings)
    chat = router.handle(
        access.user("root"), f"/payment record BA100000001 10 ref=CHAT-1 date={day}"
    )
    csv = import_payments(
        invoiced,
        _file([f"FILE-1,BA100000001,10,{day},upi"]),
        settings.billing,
        now=now,
    )
    assert chat.ok is taken, (chat.text, chat.hint)
    assert (csv.recorded == 1) is taken, csv.refused
    if taken:  # today is stored as the moment it was recorded: never in the future
        assert _paid(invoiced, "CHAT-1") == now == _paid(invoiced, "FILE-1")
    else:
        local = "2026-12-02, 02:46" if now == AFTER_MIDNIGHT else "2026-12-01, 23:30"
        said = f"{day} has not come yet (today is {local} in Asia/Kolkata)"
        assert chat.text == said
        assert csv.refused == [f"row 2: received_at {said}"]
        assert _paid(invoiced, "CHAT-1") is None is _paid(invoiced, "FILE-1")


def test_an_earlier_day_is_stored_at_noon_in_the_operators_zone(invoiced: Database) -> None:
    settings = lab_settings()
    router = make_router(invoiced, settings, clock=lambda: AFTER_MIDNIGHT)
    reply = router.handle(
        Access(settings).user("root"), "/payment record BA100000001 10 ref=NOON date=2026-11-30"
    )
    assert reply.ok, reply.text
    assert _paid(invoiced, "NOON") == datetime(2026, 11, 30, 6, 30, tzinfo=UTC)


def test_a_file_reusing_a_reference_for_another_payment_is_refused_as_a_conflict(
    invoiced: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from domain.customers.choices import PaymentMethod
    from domain.customers.models import BillingAccount

    with invoiced.transaction() as s:
        s.add(
            BillingAccount(
                account_number="BA100000002",
                customer_id=1,
                credit_limit_minor=0,
                payment_method=PaymentMethod.UPI,
            )
        )
    router, access = lab_router(invoiced)
    assert router.handle(access.user("root"), "/payment record BA100000001 10 ref=EU1").ok
    when = "2026-11-02T10:00:00Z"
    for row, said in (
        (f"EU1,BA100000001,20,{when},upi", "₹20.00 on BA100000001"),
        (f"EU1,BA100000002,10,{when},upi", "₹10.00 on BA100000002"),
    ):
        path = tmp_path / "conflict.csv"
        path.write_text(_file([f"UTR-NEW,BA100000001,5,{when},upi", row]), encoding="utf-8")
        assert main(["billing", "payments", str(path), "--database", invoiced.url]) == 1
        _, err = capsys.readouterr()
        assert (
            f"  row 3: reference EU1 was recorded before as ₹10.00 on BA100000001, not {said}"
            in err.splitlines()
        ), err
        assert stored(invoiced) == (1, 0, 0)  # nothing of the file, not even row 2
    same = tmp_path / "again.csv"  # the same payment again: counted, not recorded twice
    same.write_text(_file([f"EU1,BA100000001,10.00,{when},upi"]), encoding="utf-8")
    assert main(["billing", "payments", str(same), "--database", invoiced.url]) == 0
    out, _ = capsys.readouterr()
    assert out.strip() == "0 payment(s) recorded, ₹0.00; 1 already recorded"
