"""What care views of money show: an account's bill, an invoice's lines, why a bill changed.

Every function reads only and takes a session; amounts come back as `Amount` (number and
currency), so `/bill`, `/bill items` and `/bill explain` render them and scripts get them
as numbers (`switchboard chat --json`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.billing.choices import CreditState, InvoiceState, LineKind
from domain.billing.models import Adjustment, CreditRequest, Invoice, InvoiceLine, UsageRecord
from domain.billing.services import (
    credit_room,
    invoice_by_number,
    latest_invoices,
    open_disputes,
    pending_credits,
    previous_invoice,
    recent_payments,
    top_usage,
    unbilled_usage,
)
from domain.catalog.choices import ZONE_PLACES, Segment, Service, Zone
from domain.config import BillingSettings
from domain.customers.choices import AccountStatus, DunningState, PaymentMethod
from domain.customers.models import BillingAccount
from domain.customers.services import resolve_account
from domain.db import make_ref
from domain.faults.models import Ticket
from domain.money import SPELLED_OUT, Amount
from domain.privacy import Audience, mask_name, mask_phone, mask_reference, mask_text

# -- an account's bill ------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceSummary:
    number: str
    period_start: date
    total: Amount
    due_date: date
    state: InvoiceState
    disputed: bool


@dataclass(frozen=True)
class PaymentRow:
    reference: str
    amount: Amount
    received_at: datetime
    method: PaymentMethod


@dataclass(frozen=True)
class UnbilledUsage:
    """Usage not on an invoice yet: rated (priced) and received (not priced yet)."""

    rated_records: int
    rated: Amount
    received_records: int


@dataclass(frozen=True)
class DisputeRow:
    ticket: str
    invoice: str


@dataclass(frozen=True)
class PendingCredit:
    """A credit that waits for a manager: not on any bill, not in the balance."""

    credit: str
    invoice: str
    amount: Amount
    requested_by: str
    #: Why it needs a manager, in words (amounts written out).
    why: str = field(metadata=SPELLED_OUT)


def _pending(session: Session, request: CreditRequest, billing: BillingSettings) -> PendingCredit:
    invoice = session.get_one(Invoice, request.invoice_id)
    return PendingCredit(
        request.ref,
        invoice.number,
        Amount.of(request.amount_minor, billing),
        request.requested_by,
        request.why,
    )


def credits_waiting(
    session: Session, billing: BillingSettings, limit: int = 20
) -> tuple[list[PendingCredit], int]:
    """Credits waiting for a manager, oldest first (at most `limit`), and how many in all."""
    found, total = pending_credits(session, limit=limit)
    return [_pending(session, r, billing) for r in found], total


@dataclass(frozen=True)
class CreditView:
    """A credit as its card in the approvals channel shows it, waiting or decided."""

    credit: str
    state: CreditState
    amount: Amount
    customer: str
    account: str
    invoice: str
    #: The dispute it settles, if any.
    ticket: str | None
    requested_by: str
    requested_at: datetime
    #: Why it needs a manager, in words (amounts written out).
    why: str = field(metadata=SPELLED_OUT)
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    #: The adjustment an approval issued.
    adjustment: str | None = None


def credit_view(
    session: Session,
    credit_id: int,
    billing: BillingSettings,
    *,
    audience: Audience = Audience.CHANNEL,
) -> CreditView:
    """One credit request; for a channel, the customer's first name and initial, the
    account's last four and the manager's note scanned."""
    request = session.get_one(CreditRequest, credit_id)
    invoice = session.get_one(Invoice, request.invoice_id)
    account = session.get_one(BillingAccount, request.billing_account_id)
    customer = account.customer
    ticket = session.get(Ticket, request.ticket_id) if request.ticket_id else None
    channel = audience == Audience.CHANNEL
    return CreditView(
        credit=request.ref,
        state=request.state,
        amount=Amount.of(request.amount_minor, billing),
        customer=mask_name(customer.name) if channel else customer.name,
        account=mask_reference(account.account_number) if channel else account.account_number,
        invoice=invoice.number,
        ticket=ticket.ref if ticket else None,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        why=request.why,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
        decision_note=(
            mask_text(request.decision_note)
            if channel and request.decision_note
            else request.decision_note
        ),
        adjustment=(
            make_ref(Adjustment.ref_prefix, request.adjustment_id)
            if request.adjustment_id
            else None
        ),
    )


#: How many pending credits `/bill` lists before saying how many more there are.
PENDING_SHOWN = 5


@dataclass(frozen=True)
class BillView:
    """What `/bill` tells about an account."""

    customer: str
    segment: Segment
    account: str
    account_status: AccountStatus
    #: What the account owes now (negative: in credit).
    balance: Amount
    credit_limit: Amount
    dunning: DunningState
    last_invoice: InvoiceSummary | None
    unbilled: UnbilledUsage
    #: The latest payments, newest first.
    payments: list[PaymentRow]
    open_disputes: list[DisputeRow]
    #: Credits waiting for a manager (the first `PENDING_SHOWN`), and how many in all.
    pending_credits: list[PendingCredit]
    pending_total: int


def _invoice(inv: Invoice, billing: BillingSettings) -> InvoiceSummary:
    return InvoiceSummary(
        inv.number,
        inv.period_start,
        Amount.of(inv.total_minor, billing),
        inv.due_date,
        inv.state,
        inv.disputed,
    )


def bill_view(
    session: Session,
    query: str,
    billing: BillingSettings,
    *,
    audience: Audience = Audience.CHANNEL,
) -> BillView:
    """The bill of the account a care agent names (a number, account, invoice or name);
    for a channel, the customer's first name and initial and the account's last four."""
    channel = audience == Audience.CHANNEL
    account = resolve_account(session, query)
    customer = account.customer
    invoices = latest_invoices(session, account.id, 1)
    last = invoices[0] if invoices else None
    unbilled = unbilled_usage(session, account.id, since=last.next_period_start if last else None)
    pending, pending_total = pending_credits(session, account_id=account.id, limit=PENDING_SHOWN)
    return BillView(
        customer=mask_name(customer.name) if channel else customer.name,
        segment=customer.segment,
        account=mask_reference(account.account_number) if channel else account.account_number,
        account_status=account.status,
        balance=Amount.of(account.balance_minor, billing),
        credit_limit=Amount.of(account.credit_limit_minor, billing),
        dunning=account.dunning_state,
        last_invoice=_invoice(last, billing) if last else None,
        unbilled=UnbilledUsage(
            unbilled.rated_records,
            Amount.of(unbilled.rated_minor, billing),
            unbilled.received_records,
        ),
        payments=[
            PaymentRow(p.reference, Amount.of(p.amount_minor, billing), p.received_at, p.method)
            for p in recent_payments(session, account.id)
        ],
        open_disputes=[
            DisputeRow(t.ref, number) for t, number in open_disputes(session, account.id)
        ],
        pending_credits=[_pending(session, r, billing) for r in pending],
        pending_total=pending_total,
    )


# -- an invoice's lines ------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceLineRow:
    kind: LineKind
    description: str
    quantity: float
    amount: Amount
    tax: Amount


@dataclass(frozen=True)
class UsageRow:
    """A usage record billed on an invoice; the other party masked unless shown in full."""

    started_at: datetime
    service: Service
    roaming: bool
    counterpart: str
    counterpart_country: str
    duration_s: int
    volume_bytes: int
    charge: Amount


@dataclass(frozen=True)
class InvoiceItems:
    """What `/bill items` shows: an invoice's lines and the usage that cost the most."""

    invoice: str
    period_start: date
    subtotal: Amount
    tax: Amount
    total: Amount
    lines: list[InvoiceLineRow]
    top_usage: list[UsageRow]


