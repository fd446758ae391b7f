"""Billing services: invoices (TMF678), payments (TMF676), dunning, and what a bill says."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.approvals import require_second_person, same_person
from domain.billing.choices import (
    CREDIT_LIFECYCLE,
    INVOICE_LIFECYCLE,
    UNPAID_INVOICE_STATES,
    CreditState,
    InvoiceState,
    UsageState,
)
from domain.billing.models import (
    Adjustment,
    CreditRequest,
    Invoice,
    Payment,
    PaymentAllocation,
    UsageRecord,
)
from domain.config import BillingSettings, DunningStep
from domain.csvfiles import CsvBlocks, CsvFileError
from domain.customers.choices import AccountStatus, DunningState, PaymentMethod, SubscriptionState
from domain.customers.models import BillingAccount, Subscription
from domain.db import Database, get_by_ref, utcnow
from domain.errors import Conflict, DomainError, InvalidTransition
from domain.faults.choices import OPEN_TICKET_STATUSES, TicketKind, TicketStatus
from domain.faults.models import Ticket
from domain.faults.services import add_note, get_ticket, move_ticket, open_ticket
from domain.messages import due_in_channel, due_to_requester
from domain.money import (
    SPELLED_OUT,
    Amount,
    check_money_date,
    money,
    parse_money,
    parse_received,
    shown,
)
from domain.orders.choices import OrderAction
from domain.orders.models import ProductOrder
from domain.orders.queries import fraud_hold
from domain.orders.services import request_resume, request_suspension

T = TypeVar("T")


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
    now: datetime | None = None,
    timezone: str = "UTC",
) -> PaymentResult:
    """Record money received and settle the oldest invoices first; the rest is credit.

    The reference is unique: the same payment twice is refused, never counted twice.
    The date must be sane and not after `now` (`check_money_date`, its days counted in
    `timezone`, the operator's); whether the account leaves dunning is
    judged today, not on the payment's date, so a back-dated payment clears nothing
    that is overdue now.
    """
    now = now or utcnow()
    reference = reference.strip()
    if amount_minor <= 0:
        raise DomainError("a payment must be more than zero", hint="amount=1499.00")
    check_money_date(received_at, now, timezone)
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
    if account.dunning_state != DunningState.CURRENT and (
        account.balance_minor <= 0 or not _overdue(session, account.id, now.date())
    ):
        _leave_dunning(session, account, now, "paid")
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
    any more, or in credit (its balance covers every invoice), is current again. One
    grouped query finds them all.
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
            BillingAccount.balance_minor,
            oldest.c.due,
        )
        .outerjoin(oldest, oldest.c.account_id == BillingAccount.id)
        .where(
            sa.or_(oldest.c.due.is_not(None), BillingAccount.dunning_state != DunningState.CURRENT)
        )
    ).all()
    moves = []
    for account_id, number, state, balance, due in rows:
        if due is None or balance <= 0:  # nothing overdue, or in credit: owes nothing
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
        if fraud_hold(session, sub.id) is not None:
            continue  # confirmed as fraud since: paying the debt does not lift that
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


# -- credits: never more than was charged, and a second person above a limit ---------------


@dataclass(frozen=True)
class CreditRule:
    """When a credit waits for a manager: above an amount, or on a dispute its resolver
    opened. Amounts are written with `billing`'s currency."""

    billing: BillingSettings

    @property
    def approval_above_minor(self) -> int:
        return round(self.billing.credit_approval_above * 10**self.billing.minor_digits)

    def needs_approval(
        self, credit_minor: int, actor: str, ticket: Ticket | None, *, before_minor: int = 0
    ) -> str:
        """Why a credit needs a second person, in words; "" when it does not.

        The limit weighs the running total: `before_minor` is what `actor` has credited on
        the invoice already, given or waiting, so a credit split in parts is still seen.
        """
        why = []
        limit = money(self.approval_above_minor, self.billing)
        if credit_minor > self.approval_above_minor:
            why.append(f"it is above {limit}")
        elif before_minor + credit_minor > self.approval_above_minor:
            total = money(before_minor + credit_minor, self.billing)
            why.append(
                f"with the {money(before_minor, self.billing)} {actor} credited on this "
                f"invoice before, it comes to {total}, above {limit}"
            )
        if ticket is not None and same_person(ticket.reporter, actor):
            why.append(f"{actor} opened {ticket.ref} too")
        return " and ".join(why)


@dataclass(frozen=True)
class CreditRoom:
    """What an invoice may still be credited: its charges (before tax), less the credits
    already given on it and those waiting for approval."""

    charged_minor: int
    credited_minor: int
    pending_minor: int

    @property
    def left_minor(self) -> int:
        return max(0, self.charged_minor - self.credited_minor - self.pending_minor)


def credit_room(session: Session, invoice: Invoice) -> CreditRoom:
    """Charges, credits given and credits pending on an invoice: one query each."""
    credited = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(-Adjustment.amount_minor), 0)).where(
            Adjustment.invoice_id == invoice.id, Adjustment.amount_minor < 0
        )
    )
    pending = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(CreditRequest.amount_minor), 0)).where(
            CreditRequest.invoice_id == invoice.id, CreditRequest.state == CreditState.PENDING
        )
    )
    return CreditRoom(invoice.subtotal_minor, int(credited or 0), int(pending or 0))


