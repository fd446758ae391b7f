"""/revenue: the money of a period by segment and region; /revenue assurance: the gaps."""

from __future__ import annotations

from domain.billing.revenue import (
    METRICS,
    RevenueFigures,
    assurance_report,
    revenue_report,
    window,
)
from domain.config import BillingSettings
from domain.figures import cycle, local_today
from domain.money import money
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Field, Reply, Section, Table


class PeriodArgs(Args):
    period: str = positional("month", metavar="today|month|YYYY-MM|YYYY-MM-DD")


def _row(f: RevenueFigures, billing: BillingSettings) -> tuple[str, ...]:
    """The figures in whole currency units, as the tables show them."""
    return tuple(money(getattr(f, m).minor, billing, whole=True) for m in METRICS)


@command("revenue", args=PeriodArgs)
def revenue_(ctx: Context, args: PeriodArgs) -> Reply:
    """Billed, collected, outstanding, overdue and unbilled usage, by segment and region."""
    billing = ctx.services.billing
    now = ctx.now()
    w = window(args.period, now, billing.timezone)
    today = local_today(now, billing.timezone)
    with ctx.db.read() as s:
        r = revenue_report(s, w, today, ctx.services.billing)
    t = r.totals
    fields = (
        Field("billed", str(t.billed)),
        Field("collected", str(t.collected)),
        Field("outstanding now", str(t.outstanding)),
        Field("overdue now", str(t.overdue)),
        Field("unbilled usage (rated)", str(t.unbilled)),
        Field("usage not rated yet", f"{r.unrated_records:,} records"),
    )
    tables = tuple(
        Table(
            (title.split()[1], *METRICS),
            tuple((g.name, *_row(g.figures, ctx.services.billing)) for g in groups),
            title=title,
        )
        for title, groups in (("By segment", r.by_segment), ("By region", r.by_region))
    )
    # Records dated in the future of now (a payment typed with tomorrow's date) are left
    # out of every window; say so rather than let two views differ silently.
    note = (Section(text=f"{r.later[0].upper()}{r.later[1:]}."),) if r.later else ()
    return Reply(
        text=f"Revenue, {w.label}",
        sections=(Section(fields=fields), *note),
        tables=tables,
        data=r,
    )


@command("revenue assurance", args=PeriodArgs)
def assurance_(ctx: Context, args: PeriodArgs) -> Reply:
    """Reconcile a month's rated usage with what its invoices billed; list the gaps."""
    # A bill cycle is a month: today or a day means the cycle it falls in.
    w = cycle(window(args.period, ctx.now(), ctx.services.billing.timezone).start.replace(day=1))
    with ctx.db.read() as s:
        a = assurance_report(s, w, ctx.services.billing)
    fields = (
        Field("rated usage of the month", str(a.rated)),
        Field("usage billed on its invoices", str(a.billed_usage)),
        Field("rated, never billed", f"{a.leaked_records:,} records, {a.leaked}"),
        Field("never rated", f"{a.unrated_records:,} records"),
        Field("invoices whose usage lines do not add up", str(len(a.mismatched))),
    )
    tables = []
    if a.leaked_accounts:
        tables.append(
            Table(
                ("account", "records", "amount"),
                tuple((x.account, f"{x.records:,}", str(x.amount)) for x in a.leaked_accounts),
                title="Accounts with rated usage left off their invoice",
            )
        )
    if a.mismatched:
        tables.append(
            Table(
                ("invoice", "usage lines", "usage records"),
                tuple((m.invoice, str(m.usage_lines), str(m.usage_records)) for m in a.mismatched),
                title="Invoices that do not add up",
            )
        )
    verdict = "no gaps" if a.clean else "gaps found"
    return Reply(
        text=f"Revenue assurance, {w.label}: {verdict}",
        sections=(Section(fields=fields),),
        tables=tuple(tables),
        data=a,
    )