def invoice_items(
    session: Session,
    number: str,
    billing: BillingSettings,
    *,
    audience: Audience = Audience.CHANNEL,
) -> InvoiceItems:
    """The invoice a number names (lookup grammar), its lines and its costliest usage; the
    other party's number in full only to a reader who may see it (`Audience.FULL`)."""
    inv = invoice_by_number(session, number)
    return InvoiceItems(
        invoice=inv.number,
        period_start=inv.period_start,
        subtotal=Amount.of(inv.subtotal_minor, billing),
        tax=Amount.of(inv.tax_minor, billing),
        total=Amount.of(inv.total_minor, billing),
        lines=[
            InvoiceLineRow(
                line.kind,
                line.description,
                line.quantity,
                Amount.of(line.amount_minor, billing),
                Amount.of(line.tax_minor, billing),
            )
            for line in inv.lines
        ],
        top_usage=[
            UsageRow(
                u.started_at,
                u.service,
                u.roaming,
                u.counterpart if audience == Audience.FULL else mask_phone(u.counterpart),
                u.counterpart_country,
                u.duration_s,
                u.volume_bytes,
                Amount.of(u.charge_minor or 0, billing),
            )
            for u in top_usage(session, inv.id)
        ],
    )


# -- why a bill changed ------------------------------------------------------------------


