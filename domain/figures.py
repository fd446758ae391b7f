"""The figures several views show, each computed by one function here.

Digests (`domain.reports`), `/revenue` (`domain.billing.revenue`), `/alarm list`,
`/ticket list`, `/network health`, `/fraud cases`, `/order list` and the digest charts
all call these, so a figure reads the same wherever it is shown. The rules:

- A window is whole days of the operator's calendar (`billing.timezone`), [start, end),
  read by the one function `window` ('today', 'month', 'YYYY-MM', 'YYYY-MM-DD'), and
  counted up to now: nothing dated later counts (`later_than_now` says how many were
  left out). "This month so far" runs from the 1st to the end of today, so on the 1st it
  is the 1st (never an empty window), and reads the same as the month on every figure.
- Billed: invoices issued in the window (the bill run issues a month's invoices after
  it ends, so a month's billed is mostly the month before's usage; `/revenue assurance`
  reconciles a bill cycle). Collected: payments received in the window. Outstanding:
  what unpaid invoices still owe now; overdue: the part of it past its due date.
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
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.billing.choices import UNPAID_INVOICE_STATES, UsageState
from domain.billing.models import Invoice, Payment, UsageRecord
from domain.customers.models import BillingAccount, Customer, Subscription
from domain.errors import DomainError
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
    """Whole days [start, end) of the operator's calendar (days in `zone`), counted up to
    `until` (now, for a window that has not ended: nothing dated later is counted)."""

    start: date
    end: date  # exclusive
    label: str
    #: The IANA time zone whose midnights bound the days.
    zone: str = "UTC"
    #: Nothing at or after this instant counts (now); None: the whole window.
    until: datetime | None = None

    @property
    def start_at(self) -> datetime:
        """The first instant of the window (its first local midnight), in UTC."""
        return _midnight(self.start, self.zone)

    @property
    def end_at(self) -> datetime:
        """The instant counting stops, in UTC: the window's last local midnight, or
        `until` when that comes first."""
        end = _midnight(self.end, self.zone)
        return min(end, self.until.astimezone(UTC)) if self.until is not None else end


def _midnight(on: date, zone: str) -> datetime:
    return datetime.combine(on, time(), ZoneInfo(zone)).astimezone(UTC)


def local_today(now: datetime, zone: str) -> date:
    """The operator's calendar day at `now`."""
    return now.astimezone(ZoneInfo(zone)).date()


def _month_start(on: date, months: int = 0) -> date:
    index = on.year * 12 + on.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def window(period: str, now: datetime, zone: str) -> Window:
    """The one reading of a period, in the operator's calendar at `now`: 'today', 'month'
    (this month so far: the 1st to the end of today, so on the 1st the 1st), 'YYYY-MM'
    (that month) or 'YYYY-MM-DD' (that day). Every window counts up to `now` only, so this
    month so far and the month read the same on every figure. DomainError otherwise."""
    today = local_today(now, zone)
    word = (period or "month").strip().lower()
    if word == "today":
        return Window(today, today + timedelta(days=1), f"{today:%d %b %Y}", zone, now)
    if word == "month":
        start = today.replace(day=1)
        return Window(start, today + timedelta(days=1), f"{start:%B %Y} to date", zone, now)
    for fmt, kind in (("%Y-%m", "month"), ("%Y-%m-%d", "day")):
        try:
            first = datetime.strptime(word, fmt).date()
        except ValueError:
            continue
        if first.year < 1970:
            break
        if kind == "day":
            return Window(first, first + timedelta(days=1), f"{first:%d %b %Y}", zone, now)
        return Window(first, _month_start(first, 1), f"{first:%B %Y}", zone, now)
    raise DomainError(
        f"{period!r} is not a period",
        hint="use today, month, a month like 2026-10 or a day like 2026-10-05",
    )


def same_days_month_before(now: datetime, zone: str) -> Window:
    """The month before this one, from its 1st over as many days as this month so far
    has (never past its own end), counted up to the same local time of day as `now`."""
    today = local_today(now, zone)
    start = today.replace(day=1)
    prev_start = _month_start(start, -1)
    days = (today - start).days + 1
    end = prev_start + timedelta(days=days)
    label = f"{prev_start:%B}, same days"
    if end > start:  # this month is longer so far than the whole month before
        return Window(prev_start, start, label, zone)
    same_time = datetime.combine(end - timedelta(days=1), now.astimezone(ZoneInfo(zone)).timetz())
    return Window(prev_start, end, label, zone, same_time)


def last_days(now: datetime, zone: str, n: int = 7) -> list[Window]:
    """The operator's last `n` days up to today, oldest first, each as `window` reads it."""
    today = local_today(now, zone)
    return [
        window(f"{today - timedelta(days=i):%Y-%m-%d}", now, zone) for i in range(n - 1, -1, -1)
    ]


def cycle(month_start: date) -> Window:
    """A bill cycle: one calendar month in UTC (`domain.billing.rating.Period`), whole."""
    return Window(month_start, _month_start(month_start, 1), f"{month_start:%B %Y}")


# -- money -------------------------------------------------------------------------------

#: Each money figure, in the order tables show them.
MONEY = ("billed", "collected", "outstanding", "overdue", "unbilled")


def _money_query(metric: str, w: Window, today: date) -> tuple[sa.Select[Any], Any]:
    """The one query of a money figure (a sum in minor units) and the billing account
    column it is summed over (for grouping by segment and region)."""
    due = Invoice.total_minor - Invoice.paid_minor
    if metric == "billed":
        return (
            sa.select(sa.func.sum(Invoice.total_minor)).where(
                Invoice.issued_at >= w.start_at, Invoice.issued_at < w.end_at
            ),
            Invoice.billing_account_id,
        )
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


def collected_per_day(session: Session, days: Iterable[Window], today: date) -> dict[date, int]:
    """Collected on each day, in minor units: `money_total` of that day's window, as
    `/revenue today` (or `/revenue YYYY-MM-DD`) says it."""
    return {d.start: money_total(session, "collected", d, today) for d in days}


@dataclass(frozen=True)
class LaterThanNow:
    """Records dated after the window's `until` (now) that it would otherwise reach:
    not counted, and said so (a payment typed with tomorrow's date)."""

    invoices: int = 0
    payments: int = 0

    def __str__(self) -> str:
        parts = [
            f"{n:,} {what}{'' if n == 1 else 's'}"
            for n, what in ((self.payments, "payment"), (self.invoices, "invoice"))
            if n
        ]
        verb = "is" if self.payments + self.invoices == 1 else "are"
        return f"{' and '.join(parts)} dated later than now {verb} not counted" if parts else ""


def later_than_now(session: Session, w: Window) -> LaterThanNow:
    """Invoices and payments dated at or after `w.until` from the window's start on (the
    same count for this month so far and the month; none for a window already over)."""
    if w.until is None or _midnight(w.end, w.zone) <= w.until:
        return LaterThanNow()
    since = max(w.start_at, w.until.astimezone(UTC))

    def count(column: Any) -> int:
        return int(session.scalar(sa.select(sa.func.count()).where(column >= since)) or 0)

    return LaterThanNow(invoices=count(Invoice.issued_at), payments=count(Payment.received_at))


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
