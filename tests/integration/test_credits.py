"""Credits through the router, on SQLite and PostgreSQL: never more than an invoice charged,
and a second person (a manager other than whoever asked or opened the dispute) for a credit
above billing.credit_approval_above or on a dispute its resolver opened.

The `billed` world (tests/integration/test_care.py): October's invoice INV-202610-0000002
charged ₹579.00 before tax (₹399.00 monthly, ₹180.00 usage).
"""

from __future__ import annotations

import re
import threading
from datetime import date

import pytest
import sqlalchemy as sa

from domain.billing.models import Adjustment, CreditRequest, Invoice
from domain.billing.services import CreditRule, resolve_dispute, settle_dispute
from domain.catalog.choices import Zone
from domain.config import BillingSettings
from domain.db import Database
from domain.errors import DomainError
from domain.faults.choices import TicketKind
from domain.faults.services import open_ticket
from skills.reply import Reply
from tests.integration.test_care import invoice, usage
from tests.world import NOW, lab_router

OCTOBER = "INV-202610-0000002"
SLA = {1: 4.0, 2: 8.0, 3: 24.0, 4: 72.0}


@pytest.fixture
def billed(world: Database) -> Database:
    """As in test_care: September plain, October with calls to the Gulf and roaming."""
    with world.transaction() as s:
        invoice(s, 1, date(2026, 9, 1), recurring=39900)
        october = invoice(s, 2, date(2026, 10, 1), recurring=39900, usage=18000)
        usage(s, october, NOW.replace(month=10, day=5), 12000)
        usage(s, october, NOW.replace(month=10, day=9), 6000, roaming=True, zone=Zone.NATIONAL)
    return world


def one_line(reply: Reply) -> None:
    """A refusal a person can act on: one short line and a hint."""
    assert not reply.ok, reply.text
    assert "\n" not in reply.text and len(reply.text) < 200, reply.text
    assert reply.hint.strip(), reply.text
    assert "unexpectedly" not in reply.text + reply.hint


def ticket_of(reply: Reply) -> str:
    found = re.match(r"T-\d+", reply.text)
    assert found, (reply.text, reply.hint)
    return found.group(0)


def counts(db: Database) -> tuple[int, int]:
    with db.read() as s:
        adjustments = s.scalar(sa.select(sa.func.count()).select_from(Adjustment))
        requests = s.scalar(sa.select(sa.func.count()).select_from(CreditRequest))
    return int(adjustments or 0), int(requests or 0)


def test_carol_cannot_credit_an_invoice_s_charges_three_times_herself(billed: Database) -> None:
    """The issue's example: three disputes, each crediting the full charges (ADJ-1..3)."""
    router, access = lab_router(billed)
    carol, dave = access.user("carol"), access.user("dave")
    first = ticket_of(router.handle(carol, f'/dispute open {OCTOBER} "not my calls"'))
    waits = router.handle(carol, f'/dispute resolve {first} "refund all" credit=579')
    assert waits.ok and waits.text == (
        f"{first} resolved; credit CRD-1 of ₹579.00 waits for a manager "
        f"(carol opened {first} too); ₹0.00 of ₹579.00 still creditable on {OCTOBER}"
    )
    assert waits.hint == "a manager other than carol approves it: /credit approve CRD-1"
    # Her private answer offers no Approve / Reject she may not press; the managers'
    # channel card carries them (tests/integration/test_credit_announce.py).
    assert waits.ephemeral and waits.buttons == ()
    assert counts(billed) == (0, 1)  # nothing credited yet

    # A second and a third dispute on the same invoice find nothing left to credit.
    for _ in range(2):
        again = ticket_of(router.handle(carol, f'/dispute open {OCTOBER} "still not mine"'))
        refused = router.handle(carol, f'/dispute resolve {again} "refund all" credit=579')
        one_line(refused)
        assert refused.text == (
            f"a credit of ₹579.00 is more than the ₹0.00 of ₹579.00 still creditable on {OCTOBER}"
        )
        assert refused.hint == (
            f"₹579.00 waiting for approval already; credit at most ₹0.00: /bill explain {OCTOBER}"
        )
        closed = router.handle(carol, f'/dispute resolve {again} "nothing more to refund"')
        assert closed.ok and closed.text == (
            f"{again} resolved; no credit; ₹0.00 of ₹579.00 still creditable on {OCTOBER}"
        )
    assert counts(billed) == (0, 1)

    # carol cannot approve it (not a manager); dave can, once.
    denied = router.handle(carol, "/credit approve CRD-1")
    assert not denied.ok and denied.text.startswith("/credit approve needs the manager role")
    approved = router.handle(dave, "/credit approve CRD-1")
    assert approved.ok and approved.text == (
        f"CRD-1 approved by dave: ADJ-1 credits ₹579.00 on the next invoice; "
        f"₹0.00 of ₹579.00 still creditable on {OCTOBER}"
    )
    twice = router.handle(dave, "/credit approve CRD-1")
    one_line(twice)
    assert re.fullmatch(
        r"CRD-1 was already approved by dave at \d{4}-\d\d-\d\d \d\d:\d\d UTC; nothing was done",
        twice.text,
    ), twice.text
    after = router.handle(dave, "/credit reject CRD-1 'too late'")
    one_line(after)
    assert after.text.startswith("CRD-1 was already approved by dave")
    assert counts(billed) == (1, 1)
    with billed.read() as s:
        assert s.scalars(sa.select(Adjustment.amount_minor)).all() == [-57900]


