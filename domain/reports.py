"""What digests report: the numbers of each section over a window, from grouped queries.

Every function reads only; the span is [start, end), instants in UTC; days (the
per-day charts, this month so far) are the operator's (`billing.timezone`), each the
window `domain.figures.window` reads. A figure another view shows too (billed,
collected, outstanding, open alarms, tickets past SLA, orders awaiting approval, open
fraud cases, the collected-per-day chart) comes from
`domain.figures`, with its window rules, so the digest and the command agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.billing.models import UsageRecord
from domain.changes.choices import ChangeState
from domain.changes.models import ChangeRequest
from domain.config import BillingSettings
from domain.faults.choices import OPEN_TICKET_STATUSES
from domain.faults.health import health_by_region, network_health
from domain.faults.models import Alarm, Ticket
from domain.figures import (
    Window,
    collected_per_day,
    fraud_cases,
    last_days,
    later_than_now,
    local_today,
    money_total,
    open_alarm_count,
    open_alarms_by_site,
    open_tickets_by_site,
    orders_awaiting_approval,
    same_days_month_before,
    tickets_past_sla,
    window,
)
from domain.fraud.choices import CaseState
from domain.fraud.models import FraudCase
from domain.money import Amount
from domain.orders.choices import OrderState
from domain.orders.models import ProductOrder
from domain.orders.queries import list_orders


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime


def _per_day(
    session: Session,
    column: Any,
    *where: Any,
    span: Span,
    zone: str = "UTC",
    value: Any = None,
) -> dict[date, int]:
    """Counts (or sums of `value`) per day of the operator's calendar (`zone`), over the
    last seven days up to the span's end: each day the window `domain.figures.window`
    gives it, so a chart's day is the day `/revenue YYYY-MM-DD` means."""
    measure = sa.func.count() if value is None else sa.func.coalesce(sa.func.sum(value), 0)
    return {
        w.start: int(
            session.scalar(
                sa.select(measure).where(column >= w.start_at, column < w.end_at, *where)
            )
            or 0
        )
        for w in last_days(span.end, zone)
    }


@dataclass
class NetworkSection:
    raised: int
    cleared: int
    open_now: int
    availability: list[tuple[str, float]]
    mttr_minutes: float | None
    raised_per_day: dict[date, int] = field(default_factory=dict)
    cleared_per_day: dict[date, int] = field(default_factory=dict)


def network_section(session: Session, span: Span, zone: str = "UTC") -> NetworkSection:
    week = Span(span.end - timedelta(days=7), span.end)
    return NetworkSection(
        raised=_count(session, Alarm.raised_at, span),
        cleared=_count(session, Alarm.cleared_at, span),
        open_now=open_alarm_count(session),
        availability=[(h.label, h.availability(1)) for h in health_by_region(session, span.end)],
        mttr_minutes=network_health(session, span.end).mttr_minutes,
        raised_per_day=_per_day(session, Alarm.raised_at, span=week, zone=zone),
        cleared_per_day=_per_day(session, Alarm.cleared_at, span=week, zone=zone),
    )


def _count(session: Session, column: Any, span: Span, *where: Any) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count()).where(column >= span.start, column < span.end, *where)
        )
        or 0
    )


@dataclass
class TicketSection:
    opened: int
    resolved: int
    breached_open: int
    resolved_late: int
    oldest: list[tuple[str, str, datetime]]
    opened_per_day: dict[date, int] = field(default_factory=dict)
    resolved_per_day: dict[date, int] = field(default_factory=dict)


def ticket_section(session: Session, span: Span, zone: str = "UTC") -> TicketSection:
    open_ = Ticket.status.in_(OPEN_TICKET_STATUSES)
    week = Span(span.end - timedelta(days=7), span.end)
    return TicketSection(
        opened=_count(session, Ticket.created_at, span),
        resolved=_count(session, Ticket.resolved_at, span),
        breached_open=tickets_past_sla(session, span.end),
        resolved_late=_count(
            session, Ticket.resolved_at, span, Ticket.resolved_at > Ticket.sla_due_at
        ),
        oldest=[
            (t.ref, t.title, t.created_at)
            for t in session.scalars(
                sa.select(Ticket).where(open_).order_by(Ticket.created_at).limit(3)
            )
        ],
        opened_per_day=_per_day(session, Ticket.created_at, span=week, zone=zone),
        resolved_per_day=_per_day(session, Ticket.resolved_at, span=week, zone=zone),
    )


@dataclass
class OrderSection:
    pending: list[tuple[str, str, str]]  # ref, customer, requested by
    pending_total: int
    completed: int
    failed: int


def order_section(session: Session, span: Span, limit: int = 5) -> OrderSection:
    waiting = list_orders(session, OrderState.PENDING, limit, oldest_first=True)
    return OrderSection(
        pending=[(r.ref, r.customer, r.requested_by) for r in waiting],
        pending_total=orders_awaiting_approval(session),
        completed=_count(
            session, ProductOrder.completed_at, span, ProductOrder.state == OrderState.COMPLETED
        ),
        failed=_count(
            session, ProductOrder.updated_at, span, ProductOrder.state == OrderState.FAILED
        ),
    )


