"""The credit approval limit weighs the running total, through the router on SQLite and
PostgreSQL: a dispute carries one credit, and a credit that takes what its asker has
credited on the invoice (given or waiting) past billing.credit_approval_above waits for a
manager, however it is split.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from domain.billing.models import Adjustment, CreditRequest
from domain.db import Database
from skills.reply import Reply
from tests.integration.test_care import invoice
from tests.integration.test_credits import one_line, ticket_of
from tests.world import lab_router

BIG = "INV-202611-0000001"


def test_a_credit_split_past_the_limit_still_waits_for_a_manager(world: Database) -> None:
    with world.transaction() as s:  # ₹20,000.00 of charges; the limit is ₹5,000.00
        invoice(s, 1, date(2026, 11, 1), recurring=2_000_000)
    router, access = lab_router(world)
    carol, dave = access.user("carol"), access.user("dave")
    t1 = ticket_of(router.handle(dave, f'/dispute open {BIG} "line down for days"'))
    first = router.handle(carol, f'/dispute resolve {t1} "outage" credit=4999')
    assert first.ok and first.text.startswith(f"{t1} resolved; ADJ-1 credits ₹4,999.00"), first

    # The reviewer's way round the limit: move the dispute back and resolve it again.
    assert router.handle(carol, f"/ticket status {t1} inProgress").ok
    again = router.handle(carol, f'/dispute resolve {t1} "more outage" credit=4746')
    one_line(again)
    assert (
        again.text
        == f"{t1} already carries a credit (ADJ-1, ₹4,999.00); a dispute carries one credit"
    )
    assert (
        again.hint
        == f'resolve it without credit=, or open a new dispute: /dispute open {BIG} "why"'
    )

    assert router.handle(carol, f'/dispute resolve {t1} "credited before"').ok

    # A new dispute on the same invoice: carol's running total passes the limit, so it waits.
    t2 = ticket_of(router.handle(dave, f'/dispute open {BIG} "and the week after"'))
    second = router.handle(carol, f'/dispute resolve {t2} "more outage" credit=4746')
    assert second.ok
    assert second.text.startswith(
        f"{t2} resolved; credit CRD-1 of ₹4,746.00 waits for a manager (with the ₹4,999.00 "
        "carol credited on this invoice before, it comes to ₹9,745.00, above ₹5,000.00)"
    ), second.text
    # Waiting credits count too: a third small one waits as well.
    t3 = ticket_of(router.handle(dave, f'/dispute open {BIG} "one more day"'))
    third = router.handle(carol, f'/dispute resolve {t3} "a day" credit=1')
    assert "waits for a manager (with the ₹9,745.00 carol credited" in third.text, third.text
    # Someone else's credits are not carol's: dave's small credit goes through.
    t4 = ticket_of(router.handle(carol, f'/dispute open {BIG} "billing error"'))
    own = router.handle(dave, f'/dispute resolve {t4} "error" credit=100')
    assert own.ok and f"{t4} resolved; ADJ-2 credits ₹100.00" in own.text, own.text
    with world.read() as s:
        assert sorted(s.scalars(sa.select(Adjustment.amount_minor))) == [-499900, -10000]
        assert s.scalars(
            sa.select(CreditRequest.amount_minor).order_by(CreditRequest.id)
        ).all() == [
            474600,
            100,
        ]


def test_opening_a_dispute_says_what_is_still_creditable(world: Database) -> None:
    with world.transaction() as s:
        invoice(s, 1, date(2026, 11, 1), recurring=2_000_000)
    router, access = lab_router(world)
    carol, dave = access.user("carol"), access.user("dave")

    def creditable(reply: Reply) -> str:
        fields = {f.label: f.value for sec in reply.sections for f in sec.fields}
        return fields["still creditable"]

    t1 = router.handle(dave, f'/dispute open {BIG} "line down"')
    assert creditable(t1) == "₹20,000.00 of ₹20,000.00 charged"
    assert router.handle(carol, f'/dispute resolve {ticket_of(t1)} "outage" credit=4999').ok
    t2 = router.handle(dave, f'/dispute open {BIG} "and again"')
    assert creditable(t2) == "₹15,001.00 of ₹20,000.00 charged"
