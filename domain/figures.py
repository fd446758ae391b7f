"""The figures several views show, each computed by one function here.

Digests (`domain.reports`), `/revenue` (`domain.billing.revenue`), `/alarm list`,
`/ticket list`, `/network health`, `/fraud cases`, `/order list` and the digest charts
all call these, so a figure reads the same wherever it is shown. The rules:

- A window is whole UTC days, [start, end). "This month so far" runs from the 1st to
  the end of today, so on the 1st it is the 1st (never an empty window).
- Billed: invoices issued in the window (for a whole month: that bill cycle's invoices).
  Collected: payments received in the window. Outstanding: what unpaid invoices still
  owe now; overdue: the part of it past its due date.
- An open alarm is a raised one not filed under a root cause (a symptom of a device
  that is down counts once, in its root-cause alarm).
- A ticket is past its SLA when it is open now and its due time is before now
  (`PAST_SLA`, the words every view labels it with).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.billing.choices import UNPAID_INVOICE_STATES, UsageState
from domain.billing.models import Invoice, Payment, UsageRecord
from domain.customers.models import BillingAccount, Customer, Subscription
from domain.faults.choices import OPEN_TICKET_STATUSES, AlarmState, PerceivedSeverity
from domain.faults.models import Alarm, Ticket
from domain.fraud.choices import CaseState
from domain.fraud.queries import count_cases
from domain.inventory.models import Device, Region, Site
from domain.orders.choices import OrderState
from domain.orders.queries import count_orders

#: How every view labels the tickets `tickets_past_sla` counts.
PAST_SLA = "open past SLA (due before now)"

# -- windows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Whole UTC days [start, end)."""

    start: date
    end: date  # exclusive
    label: str
    #: A whole bill cycle: "billed" means the invoices for it, not those issued in it.
    cycle: bool = False

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time(), UTC)


def day(on: date) -> Window:
    """One UTC day."""
    return Window(on, on + timedelta(days=1), f"{on:%d %b %Y}")


def month_to_date(today: date) -> Window:
    """The 1st of today's month to the end of today: on the 1st, the 1st."""
    start = today.replace(day=1)
    return Window(start, today + timedelta(days=1), f"{start:%B %Y} to date")


def same_days_month_before(today: date) -> Window:
    """The month before, from its 1st over as many days as `month_to_date(today)` has
    (never past its own end)."""
    start = today.replace(day=1)
    prev_start = (start - timedelta(days=1)).replace(day=1)
    days = (today - start).days + 1
    return Window(
        prev_start, min(prev_start + timedelta(days=days), start), f"{prev_start:%B}, same days"
    )


def cycle(month_start: date) -> Window:
    """A whole month as a bill cycle."""
    end = (month_start + timedelta(days=32)).replace(day=1)
    return Window(month_start, end, f"{month_start:%B %Y}", cycle=True)


# -- money -------------------------------------------------------------------------------

#: Each money figure, in the order tables show them.
MONEY = ("billed", "collected", "outstanding", "overdue", "unbilled")


def _money_query(metric: str, w: Window, today: date) -> tuple[sa.Select[Any], Any]:
    """The one query of a money figure (a sum in minor units) and the billing account
    column it is summed over (for grouping by segment and region)."""
    due = Invoice.total_minor - Invoice.paid_minor
    if metric == "billed":
        when = (
            Invoice.period_start == w.start
            if w.cycle
            else sa.and_(Invoice.issued_at >= w.start_at, Invoice.issued_at < w.end_at)
        )
        return sa.select(sa.func.sum(Invoice.total_minor)).where(when), Invoice.billing_account_id
    if metric == "collected":
        return (
            sa.select(sa.func.sum(Payment.amount_minor)).where(
                Payment.received_at >= w.start_at, Payment.received_at < w.end_at
            ),
            Payment.billing_account_id,
        )
    if metric == "outstanding":
        return (
            sa.select(sa.func.sum(due)).where(Invoice.state.in_(UNPAID_INVOICE_STATES)),
            Invoice.billing_account_id,
        )
    if metric == "overdue":
        return (
            sa.select(sa.func.sum(due)).where(
                Invoice.state.in_(UNPAID_INVOICE_STATES), Invoice.due_date < today
            ),
            Invoice.billing_account_id,
        )
    if metric == "unbilled":
        return (
            sa.select(sa.func.sum(UsageRecord.charge_minor))
            .select_from(UsageRecord)
            .join(Subscription, Subscription.id == UsageRecord.subscription_id)
            .where(UsageRecord.state == UsageState.RATED),
            Subscription.billing_account_id,
        )
    raise ValueError(f"no money figure {metric!r}; there are {', '.join(MONEY)}")