@dataclass(frozen=True)
class BillChange:
    """One group of charges (monthly charges, calls to the Gulf, ...), now and before."""

    what: str
    now: Amount
    before: Amount


@dataclass(frozen=True)
class CreditOnInvoice:
    """A credit given on an invoice (an adjustment a later bill carries), or one pending."""

    ref: str
    amount: Amount
    #: "applied" (an adjustment) or "pending" (waits for a manager).
    state: str
    #: The invoice that carried an applied credit; None until a bill run does.
    billed_on: str | None


@dataclass(frozen=True)
class InvoiceExplained:
    """What changed against the previous invoice, biggest change first.

    Every group (tax too) is computed from the same lines for both invoices, so the
    changes add up to the difference of the totals and no group is named two ways.
    """

    invoice: str
    total: Amount
    #: The invoice before it; None for an account's first invoice.
    previous: str | None
    previous_total: Amount | None
    #: Groups that differ from the previous invoice (every group on a first invoice).
    changes: list[BillChange]
    disputed: bool
    #: Credits given on this invoice and credits waiting for a manager.
    credits: list[CreditOnInvoice]
    #: What the invoice may still be credited, of its charges before tax.
    creditable: Amount
    charged: Amount


def explain_invoice(session: Session, number: str, billing: BillingSettings) -> InvoiceExplained:
    """Why the invoice a number names is what it is, against the one before it."""
    invoice = invoice_by_number(session, number)
    before = previous_invoice(session, invoice)
    both = [invoice.id] + ([before.id] if before else [])
    level = _usage_level(session, both)
    now_lines = _line_groups(session, invoice, level)
    room = credit_room(session, invoice)
    credits = _credits_on(session, invoice, billing)
    creditable = Amount.of(room.left_minor, billing)
    charged = Amount.of(room.charged_minor, billing)
    if before is None:
        return InvoiceExplained(
            invoice.number,
            Amount.of(invoice.total_minor, billing),
            None,
            None,
            [
                BillChange(what, Amount.of(amount, billing), Amount.of(0, billing))
                for what, amount in sorted(now_lines.items(), key=lambda kv: -abs(kv[1]))
                if amount
            ],
            invoice.disputed,
            credits,
            creditable,
            charged,
        )
    then_lines = _line_groups(session, before, level)
    changes = [
        (what, now_lines.get(what, 0), then_lines.get(what, 0))
        for what in now_lines.keys() | then_lines.keys()
        if now_lines.get(what, 0) != then_lines.get(what, 0)
    ]
    changes.sort(key=lambda c: (-abs(c[1] - c[2]), c[0]))
    return InvoiceExplained(
        invoice.number,
        Amount.of(invoice.total_minor, billing),
        before.number,
        Amount.of(before.total_minor, billing),
        [
            BillChange(what, Amount.of(new, billing), Amount.of(old, billing))
            for what, new, old in changes
        ],
        invoice.disputed,
        credits,
        creditable,
        charged,
    )