def test_a_credit_above_the_limit_waits_for_a_manager_who_neither_asked_nor_opened(
    billed: Database,
) -> None:
    with billed.transaction() as s:  # a big bill: ₹9,000.00 of monthly charges
        invoice(s, 3, date(2026, 11, 1), recurring=900000)
    big = "INV-202611-0000003"
    router, access = lab_router(billed)
    carol, dave, root = access.user("carol"), access.user("dave"), access.user("root")

    # Below the limit, on a dispute someone else opened: credited at once.
    t1 = ticket_of(router.handle(carol, f'/dispute open {big} "plan changed mid-month"'))
    small = router.handle(dave, f'/dispute resolve {t1} "pro-rata" credit=1000')
    assert small.text == (
        f"{t1} resolved; ADJ-1 credits ₹1,000.00 on the next invoice; "
        f"₹8,000.00 of ₹9,000.00 still creditable on {big}"
    )
    # Above it (₹5,000.00 by default): it waits, and its asker cannot approve it.
    t2 = ticket_of(router.handle(carol, f'/dispute open {big} "line was down a week"'))
    large = router.handle(dave, f'/dispute resolve {t2} "outage credit" credit=6000')
    assert large.text == (
        f"{t2} resolved; credit CRD-1 of ₹6,000.00 waits for a manager "
        f"(it is above ₹5,000.00); ₹2,000.00 of ₹9,000.00 still creditable on {big}"
    )
    own = router.handle(dave, "/credit approve CRD-1")
    one_line(own)
    assert own.text == "dave asked for CRD-1; a manager other than dave must approve or reject it"
    # Below the limit, on her own dispute: carol's credit waits too.
    t3 = ticket_of(router.handle(carol, f'/dispute open {big} "billed after cease"'))
    opened = router.handle(carol, f'/dispute resolve {t3} "ceased early" credit=500')
    assert opened.text == (
        f"{t3} resolved; credit CRD-2 of ₹500.00 waits for a manager (carol opened {t3} too); "
        f"₹1,500.00 of ₹9,000.00 still creditable on {big}"
    )
    listed = router.handle(dave, "/credit list")
    assert listed.text == "2 credit(s) wait for a manager"
    assert [row[0] for row in listed.tables[0].rows] == ["CRD-1", "CRD-2"]
    assert [b.command for b in listed.buttons][:2] == [
        "/credit approve CRD-1",
        "/credit reject CRD-1",
    ]
    yes = router.handle(root, "/credit approve CRD-1")
    assert yes.ok and yes.text.startswith("CRD-1 approved by root: ADJ-2 credits ₹6,000.00")
    no_reason = router.handle(dave, "/credit reject CRD-2")
    assert not no_reason.ok and no_reason.text == "missing <reason>"
    no = router.handle(dave, '/credit reject CRD-2 "the cease was on time"')
    assert no.ok and no.text == (
        f"CRD-2 rejected by dave: nothing is credited; ₹2,000.00 of ₹9,000.00 still "
        f"creditable on {big}"
    )
    late = router.handle(root, "/credit approve CRD-2")
    one_line(late)
    assert late.text.startswith("CRD-2 was already rejected by dave at ")
    assert router.handle(dave, "/credit list").text == "No credit waits for a manager"
    assert counts(billed) == (2, 2)


def test_the_opener_of_a_dispute_cannot_approve_its_credit(billed: Database) -> None:
    """dave opened the dispute, root asked for the credit: dave may not approve it."""
    router, access = lab_router(billed)
    dave, root = access.user("dave"), access.user("root")
    with billed.transaction() as s:  # a credit above the limit asked for by root
        invoice(s, 3, date(2026, 11, 1), recurring=900000)
    ref = ticket_of(router.handle(dave, '/dispute open INV-202611-0000003 "double charge"'))
    asked = router.handle(root, f'/dispute resolve {ref} "refund" credit=6000')
    assert asked.ok and "CRD-1 of ₹6,000.00 waits for a manager (it is above" in asked.text
    refused = router.handle(dave, "/credit approve CRD-1")
    one_line(refused)
    assert refused.text == (
        "dave opened the dispute behind CRD-1; a manager other than dave must approve or reject it"
    )
    assert counts(billed) == (0, 1)