def money_total(session: Session, metric: str, w: Window, today: date) -> int:
    """A money figure (billed, collected, outstanding, overdue, unbilled) in minor units."""
    query, _ = _money_query(metric, w, today)
    return int(session.scalar(query) or 0)


def money_totals(
    session: Session, w: Window, today: date, metrics: Iterable[str] = MONEY
) -> dict[str, int]:
    """`money_total` of each metric."""
    return {m: money_total(session, m, w, today) for m in metrics}


def money_by_group(
    session: Session, w: Window, today: date, metrics: Iterable[str] = MONEY
) -> dict[tuple[str, str], dict[str, int]]:
    """The money figures by (segment, region): the same queries, grouped; the groups add
    up to `money_total` (an account with no region is under region "-")."""
    segment = Customer.segment.label("segment")
    region = sa.func.coalesce(Region.name, "-").label("region")
    out: dict[tuple[str, str], dict[str, int]] = {}
    for metric in metrics:
        query, account = _money_query(metric, w, today)
        rows = session.execute(
            query.add_columns(segment, region)
            .join(BillingAccount, BillingAccount.id == account)
            .join(Customer, Customer.id == BillingAccount.customer_id)
            .outerjoin(Region, Region.id == Customer.region_id)
            .group_by(segment, region)
        ).all()
        for value, seg, reg in rows:
            key = (str(seg), str(reg))
            out.setdefault(key, dict.fromkeys(MONEY, 0))[metric] += int(value or 0)
    return out


def collected_per_day(session: Session, days: Iterable[date], today: date) -> dict[date, int]:
    """Collected on each day, in minor units: `money_total` of that day, as `/revenue
    today` would say it."""
    return {d: money_total(session, "collected", day(d), today) for d in days}


# -- alarms ------------------------------------------------------------------------------


def open_alarm() -> sa.ColumnElement[bool]:
    """The one definition of an open alarm (see the module's docstring)."""
    return sa.and_(Alarm.state != AlarmState.CLEARED, Alarm.parent_id.is_(None))


def open_alarms_by_severity(
    session: Session,
    site_scope: sa.ColumnElement[bool] | None = None,
    *,
    device_id: int | None = None,
) -> dict[PerceivedSeverity, int]:
    """Open alarms per severity: everywhere, on the devices of the sites in `site_scope`,
    or on one device."""
    query = sa.select(Alarm.perceived_severity, sa.func.count()).where(open_alarm())
    if device_id is not None:
        query = query.where(Alarm.device_id == device_id)
    if site_scope is not None:
        query = query.where(
            Alarm.device_id.in_(
                sa.select(Device.id).join(Site, Site.id == Device.site_id).where(site_scope)
            )
        )
    return {k: int(v) for k, v in session.execute(query.group_by(Alarm.perceived_severity))}


def open_alarm_count(session: Session, device_id: int | None = None) -> int:
    """Open alarms in the whole network, or on one device."""
    return sum(open_alarms_by_severity(session, device_id=device_id).values())


