"""/revenue: the money of a period by segment and region; /revenue assurance: the gaps."""

from __future__ import annotations

from domain.billing.revenue import METRICS, assurance, revenue, window
from domain.config import Role
from domain.money import money
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Field, Reply, Section, Table

MONEY_ROLES = [Role.MANAGER]


class PeriodArgs(Args):
    period: str = positional("month", metavar="today|month|YYYY-MM")


@command("revenue", roles=MONEY_ROLES, args=PeriodArgs)
def revenue_(ctx: Context, args: PeriodArgs) -> Reply:
    """Billed, collected, outstanding, overdue and unbilled usage, by segment and region."""
    billing = ctx.services.billing
    today = ctx.now().date()
    w = window(args.period, today)
    with ctx.db.read() as s:
        r = revenue(s, w, today)
    t = r.totals
    fields = (
        Field("billed", money(t["billed"], billing)),
        Field("collected", money(t["collected"], billing)),
        Field("outstanding now", money(t["outstanding"], billing)),
        Field("overdue now", money(t["overdue"], billing)),
        Field("unbilled usage (rated)", money(t["unbilled"], billing)),
        Field("usage not rated yet", f"{r.unrated_records:,} records"),
    )
    tables = []
    for title, part in (("By segment", 0), ("By region", 1)):
        sums: dict[str, dict[str, int]] = {}
        for key, values in r.by_group.items():
            into = sums.setdefault(key[part], dict.fromkeys(METRICS, 0))
            for m in METRICS:
                into[m] += values[m]
        rows = sorted(sums.items(), key=lambda kv: (-kv[1]["billed"], kv[0]))
        tables.append(
            Table(
                (title.split()[1], *METRICS),
                tuple(
                    (name, *(money(v[m], billing, whole=True) for m in METRICS)) for name, v in rows
                ),
                title=title,
            )
        )
    return Reply(
        text=f"Revenue, {w.label}",
        sections=(Section(fields=fields),),
        tables=tuple(tables),
    )


@command("revenue assurance", roles=MONEY_ROLES, args=PeriodArgs)
def assurance_(ctx: Context, args: PeriodArgs) -> Reply:
    """Reconcile a month's rated usage with what its invoices billed; list the gaps."""
    billing = ctx.services.billing
    w = window(args.period, ctx.now().date())
    if args.period in ("today", "month"):
        w = window(f"{w.start:%Y-%m}", ctx.now().date())
    with ctx.db.read() as s:
        a = assurance(s, w)
    fields = (
        Field("rated usage of the month", money(a.rated_minor, billing)),
        Field("usage billed on its invoices", money(a.billed_usage_minor, billing)),
        Field(
            "rated, never billed",
            f"{a.leaked_records:,} records, {money(a.leaked_minor, billing)}",
        ),
        Field("never rated", f"{a.unrated_records:,} records"),
        Field("invoices whose usage lines do not add up", str(len(a.mismatched))),
    )
    tables = []
    if a.leaked_accounts:
        tables.append(
            Table(
                ("account", "records", "amount"),
                tuple((acc, f"{n:,}", money(m, billing)) for acc, n, m in a.leaked_accounts),
                title="Accounts with rated usage left off their invoice",
            )
        )
    if a.mismatched:
        tables.append(
            Table(
                ("invoice", "usage lines", "usage records"),
                tuple((n, money(b, billing), money(c, billing)) for n, b, c in a.mismatched),
                title="Invoices that do not add up",
            )
        )
    verdict = "no gaps" if a.clean else "gaps found"
    return Reply(
        text=f"Revenue assurance, {w.label}: {verdict}",
        sections=(Section(fields=fields),),
        tables=tuple(tables),
    )
