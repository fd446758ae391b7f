"""The desk's daily budget: a scheduled run opens at most `alert_budget` of the window's
lines as new cases a day, the window's local day (+05:30 here), worst first; the flagged
lines beyond it are held back and said so; the next local day's first run scores every
line again and opens the worst of those still flagged within its own budget, on SQLite
and PostgreSQL."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from domain.config import FraudSettings
from domain.customers.models import Subscription
from domain.db import Database
from domain.fraud.models import FraudCase
from models.fraud.desk import FraudDesk
from models.fraud.features import DAY
from tests import fraud_lines
from tests.fraud_lines import copy_models, insert_usage, usage_on_lines

WINDOW_DAYS = 3
BUDGET = 0.02


#: The small model, trained once a session.
model_dir = fraud_lines.model_dir


def _usage(db: Database) -> pl.DataFrame:
    """Synthetic usage of 60 lines over 12 days, two in five of them fraud, each line active."""
    return usage_on_lines(db, fraud_share=0.4)


def _opened(db: Database) -> list[str]:
    """The lines with a case, in the order the cases were opened."""
    with db.read() as s:
        rows = s.execute(
            sa.select(Subscription.msisdn)
            .join(FraudCase, FraudCase.subscription_id == Subscription.id)
            .order_by(FraudCase.id)
        ).all()
    return [str(m) for (m,) in rows]


def _worst_first(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda m: (-scores[m], m))


def test_a_local_day_opens_its_budget_worst_first_and_the_next_one_rescores_the_rest(
    db: Database, model_dir: Path, tmp_path: Path
) -> None:
    frame = _usage(db)
    # 23:00 UTC is 04:30 local: UTC midnight comes before the window's local day moves
    # (18:30 UTC).
    t = (int(frame["started_at"].min()) // DAY + 6) * DAY + 23 * 3600  # type: ignore[operator]
    insert_usage(db, frame.filter(pl.col("started_at") < t))
    models = copy_models(model_dir, tmp_path)
    settings = FraudSettings(model_dir=str(models), window_days=WINDOW_DAYS, alert_budget=BUDGET)
    desk = FraudDesk(db, settings)
    now = datetime.fromtimestamp(t, UTC)
    shipped = {p.name for p in models.iterdir()}

    run = desk.score_and_open(now)
    full = desk.rescan(now)
    flagged = dict(full.filter(pl.col("flagged")).select("subscriber", "score").iter_rows())
    cap = math.ceil(BUDGET * full.height)
    assert run.all_lines and (run.window_lines, run.daily_cap) == (full.height, cap)
    assert len(flagged) > 2 * cap, "the test needs more flags than two days' budget"
    ranked = _worst_first(flagged)
    assert _opened(db) == ranked[:cap]
    assert (run.flagged, run.held_back, run.not_due) == (len(flagged), len(flagged) - cap, 0)
    assert run.describe().endswith(
        f"{len(flagged)} flagged: {cap} cases opened, {len(flagged) - cap} held back for "
        f"tomorrow's budget (today's {cap} new cases, for {full.height} lines in the window, "
        "are used up)"
    )
    assert {p.name for p in models.iterdir()} - shipped == {"running"}, (
        "nothing of the held lines is kept beside the models"
    )

    def records(lo: int, hi: int) -> pl.DataFrame:
        return frame.filter((pl.col("started_at") >= t + lo) & (pl.col("started_at") < t + hi))

    # A line with no case and new usage later the same day, then again at 00:30 UTC (a
    # new UTC day, the same local day): scored alone, held back when flagged, since the
    # local day's budget is spent.
    both = set(records(0, 1800)["subscriber"]) & set(records(1800, 5400)["subscriber"])
    line = min(both - set(ranked[:cap]))
    for lo, hi, minutes in ((0, 1800, 30), (1800, 5400, 90)):
        insert_usage(db, records(lo, hi).filter(pl.col("subscriber") == line))
        later = now + timedelta(minutes=minutes)
        run = desk.score_and_open(later)
        still = bool(desk.rescan(later).filter(pl.col("subscriber") == line)["flagged"][0])
        assert (run.all_lines, run.scored, run.opened) == (False, 1, ())
        assert (run.flagged, run.held_back, run.not_due) == (int(still), int(still), 0)
        assert run.daily_cap == cap
    assert _opened(db) == ranked[:cap]

    # 18:29 UTC, a minute before local midnight, with the day's usage: the lines with
    # new usage are scored; a flagged one with a case is due none, the others wait.
    before = int(now.timestamp()) // DAY * DAY + DAY + 18 * 3600 + 29 * 60
    insert_usage(db, records(5400, before - t))
    run = desk.score_and_open(datetime.fromtimestamp(before, UTC))
    assert not run.all_lines and run.scored > 1 and run.opened == ()
    assert run.flagged == run.held_back + run.not_due
    assert _opened(db) == ranked[:cap]

    # 18:31 UTC, 00:01 local: a new local day's first run scores every line again and
    # opens the worst of the flagged lines with no case, up to the new day's budget.
    after = datetime.fromtimestamp(before + 120, UTC)
    run = desk.score_and_open(after)
    again = desk.rescan(after)
    now_flagged = dict(again.filter(pl.col("flagged")).select("subscriber", "score").iter_rows())
    waiting = _worst_first({m: v for m, v in now_flagged.items() if m not in ranked[:cap]})
    cap2 = math.ceil(BUDGET * again.height)
    assert run.all_lines and (run.scored, run.daily_cap) == (again.height, cap2)
    assert len(waiting) > cap2, "the test needs more waiting lines than a day's budget"
    assert _opened(db) == ranked[:cap] + waiting[:cap2]
    assert (run.flagged, run.held_back) == (len(now_flagged), len(waiting) - cap2)
    assert run.not_due == len(now_flagged) - len(waiting) > 0
    assert run.describe().endswith(
        f"{len(now_flagged)} flagged: {cap2} cases opened, {len(waiting) - cap2} held back "
        f"for tomorrow's budget (today's {cap2} new cases, for {again.height} lines in the "
        f"window, are used up), {run.not_due} already have a case, were decided lately or "
        "are no longer active"
    )
