"""Every list command says when it is cut ("showing N of M") and how to see more.

On the seeded demo operator each list is asked for fewer rows than there are; the reply
must say how many there are, how many it shows, and the words that show more (a limit,
a filter or the next page). Asked for all of them, it says no such thing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

import pytest
import sqlalchemy as sa

from bot.access import Access
from domain.config import PROJECT_ROOT, load_settings
from domain.customers.models import Subscription
from domain.db import Database
from domain.demo.seed import seed
from domain.fraud.services import Flag, open_cases_within_budget
from skills.reply import Reply
from tests.world import AS_OF, SMALL, make_router

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
ACCESS = Access(SETTINGS)
NOW = datetime.combine(AS_OF, time(9, 0), UTC)

#: (who, the list command cut short, how it says more can be seen)
CUT = [
    ("alice", "/alarm list limit=2", "limit="),
    ("alice", "/ticket list limit=2", "limit="),
    ("alice", "/ticket list breached limit=1", "limit="),
    ("dave", "/order list limit=2", "limit="),
    ("erin", "/fraud cases limit=1", "limit="),
    ("root", "/audit recent limit=2", "limit="),
]


@pytest.fixture
def demo(db: Database) -> Database:
    """The seeded operator, with three lines flagged by the fraud model."""
    seed(db, SMALL, seed=11, as_of=AS_OF)
    with db.transaction() as s:
        lines = s.scalars(sa.select(Subscription.msisdn).where(Subscription.msisdn.is_not(None)))
        flags = [Flag(str(m), 0.9, None, ("calls to premium numbers",)) for m in list(lines)[:3]]
        opened = open_cases_within_budget(s, flags, model_version="test", quiet_days=7, now=NOW)
        assert len(opened.cases) == 3
    return db


def _ask(router, user: str, text: str) -> Reply:  # type: ignore[no-untyped-def]
    reply = router.handle(ACCESS.user(user), text)
    assert reply.ok, (text, reply.text, reply.hint)
    return reply


def test_every_list_says_when_it_is_cut_and_how_to_see_more(demo: Database) -> None:
    router = make_router(demo, SETTINGS, clock=lambda: NOW)
    for user, text, more in CUT:
        reply = _ask(router, user, text)
        shown = len(reply.tables[0].rows)
        m = re.search(r"^([\d,]+) .*, showing ([\d,]+) of ([\d,]+); (.+)$", reply.text)
        assert m, (text, reply.text)
        total = int(m.group(1).replace(",", ""))
        assert total > shown == int(m.group(2)), (text, reply.text)
        assert int(m.group(3).replace(",", "")) == total, reply.text
        assert more in m.group(4), reply.text
        # Following the advice shows them all (or as many as a list holds), and says so.
        again = _ask(router, user, re.sub(r"limit=\d+", f"limit={total}", text))
        # (The audit trail grows with every command asked, this one too.)
        if len(again.tables[0].rows) == total and not text.startswith("/audit"):
            assert "showing" not in again.text and again.text.startswith(f"{total:,} ")

    found = _ask(router, "alice", "/inventory search r")
    assert found.text.startswith(f"{found.data.total:,} devices match; showing 1-15")
    assert found.data.total > 15 and "page=2" in found.buttons[-1].command


def test_the_past_sla_list_counts_them_all_as_the_digest_does(demo: Database) -> None:
    """`/ticket list breached` said 20 (the rows it showed) where the digest said 66."""
    router = make_router(demo, SETTINGS, clock=lambda: NOW)
    late = _ask(router, "alice", "/ticket list breached limit=3")
    digest = _ask(router, "alice", "/digest preview engineer-daily")
    assert late.data.total > 3
    assert late.text.startswith(f"{digest.data.figures.tickets.breached_open:,} ticket(s) open")


def test_a_name_many_customers_share_says_how_many_it_matched(demo: Database) -> None:
    """`/bill Harpreet` listed 5 of 57 matches as if they were all."""
    from collections import Counter

    from domain.customers.models import Customer

    with demo.read() as s:
        firsts = Counter(n.split()[0] for n in s.scalars(sa.select(Customer.name)))
    name, _ = firsts.most_common(1)[0]
    with demo.read() as s:  # a first name also found inside other names counts those too
        many = s.scalar(sa.select(sa.func.count()).where(Customer.name.ilike(f"%{name}%")))
    assert many > 5, "the demo has a first name shared by more than five customers"
    router = make_router(demo, SETTINGS, clock=lambda: NOW)
    for text in (f"/bill {name}", f"/customer {name}"):
        reply = router.handle(ACCESS.user("carol"), text)
        assert not reply.ok
        head = f"'{name}' matches {many:,} customers, showing 5 of {many:,}: "
        assert reply.text.startswith(head), reply.text
        assert reply.text.count("(") == 5 and "full name" in (reply.hint or "")
