"""Incremental fraud scoring: running aggregates from a high-water mark equal a full rescan.

Usage arrives in batches (some records late, for days already scored, some for days
that have left the window); after every run the features and scores of every line
equal a full pass over the same window's records, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

from domain.config import FraudSettings
from domain.customers.models import Subscription
from domain.db import Database
from domain.fraud.models import FraudCase
from models.fraud import TrainedModel
from models.fraud.desk import FraudDesk
from models.fraud.features import DAY, FEATURES, LOCAL_OFFSET_S, FeatureBuilder
from models.fraud.running import RunningWindow, day_window
from tests import fraud_lines
from tests.fraud_lines import copy_models, insert_usage, usage_on_lines, voice_call

WINDOW_DAYS = 3


#: The small model, trained once a session.
model_dir = fraud_lines.model_dir


def _usage(db: Database) -> pl.DataFrame:
    """Synthetic usage for 60 lines over 12 days, each line a subscription in `db`."""
    return usage_on_lines(db, fraud_share=0.15)


def _four_days_in(
    db: Database, model_dir: Path, local_hour: int | None = None
) -> tuple[pl.DataFrame, int, TrainedModel]:
    """The lines' usage of their first four days stored (to `local_hour` o'clock local
    time of the last day, when given): (all their usage, that time, the small model)."""
    frame = _usage(db)
    t = int(frame["started_at"].min()) + 4 * DAY  # type: ignore[arg-type]
    if local_hour is not None:
        t -= (t + LOCAL_OFFSET_S) % DAY - local_hour * 3600
    insert_usage(db, frame.filter(pl.col("started_at") < t))
    return frame, t, FraudDesk(db, FraudSettings(model_dir=str(model_dir))).model()


def _full_rescan(
    db: Database, trained: TrainedModel, now: datetime, days: int = WINDOW_DAYS
) -> dict[str, np.ndarray]:
    from models.fraud.data import usage_from_db

    window = day_window(now, days)
    builder = FeatureBuilder(trained.home_country, window=window)
    f = builder.add_all(usage_from_db(db, since=datetime.fromtimestamp(window[0], UTC))).finish()
    return dict(zip(f.subscribers.tolist(), f.matrix, strict=True))


def test_features_and_scores_equal_a_full_rescan_through_late_and_aging_records(
    db: Database, model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lines' features in groups of 7, as a large run computes them in groups.
    monkeypatch.setattr("models.fraud.running.FEATURE_GROUP", 7)
    trained = FraudDesk(db, FraudSettings(model_dir=str(model_dir))).model()
    frame = _usage(db)
    rng = np.random.default_rng(5)
    # One record in ten arrives late: held back and inserted at a later run.
    late = rng.random(frame.height) < 0.1
    on_time, held = frame.filter(~pl.Series(late)), frame.filter(pl.Series(late))
    t0 = int(frame["started_at"].min())  # type: ignore[arg-type]
    running = RunningWindow(tmp_path / "running", WINDOW_DAYS, trained.home_country)
    latest: dict[str, np.ndarray] = {}
    scores: dict[str, float] = {}
    inserted = 0
    # Runs every few hours across 9 days: several midnights, so days age out.
    steps = [t0 + 2 * DAY + h * 3600 for h in range(0, 9 * 24, 7)]
    rescored_part = 0
    for i, t in enumerate(steps):
        batch = on_time.filter(
            (pl.col("started_at") >= (steps[i - 1] if i else 0)) & (pl.col("started_at") < t)
        )
        if i % 3 == 2:  # late records of any earlier day, some already out of the window
            due = held.filter(pl.col("started_at") < t - DAY)
            take = due.sample(fraction=0.5, seed=i) if due.height else due
            held = held.join(take, on=held.columns, how="anti")
            batch = pl.concat([batch, take])
        insert_usage(db, batch)
        inserted += batch.height
        now = datetime.fromtimestamp(t, UTC)
        refresh = running.refresh(db, trained.version, now)
        f = refresh.features
        if refresh.all_lines:
            latest, scores = {}, {}
        else:
            rescored_part += 1
        latest.update(zip(f.subscribers.tolist(), f.matrix, strict=True))
        got = trained.model.score(f)
        scores.update(zip(got["subscriber"].to_list(), got["score"].to_list(), strict=True))

        full = _full_rescan(db, trained, now)
        assert sorted(latest) == sorted(full), f"run {i}: other lines than a full rescan"
        # The desk's daily budget counts the window's lines from the running tables.
        assert refresh.window_lines == len(full), f"run {i}: window lines"
        mine = np.array([latest[s] for s in sorted(full)])
        theirs = np.array([full[s] for s in sorted(full)])
        assert np.abs(mine - theirs).max(initial=0.0) <= 1e-9, (
            f"run {i}: features differ: "
            + ", ".join(
                FEATURES[j] for j in np.flatnonzero(np.abs(mine - theirs).max(axis=0) > 1e-9)
            )
        )
        full_scores = dict(
            zip(
                *trained.model.score(_as_features(full, refresh.window))
                .select("subscriber", "score")
                .to_dict(as_series=False)
                .values(),
                strict=True,
            )
        )
        assert scores == full_scores
    assert inserted > 5_000 and rescored_part > 10


def _as_features(rows: dict[str, np.ndarray], window: tuple[int, int]):  # type: ignore[no-untyped-def]
    from models.fraud.features import Features

    subs = sorted(rows)
    return Features(
        np.array(subs, dtype=object),
        np.array([rows[s] for s in subs]).reshape(len(subs), len(FEATURES)),
        0,
        *window,
    )


def test_a_run_scores_only_lines_with_new_usage_and_handset_sharers(
    db: Database, model_dir: Path, tmp_path: Path
) -> None:
    frame, t, trained = _four_days_in(db, model_dir)
    running = RunningWindow(tmp_path / "running", WINDOW_DAYS, trained.home_country)
    first = running.refresh(db, trained.version, datetime.fromtimestamp(t, UTC))
    assert first.rebuilt and first.all_lines and first.features.subscribers.size > 40

    # Two lines call again on their own handsets, an hour later (same day).
    last = (
        frame.filter(pl.col("started_at") < t)
        .group_by("subscription_id")
        .agg(pl.col("imei").last(), pl.col("subscriber").last())
        .sort("subscription_id")
    )
    a, b, c, d = last.head(4).iter_rows(named=True)
    insert_usage(
        db,
        pl.DataFrame(
            [
                voice_call(a["subscription_id"], t + 600, a["imei"]),
                voice_call(b["subscription_id"], t + 900, b["imei"]),
                voice_call(b["subscription_id"], t + 1200, b["imei"]),
            ]
        ),
    )
    now = datetime.fromtimestamp(t + 3600, UTC)
    run = running.refresh(db, trained.version, now)
    assert (run.new_records, run.rebuilt, run.all_lines) == (3, False, False)
    assert sorted(run.features.subscribers.tolist()) == sorted([a["subscriber"], b["subscriber"]])

    # A line puts its SIM in another line's handset: both lines' features change.
    insert_usage(db, pl.DataFrame([voice_call(c["subscription_id"], t + 1500, d["imei"])]))
    run = running.refresh(db, trained.version, now)
    sharers = (
        frame.filter(
            (pl.col("imei") == d["imei"])
            & (pl.col("started_at") >= run.window[0])
            & (pl.col("started_at") < t)
        )["subscriber"]
        .unique()
        .to_list()
    )
    assert set(run.features.subscribers.tolist()) == {c["subscriber"], *sharers}
    assert d["subscriber"] in sharers
    full = _full_rescan(db, trained, now)
    for sub, row in zip(run.features.subscribers.tolist(), run.features.matrix, strict=True):
        assert np.abs(row - full[sub]).max() <= 1e-9
    shared = run.features.column("imei_shared_with")
    assert shared[run.features.subscribers.tolist().index(c["subscriber"])] >= 1

    # Nothing new: nothing read, nothing scored.
    run = running.refresh(db, trained.version, now)
    assert (run.new_records, run.features.subscribers.size) == (0, 0)


def test_a_restart_resumes_from_the_mark_and_a_new_model_rebuilds(
    db: Database, model_dir: Path, tmp_path: Path
) -> None:
    frame, t, trained = _four_days_in(db, model_dir)
    folder = tmp_path / "running"
    RunningWindow(folder, WINDOW_DAYS).refresh(db, trained.version, datetime.fromtimestamp(t, UTC))
    batch = frame.filter((pl.col("started_at") >= t) & (pl.col("started_at") < t + 3 * 3600))
    insert_usage(db, batch)
    now = datetime.fromtimestamp(t + 3 * 3600, UTC)
    # A new process: the state on disk says where the previous run stopped.
    run = RunningWindow(folder, WINDOW_DAYS).refresh(db, trained.version, now)
    assert (run.new_records, run.rebuilt) == (batch.height, False)
    assert set(run.features.subscribers.tolist()) >= set(batch["subscriber"].to_list())
    in_window = frame.filter(
        (pl.col("started_at") >= run.window[0]) & (pl.col("started_at") < t + 3 * 3600)
    )
    run = RunningWindow(folder, WINDOW_DAYS).refresh(db, "another-model", now)
    assert (run.rebuilt, run.all_lines, run.new_records) == (True, True, in_window.height)
    full = _full_rescan(db, trained, now)
    assert sorted(run.features.subscribers.tolist()) == sorted(full)
    # A longer window starts again too.
    run = RunningWindow(folder, WINDOW_DAYS + 1).refresh(db, "another-model", now)
    assert run.rebuilt and run.window[0] == day_window(now, WINDOW_DAYS + 1)[0]
    # A state whose files were lost is rebuilt from the records, not trusted.
    for p in folder.glob("*.parquet"):
        p.unlink()
    run = RunningWindow(folder, WINDOW_DAYS + 1).refresh(db, "another-model", now)
    w0 = day_window(now, WINDOW_DAYS + 1)[0]
    longer = frame.filter((pl.col("started_at") >= w0) & (pl.col("started_at") < t + 3 * 3600))
    assert (run.rebuilt, run.new_records) == (True, longer.height)
    # A clock set back two days needs days already dropped: rebuilt, equal to a rescan.
    back = now - timedelta(days=2)
    run = RunningWindow(folder, WINDOW_DAYS + 1).refresh(db, "another-model", back)
    assert run.rebuilt and sorted(run.features.subscribers.tolist()) == sorted(
        _full_rescan(db, trained, back, WINDOW_DAYS + 1)
    )


def test_the_scheduled_run_opens_the_cases_a_full_rescan_flags(
    db: Database, model_dir: Path, tmp_path: Path
) -> None:
    frame = _usage(db)
    t = int(frame["started_at"].min()) + 6 * DAY  # type: ignore[arg-type]
    insert_usage(db, frame.filter(pl.col("started_at") < t))
    models = copy_models(model_dir, tmp_path)
    desk = FraudDesk(db, FraudSettings(model_dir=str(models), window_days=WINDOW_DAYS))
    now = datetime.fromtimestamp(t, UTC)
    run = desk.score_and_open(now)
    full = desk.rescan(now)
    assert run.all_lines and run.scored == full.height
    flagged = full.filter(pl.col("flagged"))
    assert run.flagged == flagged.height > 0
    with db.read() as s:
        cases = s.scalars(sa.select(FraudCase)).all()
        opened = {s.get(Subscription, c.subscription_id).msisdn: c.score for c in cases}
    # The day's budget opens the worst lines first; the rest are held back, not lost.
    worst = flagged.head(run.daily_cap)
    assert opened == {
        sub: round(sc, 6) for sub, sc in worst.select("subscriber", "score").iter_rows()
    }
    assert run.held_back == flagged.height - worst.height
    # An hour later with new usage of one line: one line scored, from the mark.
    one = frame.filter((pl.col("started_at") >= t) & (pl.col("started_at") < t + 3600))
    one = one.filter(pl.col("subscriber") == one["subscriber"][0])
    insert_usage(db, one)
    run = desk.score_and_open(now + timedelta(hours=1))
    assert (run.scored, run.new_records, run.all_lines) == (1, one.height, False)
    check = desk.check_line(one["subscriber"][0], now + timedelta(hours=1))
    again = desk.rescan(now + timedelta(hours=1)).filter(
        pl.col("subscriber") == one["subscriber"][0]
    )
    assert check.score is not None and check.score.score == again["score"][0]


def test_one_folder_pointed_at_another_database_starts_again(
    db: Database, model_dir: Path, tmp_path: Path
) -> None:
    """The running window belongs to the database it folded: the same model folder read
    against another database (same ids, other usage) rebuilds from that database's
    records instead of taking its mark and finding nothing new."""
    from domain.migrate import upgrade

    _, t, trained = _four_days_in(db, model_dir)
    now = datetime.fromtimestamp(t, UTC)
    running = RunningWindow(tmp_path / "running", WINDOW_DAYS, trained.home_country)
    assert running.refresh(db, trained.version, now).all_lines

    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        upgrade(other)
        theirs = usage_on_lines(other, fraud_share=0.15, seed=12)
        # Ids the first database used too, other lines' usage, a day more of it.
        insert_usage(other, theirs.filter(pl.col("started_at") < t + DAY))
        later = now + timedelta(days=1)
        run = running.refresh(other, trained.version, later)
        assert run.rebuilt and run.all_lines
        full = _full_rescan(other, trained, later)
        got = dict(zip(run.features.subscribers.tolist(), run.features.matrix, strict=True))
        assert sorted(got) == sorted(full)
        assert max(np.abs(got[s] - full[s]).max() for s in full) <= 1e-9
    finally:
        other.dispose()
