"""The desk's daily budget: a scheduled run opens at most `alert_budget` of the window's
lines as new cases a UTC day, worst first; the flagged lines beyond it are held back,
said so, and opened worst first on a later run once a new day's budget has room,
on SQLite and PostgreSQL."""

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


def test_a_day_opens_its_budget_worst_first_and_holds_the_rest_for_the_next_day(
    db: Database, model_dir: Path, tmp_path: Path
) -> None:
    frame = _usage(db)
    # 23:00 UTC: the next UTC day starts before the window's local day moves (+05:30).
    t = (int(frame["started_at"].min()) // DAY + 6) * DAY + 23 * 3600  # type: ignore[operator]
    insert_usage(db, frame.filter(pl.col("started_at") < t))
    models = copy_models(model_dir, tmp_path)
    settings = FraudSettings(model_dir=str(models), window_days=WINDOW_DAYS, alert_budget=BUDGET)
    desk = FraudDesk(db, settings)
    now = datetime.fromtimestamp(t, UTC)

    run = desk.score_and_open(now)
    full = desk.rescan(now)
    flagged = dict(full.filter(pl.col("flagged")).select("subscriber", "score").iter_rows())
    cap = math.ceil(BUDGET * full.height)
    assert run.all_lines and (run.window_lines, run.daily_cap) == (full.height, cap)
    assert len(flagged) > 2 * cap, "the test needs more flags than two days' budget"
    ranked = _worst_first(flagged)
    assert _opened(db) == ranked[:cap]
    assert run.held_back == len(flagged) - cap
    assert run.describe().endswith(
        f"{cap} cases opened, {len(flagged) - cap} held back: today's budget of {cap} new "
        f"cases ({full.height} lines in the window) is used up"
    )

    # Later the same UTC day, one line with new usage: the day's budget is spent.
    def records(lo: int, hi: int) -> pl.DataFrame:
        return frame.filter((pl.col("started_at") >= t + lo) & (pl.col("started_at") < t + hi))

    both = set(records(0, 1800)["subscriber"]) & set(records(1800, 5400)["subscriber"])
    line = min(both - set(flagged))
    insert_usage(db, records(0, 1800).filter(pl.col("subscriber") == line))
    run = desk.score_and_open(now + timedelta(minutes=30))
    assert (run.all_lines, run.scored, run.opened) == (False, 1, ())
    assert run.held_back == len(flagged) - cap

    # 00:30 UTC, a new UTC day in the same local window: only lines with new usage are
    # scored, and the held-back lines are opened from where they stood, worst first.
    insert_usage(db, records(1800, 5400).filter(pl.col("subscriber") == line))
    later = now + timedelta(minutes=90)
    run = desk.score_and_open(later)
    assert (run.all_lines, run.scored) == (False, 1)
    again = desk.rescan(later)
    waiting = {m: flagged[m] for m in ranked[cap:] if m != line}
    now_flagged = dict(again.filter(pl.col("flagged")).select("subscriber", "score").iter_rows())
    if line in now_flagged:
        waiting[line] = now_flagged[line]
    expected = _worst_first(waiting)
    assert _opened(db) == ranked[:cap] + expected[:cap]
    assert run.held_back == len(expected) - cap
    assert run.daily_cap == cap

    # The same UTC day again with nothing new: nothing opened, the rest still waits.
    run = desk.score_and_open(later + timedelta(minutes=15))
    assert (run.opened, run.held_back) == ((), len(expected) - cap)
    assert len(_opened(db)) == 2 * cap
