"""Revenue: billed, collected, outstanding, overdue and unbilled, by segment and region;
and revenue assurance, which reconciles rated usage with what invoices billed.

The money figures and their windows are `domain.figures`'s, shared with the digests;
nothing loops over records in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.billing.choices import LineKind, UsageState
from domain.billing.models import Invoice, InvoiceLine, UsageRecord
from domain.config import BillingSettings
from domain.customers.models import BillingAccount, Subscription
from domain.figures import (
    MONEY,
    LaterThanNow,
    Window,
    cycle,
    later_than_now,
    money_by_group,
    money_totals,
)
from domain.figures import window as operator_window
from domain.money import Amount

#: Each money figure, in the order tables show them (`domain.figures.MONEY`).
METRICS = MONEY


def window(text: str, now: datetime | date, zone: str = "UTC") -> Window:
    """`domain.figures.window`: 'today', 'month' (this month so far), 'YYYY-MM' or
    'YYYY-MM-DD' in the operator's calendar, counted up to `now` (a date: its end)."""
    if not isinstance(now, datetime):
        now = datetime.combine(now + timedelta(days=1), time(), ZoneInfo(zone))
    return operator_window(text, now, zone)


@dataclass
class Revenue:
    window: Window
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))
    #: (segment, region) -> metric -> amount in minor units
    by_group: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    unrated_records: int = 0
    #: Invoices and payments dated later than now, left out.
    later: LaterThanNow = field(default_factory=LaterThanNow)


def revenue(
    session: Session, w: Window, today: date, metrics: tuple[str, ...] = METRICS
) -> Revenue:
    """The money of a period: what was billed for it and collected in it, what is owed now.

    "Billed" is the invoices issued in the window, collected the payments received in
    it, both up to now (what is dated later is counted in `later`). Each figure is
    `domain.figures`'s query, the one the digests call too; by group, the same queries
    grouped.
    """
    out = Revenue(w, later=later_than_now(session, w))
    out.totals.update(money_totals(session, w, today, metrics))
    out.by_group = money_by_group(session, w, today, metrics)
    if "unbilled" in metrics:
        out.unrated_records = (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(UsageRecord)
                .where(UsageRecord.state == UsageState.RECEIVED)
            )
            or 0
        )
    return out


@dataclass
class Assurance:
    window: Window
    #: Rated usage of the period on accounts already invoiced for it, but not on the invoice.
    leaked_records: int = 0
    leaked_minor: int = 0
    leaked_accounts: list[tuple[str, int, int]] = field(default_factory=list)
    #: Usage of the period never rated.
    unrated_records: int = 0
    #: Invoices whose usage lines do not add up to the usage they billed.
    mismatched: list[tuple[str, int, int]] = field(default_factory=list)
    rated_minor: int = 0
    billed_usage_minor: int = 0

    @property
    def clean(self) -> bool:
        return not (self.leaked_records or self.unrated_records or self.mismatched)


def assurance(session: Session, w: Window, limit: int = 10) -> Assurance:
    """Reconcile the rated usage of the bill cycle `w` starts with the usage lines its
    invoices billed (a cycle is a UTC month, whatever the window's zone)."""
    w = cycle(w.start.replace(day=1))
    out = Assurance(w)
    in_period = (UsageRecord.started_at >= w.start_at, UsageRecord.started_at < w.end_at)
    invoiced = (
        sa.select(Invoice.billing_account_id)
        .where(Invoice.period_start == w.start)
        .scalar_subquery()
    )
    leaked = (
        sa.select(
            BillingAccount.account_number,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(UsageRecord.charge_minor), 0),
        )
        .select_from(UsageRecord)
        .join(Subscription, Subscription.id == UsageRecord.subscription_id)
        .join(BillingAccount, BillingAccount.id == Subscription.billing_account_id)
        .where(
            *in_period,
            UsageRecord.state == UsageState.RATED,
            Subscription.billing_account_id.in_(invoiced),
        )
        .group_by(BillingAccount.account_number)
    )
    found = [(str(a), int(n), int(m or 0)) for a, n, m in session.execute(leaked).all()]
    out.leaked_records = sum(n for _, n, _ in found)
    out.leaked_minor = sum(m for _, _, m in found)
    out.leaked_accounts = sorted(found, key=lambda r: -r[2])[:limit]
    out.unrated_records = (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(UsageRecord)
            .where(*in_period, UsageRecord.state == UsageState.RECEIVED)
        )
        or 0
    )
    out.rated_minor = int(
        session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(UsageRecord.charge_minor), 0)).where(
                *in_period, UsageRecord.state.in_((UsageState.RATED, UsageState.BILLED))
            )
        )
        or 0
    )
    records = (
        sa.select(
            UsageRecord.invoice_id.label("invoice_id"),
            sa.func.sum(UsageRecord.charge_minor).label("charged"),
        )
        .where(UsageRecord.invoice_id.is_not(None))
        .group_by(UsageRecord.invoice_id)
        .subquery()
    )
    lines = (
        sa.select(
            InvoiceLine.invoice_id.label("invoice_id"),
            sa.func.sum(InvoiceLine.amount_minor).label("billed"),
        )
        .where(InvoiceLine.kind == LineKind.USAGE)
        .group_by(InvoiceLine.invoice_id)
        .subquery()
    )
    billed = sa.func.coalesce(lines.c.billed, 0)
    charged = sa.func.coalesce(records.c.charged, 0)
    period_invoices = (
        sa.select(Invoice.number, billed, charged)
        .outerjoin(lines, lines.c.invoice_id == Invoice.id)
        .outerjoin(records, records.c.invoice_id == Invoice.id)
        .where(Invoice.period_start == w.start, records.c.invoice_id.is_not(None))
    )
    rows2 = session.execute(period_invoices).all()
    out.billed_usage_minor = sum(int(b) for _, b, _ in rows2)
    out.mismatched = [(str(n), int(b), int(c)) for n, b, c in rows2 if int(b) != int(c)][:limit]
    return out


