"""Amounts, dates and references that make no sense are refused, in chat and in payment
files alike: a comma as a decimal point, digits grouped wrongly, another currency, a date
that has not begun in the operator's zone, a reference reused for another payment.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from domain.billing.models import Adjustment, CreditRequest, Payment
from domain.billing.services import PAYMENT_COLUMNS, import_payments
from domain.config import BillingSettings
from domain.db import Database
from tests.integration.test_care import invoice
from tests.world import NOW, lab_router

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
