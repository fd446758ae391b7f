"""Billing services: invoices (TMF678), payments (TMF676), dunning, and what a bill says."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.billing.choices import (
    INVOICE_LIFECYCLE,
    UNPAID_INVOICE_STATES,
    InvoiceState,
    UsageState,
)
from domain.billing.models import (
    Adjustment,
    Invoice,
    Payment,
    PaymentAllocation,
    UsageRecord,
)
from domain.config import BillingSettings, DunningStep
from domain.customers.choices import AccountStatus, DunningState, PaymentMethod, SubscriptionState
from domain.customers.models import BillingAccount, Subscription
from domain.db import Database
from domain.errors import Conflict, DomainError
from domain.faults.choices import OPEN_TICKET_STATUSES, TicketKind, TicketStatus
from domain.faults.models import Ticket
from domain.faults.services import get_ticket, move_ticket, open_ticket
from domain.money import Amount, parse_money
from domain.orders.choices import OrderAction
from domain.orders.models import ProductOrder
from domain.orders.services import request_resume, request_suspension


def invoice_by_number(session: Session, number: str) -> Invoice:
    """The invoice typed as the lookup grammar reads it (any case, zeros may be left out)."""
    from domain.lookup import SubjectKind, resolve_subject

    subject = resolve_subject(session, number, {SubjectKind.INVOICE})
    return session.get_one(Invoice, subject.invoice_id)


def move_invoice(session: Session, invoice: Invoice, to: InvoiceState) -> Invoice:
    INVOICE_LIFECYCLE.check(invoice.number, invoice.state, to)
    invoice.state = to
    return invoice


# -- payments (TMF676) --------------------------------------------------------------------


@dataclass(frozen=True)
class Allocation:
    invoice: str
    amount_minor: int
    state: InvoiceState


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    allocations: tuple[Allocation, ...]
    credit_minor: int
    #: The account left dunning: everything overdue is paid.
    cleared_dunning: bool


def unpaid_invoices(session: Session, account_id: int) -> list[Invoice]:
    """Invoices with money still due, oldest first: the order payments settle them in."""
    return list(
        session.scalars(
            sa.select(Invoice)
            .where(
                Invoice.billing_account_id == account_id,
                Invoice.state.in_(UNPAID_INVOICE_STATES),
            )
            .order_by(Invoice.due_date, Invoice.id)
        )
    )


def record_payment(
    session: Session,
    account: BillingAccount,
    amount_minor: int,
    *,
    reference: str,
    method: PaymentMethod,
    received_at: datetime,
) -> PaymentResult:
    """Record money received and settle the oldest invoices first; the rest is credit.

    The reference is unique: the same payment twice is refused, never counted twice.
    """
    reference = reference.strip()
    if amount_minor <= 0:
        raise DomainError("a payment must be more than zero", hint="amount=1499.00")
    if not reference or len(reference) > 40:
        raise DomainError("a payment needs a reference of 1-40 characters", hint="ref=UTR123456")
    seen = session.scalar(sa.select(Payment.id).where(Payment.reference == reference))
    if seen is not None:
        raise Conflict(
            f"payment {reference} was already recorded",
            hint="each payment reference is recorded once",
        )
    payment = Payment(
        reference=reference,
        billing_account_id=account.id,
        amount_minor=amount_minor,
        received_at=received_at,
        method=method,
        unallocated_minor=0,
    )
    session.add(payment)
    session.flush()
    left = amount_minor
    done = []
    for invoice in unpaid_invoices(session, account.id):
        if left <= 0:
            break
        part = min(left, invoice.amount_due_minor)
        if part <= 0:
            continue
        session.add(
            PaymentAllocation(payment_id=payment.id, invoice_id=invoice.id, amount_minor=part)
        )
        invoice.paid_minor += part
        to = (
            InvoiceState.SETTLED
            if invoice.paid_minor >= invoice.total_minor
            else InvoiceState.PARTIALLY_PAID
        )
        if to != invoice.state:
            move_invoice(session, invoice, to)
        left -= part
        done.append(Allocation(invoice.number, part, to))
    payment.unallocated_minor = left
    account.balance_minor -= amount_minor
    cleared = False
    if account.dunning_state != DunningState.CURRENT and not _overdue(
        session, account.id, received_at.date()
    ):
        _leave_dunning(session, account, received_at, "paid")
        cleared = True
    return PaymentResult(payment, tuple(done), left, cleared)


def _overdue(session: Session, account_id: int, today: date) -> bool:
    return bool(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Invoice)
            .where(
                Invoice.billing_account_id == account_id,
                Invoice.state.in_(UNPAID_INVOICE_STATES),
                Invoice.due_date < today,
            )
        )
    )


# -- dunning ------------------------------------------------------------------------------

_DUNNING_STATE = {
    "reminder": DunningState.REMINDED,
    "final_notice": DunningState.FINAL_NOTICE,
    "suspend": DunningState.SUSPENDED,
}
_DUNNING_RANK = {
    DunningState.CURRENT: 0,
    DunningState.REMINDED: 1,
    DunningState.FINAL_NOTICE: 2,
    DunningState.SUSPENDED: 3,
}


@dataclass(frozen=True)
class DunningMove:
    account: str
    account_id: int
    days_overdue: int
    before: DunningState
    after: DunningState


def dunning_moves(session: Session, steps: Sequence[DunningStep], today: date) -> list[DunningMove]:
    """Accounts whose dunning state should change today, from their oldest unpaid due date.

    Steps only move forward while money is overdue; an account with nothing overdue
    any more is current again. One grouped query finds them all.
    """
    oldest = (
        sa.select(
            Invoice.billing_account_id.label("account_id"),
            sa.func.min(Invoice.due_date).label("due"),
        )
        .where(Invoice.state.in_(UNPAID_INVOICE_STATES), Invoice.due_date < today)
        .group_by(Invoice.billing_account_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            BillingAccount.id,
            BillingAccount.account_number,
            BillingAccount.dunning_state,
            oldest.c.due,
        )
        .outerjoin(oldest, oldest.c.account_id == BillingAccount.id)
        .where(
            sa.or_(oldest.c.due.is_not(None), BillingAccount.dunning_state != DunningState.CURRENT)
        )
    ).all()
    moves = []
    for account_id, number, state, due in rows:
        if due is None:
            target, days = DunningState.CURRENT, 0
        else:
            days = (today - due).days
            target = DunningState.CURRENT
            for step in steps:
                if days >= step.after_days:
                    target = _DUNNING_STATE[step.action]
            if _DUNNING_RANK[target] < _DUNNING_RANK[state]:
                target = state  # still overdue: never step back before it is paid
        if target != state:
            moves.append(DunningMove(number, account_id, days, state, target))
    return moves


#: Who asks for suspensions and resumptions for debt, in orders and their history.
DUNNING_ACTOR = "dunning"


def apply_dunning(session: Session, move: DunningMove, now: datetime) -> list[str]:
    """Move an account to its dunning state; suspension and resumption go through orders.

    Returns the refs of the orders made. Only lines suspended for debt are resumed; a
    line the fraud desk suspended stays suspended.
    """
    account = session.get(BillingAccount, move.account_id)
    if account is None or account.dunning_state != move.before:
        return []  # someone moved it meanwhile (a payment): nothing to do
    if move.after == DunningState.CURRENT:
        return _leave_dunning(session, account, now, "nothing overdue")
    account.dunning_state = move.after
    if move.after != DunningState.SUSPENDED:
        return []
    account.status = AccountStatus.SUSPENDED
    refs = []
    for sub in _lines(session, account.id, SubscriptionState.ACTIVE):
        order = request_suspension(
            session,
            sub.id,
            reason=f"{move.days_overdue} days overdue on {account.account_number}",
            requested_by=DUNNING_ACTOR,
            now=now,
        )
        refs.append(order.ref)
    return refs


def _leave_dunning(session: Session, account: BillingAccount, now: datetime, why: str) -> list[str]:
    was_suspended = account.dunning_state == DunningState.SUSPENDED
    account.dunning_state = DunningState.CURRENT
    if not was_suspended:
        return []
    account.status = AccountStatus.ACTIVE
    refs = []
    for sub in _lines(session, account.id, SubscriptionState.SUSPENDED):
        last = session.scalars(
            sa.select(ProductOrder)
            .where(
                ProductOrder.subscription_id == sub.id,
                ProductOrder.action == OrderAction.SUSPEND,
            )
            .order_by(ProductOrder.id.desc())
            .limit(1)
        ).one_or_none()
        if last is None or last.requested_by != DUNNING_ACTOR:
            continue  # suspended for another reason (fraud, the customer's wish)
        order = request_resume(
            session,
            sub.id,
            reason=f"{why} on {account.account_number}",
            requested_by=DUNNING_ACTOR,
            now=now,
        )
        refs.append(order.ref)
    return refs


def _lines(session: Session, account_id: int, state: SubscriptionState) -> list[Subscription]:
    return list(
        session.scalars(
            sa.select(Subscription)
            .where(Subscription.billing_account_id == account_id, Subscription.state == state)
            .order_by(Subscription.id)
        )
    )


# -- what an account owes and uses ---------------------------------------------------------


@dataclass(frozen=True)
class Unbilled:
    """Usage not on an invoice yet: rated (priced) and received (not priced yet)."""

    rated_records: int
    rated_minor: int
    received_records: int


def unbilled_usage(session: Session, account_id: int, since: date | None = None) -> Unbilled:
    """Usage of the account not billed yet, from `since` (the day after the last bill)."""
    subs = sa.select(Subscription.id).where(Subscription.billing_account_id == account_id)
    after = (UsageRecord.started_at >= datetime.combine(since, time(), UTC),) if since else ()
    rows = session.execute(
        sa.select(
            UsageRecord.state,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(UsageRecord.charge_minor), 0),
        )
        .where(
            UsageRecord.subscription_id.in_(subs),
            *after,
            UsageRecord.state.in_((UsageState.RECEIVED, UsageState.RATED)),
        )
        .group_by(UsageRecord.state)
    ).all()
    by_state = {state: (n, int(total or 0)) for state, n, total in rows}
    rated = by_state.get(UsageState.RATED, (0, 0))
    return Unbilled(rated[0], rated[1], by_state.get(UsageState.RECEIVED, (0, 0))[0])


def latest_invoices(session: Session, account_id: int, limit: int = 2) -> list[Invoice]:
    return list(
        session.scalars(
            sa.select(Invoice)
            .where(Invoice.billing_account_id == account_id)
            .order_by(Invoice.period_start.desc())
            .limit(limit)
        )
    )


def recent_payments(session: Session, account_id: int, limit: int = 3) -> list[Payment]:
    return list(
        session.scalars(
            sa.select(Payment)
            .where(Payment.billing_account_id == account_id)
            .order_by(Payment.received_at.desc())
            .limit(limit)
        )
    )


def previous_invoice(session: Session, invoice: Invoice) -> Invoice | None:
    return session.scalars(
        sa.select(Invoice)
        .where(
            Invoice.billing_account_id == invoice.billing_account_id,
            Invoice.period_start < invoice.period_start,
        )
        .order_by(Invoice.period_start.desc())
        .limit(1)
    ).one_or_none()


def top_usage(session: Session, invoice_id: int, limit: int = 5) -> list[UsageRecord]:
    """The usage records that cost the most on an invoice."""
    return list(
        session.scalars(
            sa.select(UsageRecord)
            .where(UsageRecord.invoice_id == invoice_id, UsageRecord.charge_minor > 0)
            .order_by(UsageRecord.charge_minor.desc(), UsageRecord.id)
            .limit(limit)
        )
    )


# -- disputes -----------------------------------------------------------------------------


def open_dispute(
    session: Session,
    invoice: Invoice,
    reason: str,
    *,
    actor: str,
    sla_hours: Mapping[int, float],
    now: datetime,
) -> Ticket:
    """A billing-dispute ticket linked to the invoice; the invoice is marked disputed."""
    existing = session.scalar(
        sa.select(Ticket).where(
            Ticket.invoice_id == invoice.id,
            Ticket.kind == TicketKind.BILLING_DISPUTE,
            Ticket.status.in_(OPEN_TICKET_STATUSES),
        )
    )
    if existing is not None:
        raise Conflict(
            f"{invoice.number} is already disputed in {existing.ref}",
            hint=f'add to it: /ticket note {existing.ref} "..."',
        )
    account = session.get(BillingAccount, invoice.billing_account_id)
    assert account is not None
    ticket = open_ticket(
        session,
        title=f"Dispute on {invoice.number}: {reason}"[:200],
        severity=3,
        reporter=actor,
        sla_hours=sla_hours,
        kind=TicketKind.BILLING_DISPUTE,
        description=reason,
        customer_id=account.customer_id,
        invoice_id=invoice.id,
        now=now,
    )
    invoice.disputed = True
    return ticket


def resolve_dispute(
    session: Session,
    ref: str,
    resolution: str,
    *,
    credit_minor: int,
    actor: str,
    now: datetime,
) -> tuple[Ticket, Adjustment | None]:
    """Resolve a dispute; a credit becomes an adjustment on the account's next invoice."""
    ticket = get_ticket(session, ref)
    if ticket.kind != TicketKind.BILLING_DISPUTE or ticket.invoice_id is None:
        raise DomainError(
            f"{ticket.ref} is not a billing dispute", hint="/ticket resolve for others"
        )
    invoice = session.get(Invoice, ticket.invoice_id)
    assert invoice is not None
    if credit_minor < 0:
        raise DomainError("a credit is a positive amount", hint="credit=250.00")
    if credit_minor > invoice.subtotal_minor:
        raise DomainError(
            f"a credit of more than the invoice's charges ({invoice.subtotal_minor / 100:,.2f}) "
            "is not a correction",
            hint="credit at most the disputed charges, before tax",
        )
    move_ticket(session, ticket.ref, TicketStatus.RESOLVED, actor, note=resolution, now=now)
    invoice.disputed = False
    adjustment = None
    if credit_minor:
        adjustment = Adjustment(
            billing_account_id=invoice.billing_account_id,
            amount_minor=-credit_minor,
            reason=f"Credit for dispute {ticket.ref} on {invoice.number}"[:200],
            invoice_id=invoice.id,
            ticket_id=ticket.id,
            created_by=actor,
            created_at=now,
        )
        session.add(adjustment)
        session.flush()
    return ticket, adjustment


