"""The desk's daily budget: a scheduled run opens at most `alert_budget` of the window's
lines as new cases a UTC day, worst first; the flagged lines beyond it are held back,
said so, and opened worst first on a later run once a new day's budget has room,
on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from domain.billing.models import UsageRecord
from domain.config import FraudSettings
from domain.customers.choices import SubscriptionState
from domain.customers.models import Subscription
from domain.db import Database
from domain.fraud.models import FraudCase
from models.fraud import save_model, train
from models.fraud.desk import FraudDesk
from models.fraud.features import DAY
from models.fraud.synthetic import synthetic_usage
from tests.world import populate_world

WINDOW_DAYS = 3
BUDGET = 0.02


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame, labels = synthetic_usage(500, 3, days=10, fraud_share=0.1)
    d = tmp_path_factory.mktemp("fraud-model")
    save_model(train(frame, labels, threshold=0.7, source="test, seed 3"), d)
    return d


def _usage(db: Database) -> pl.DataFrame:
    """Synthetic usage of 60 lines over 12 days, two in five of them fraud, each line active."""
    frame, _ = synthetic_usage(60, 11, days=12, fraud_share=0.4, records_per_subscriber=150)
    subs = frame["subscriber"].unique().sort().to_list()
    populate_world(db)
    with db.transaction() as s:
        for i, msisdn in enumerate(subs, start=2):
            s.add(
                Subscription(
                    id=i,
                    customer_id=1,
                    billing_account_id=1,
                    offering_id=1,
                    msisdn=msisdn,
                    state=SubscriptionState.ACTIVE,
                )
            )
    ids = pl.DataFrame({"subscriber": subs, "subscription_id": range(2, len(subs) + 2)})
    return frame.join(ids, on="subscriber").sort("started_at")


def _insert(db: Database, rows: pl.DataFrame) -> None:
    columns = (
        "subscription_id",
        "service",
        "direction",
        "counterpart",
        "counterpart_country",
        "duration_s",
        "volume_bytes",
        "cell_id",
        "imei",
        "roaming",
    )
    values = [
        {**{c: r[c] for c in columns}, "started_at": datetime.fromtimestamp(r["started_at"], UTC)}
        for r in rows.iter_rows(named=True)
    ]
    with db.engine.begin() as conn:
        conn.execute(sa.insert(UsageRecord), values)


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
    _insert(db, frame.filter(pl.col("started_at") < t))
    models = tmp_path / "models"
    models.mkdir()
    for p in model_dir.iterdir():
        (models / p.name).write_bytes(p.read_bytes())
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
    _insert(db, records(0, 1800).filter(pl.col("subscriber") == line))
    run = desk.score_and_open(now + timedelta(minutes=30))
    assert (run.all_lines, run.scored, run.opened) == (False, 1, ())
    assert run.held_back == len(flagged) - cap

    # 00:30 UTC, a new UTC day in the same local window: only lines with new usage are
    # scored, and the held-back lines are opened from where they stood, worst first.
    _insert(db, records(1800, 5400).filter(pl.col("subscriber") == line))
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