def credited_by(session: Session, invoice_id: int, actor: str) -> int:
    """What `actor` has credited on an invoice so far, given and waiting for a manager:
    the running total the approval limit weighs."""
    me = actor.strip().lower()
    given = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(-Adjustment.amount_minor), 0)).where(
            Adjustment.invoice_id == invoice_id,
            Adjustment.amount_minor < 0,
            sa.func.lower(sa.func.trim(Adjustment.created_by)) == me,
        )
    )
    waiting = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(CreditRequest.amount_minor), 0)).where(
            CreditRequest.invoice_id == invoice_id,
            CreditRequest.state == CreditState.PENDING,
            sa.func.lower(sa.func.trim(CreditRequest.requested_by)) == me,
        )
    )
    return int(given or 0) + int(waiting or 0)


def _one_credit_per_dispute(
    session: Session, ticket: Ticket, invoice: Invoice, billing: BillingSettings
) -> None:
    """A dispute carries at most one credit, given or waiting: a second needs a new
    dispute, so that moving a resolved dispute back and resolving it again cannot split
    a credit past the approval limit."""
    given = session.execute(
        sa.select(Adjustment.id, -Adjustment.amount_minor)
        .where(Adjustment.ticket_id == ticket.id, Adjustment.amount_minor < 0)
        .limit(1)
    ).first()
    waiting = session.execute(
        sa.select(CreditRequest.id, CreditRequest.amount_minor)
        .where(CreditRequest.ticket_id == ticket.id, CreditRequest.state == CreditState.PENDING)
        .limit(1)
    ).first()
    if given is not None:
        ref, amount = f"ADJ-{given[0]}", int(given[1])
    elif waiting is not None:
        ref, amount = f"CRD-{waiting[0]}", int(waiting[1])
    else:
        return
    raise Conflict(
        f"{ticket.ref} already carries a credit ({ref}, {money(amount, billing)}); "
        "a dispute carries one credit",
        hint=f"resolve it without credit=, or open a new dispute: "
        f'/dispute open {invoice.number} "why"',
    )


