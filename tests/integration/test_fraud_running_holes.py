"""Incremental fraud scoring when ids commit out of order, and across a midnight.

PostgreSQL hands a record its id at insert; a transaction that commits later than one
with a higher id makes a record appear below the high-water mark. The running window
must fold it in once, when it appears, and its features must still equal a full rescan.
On PostgreSQL this is two real concurrent transactions; SQLite lets one writer in at a
time, so there the late record is a later insert with an id below the mark.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa

from domain.billing.models import UsageRecord
from domain.db import Database
from models.fraud import TrainedModel
from models.fraud.features import DAY
from models.fraud.running import HOLE_EXPIRY_S, STATE_FILE, RunningWindow
from tests import fraud_lines
from tests.fraud_lines import insert_usage, voice_call
from tests.integration.test_fraud_incremental import WINDOW_DAYS, _four_days_in, _full_rescan

#: The small model, trained once a session.
model_dir = fraud_lines.model_dir


def _row(sub_id: int, t: int, imei: str) -> dict[str, object]:
    return voice_call(sub_id, datetime.fromtimestamp(t, UTC), imei)


def _assert_equal_to_rescan(
    latest: dict[str, np.ndarray], db: Database, trained: TrainedModel, now: datetime
) -> None:
    full = _full_rescan(db, trained, now)
    assert sorted(latest) == sorted(full)
    mine = np.array([latest[s] for s in sorted(full)])
    theirs = np.array([full[s] for s in sorted(full)])
    assert np.abs(mine - theirs).max(initial=0.0) <= 1e-9


def test_a_record_committed_after_the_mark_passed_its_id_is_folded_in_once(
    db: Database,
    model_dir: Path,
    tmp_path: Path,
) -> None:
    # 06:00 local: the runs below stay in one day.
    frame, t, trained = _four_days_in(db, model_dir, local_hour=6)
    running = RunningWindow(tmp_path / "running", WINDOW_DAYS, trained.home_country)
    first = running.refresh(db, trained.version, datetime.fromtimestamp(t, UTC))
    latest = dict(zip(first.features.subscribers.tolist(), first.features.matrix, strict=True))
    lines = frame.group_by("subscription_id").agg(
        pl.col("imei").last(), pl.col("subscriber").last()
    )
    a, b = lines.sort("subscription_id").head(2).iter_rows(named=True)
    table = UsageRecord.__table__

    def run(at: int):  # type: ignore[no-untyped-def]
        got = running.refresh(db, trained.version, datetime.fromtimestamp(at, UTC))
        latest.update(zip(got.features.subscribers.tolist(), got.features.matrix, strict=True))
        return got

    if db.engine.dialect.name == "postgresql":
        # Two writers at once: a's record takes its id first, b's the next; b commits first.
        slow, quick = db.engine.connect(), db.engine.connect()
        slow.begin()
        slow_id = slow.execute(
            sa.insert(table).returning(table.c.id), [_row(a["subscription_id"], t + 60, a["imei"])]
        ).scalar_one()
        with quick.begin():
            quick_id = quick.execute(
                sa.insert(table).returning(table.c.id),
                [_row(b["subscription_id"], t + 120, b["imei"])],
            ).scalar_one()
        quick.close()
        assert quick_id > slow_id
        mid = run(t + 600)
        slow.commit()
        slow.close()
    else:
        # One writer at a time: b's record is stored with a's id left free, a's later.
        with db.engine.begin() as conn:
            top = conn.execute(sa.select(sa.func.max(table.c.id))).scalar_one()
            conn.execute(
                sa.insert(table),
                [{**_row(b["subscription_id"], t + 120, b["imei"]), "id": top + 2}],
            )
        mid = run(t + 600)
        with db.engine.begin() as conn:
            conn.execute(
                sa.insert(table), [{**_row(a["subscription_id"], t + 60, a["imei"]), "id": top + 1}]
            )
    # The run saw b's record and not a's (invisible then): a hole below the mark.
    assert (mid.new_records, mid.holes) == (1, 1)
    assert mid.features.subscribers.tolist() == [b["subscriber"]]

    # a's record is visible now, below the mark: the next run folds it in, once.
    late = run(t + 1200)
    assert (late.new_records, late.holes, late.all_lines) == (1, 0, False)
    assert late.features.subscribers.tolist() == [a["subscriber"]]
    _assert_equal_to_rescan(latest, db, trained, datetime.fromtimestamp(t + 1200, UTC))
    again = run(t + 1800)
    assert (again.new_records, again.features.subscribers.size) == (0, 0)

    # Midnight: the oldest day leaves the window, the past tables are merged again.
    midnight = t + DAY - 6 * 3600 + 60
    moved = run(midnight)
    assert moved.all_lines and not moved.rebuilt
    latest = dict(zip(moved.features.subscribers.tolist(), moved.features.matrix, strict=True))
    _assert_equal_to_rescan(latest, db, trained, datetime.fromtimestamp(midnight, UTC))
    # A record for yesterday, arriving after midnight: into the past tables, still equal.
    insert_usage(db, pl.DataFrame([voice_call(a["subscription_id"], midnight - 3600, a["imei"])]))
    yesterday = run(midnight + 600)
    assert (yesterday.new_records, yesterday.all_lines) == (1, False)
    _assert_equal_to_rescan(latest, db, trained, datetime.fromtimestamp(midnight + 600, UTC))


def test_a_hole_that_never_fills_expires(
    db: Database,
    model_dir: Path,
    tmp_path: Path,
) -> None:
    frame, t, trained = _four_days_in(db, model_dir)
    running = RunningWindow(tmp_path / "running", WINDOW_DAYS, trained.home_country)
    running.refresh(db, trained.version, datetime.fromtimestamp(t, UTC))
    sub_id, imei = int(frame["subscription_id"][0]), str(frame["imei"][0])
    table = UsageRecord.__table__
    # An id taken and never committed (a rolled-back insert; SQLite: a deleted record).
    with db.engine.connect() as conn:
        with conn.begin() as tx:
            conn.execute(sa.insert(table), [_row(sub_id, t + 60, imei)])
            if db.engine.dialect.name == "postgresql":
                tx.rollback()
        with conn.begin():
            if db.engine.dialect.name != "postgresql":
                top = conn.execute(sa.select(sa.func.max(table.c.id))).scalar_one()
                conn.execute(sa.insert(table), [_row(sub_id, t + 120, imei)])
                conn.execute(sa.delete(table).where(table.c.id == top))
            else:
                conn.execute(sa.insert(table), [_row(sub_id, t + 120, imei)])
    first = running.refresh(db, trained.version, datetime.fromtimestamp(t + 600, UTC))
    assert (first.new_records, first.holes) == (1, 1)
    still = running.refresh(db, trained.version, datetime.fromtimestamp(t + 1200, UTC))
    assert (still.new_records, still.holes) == (0, 1)
    gone = running.refresh(
        db, trained.version, datetime.fromtimestamp(t + 600 + HOLE_EXPIRY_S + 1, UTC)
    )
    assert (gone.new_records, gone.holes) == (0, 0)


def test_a_state_of_another_format_is_rebuilt_not_read(
    db: Database,
    model_dir: Path,
    tmp_path: Path,
) -> None:
    _, t, trained = _four_days_in(db, model_dir)
    folder = tmp_path / "running"
    now = datetime.fromtimestamp(t, UTC)
    RunningWindow(folder, WINDOW_DAYS).refresh(db, trained.version, now)
    import json

    state = json.loads((folder / STATE_FILE).read_text())
    # The previous format's state (no past tables); and one whose tables lack a sum.
    for old in ({**state, "format": 2}, {**state, "columns": {**state["columns"], "sub": []}}):
        (folder / STATE_FILE).write_text(json.dumps(old))
        run = RunningWindow(folder, WINDOW_DAYS).refresh(db, trained.version, now)
        assert run.rebuilt and run.all_lines
        got = dict(zip(run.features.subscribers.tolist(), run.features.matrix, strict=True))
        _assert_equal_to_rescan(got, db, trained, now)