def _credits_on(
    session: Session, invoice: Invoice, billing: BillingSettings
) -> list[CreditOnInvoice]:
    applied = session.execute(
        sa.select(Adjustment.id, Adjustment.amount_minor, Invoice.number)
        .outerjoin(Invoice, Invoice.id == Adjustment.billed_invoice_id)
        .where(Adjustment.invoice_id == invoice.id, Adjustment.amount_minor < 0)
        .order_by(Adjustment.id)
    ).all()
    pending, _ = pending_credits(session, invoice_id=invoice.id)
    return [
        CreditOnInvoice(f"ADJ-{i}", Amount.of(-amount, billing), "applied", billed)
        for i, amount, billed in applied
    ] + [
        CreditOnInvoice(r.ref, Amount.of(r.amount_minor, billing), "pending", None) for r in pending
    ]


_SERVICE_WORDS = {Service.VOICE: "calls", Service.SMS: "SMS", Service.DATA: "data"}


def _usage_level(session: Session, invoice_ids: list[int]) -> str:
    """How finely usage can be told apart on every one of these invoices, alike.

    "zone" when each invoice's usage records add up to its usage lines, service by
    service (calls to the Gulf, roaming data); "service" when every usage line names
    its service; "usage" otherwise (one group). The invoices compared are told apart
    the same way, so a group is never named one way on one and another way on the other.
    """
    lines = session.execute(
        sa.select(
            InvoiceLine.invoice_id, InvoiceLine.service, sa.func.sum(InvoiceLine.amount_minor)
        )
        .where(InvoiceLine.invoice_id.in_(invoice_ids), InvoiceLine.kind == LineKind.USAGE)
        .group_by(InvoiceLine.invoice_id, InvoiceLine.service)
    ).all()
    records = session.execute(
        sa.select(
            UsageRecord.invoice_id, UsageRecord.service, sa.func.sum(UsageRecord.charge_minor)
        )
        .where(UsageRecord.invoice_id.in_(invoice_ids), UsageRecord.charge_minor > 0)
        .group_by(UsageRecord.invoice_id, UsageRecord.service)
    ).all()
    by_line = {(i, svc): int(a or 0) for i, svc, a in lines if a}
    by_record = {(i, svc): int(a or 0) for i, svc, a in records}
    if by_line == by_record:
        return "zone"
    if all(svc is not None for _, svc in by_line):
        return "service"
    return "usage"


def _line_groups(session: Session, invoice: Invoice, level: str) -> dict[str, int]:
    """What an invoice charged, in groups people recognise, with its tax as one group.

    Usage is grouped as finely as `level` allows (see `_usage_level`); other lines by
    their kind. The groups add up to the invoice's total.
    """
    groups: dict[str, int] = {}

    def add(label: str, amount: int) -> None:
        groups[label] = groups.get(label, 0) + amount

    if level == "zone":
        usage = session.execute(
            sa.select(
                UsageRecord.service,
                UsageRecord.zone,
                UsageRecord.roaming,
                sa.func.sum(UsageRecord.charge_minor),
            )
            .where(UsageRecord.invoice_id == invoice.id, UsageRecord.charge_minor > 0)
            .group_by(UsageRecord.service, UsageRecord.zone, UsageRecord.roaming)
        ).all()
        for service, zone, roaming, amount in usage:
            what = _SERVICE_WORDS[service]
            if roaming:
                label = f"roaming {what}"
            elif zone in (None, Zone.NATIONAL):
                label = f"{what} beyond the allowance"
            else:
                label = f"{what} to {ZONE_PLACES[zone]}"
            add(label, int(amount or 0))
    lines = session.execute(
        sa.select(InvoiceLine.kind, InvoiceLine.service, sa.func.sum(InvoiceLine.amount_minor))
        .where(InvoiceLine.invoice_id == invoice.id)
        .group_by(InvoiceLine.kind, InvoiceLine.service)
    ).all()
    for kind, line_service, amount in lines:
        if kind == LineKind.USAGE:
            if level == "service" and line_service is not None:
                add(f"{_SERVICE_WORDS[line_service]} beyond the allowance", int(amount or 0))
            elif level == "usage":
                add("usage beyond the allowance", int(amount or 0))
            continue
        label = {
            LineKind.RECURRING: "monthly charges",
            LineKind.ONE_OFF: "one-off charges",
            LineKind.ADJUSTMENT: "adjustments",
            LineKind.DISCOUNT: "discounts",
        }[kind]
        add(label, int(amount or 0))
    add("tax", invoice.tax_minor)
    return groups