def test_pending_credits_show_as_pending_never_as_applied(billed: Database) -> None:
    router, access = lab_router(billed)
    carol, dave = access.user("carol"), access.user("dave")
    ref = ticket_of(router.handle(carol, f'/dispute open {OCTOBER} "roaming I did not make"'))
    router.handle(carol, f'/dispute resolve {ref} "roaming partner error" credit=60')
    bill = router.handle(carol, "/bill 9876543210")
    fields = {f.label: f.value for f in bill.sections[0].fields}
    assert fields["pending credits"] == (f"CRD-1 ₹60.00 on {OCTOBER} by carol, waits for a manager")
    assert fields["balance"] == "₹1,154.04"  # unchanged: nothing is credited yet
    said = [s.text for s in router.handle(carol, f"/bill explain {OCTOBER}").sections]
    assert said[-2:] == [
        "CRD-1 would credit ₹60.00: it waits for a manager and is on no bill yet.",
        "₹519.00 of ₹579.00 still creditable.",
    ]
    assert not any("ADJ-" in line for line in said)
    router.handle(dave, "/credit approve CRD-1")
    said = [s.text for s in router.handle(carol, f"/bill explain {OCTOBER}").sections]
    assert said[-2:] == [
        "ADJ-1 credits ₹60.00, on the next invoice.",
        "₹519.00 of ₹579.00 still creditable.",
    ]
    fields = {
        f.label: f.value for f in router.handle(carol, "/bill 98765 43210").sections[0].fields
    }
    assert "pending credits" not in fields


def test_bill_explain_names_each_group_once_and_its_lines_add_up(billed: Database) -> None:
    """The issue's example: "New this time: calls beyond the allowance, ₹4,639.80" next to
    "No usage beyond the allowance this time": September was billed before usage records
    were linked to invoices, so its usage was one group and October's another."""
    with billed.transaction() as s:
        invoice(s, 3, date(2026, 11, 1), recurring=39900, usage=5000)  # no records linked
        december = invoice(s, 4, date(2026, 12, 1), recurring=39900, usage=463980)
        usage(s, december, NOW.replace(month=12, day=3), 463980, zone=None, country="")
    router, access = lab_router(billed)
    explained = router.handle(access.user("carol"), "/bill explain INV-202612-0000004")
    said = [s.text for s in explained.sections]
    assert said == [
        "Calls beyond the allowance: ₹4,639.80, ₹4,589.80 more than last time.",
        "Tax: ₹906.98, ₹826.16 more than last time.",
    ]
    e = explained.data
    assert sum(c.now.minor - c.before.minor for c in e.changes) == (
        e.total.minor - e.previous_total.minor
    )
    named = [c.what for c in e.changes]
    assert len(named) == len(set(named))


def test_two_credits_at_once_cannot_both_pass_the_ceiling(billed: Database) -> None:
    """One credit holds the invoice while a second, on another dispute of the same invoice,
    is weighed: the second waits for the first and then finds nothing left."""
    with billed.transaction() as s:
        inv = s.scalars(sa.select(Invoice).where(Invoice.number == OCTOBER)).one()
        refs = [
            open_ticket(
                s,
                title=f"Dispute {i}",
                severity=3,
                reporter="carol",
                sla_hours=SLA,
                kind=TicketKind.BILLING_DISPUTE,
                invoice_id=inv.id,
                customer_id=1,
                now=NOW,
            ).ref
            for i in (1, 2)
        ]
    billing = BillingSettings()
    holding, release = threading.Event(), threading.Event()
    second: list[object] = []

    def first_credit() -> None:
        with billed.transaction() as s:
            resolve_dispute(
                s,
                refs[0],
                "full refund",
                credit_minor=57900,
                actor="dave",
                now=NOW,
                rule=CreditRule(billing),
            )
            holding.set()
            release.wait(10)

    def second_credit() -> None:
        holding.wait(10)
        try:
            second.append(
                settle_dispute(
                    billed,
                    billing,
                    refs[1],
                    "full refund",
                    credit_minor=57900,
                    actor="dave",
                    now=NOW,
                )
            )
        except DomainError as exc:
            second.append(exc)

    a = threading.Thread(target=first_credit)
    b = threading.Thread(target=second_credit)
    a.start()
    b.start()
    assert holding.wait(10)
    b.join(1.0)  # the second is held behind the first's transaction...
    assert b.is_alive() and not second
    release.set()
    a.join(10)
    b.join(10)
    (outcome,) = second
    assert isinstance(outcome, DomainError), outcome
    assert str(outcome) == (
        f"a credit of ₹579.00 is more than the ₹0.00 of ₹579.00 still creditable on {OCTOBER}"
    )
    assert counts(billed) == (1, 0)
