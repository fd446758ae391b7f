"""One number, one source: every view that shows a figure shows the same number.

On the seeded demo operator, at two moments: the 1st of a month (the seed's day, when
"this month so far" is the 1st alone: the digest once said billed and collected 0 while
`/revenue` and its own chart showed the day's payments) and a day in mid-month. Each
figure is read from every view that shows it, through the router, and compared.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.access import Access
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

    # The digest's window is /revenue month's: the 1st to today, so on the 1st the 1st.
    assert (month.start, month.end) == (now.date().replace(day=1), now.date() + timedelta(days=1))
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
    assert figures.collected_per_day[now.date()] == today.totals.collected
    for groups in (month.by_segment, month.by_region):
        for metric in ("billed", "collected", "outstanding", "overdue", "unbilled"):
            assert (
                sum(getattr(g.figures, metric).minor for g in groups)
                == getattr(month.totals, metric).minor
            )
    # The chart's bars of this month add up to /revenue month's collected (the chart's
    # seven days hold the whole month so far up to the 7th).
    if now.day <= 7:
        bars = [v.minor for d, v in figures.collected_per_day.items() if d.month == now.month]
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