def lock_invoice(session: Session, invoice_id: int) -> Invoice:
    """The invoice, its row held until the transaction ends, so two credits on it are
    weighed one after the other (PostgreSQL: FOR UPDATE; SQLite has one writer anyway)."""
    return session.scalars(
        sa.select(Invoice)
        .where(Invoice.id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _refuse_over_room(
    credit_minor: int, room: CreditRoom, invoice: Invoice, billing: BillingSettings
) -> None:
    if credit_minor <= room.left_minor:
        return
    given = []
    if room.credited_minor:
        given.append(f"{money(room.credited_minor, billing)} credited")
    if room.pending_minor:
        given.append(f"{money(room.pending_minor, billing)} waiting for approval")
    raise DomainError(
        f"a credit of {money(credit_minor, billing)} is more than the "
        f"{money(room.left_minor, billing)} of {money(room.charged_minor, billing)} still "
        f"creditable on {invoice.number}",
        hint=(f"{' and '.join(given)} already; " if given else "")
        + f"credit at most {money(room.left_minor, billing)}: /bill explain {invoice.number}",
    )


def resolve_dispute(
    session: Session,
    ref: str,
    resolution: str,
    *,
    credit_minor: int,
    actor: str,
    now: datetime,
    rule: CreditRule | None = None,
) -> tuple[Ticket, Adjustment | None, CreditRequest | None]:
    """Resolve a dispute; a credit becomes an adjustment on the account's next invoice,
    or, when `rule` says it needs a second person, a pending credit request.

    The credits on an invoice never pass its charges, whoever asks: the invoice's row is
    held while they are added up. Without a rule (the demo's history) a credit is taken
    as approved.
    """
    billing = rule.billing if rule else BillingSettings()
    ticket = get_ticket(session, ref)
    if ticket.kind != TicketKind.BILLING_DISPUTE or ticket.invoice_id is None:
        raise DomainError(
            f"{ticket.ref} is not a billing dispute", hint="/ticket resolve for others"
        )
    invoice = lock_invoice(session, ticket.invoice_id)
    if credit_minor < 0:
        raise DomainError("a credit is a positive amount", hint="credit=250.00")
    if credit_minor:
        _one_credit_per_dispute(session, ticket, invoice, billing)
        _refuse_over_room(credit_minor, credit_room(session, invoice), invoice, billing)
    move_ticket(session, ticket.ref, TicketStatus.RESOLVED, actor, note=resolution, now=now)
    invoice.disputed = False
    why = (
        rule.needs_approval(
            credit_minor, actor, ticket, before_minor=credited_by(session, invoice.id, actor)
        )
        if rule and credit_minor
        else ""
    )
    reason = f"Credit for dispute {ticket.ref} on {invoice.number}"[:200]
    if why:
        request = CreditRequest(
            billing_account_id=invoice.billing_account_id,
            invoice_id=invoice.id,
            ticket_id=ticket.id,
            amount_minor=credit_minor,
            reason=reason,
            why=why[:200],
            requested_by=actor,
            requested_at=now,
            state=CreditState.PENDING,
            channel_due=True,  # the worker posts it to the approvals channel
        )
        session.add(request)
        session.flush()
        return ticket, None, request
    adjustment = None
    if credit_minor:
        adjustment = Adjustment(
            billing_account_id=invoice.billing_account_id,
            amount_minor=-credit_minor,
            reason=reason,
            invoice_id=invoice.id,
            ticket_id=ticket.id,
            created_by=actor,
            created_at=now,
        )
        session.add(adjustment)
        session.flush()
    return ticket, adjustment, None


def decide_credit(
    session: Session,
    ref: str,
    approver: str,
    *,
    approve: bool,
    note: str,
    now: datetime,
    billing: BillingSettings,
) -> CreditRequest:
    """Approve (the adjustment is issued) or reject a pending credit, once.

    Nobody decides a credit they asked for or whose dispute they opened; the invoice's
    row is held, so an approval is weighed against every other credit on it.
    """
    request = get_by_ref(session, CreditRequest, ref, "credit")
    invoice = lock_invoice(session, request.invoice_id)
    session.refresh(request)
    if request.state != CreditState.PENDING:
        at = f" at {request.decided_at:%Y-%m-%d %H:%M} UTC" if request.decided_at else ""
        raise InvalidTransition(
            f"{request.ref} was already {request.state} by {request.decided_by}{at}; "
            "nothing was done",
            hint="/credit list shows the credits that wait for a decision",
        )
    ticket = session.get(Ticket, request.ticket_id) if request.ticket_id else None
    require_second_person(
        request.ref,
        approver,
        [
            (request.requested_by, "asked for"),
            (ticket.reporter if ticket else "", "opened the dispute behind"),
        ],
        who="a manager",
        hint="ask another manager: /credit list shows what waits",
    )
    to = CreditState.APPROVED if approve else CreditState.REJECTED
    if not approve and not note.strip():
        raise DomainError(
            f"say why {request.ref} is rejected", hint=f'/credit reject {request.ref} "why"'
        )
    CREDIT_LIFECYCLE.check(request.ref, request.state, to)
    if approve:
        room = credit_room(session, invoice)
        mine = CreditRoom(
            room.charged_minor, room.credited_minor, room.pending_minor - request.amount_minor
        )
        _refuse_over_room(request.amount_minor, mine, invoice, billing)
        adjustment = Adjustment(
            billing_account_id=request.billing_account_id,
            amount_minor=-request.amount_minor,
            reason=request.reason,
            invoice_id=request.invoice_id,
            ticket_id=request.ticket_id,
            created_by=request.requested_by,
            created_at=now,
        )
        session.add(adjustment)
        session.flush()
        request.adjustment_id = adjustment.id
    request.state = to
    request.decided_by = approver
    request.decided_at = now
    request.decision_note = note.strip()[:500] or None
    # Its card in the approvals channel shows the decision; whoever asked hears it.
    request.channel_due = True
    request.requester_due = True
    if ticket is not None:
        said = f"credit {request.ref} of {money(request.amount_minor, billing)} {to} by {approver}"
        add_note(
            session, ticket.ref, said + (f": {note.strip()}" if note.strip() else ""), approver, now
        )
    session.flush()
    return request


def pending_credits(
    session: Session,
    *,
    account_id: int | None = None,
    invoice_id: int | None = None,
    limit: int | None = None,
) -> tuple[list[CreditRequest], int]:
    """Credits waiting for a manager, oldest first, and how many there are in all."""
    where = [CreditRequest.state == CreditState.PENDING]
    if account_id is not None:
        where.append(CreditRequest.billing_account_id == account_id)
    if invoice_id is not None:
        where.append(CreditRequest.invoice_id == invoice_id)
    total = session.scalar(sa.select(sa.func.count()).select_from(CreditRequest).where(*where))
    rows = session.scalars(
        sa.select(CreditRequest).where(*where).order_by(CreditRequest.id).limit(limit)
    )
    return list(rows), int(total or 0)


# -- credits' messages: the approvals channel and the requester, as orders have -------------


def credits_to_announce(session: Session, limit: int = 50) -> list[CreditRequest]:
    """Credits whose card in the approvals channel is missing or behind, oldest first."""
    return due_in_channel(session, CreditRequest, limit)


def mark_credit_announced(
    db: Database, credit_id: int, *, channel: str | None, ts: str | None, seen: CreditState
) -> None:
    """The channel's card shows the credit as it was in state `seen`.

    Plain UPDATEs, not the ORM: the state is the row's version, and a manager deciding
    the credit meanwhile must leave it due, not fail the worker.
    """
    with db.transaction() as s:
        if channel and ts:
            s.execute(
                sa.update(CreditRequest)
                .where(CreditRequest.id == credit_id)
                .values(slack_channel=channel, slack_ts=ts)
            )
        s.execute(
            sa.update(CreditRequest)
            .where(CreditRequest.id == credit_id, CreditRequest.state == seen)
            .values(channel_due=False)
        )


def credits_to_tell(session: Session, limit: int = 50) -> list[CreditRequest]:
    """Decided credits whose requester has not yet heard the decision."""
    return due_to_requester(session, CreditRequest, limit)


def mark_credit_told(db: Database, credit_id: int) -> None:
    """The requester has been told how their credit was decided."""
    with db.transaction() as s:
        s.execute(
            sa.update(CreditRequest)
            .where(CreditRequest.id == credit_id)
            .values(requester_due=False)
        )


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
    #: References already recorded for the same account and amount (a file imported
    #: twice): not counted again. The same reference with another account or amount is
    #: a conflict: the row is refused.
    duplicates: int = 0
    #: One line per refused row, naming the row (the header is row 1) and the problem.
    #: When there is any, the whole file was refused: nothing of it is stored.
    refused: list[str] = field(default_factory=list)


class _FileRefused(Exception):
    """Rolls back a payment file's transaction when one of its rows is refused."""


def import_payments(
    db: Database,
    text: str,
    billing: BillingSettings,
    now: datetime | None = None,
    *,
    name: str = "the payment file",
) -> PaymentImport:
    """Record a bank or gateway file of payments, all of it or nothing.

    The file is checked as every CSV file is first (domain.csvfiles: a row at most
    64 KiB, quotes closed; one line naming the row if not). Every row is checked
    (amount, date, method, reference, account) and every refused row reported; a file
    with one refused row stores nothing, so fixing it and importing it again is safe.
    References already recorded are counted, not recorded again, when the account and
    amount are the same; otherwise the row is refused as a conflict.
    """
    now = now or utcnow()
    hint = "the header is: " + ",".join(PAYMENT_COLUMNS)
    # A quoted field may hold a newline, as the csv module reads it.
    list(CsvBlocks(io.BytesIO(text.encode("utf-8", "surrogatepass")), name, multiline=True))
    reader = csv.DictReader(io.StringIO(text))
    try:
        fieldnames = reader.fieldnames
        rows = list(reader)
    except csv.Error as exc:  # what the check above lets through and the csv module does not
        raise CsvFileError(f"{name}: row {reader.line_num:,}: {exc}", hint=hint) from None
    missing = [c for c in PAYMENT_COLUMNS if c not in (fieldnames or [])]
    if missing:
        raise DomainError(f"the file has no {', '.join(missing)} column(s)", hint=hint)
    out = PaymentImport()
    refused: list[tuple[int, str]] = []
    good: list[tuple[int, str, str, int, datetime, PaymentMethod]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        try:
            reference = (row["reference"] or "").strip()
            if not reference or len(reference) > 40:
                raise DomainError("reference must be 1-40 characters")
            if reference in seen:
                raise DomainError(f"reference {reference} is on row {seen[reference]} too")
            seen[reference] = number
            amount = _cell("amount", parse_money, row["amount"] or "", billing)
            when = _cell(
                "received_at", parse_received, row["received_at"] or "", now, billing.timezone
            )
            method = _method(row["method"] or "")
        except DomainError as exc:
            refused.append((number, str(exc)))
            continue
        good.append((number, reference, row["account"] or "", amount, when, method))
    try:
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
                    refused.append((number, f"no billing account {shown(account_number)!r}"))
                    continue
                before = session.execute(
                    sa.select(BillingAccount.account_number, Payment.amount_minor)
                    .join(BillingAccount, BillingAccount.id == Payment.billing_account_id)
                    .where(Payment.reference == reference)
                ).one_or_none()
                if before is not None:
                    if tuple(before) == (account.account_number, amount):
                        out.duplicates += 1  # the same payment in a file imported again
                    else:
                        refused.append(
                            (
                                number,
                                f"reference {reference} was recorded before as "
                                f"{money(before[1], billing)} on {before[0]}, not "
                                f"{money(amount, billing)} on {account.account_number}",
                            )
                        )
                    continue
                try:
                    record_payment(
                        session,
                        account,
                        amount,
                        reference=reference,
                        method=method,
                        received_at=when,
                        now=now,
                        timezone=billing.timezone,
                    )
                except DomainError as exc:
                    refused.append((number, str(exc)))
                    continue
                out.recorded += 1
                out.total_minor += amount
            if refused:
                raise _FileRefused
    except _FileRefused:
        return PaymentImport(refused=[f"row {n}: {why}" for n, why in sorted(refused)])
    return out


def _cell(column: str, read: Callable[..., T], *args: Any) -> T:
    """A cell read by `read(*args)`; its refusal names the column."""
    try:
        return read(*args)
    except DomainError as exc:
        raise DomainError(f"{column} {exc}", hint=exc.hint) from None


def _method(text: str) -> PaymentMethod:
    try:
        return PaymentMethod(text.strip().lower())
    except ValueError:
        methods = ", ".join(m.value for m in PaymentMethod)
        raise DomainError(
            f"method {shown(text)!r} is not one of {methods}", hint=f"one of {methods}"
        ) from None


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
    now: datetime | None = None,
) -> PaymentRecorded:
    """Record one payment on an account, oldest invoice first, in one transaction."""
    from domain.customers.services import account_by_number

    with db.transaction() as s:
        account = account_by_number(s, account_number)
        r = record_payment(
            s,
            account,
            amount_minor,
            reference=reference,
            method=method,
            received_at=received_at,
            now=now,
            timezone=billing.timezone,
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
    #: What the invoice may still be credited (its charges less credits given and
    #: waiting), and what it charged.
    creditable: Amount
    charged: Amount


def dispute_invoice(
    db: Database,
    invoice_number: str,
    reason: str,
    *,
    actor: str,
    sla_hours: Mapping[int, float],
    now: datetime,
    billing: BillingSettings | None = None,
) -> DisputeOpened:
    """Open a billing dispute on an invoice, in one transaction; says what is still
    creditable on it."""
    with db.transaction() as s:
        invoice = invoice_by_number(s, invoice_number)
        ticket = open_dispute(s, invoice, reason, actor=actor, sla_hours=sla_hours, now=now)
        room = credit_room(s, invoice)
        return DisputeOpened(
            ticket.ref,
            invoice.number,
            ticket.sla_due_at,
            Amount.of(room.left_minor, billing),
            Amount.of(room.charged_minor, billing),
        )


@dataclass(frozen=True)
class DisputeResolved:
    ticket: str
    invoice: str
    credit: Amount
    #: The credit's adjustment (on the account's next invoice); None without a credit or
    #: while it waits for approval.
    adjustment: str | None
    #: The pending credit (CRD-n) when it waits for a manager, and why.
    pending: str | None
    #: Why it needs a manager, in words (amounts written out).
    why: str = field(metadata=SPELLED_OUT)
    #: What the invoice may still be credited after this, and what it charged.
    creditable: Amount
    charged: Amount


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
    """Resolve a billing dispute, with an optional credit, in one transaction.

    A credit never passes what the invoice may still be credited; one above
    `billing.credit_approval_above`, or on a dispute `actor` opened, waits for a manager.
    """
    with db.transaction() as s:
        ticket, adjustment, request = resolve_dispute(
            s,
            ticket_ref,
            resolution,
            credit_minor=credit_minor,
            actor=actor,
            now=now,
            rule=CreditRule(billing),
        )
        invoice = s.get_one(Invoice, ticket.invoice_id)
        room = credit_room(s, invoice)
        return DisputeResolved(
            ticket.ref,
            invoice.number,
            Amount.of(credit_minor, billing),
            adjustment.ref if adjustment else None,
            request.ref if request else None,
            request.why if request else "",
            Amount.of(room.left_minor, billing),
            Amount.of(room.charged_minor, billing),
        )


@dataclass(frozen=True)
class CreditDecided:
    credit: str
    state: CreditState
    amount: Amount
    invoice: str
    ticket: str | None
    requested_by: str
    #: Who decided, when, and what they said.
    by: str
    at: datetime
    note: str | None
    #: The adjustment an approval issued.
    adjustment: str | None
    creditable: Amount
    charged: Amount


def _decided(s: Session, request: CreditRequest, billing: BillingSettings) -> CreditDecided:
    invoice = s.get_one(Invoice, request.invoice_id)
    ticket = s.get(Ticket, request.ticket_id) if request.ticket_id else None
    room = credit_room(s, invoice)
    assert request.decided_by is not None and request.decided_at is not None
    return CreditDecided(
        request.ref,
        request.state,
        Amount.of(request.amount_minor, billing),
        invoice.number,
        ticket.ref if ticket else None,
        request.requested_by,
        request.decided_by,
        request.decided_at,
        request.decision_note,
        f"ADJ-{request.adjustment_id}" if request.adjustment_id else None,
        Amount.of(room.left_minor, billing),
        Amount.of(room.charged_minor, billing),
    )


def approve_credit(
    db: Database,
    billing: BillingSettings,
    ref: str,
    approver: str,
    *,
    note: str = "",
    now: datetime,
) -> CreditDecided:
    """Approve a pending credit: its adjustment goes on the next invoice. One transaction."""
    with db.transaction() as s:
        request = decide_credit(s, ref, approver, approve=True, note=note, now=now, billing=billing)
        return _decided(s, request, billing)


def reject_credit(
    db: Database, billing: BillingSettings, ref: str, approver: str, *, note: str, now: datetime
) -> CreditDecided:
    """Reject a pending credit, saying why; the invoice may be credited that much again."""
    with db.transaction() as s:
        request = decide_credit(
            s, ref, approver, approve=False, note=note, now=now, billing=billing
        )
        return _decided(s, request, billing)