def open_alarms_by_site(
    session: Session, limit: int, site_scope: sa.ColumnElement[bool] | None = None
) -> list[tuple[str, int]]:
    """The sites with the most open alarms, most first (within `site_scope` when given)."""
    n = sa.func.count(Alarm.id).label("n")
    query = (
        sa.select(Site.code, n)
        .join(Device, Device.site_id == Site.id)
        .join(Alarm, Alarm.device_id == Device.id)
        .where(open_alarm())
    )
    if site_scope is not None:
        query = query.where(site_scope)
    rows = session.execute(query.group_by(Site.code).order_by(n.desc(), Site.code).limit(limit))
    return [(str(c), int(k)) for c, k in rows]


# -- tickets -----------------------------------------------------------------------------


def past_sla(now: datetime) -> sa.ColumnElement[bool]:
    """The one definition of a ticket past its SLA at `now` (see `PAST_SLA`)."""
    return sa.and_(Ticket.status.in_(OPEN_TICKET_STATUSES), Ticket.sla_due_at < now)


def open_tickets_query(
    *,
    now: datetime,
    assignee: str | None = None,
    breached: bool = False,
    breached_since: datetime | None = None,
    sites: Collection[str] = (),
    severity: int | None = None,
    device_id: int | None = None,
) -> sa.Select[Ticket]:
    """Open tickets narrowed by assignee, past SLA (`breached`; `breached_since` keeps
    those whose SLA ran out between then and `now`), site, severity or device."""
    query = sa.select(Ticket).where(Ticket.status.in_(OPEN_TICKET_STATUSES))
    if device_id is not None:
        query = query.where(Ticket.device_id == device_id)
    if assignee is not None:
        query = query.where(Ticket.assignee == assignee)
    if breached or breached_since is not None:
        query = query.where(past_sla(now))
    if breached_since is not None:
        query = query.where(Ticket.sla_due_at >= breached_since)
    if sites:
        query = (
            query.join(Device, Device.id == Ticket.device_id)
            .join(Site, Site.id == Device.site_id)
            .where(Site.code.in_(sorted(c.upper() for c in sites)))
        )
    if severity is not None:
        query = query.where(Ticket.severity == severity)
    return query


def count_open_tickets(
    session: Session,
    *,
    now: datetime,
    assignee: str | None = None,
    breached: bool = False,
    sites: Collection[str] = (),
    severity: int | None = None,
    device_id: int | None = None,
) -> int:
    """How many tickets `open_tickets_query` finds (what `/ticket list` counts)."""
    query = open_tickets_query(
        now=now,
        assignee=assignee,
        breached=breached,
        sites=sites,
        severity=severity,
        device_id=device_id,
    )
    return int(session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def tickets_past_sla(session: Session, now: datetime) -> int:
    """Tickets open and past their SLA at `now` (`/ticket list breached` counts these)."""
    return count_open_tickets(session, now=now, breached=True)


def open_tickets_by_site(session: Session, limit: int) -> list[tuple[str, int]]:
    """The sites with the most open tickets on their devices, most first."""
    n = sa.func.count().label("n")
    rows = session.execute(
        sa.select(Site.code, n)
        .select_from(Ticket)
        .join(Device, Device.id == Ticket.device_id)
        .join(Site, Site.id == Device.site_id)
        .where(Ticket.status.in_(OPEN_TICKET_STATUSES))
        .group_by(Site.code)
        .order_by(n.desc(), Site.code)
        .limit(limit)
    )
    return [(str(c), int(k)) for c, k in rows]


# -- fraud and orders --------------------------------------------------------------------


def fraud_cases(session: Session, state: CaseState | None = CaseState.OPEN) -> int:
    """Fraud cases in `state` (open by default; all when None), as `/fraud cases` counts."""
    return count_cases(session, state)


def orders_awaiting_approval(session: Session) -> int:
    """Orders pending a decision, as `/order list pending` counts them."""
    return count_orders(session, OrderState.PENDING)