# -- the reports the chat shows: amounts with their currency --------------------------------


@dataclass(frozen=True)
class RevenueFigures:
    billed: Amount
    collected: Amount
    outstanding: Amount
    overdue: Amount
    #: Rated usage not on an invoice yet.
    unbilled: Amount


@dataclass(frozen=True)
class RevenueGroup:
    name: str
    figures: RevenueFigures


@dataclass(frozen=True)
class RevenueReport:
    """What `/revenue` shows: the period's totals, then by segment and by region (most
    billed first)."""

    period: str
    start: date
    #: The day after the period.
    end: date
    totals: RevenueFigures
    unrated_records: int
    by_segment: list[RevenueGroup]
    by_region: list[RevenueGroup]
    #: Invoices and payments dated later than now, not counted ("" when none).
    later: str = ""


def _figures(values: dict[str, int], billing: BillingSettings) -> RevenueFigures:
    return RevenueFigures(*(Amount.of(values[m], billing) for m in METRICS))


def revenue_report(
    session: Session, w: Window, today: date, billing: BillingSettings
) -> RevenueReport:
    """`revenue` of the window, summed by segment and by region."""
    r = revenue(session, w, today)
    groups: list[list[RevenueGroup]] = []
    for part in (0, 1):
        sums: dict[str, dict[str, int]] = {}
        for key, values in r.by_group.items():
            into = sums.setdefault(key[part], dict.fromkeys(METRICS, 0))
            for m in METRICS:
                into[m] += values[m]
        ranked = sorted(sums.items(), key=lambda kv: (-kv[1]["billed"], kv[0]))
        groups.append([RevenueGroup(name, _figures(v, billing)) for name, v in ranked])
    by_segment, by_region = groups
    return RevenueReport(
        w.label,
        w.start,
        w.end,
        _figures(r.totals, billing),
        r.unrated_records,
        by_segment,
        by_region,
        later=str(r.later),
    )


@dataclass(frozen=True)
class LeakedAccount:
    """An account with rated usage of the period left off its invoice."""

    account: str
    records: int
    amount: Amount


@dataclass(frozen=True)
class MismatchedInvoice:
    """An invoice whose usage lines do not add up to the usage records it billed."""

    invoice: str
    usage_lines: Amount
    usage_records: Amount


@dataclass(frozen=True)
class AssuranceReport:
    """What `/revenue assurance` shows for a month."""

    period: str
    start: date
    end: date
    rated: Amount
    billed_usage: Amount
    leaked_records: int
    leaked: Amount
    unrated_records: int
    leaked_accounts: list[LeakedAccount]
    mismatched: list[MismatchedInvoice]
    clean: bool


def assurance_report(session: Session, w: Window, billing: BillingSettings) -> AssuranceReport:
    """`assurance` of the window, amounts with their currency."""
    a = assurance(session, w)
    return AssuranceReport(
        period=w.label,
        start=w.start,
        end=w.end,
        rated=Amount.of(a.rated_minor, billing),
        billed_usage=Amount.of(a.billed_usage_minor, billing),
        leaked_records=a.leaked_records,
        leaked=Amount.of(a.leaked_minor, billing),
        unrated_records=a.unrated_records,
        leaked_accounts=[
            LeakedAccount(acc, n, Amount.of(m, billing)) for acc, n, m in a.leaked_accounts
        ],
        mismatched=[
            MismatchedInvoice(n, Amount.of(b, billing), Amount.of(c, billing))
            for n, b, c in a.mismatched
        ],
        clean=a.clean,
    )
