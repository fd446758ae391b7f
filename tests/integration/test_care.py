"""Care and money on both databases: payments oldest first, dunning, disputes with
credits, bill lookups and explanations, masking by role, revenue and its assurance."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from domain.billing.choices import InvoiceState, LineKind, UsageState
from domain.billing.models import Adjustment, Invoice, InvoiceLine, Payment, UsageRecord
from domain.billing.revenue import assurance, revenue, window
from domain.billing.services import dunning_moves, record_payment
from domain.catalog.choices import Service, Zone
from domain.config import DunningStep
from domain.customers.choices import DunningState, PaymentMethod
from domain.customers.models import BillingAccount
from domain.db import Database
from domain.errors import Conflict
from tests.world import NOW, lab_router

STEPS = (
    DunningStep(after_days=15, action="reminder"),
    DunningStep(after_days=30, action="suspend"),
)


def invoice(  # type: ignore[no-untyped-def]
    s, n: int, start: date, *, recurring: int, usage: int = 0, paid: int = 0, account: int = 1
) -> Invoice:
    """An invoice with a recurring line and a usage line, tax 18% per line."""
    lines = [(LineKind.RECURRING, None, "Postpaid 399 monthly charge", recurring)]
    if usage:
        lines.append((LineKind.USAGE, Service.VOICE, "Voice beyond allowance", usage))
    taxes = [round(a * 0.18) for *_, a in lines]
    subtotal, tax = sum(a for *_, a in lines), sum(taxes)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    inv = Invoice(
        number=f"INV-{start:%Y%m}-{n:07d}",
        billing_account_id=account,
        period_start=start,
        period_end=end,
        issued_at=NOW.replace(year=end.year, month=end.month, day=end.day) + timedelta(days=1),
        due_date=end + timedelta(days=16),
        state=InvoiceState.SENT,
        subtotal_minor=subtotal,
        tax_minor=tax,
        total_minor=subtotal + tax,
        paid_minor=0,
    )
    s.add(inv)
    s.flush()
    for (kind, service, text, amount), t in zip(lines, taxes, strict=True):
        s.add(
            InvoiceLine(
                invoice_id=inv.id,
                kind=kind,
                description=text,
                service=service,
                amount_minor=amount,
                tax_minor=t,
            )
        )
    s.get(BillingAccount, account).balance_minor += inv.total_minor
    return inv


def usage(s, inv: Invoice | None, when, charge: int, **kw) -> None:  # type: ignore[no-untyped-def]
    s.add(
        UsageRecord(
            subscription_id=1,
            started_at=when,
            service=kw.get("service", Service.VOICE),
            direction="out",
            counterpart=kw.get("to", "971501234567"),
            counterpart_country=kw.get("country", "AE"),
            duration_s=kw.get("duration", 600),
            cell_id="MUM-1",
            imei="356000000000001",
            roaming=kw.get("roaming", False),
            state=UsageState.BILLED if inv else kw.get("state", UsageState.RATED),
            zone=kw.get("zone", Zone.INTL_A),
            charge_minor=charge,
            invoice_id=inv.id if inv else None,
        )
    )


@pytest.fixture
def billed(world: Database) -> Database:
    """Two monthly invoices: September plain, October with calls to the Gulf and roaming."""
    with world.transaction() as s:
        invoice(s, 1, date(2026, 9, 1), recurring=39900)
        october = invoice(s, 2, date(2026, 10, 1), recurring=39900, usage=18000)
        usage(s, october, NOW.replace(month=10, day=5), 12000)
        usage(s, october, NOW.replace(month=10, day=9), 6000, roaming=True, zone=Zone.NATIONAL)
        usage(s, None, NOW.replace(month=11, day=2), 2500)  # this month, rated, not billed
    return world


def test_a_payment_settles_the_oldest_invoice_first_and_keeps_the_rest_as_credit(
    billed: Database,
) -> None:
    with billed.transaction() as s:
        account = s.get(BillingAccount, 1)
        # September is 47,082 (39,900 + 7,182 tax); October 68,322 (57,900 + 10,422).
        r = record_payment(
            s, account, 60000, reference="UTR1", method=PaymentMethod.UPI, received_at=NOW
        )
        assert [(a.invoice, a.amount_minor, a.state) for a in r.allocations] == [
            ("INV-202609-0000001", 47082, InvoiceState.SETTLED),
            ("INV-202610-0000002", 12918, InvoiceState.PARTIALLY_PAID),
        ]
        assert r.credit_minor == 0 and account.balance_minor == 47082 + 68322 - 60000
        r2 = record_payment(
            s, account, 60000, reference="UTR2", method=PaymentMethod.CARD, received_at=NOW
        )
        assert [a.state for a in r2.allocations] == [InvoiceState.SETTLED]
        assert r2.credit_minor == 60000 - (68322 - 12918)
        assert account.balance_minor == -r2.credit_minor
    with billed.transaction() as s, pytest.raises(Conflict, match="UTR1 was already recorded"):
        record_payment(
            s,
            s.get(BillingAccount, 1),
            100,
            reference="UTR1",
            method=PaymentMethod.UPI,
            received_at=NOW,
        )
    with billed.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Payment)) == 2


def test_dunning_moves_forward_while_overdue_and_back_to_current_when_paid(
    billed: Database,
) -> None:
    # September's due date is 16 Oct; October's 16 Nov.
    with billed.read() as s:
        assert dunning_moves(s, STEPS, date(2026, 10, 20)) == []
        (m,) = dunning_moves(s, STEPS, date(2026, 11, 1))
        assert (m.account, m.days_overdue, m.after) == ("BA100000001", 16, DunningState.REMINDED)
        (m,) = dunning_moves(s, STEPS, date(2026, 11, 20))
        assert (m.days_overdue, m.after) == (35, DunningState.SUSPENDED)
    with billed.transaction() as s:
        account = s.get(BillingAccount, 1)
        account.dunning_state = DunningState.SUSPENDED
        r = record_payment(
            s,
            account,
            47082 + 68322,
            reference="UTR9",
            method=PaymentMethod.UPI,
            received_at=NOW.replace(month=11, day=20),
        )
        assert r.cleared_dunning and account.dunning_state == DunningState.CURRENT
    with billed.read() as s:
        assert dunning_moves(s, STEPS, date(2026, 11, 20)) == []


def test_care_lookups_are_private_masked_and_explain_the_change(billed: Database) -> None:
    router, access = lab_router(billed)
    carol = access.user("carol")
    bill = router.handle(carol, "/bill 98765 43210")
    assert bill.ok and bill.ephemeral and bill.text == "Bill for BA100000001"
    fields = {f.label: f.value for f in bill.sections[0].fields}
    assert fields["last invoice"].startswith("INV-202610-0000002 (Oct 2026): ₹683.22, due 16 Nov")
    assert fields["unbilled usage"] == "₹25.00 rated over 1 records"
    assert fields["balance"] == "₹1,154.04" and fields["dunning"] == "current"
    assert router.handle(carol, "/bill Priya").text == "Bill for BA100000001"
    assert router.handle(carol, "/bill BA100000001 --share").ephemeral is False

    explained = router.handle(carol, "/bill explain INV-202610-0000002")
    assert explained.text == (
        "INV-202610-0000002 is ₹683.22, up ₹212.40 from ₹470.82 on INV-202609-0000001."
    )
    said = [sec.text for sec in explained.sections]
    assert said == [
        "New this time: calls to the Gulf and SAARC, ₹120.00.",
        "New this time: roaming calls, ₹60.00.",
        "Tax: ₹104.22, ₹32.40 more than last time.",
    ]
    items = router.handle(carol, "/bill items INV-202610-0000002")
    assert [row[0] for row in items.tables[0].rows] == ["recurring", "usage"]
    assert items.tables[1].rows[0][2] == "97••••••4567 (AE)"  # the other party masked

    customer = router.handle(carol, "/customer 9876543210")
    fields = {f.label: f.value for f in customer.sections[0].fields}
    assert fields["aadhaar"] == "••••••••0123" and fields["address"] == "Mumbai"
    root = router.handle(access.user("root"), "/customer Priya Nair")
    fields = {f.label: f.value for f in root.sections[0].fields}
    assert fields["aadhaar"] == "234567890123" and fields["address"] == "1, Powai"

    assert router.handle(access.user("alice"), "/bill 9876543210").text == (
        "/bill needs the care_agent or manager role; you have engineer"
    )
    missing = router.handle(carol, "/bill 9999999999")
    assert not missing.ok and missing.text == "no subscription with number 919999999999"


def test_a_dispute_marks_the_invoice_and_its_credit_reaches_the_next_bill(
    billed: Database,
) -> None:
    router, access = lab_router(billed)
    carol = access.user("carol")
    opened = router.handle(
        carol, '/dispute open INV-202610-0000002 "roaming charges I did not make"'
    )
    assert opened.ok, opened.text
    ref = opened.text.split()[0]
    # The invoice written as /bill and /customer read it (any case, zeros left out).
    again = router.handle(carol, '/dispute open inv-202610-2 "again"')
    assert not again.ok and again.text == f"INV-202610-0000002 is already disputed in {ref}"
    wrong = router.handle(carol, '/dispute open BA100000001 "not an invoice"')
    assert not wrong.ok and wrong.text == (
        "'BA100000001' is an account number, which is not taken here"
    )
    assert "open disputes" in str(router.handle(carol, "/bill 9876543210").sections)
    too_much = router.handle(carol, f'/dispute resolve {ref} "refund" credit=10000')
    assert not too_much.ok and too_much.text == (
        "a credit of ₹10,000.00 is more than the ₹579.00 of ₹579.00 still creditable on "
        "INV-202610-0000002"
    )
    # A manager who did not open the dispute credits it at once (carol's own would wait).
    dave = access.user("dave")
    done = router.handle(dave, f'/dispute resolve {ref} "roaming partner error" credit=60')
    assert done.ok and done.text == (
        f"{ref} resolved; ADJ-1 credits ₹60.00 on the next invoice; "
        "₹519.00 of ₹579.00 still creditable on INV-202610-0000002"
    )
    with billed.read() as s:
        adj = s.scalars(sa.select(Adjustment)).one()
        inv = s.scalars(sa.select(Invoice).where(Invoice.number == "INV-202610-0000002")).one()
        assert (adj.amount_minor, adj.billed_invoice_id, inv.disputed) == (-6000, None, False)


def test_payments_are_recorded_by_admins_only(billed: Database) -> None:
    router, access = lab_router(billed)
    refused = router.handle(access.user("carol"), "/payment record BA100000001 100 ref=X1")
    assert not refused.ok and "needs the admin role" in refused.text
    paid = router.handle(access.user("root"), "/payment record BA100000001 1,000.50 ref=X1")
    assert paid.ok and paid.text == "₹1,000.50 recorded on BA100000001 (X1)"
    bad = router.handle(access.user("root"), "/payment record BA100000001 12.345 ref=X2")
    assert not bad.ok and bad.text == "'12.345' has more than 2 decimals"


def test_revenue_and_assurance_find_rated_usage_left_off_an_invoice(billed: Database) -> None:
    today = date(2026, 11, 10)  # September's bill is overdue, October's not yet due
    with billed.read() as s:
        r = revenue(s, window("2026-10", today), today)
        # Billed in October: the invoices issued in October (September's, issued on the
        # 1st), as every view of a window counts it (domain/figures.py).
        assert r.totals["billed"] == 47082 and r.totals["unbilled"] == 2500
        assert r.totals["outstanding"] == 47082 + 68322 and r.totals["overdue"] == 47082
        assert r.by_group[("consumer", "Mumbai")]["billed"] == 47082
        clean = assurance(s, window("2026-10", today))
        assert clean.clean and clean.billed_usage_minor == clean.rated_minor == 18000
    with billed.transaction() as s:  # late usage rated after the bill run: leakage
        usage(s, None, NOW.replace(month=10, day=30), 900)
    with billed.read() as s:
        gap = assurance(s, window("2026-10", today))
        assert (gap.leaked_records, gap.leaked_minor) == (1, 900)
        assert gap.leaked_accounts == [("BA100000001", 1, 900)]
    router, access = lab_router(billed)
    shown = router.handle(access.user("dave"), "/revenue assurance 2026-10")
    assert shown.text == "Revenue assurance, October 2026: gaps found"
    bad = router.handle(access.user("dave"), "/revenue 2026-13")
    assert not bad.ok and bad.text == "'2026-13' is not a period"


def test_dunning_suspends_through_orders_and_a_payment_resumes_only_debt_suspensions(
    billed: Database,
) -> None:
    from domain.billing.services import apply_dunning
    from domain.customers.choices import SubscriptionState
    from domain.customers.models import Subscription
    from domain.orders.models import ProductOrder

    with billed.transaction() as s:
        (move,) = dunning_moves(s, STEPS, date(2026, 11, 20))
        refs = apply_dunning(s, move, NOW)
        assert len(refs) == 1
        order = s.scalars(sa.select(ProductOrder)).one()
        assert (order.action, order.state, order.requested_by) == (
            "suspend",
            "completed",
            "dunning",
        )
        assert s.get(Subscription, 1).state == SubscriptionState.SUSPENDED
        assert s.get(BillingAccount, 1).status == "suspended"
    with billed.transaction() as s:  # asked again the same day: nothing more happens
        assert dunning_moves(s, STEPS, date(2026, 11, 20)) == []
    with billed.transaction() as s:
        account = s.get(BillingAccount, 1)
        r = record_payment(
            s, account, 115404, reference="UTR7", method=PaymentMethod.UPI, received_at=NOW
        )
        assert r.cleared_dunning
        assert s.get(Subscription, 1).state == SubscriptionState.ACTIVE
        actions = s.scalars(sa.select(ProductOrder.action).order_by(ProductOrder.id)).all()
        assert actions == ["suspend", "resume"]


def test_a_payment_file_reports_bad_lines_and_never_counts_a_payment_twice(
    billed: Database,
) -> None:
    from domain.billing.services import import_payments
    from domain.config import BillingSettings

    text = (
        "reference,account,amount,received_at,method\n"
        "UTR100,BA100000001,470.82,2026-11-02T10:00:00Z,upi\n"
        "UTR101,BA100000001,abc,2026-11-02,upi\n"
        "UTR102,BA100000001,10,yesterday,upi\n"
        "UTR103,BA999999999,10,2026-11-02,upi\n"
        "UTR104,BA100000001,10,2026-11-02,bitcoin\n"
    )
    refused = import_payments(billed, text, BillingSettings(), now=NOW)
    assert (refused.recorded, refused.total_minor, refused.duplicates) == (0, 0, 0)
    assert refused.refused == [
        "row 3: amount 'abc' is not an amount",
        "row 4: received_at 'yesterday' is not a date",
        "row 5: no billing account 'BA999999999'",
        "row 6: method 'bitcoin' is not one of upi, card, netbanking, autodebit, cheque, cash",
    ]
    with billed.read() as s:  # a refused file stores nothing, not even its good rows
        assert s.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0
    good = "\n".join(text.splitlines()[:2]) + "\n"
    first = import_payments(billed, good, BillingSettings(), now=NOW)
    assert (first.recorded, first.total_minor, first.duplicates) == (1, 47082, 0)
    again = import_payments(billed, good, BillingSettings(), now=NOW)
    assert (again.recorded, again.duplicates, again.refused) == (0, 1, [])
    with pytest.raises(Exception, match="the file has no amount, received_at, method column"):
        import_payments(billed, "reference,account\nX,Y\n", BillingSettings())