def open_disputes(session: Session, account_id: int) -> list[tuple[Ticket, str]]:
    """Open billing disputes on an account's invoices, with the invoice numbers."""
    return [
        (t, number)
        for t, number in session.execute(
            sa.select(Ticket, Invoice.number)
            .join(Invoice, Invoice.id == Ticket.invoice_id)
            .where(
                Invoice.billing_account_id == account_id,
                Ticket.kind == TicketKind.BILLING_DISPUTE,
                Ticket.status.in_(OPEN_TICKET_STATUSES),
            )
            .order_by(Ticket.id)
        ).all()
    ]


# -- payment files ---------------------------------------------------------------------------

PAYMENT_COLUMNS = ("reference", "account", "amount", "received_at", "method")


@dataclass
class PaymentImport:
    recorded: int = 0
    total_minor: int = 0
    #: References already recorded (a file imported twice): not counted again.
    duplicates: int = 0
    #: One line per line skipped, naming the line and the problem.
    skipped: list[str] = field(default_factory=list)


def import_payments(db: Database, text: str, billing: BillingSettings) -> PaymentImport:
    """Record a bank or gateway file of payments; bad lines are reported, never guessed.

    Good lines go in one transaction, each allocated oldest invoice first.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in PAYMENT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DomainError(
            f"the file has no {', '.join(missing)} column(s)",
            hint="the header is: " + ",".join(PAYMENT_COLUMNS),
        )
    out = PaymentImport()
    good: list[tuple[int, str, str, int, datetime, PaymentMethod]] = []
    for number, row in enumerate(reader, start=2):
        try:
            amount = parse_money(row["amount"] or "", billing)
            when = datetime.fromisoformat((row["received_at"] or "").strip().replace("Z", "+00:00"))
            method = PaymentMethod((row["method"] or "").strip().lower())
        except DomainError as exc:
            out.skipped.append(f"line {number}: {exc}")
            continue
        except ValueError:
            bad = "received_at" if not _is_date(row["received_at"]) else "method"
            out.skipped.append(f"line {number}: {bad} {row[bad]!r} is not valid")
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        good.append((number, row["reference"] or "", row["account"] or "", amount, when, method))
    with db.transaction() as session:
        accounts: dict[str, BillingAccount | None] = {}
        for number, reference, account_number, amount, when, method in good:
            key = account_number.strip().upper()
            if key not in accounts:
                accounts[key] = session.scalars(
                    sa.select(BillingAccount).where(BillingAccount.account_number == key)
                ).one_or_none()
            account = accounts[key]
            if account is None:
                out.skipped.append(f"line {number}: no billing account {account_number!r}")
                continue
            if session.scalar(sa.select(Payment.id).where(Payment.reference == reference.strip())):
                out.duplicates += 1
                continue
            try:
                record_payment(
                    session, account, amount, reference=reference, method=method, received_at=when
                )
            except DomainError as exc:
                out.skipped.append(f"line {number}: {exc}")
                continue
            out.recorded += 1
            out.total_minor += amount
    out.skipped.sort(key=lambda text: int(text.split()[1].rstrip(":")))
    return out


def _is_date(text: str | None) -> bool:
    try:
        datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


# -- the care desk's money use-cases: each owns its transaction and returns what happened --


@dataclass(frozen=True)
class AllocationMade:
    invoice: str
    amount: Amount
    state: InvoiceState


@dataclass(frozen=True)
class PaymentRecorded:
    account: str
    reference: str
    amount: Amount
    allocations: tuple[AllocationMade, ...]
    #: The account's balance after the payment (negative: in credit).
    balance: Amount
    #: What no invoice needed, kept on the account.
    credit: Amount
    cleared_dunning: bool


def take_payment(
    db: Database,
    billing: BillingSettings,
    account_number: str,
    amount_minor: int,
    *,
    reference: str,
    method: PaymentMethod,
    received_at: datetime,
) -> PaymentRecorded:
    """Record one payment on an account, oldest invoice first, in one transaction."""
    from domain.customers.services import account_by_number

    with db.transaction() as s:
        account = account_by_number(s, account_number)
        r = record_payment(
            s, account, amount_minor, reference=reference, method=method, received_at=received_at
        )
        return PaymentRecorded(
            account=account.account_number,
            reference=r.payment.reference,
            amount=Amount.of(amount_minor, billing),
            allocations=tuple(
                AllocationMade(a.invoice, Amount.of(a.amount_minor, billing), a.state)
                for a in r.allocations
            ),
            balance=Amount.of(account.balance_minor, billing),
            credit=Amount.of(r.credit_minor, billing),
            cleared_dunning=r.cleared_dunning,
        )


@dataclass(frozen=True)
class DisputeOpened:
    ticket: str
    invoice: str
    sla_due_at: datetime


def dispute_invoice(
    db: Database,
    invoice_number: str,
    reason: str,
    *,
    actor: str,
    sla_hours: Mapping[int, float],
    now: datetime,
) -> DisputeOpened:
    """Open a billing dispute on an invoice, in one transaction."""
    with db.transaction() as s:
        invoice = invoice_by_number(s, invoice_number)
        ticket = open_dispute(s, invoice, reason, actor=actor, sla_hours=sla_hours, now=now)
        return DisputeOpened(ticket.ref, invoice.number, ticket.sla_due_at)


@dataclass(frozen=True)
class DisputeResolved:
    ticket: str
    invoice: str
    credit: Amount
    #: The credit's adjustment (on the account's next invoice); None without a credit.
    adjustment: str | None


def settle_dispute(
    db: Database,
    billing: BillingSettings,
    ticket_ref: str,
    resolution: str,
    *,
    credit_minor: int,
    actor: str,
    now: datetime,
) -> DisputeResolved:
    """Resolve a billing dispute, with an optional credit, in one transaction."""
    with db.transaction() as s:
        ticket, adjustment = resolve_dispute(
            s, ticket_ref, resolution, credit_minor=credit_minor, actor=actor, now=now
        )
        invoice = s.get_one(Invoice, ticket.invoice_id)
        return DisputeResolved(
            ticket.ref,
            invoice.number,
            Amount.of(credit_minor, billing),
            adjustment.ref if adjustment else None,
        )
