"""One number, one source: every view that shows a figure shows the same number.

On the seeded demo operator, at two moments: the 1st of a month (the seed's day, when
"this month so far" is the 1st alone: the digest once said billed and collected 0 while
`/revenue` and its own chart showed the day's payments) and a day in mid-month. Each
figure is read from every view that shows it, through the router, and compared.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.access import Access
from domain.billing.models import Payment
from domain.config import PROJECT_ROOT, load_settings
from domain.customers.models import BillingAccount
from domain.db import Database
from domain.demo.seed import seed
from domain.figures import PAST_SLA
from domain.money import money
from skills.reply import Reply
from tests.world import AS_OF, SMALL, make_router

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
ACCESS = Access(SETTINGS)
#: The seed's own day is the 1st of November.
FIRST = datetime.combine(AS_OF, time(8, 0), UTC)
MID_MONTH = FIRST + timedelta(days=12, hours=3)
#: The operator's zone (Asia/Kolkata, 5:30 ahead of UTC): its days are every window's.
ZONE = ZoneInfo(SETTINGS.billing.timezone)
#: 20:00 UTC on the last day of October: already 1 November, 01:30, in Kolkata.
LAST_DAY_EVENING = datetime(2026, 10, 31, 20, 0, tzinfo=UTC)
#: 00:30 on the 1st in Kolkata: still 31 October, 19:00, in UTC.
LOCAL_HALF_PAST_MIDNIGHT = datetime(2026, 11, 1, 0, 30, tzinfo=ZONE).astimezone(UTC)


def _local(now: datetime) -> date:
    return now.astimezone(ZONE).date()


def _fields(reply: Reply, title: str) -> dict[str, str]:
    (section,) = [s for s in reply.sections if s.text.startswith(title)]
    return {f.label: f.value for f in section.fields}


def _ask(router: Any, user: str, text: str) -> Reply:
    reply = router.handle(ACCESS.user(user), text)
    assert reply.ok, (text, reply.text, reply.hint)
    return reply


@pytest.fixture
def demo(db: Database) -> Database:
    seed(db, SMALL, seed=11, as_of=AS_OF)
    return db


def _check_money(router: Any, now: datetime) -> None:
    billing = SETTINGS.billing
    digest = _ask(router, "dave", "/digest preview manager-daily")
    figures = digest.data.figures.revenue
    month = _ask(router, "dave", "/revenue month").data
    today = _ask(router, "dave", "/revenue today").data

    # The digest's window is /revenue month's: the 1st to today (the operator's), so on
    # the 1st the 1st.
    today_ = _local(now)
    assert (month.start, month.end) == (today_.replace(day=1), today_ + timedelta(days=1))
    assert figures.label == month.period
    for metric in ("billed", "collected", "outstanding"):
        assert getattr(figures, metric) == getattr(month.totals, metric), metric
    # ... and the text says it in the same words as /revenue's fields (whole units).
    shown = _fields(digest, "*Revenue")
    assert shown["billed"].startswith(money(month.totals.billed.minor, billing, whole=True) + " (")
    assert shown["collected"].startswith(
        money(month.totals.collected.minor, billing, whole=True) + " ("
    )
    assert shown["outstanding now"] == money(month.totals.outstanding.minor, billing, whole=True)
    # The chart's bar for today is /revenue today's collected; its groups add up to the total.
    assert figures.collected_per_day[today_] == today.totals.collected
    for groups in (month.by_segment, month.by_region):
        for metric in ("billed", "collected", "outstanding", "overdue", "unbilled"):
            assert (
                sum(getattr(g.figures, metric).minor for g in groups)
                == getattr(month.totals, metric).minor
            )
    # The chart's bars of this month add up to /revenue month's collected (the chart's
    # seven days hold the whole month so far up to the 7th).
    if today_.day <= 7:
        bars = [v.minor for d, v in figures.collected_per_day.items() if d.month == today_.month]
        assert sum(bars) == month.totals.collected.minor


def _check_counts(router: Any) -> None:
    manager = _ask(router, "dave", "/digest preview manager-daily").data.figures
    engineer = _ask(router, "alice", "/digest preview engineer-daily").data.figures

    late = _ask(router, "alice", "/ticket list breached")
    assert manager.tickets.breached_open == engineer.tickets.breached_open == late.data.total
    assert late.text.startswith(f"{late.data.total:,} ticket(s) {PAST_SLA}")
    digest = _ask(router, "alice", "/digest preview engineer-daily")
    assert _fields(digest, "*Tickets*")[PAST_SLA] == f"{late.data.total:,}"

    alarms = _ask(router, "alice", "/alarm list")
    health = _ask(router, "alice", "/network health")
    assert (
        manager.network.open_now
        == engineer.network.open_now
        == alarms.data.total
        == sum(health.data.open_alarms.values())
    )
    by_site = dict(engineer.changes.open_alarms_by_site)
    assert by_site == {k: v for k, v in by_site.items() if v > 0}
    for site, n in list(by_site.items())[:2]:
        assert _ask(router, "alice", f"/alarm list site:{site}").data.total == n

    cases = _ask(router, "erin", "/fraud cases")
    assert manager.fraud.open_now == cases.data.total

    pending = _ask(router, "dave", "/order list pending")
    assert manager.orders.pending_total == pending.data.total


@pytest.mark.parametrize("now", [FIRST, MID_MONTH], ids=["on-the-1st", "mid-month"])
def test_each_figure_reads_the_same_in_every_view(demo: Database, now: datetime) -> None:
    router = make_router(demo, SETTINGS, clock=lambda: now)
    _check_money(router, now)
    _check_counts(router)


def test_on_the_1st_the_digest_counts_the_1st(demo: Database) -> None:
    """The symptom: on the 1st the digest said billed 0 and collected 0 while /revenue
    and the digest's own chart showed the day's payments."""
    with demo.read() as s:
        account = s.scalars(sa.select(BillingAccount.account_number).limit(1)).one()
    early = make_router(demo, SETTINGS, clock=lambda: FIRST - timedelta(hours=2))
    _ask(early, "root", f"/payment record {account} 850000 ref=FIRST-OF-THE-MONTH")
    router = make_router(demo, SETTINGS, clock=lambda: FIRST)
    digest = _ask(router, "dave", "/digest preview manager-daily")
    figures = digest.data.figures.revenue
    today = _ask(router, "dave", "/revenue today").data.totals
    assert today.collected.minor >= 850000_00
    assert figures.collected == today.collected == figures.collected_per_day[FIRST.date()]
    assert figures.billed == today.billed
    assert figures.label == "November 2026 to date"
    shown = _fields(digest, "*Revenue")["collected"]
    assert shown.startswith(money(today.collected.minor, SETTINGS.billing, whole=True))
    # The chart labels its money axis in the same format, and reaches past the day's bar.
    (axis,) = [p["axis"] for p in digest.meta["panels"] if p["title"] == "Collected per day"]
    assert axis[0] == "₹0" and all(a.startswith("₹") for a in axis)
    top = int(axis[-1].lstrip("₹").replace(",", "")) * 100
    assert top >= today.collected.minor


def _money_of(reply: Reply) -> dict[str, int]:
    metrics = ("billed", "collected", "outstanding", "overdue", "unbilled")
    return {m: getattr(reply.data.totals, m).minor for m in metrics}


def _collected_between(db: Database, start: datetime, end: datetime) -> int:
    """An oracle apart from the code under test: payments received in [start, end)."""
    with db.read() as s:
        return int(
            s.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Payment.amount_minor), 0)).where(
                    Payment.received_at >= start, Payment.received_at < end
                )
            )
        )


@pytest.mark.parametrize(
    "now",
    [LAST_DAY_EVENING, LOCAL_HALF_PAST_MIDNIGHT],
    ids=["20h-utc-on-the-last-day", "00h30-local-on-the-1st"],
)
def test_every_window_is_the_operators_day_and_none_counts_the_future(
    demo: Database, now: datetime
) -> None:
    """The symptom, on 1 Dec at 20:00 UTC (2 Dec in Kolkata): /revenue said billed 56.8M
    while /revenue 2026-12 said 0, collected differed by two payments dated in the future,
    and /revenue today was labelled with the UTC date. Here the same on 1 November."""
    with demo.read() as s:
        account = s.scalars(sa.select(BillingAccount.account_number).limit(1)).one()
    # A payment at 00:15 on the 1st in Kolkata (still 31 October in UTC) ...
    early = make_router(demo, SETTINGS, clock=lambda: datetime(2026, 10, 31, 18, 45, tzinfo=UTC))
    _ask(early, "root", f"/payment record {account} 1234 ref=LOCAL-FIRST")
    # ... and two dated at noon UTC on the 1st: later than now.
    noon = make_router(demo, SETTINGS, clock=lambda: datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
    _ask(noon, "root", f"/payment record {account} 500 ref=LATER-1")
    _ask(noon, "root", f"/payment record {account} 700 ref=LATER-2")

    router = make_router(demo, SETTINGS, clock=lambda: now)
    _check_money(router, now)
    today = _ask(router, "dave", "/revenue today")
    to_date = _ask(router, "dave", "/revenue month")
    month = _ask(router, "dave", "/revenue 2026-11")
    assert today.text == "Revenue, 01 Nov 2026"
    assert (today.data.start, today.data.end) == (date(2026, 11, 1), date(2026, 11, 2))
    assert to_date.text == "Revenue, November 2026 to date"
    assert month.text == "Revenue, November 2026"
    # This month so far and the month read the same on every figure, in every group ...
    assert _money_of(to_date) == _money_of(month) == _money_of(today)
    assert to_date.data.by_segment == month.data.by_segment
    assert to_date.data.by_region == month.data.by_region
    # ... which is the payment of 00:15 local, and not the two dated later than now.
    assert to_date.data.totals.collected.minor == 1234_00
    later = "2 payments dated later than now are not counted"
    for reply in (today, to_date, month):
        assert reply.data.later == later
        assert any(sec.text == later[0].upper() + later[1:] + "." for sec in reply.sections)
    # October is October in Kolkata: it ends at 18:30 UTC on the 31st.
    october = _ask(router, "dave", "/revenue 2026-10")
    assert october.data.later == ""
    oct_start = datetime(2026, 10, 1, tzinfo=ZONE).astimezone(UTC)
    oct_end = datetime(2026, 11, 1, tzinfo=ZONE).astimezone(UTC)
    assert october.data.totals.collected.minor == _collected_between(demo, oct_start, oct_end)
    assert october.data.totals.collected.minor + 1234_00 == _collected_between(demo, oct_start, now)
    # The manager digest: its day, its month so far and its chart are the same windows.
    preview = _ask(router, "dave", "/digest preview manager-daily")
    figures = preview.data.figures.revenue
    assert any(later[0].upper() + later[1:] + "." in sec.text for sec in preview.sections)
    assert figures.label == "November 2026 to date"
    assert figures.collected == to_date.data.totals.collected
    assert figures.billed == to_date.data.totals.billed
    assert max(figures.collected_per_day) == date(2026, 11, 1)
    assert figures.collected_per_day[date(2026, 11, 1)].minor == 1234_00
    assert figures.later == later