@dataclass
class RevenueSection:
    label: str
    billed: Amount
    collected: Amount
    outstanding: Amount
    previous_label: str
    previous_billed: Amount
    previous_collected: Amount
    collected_per_day: dict[date, Amount] = field(default_factory=dict)
    #: Invoices and payments dated later than now, not counted ("" when none).
    later: str = ""


def revenue_section(
    session: Session, span: Span, billing: BillingSettings | None = None
) -> RevenueSection:
    """This month so far in the operator's calendar (the 1st included on the 1st), as
    `/revenue month` reads it, against the same days of the month before, and collected
    per day over the last seven days; nothing dated after the span's end counts."""
    zone = (billing or BillingSettings()).timezone
    now = span.end
    today = local_today(now, zone)
    this, before = window("month", now, zone), same_days_month_before(now, zone)

    def amount(metric: str, w: Window) -> Amount:
        return Amount.of(money_total(session, metric, w, today), billing)

    return RevenueSection(
        collected_per_day={
            d: Amount.of(v, billing)
            for d, v in collected_per_day(session, last_days(now, zone), today).items()
        },
        label=this.label,
        billed=amount("billed", this),
        collected=amount("collected", this),
        outstanding=amount("outstanding", this),
        previous_label=before.label,
        previous_billed=amount("billed", before),
        previous_collected=amount("collected", before),
        later=str(later_than_now(session, this)),
    )


@dataclass
class FraudSection:
    flagged: int
    confirmed: int
    dismissed: int
    open_now: int
    #: Rated charges of the confirmed lines' last seven days, scaled to a month.
    loss_prevented: Amount


def fraud_section(
    session: Session, span: Span, billing: BillingSettings | None = None
) -> FraudSection:
    confirmed_subs = sa.select(FraudCase.subscription_id).where(
        FraudCase.state == CaseState.CONFIRMED,
        FraudCase.decided_at >= span.start,
        FraudCase.decided_at < span.end,
    )
    week = span.end - timedelta(days=7)
    charged = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(UsageRecord.charge_minor), 0)).where(
            UsageRecord.subscription_id.in_(confirmed_subs),
            UsageRecord.started_at >= week,
            UsageRecord.started_at < span.end,
        )
    )
    return FraudSection(
        flagged=_count(session, FraudCase.opened_at, span),
        confirmed=_count(
            session, FraudCase.decided_at, span, FraudCase.state == CaseState.CONFIRMED
        ),
        dismissed=_count(
            session, FraudCase.decided_at, span, FraudCase.state == CaseState.DISMISSED
        ),
        open_now=fraud_cases(session, CaseState.OPEN),
        loss_prevented=Amount.of(int(charged or 0) * 30 // 7, billing),
    )


@dataclass
class ChangeSection:
    succeeded: int
    failed: int
    rolled_back: int
    open_alarms_by_site: list[tuple[str, int]]
    open_tickets_by_site: list[tuple[str, int]]


def change_section(session: Session, span: Span) -> ChangeSection:
    def done(state: ChangeState) -> int:
        return _count(session, ChangeRequest.finished_at, span, ChangeRequest.state == state)

    return ChangeSection(
        succeeded=done(ChangeState.SUCCEEDED),
        failed=done(ChangeState.FAILED),
        rolled_back=done(ChangeState.ROLLED_BACK),
        open_alarms_by_site=open_alarms_by_site(session, 8),
        open_tickets_by_site=open_tickets_by_site(session, 8),
    )


@dataclass(frozen=True)
class DigestFigures:
    """The sections a digest reports for its span; a section it does not report is None."""

    start: datetime
    end: datetime
    network: NetworkSection | None = None
    tickets: TicketSection | None = None
    orders: OrderSection | None = None
    revenue: RevenueSection | None = None
    fraud: FraudSection | None = None
    changes: ChangeSection | None = None


def digest_figures(
    session: Session,
    parts: Sequence[str],
    span: Span,
    billing: BillingSettings | None = None,
) -> DigestFigures:
    """Each section named in `parts` (network, tickets, orders, revenue, fraud, changes)."""
    wanted = set(parts)
    zone = (billing or BillingSettings()).timezone
    return DigestFigures(
        start=span.start,
        end=span.end,
        network=network_section(session, span, zone) if "network" in wanted else None,
        tickets=ticket_section(session, span, zone) if "tickets" in wanted else None,
        orders=order_section(session, span) if "orders" in wanted else None,
        revenue=revenue_section(session, span, billing) if "revenue" in wanted else None,
        fraud=fraud_section(session, span, billing) if "fraud" in wanted else None,
        changes=change_section(session, span) if "changes" in wanted else None,
    )
