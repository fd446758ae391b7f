"""Feedback that teaches: analysts' decisions become dated labels that retraining learns from.

A group of lines of one business with a branch office in a high-cost country (long,
answered calls to a few numbers there in office hours, calls coming back) looks like
international revenue share fraud to a model trained on generated data, where only
fraud calls high-cost ranges. An analyst dismisses their cases through the router and
confirms the real fraud; `fraud train --from-db` retrains; the branch-office lines fall
below the threshold while every confirmed fraud line stays flagged. A label decided at T
never sees usage after T.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

from bot.access import Access
from bot.cli import main
from domain.billing.models import UsageRecord
from domain.config import Settings, load_settings
from domain.customers.models import Subscription
from domain.db import Database
from domain.demo.seed import seed
from domain.fraud.models import FraudCase, FraudLabel
from models.fraud.artifact import load_model, score_frames
from models.fraud.data import labels_from_db, usage_from_db
from models.fraud.desk import FraudDesk
from models.fraud.features import compute_features
from models.fraud.model import NORMAL
from models.fraud.training import feedback_rows
from tests import fraud_lines
from tests.fraud_lines import copy_models, fraud_config, voice_call
from tests.world import AS_OF, SMALL, make_router

cli_model_dir = fraud_lines.cli_model_dir

NOW = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)  # the seeded data's today
WINDOW = timedelta(days=7)
IST = timedelta(hours=5, minutes=30)
LOOK_ALIKES = 10
#: Of which the analyst dismisses this many; the rest stay undecided.
DISMISSED = 8


def _settings(tmp: Path, db: Database) -> tuple[Path, Settings]:
    # A desk that can work every case of this small network in a day.
    config = fraud_config(tmp, tmp / "models", alert_budget=0.1)
    settings = load_settings(config, env={"SWITCHBOARD_DATABASE_URL": db.url})
    return config, settings


def _add_usage(db: Database, rows: list[dict[str, object]]) -> None:
    with db.transaction() as s:
        first = (s.scalar(sa.select(sa.func.max(UsageRecord.id))) or 0) + 1
        for i, row in enumerate(rows):
            row["id"] = first + i
        s.execute(sa.insert(UsageRecord), rows)


def _office_calls(
    lines: list[int],
    start: datetime,
    end: datetime,
    rng: np.random.Generator,
    out: tuple[int, int],
    back: tuple[int, int],
) -> Iterator[tuple[int, int, str, datetime]]:
    """(index, line, direction, start) of each call of weekday office hours (09:00-18:00
    IST) between start and end: `out` and `back` bound a line's calls out and in a day."""
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        if day.weekday() < 5:
            for n, sid in enumerate(lines):
                office = day + timedelta(hours=9) - IST
                for direction, count in (("out", rng.integers(*out)), ("in", rng.integers(*back))):
                    for t in np.sort(rng.uniform(0, 9 * 3600, count)):
                        started = office + timedelta(seconds=float(t))
                        if start <= started < end:
                            yield n, sid, direction, started
        day += timedelta(days=1)


def _handsets(db: Database, lines: list[int]) -> dict[int, str]:
    """Each line's own handset: its IMEI, or one made from its id when it has none."""
    with db.read() as s:
        rows = s.execute(
            sa.select(Subscription.id, Subscription.imei).where(Subscription.id.in_(lines))
        ).all()
    return {sid: imei or f"35{sid:013d}" for sid, imei in rows}


def contact_centre_usage(
    db: Database, lines: list[int], start: datetime, end: datetime, seed: int = 3
) -> list[dict[str, object]]:
    """Weekday office hours: ~180 short outgoing calls a day to customers' numbers from
    one cell, with answered calls coming back in, on the line's own handset."""
    rng = np.random.default_rng(seed)
    handsets = _handsets(db, lines)
    return [
        voice_call(
            sid,
            started,
            handsets[sid],
            direction=direction,
            counterpart=f"91{rng.integers(7 * 10**9, 10**10)}",
            duration_s=int(rng.lognormal(np.log(70), 0.6)),
            cell_id=f"MUM-TWR-{900 + n:04d}-1",
        )
        for n, sid, direction, started in _office_calls(
            lines, start, end, rng, (150, 220), (50, 90)
        )
    ]


def branch_office_usage(
    db: Database, lines: list[int], start: datetime, end: datetime, seed: int = 4
) -> list[dict[str, object]]:
    """Weekday office hours: 8-15 long answered calls a day to the branch's three numbers
    in Cuba (a high-cost range), and calls coming back from them, on the line's own
    handset from the office's cell."""
    rng = np.random.default_rng(seed)
    branch = [f"53{7_200_000 + i:07d}" for i in range(3)]
    handsets = _handsets(db, lines)
    return [
        voice_call(
            sid,
            started,
            handsets[sid],
            direction=direction,
            counterpart=str(rng.choice(branch)),
            country="CU",
            duration_s=int(rng.lognormal(np.log(600), 0.5)),
            cell_id="MUM-TWR-0950-1",
        )
        for _, sid, direction, started in _office_calls(lines, start, end, rng, (8, 16), (3, 8))
    ]


def _scores(db: Database, model_dir: Path) -> dict[str, float]:
    """Every line's score over the window with the model LATEST names."""
    trained = load_model(model_dir)
    frame = score_frames(trained, usage_from_db(db, since=NOW - WINDOW, until=NOW))
    return dict(zip(frame["subscriber"].to_list(), frame["score"].to_list(), strict=True))


def _recall(scores: dict[str, float], fraud: set[str], threshold: float) -> float:
    seen = [m for m in fraud if m in scores]
    return sum(scores[m] >= threshold for m in seen) / len(seen)


def _role(sid: int, look_alikes: list[int]) -> str:
    if sid in look_alikes[:DISMISSED]:
        return "dismissed look-alike"
    return "undecided look-alike" if sid in look_alikes else "confirmed fraud"


def test_dismissing_look_alikes_lowers_their_scores_and_keeps_fraud(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cli_model_dir: Path,
) -> None:
    seed(db, SMALL, seed=5, as_of=AS_OF)
    config, settings = _settings(tmp_path, db)
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", db.url)
    copy_models(cli_model_dir, tmp_path)  # what `fraud train --lines 3000` writes

    with db.read() as s:
        fraud_ids = set(s.scalars(sa.select(FraudLabel.subscription_id).where(FraudLabel.is_fraud)))
        ordinary = s.scalars(
            sa.select(Subscription.id)
            .where(Subscription.state == "active", Subscription.msisdn.is_not(None))
            .where(Subscription.id.not_in(fraud_ids))
            .order_by(Subscription.id)
        ).all()
    look_alikes = list(ordinary[:LOOK_ALIKES])
    _add_usage(db, branch_office_usage(db, look_alikes, NOW - WINDOW, NOW))

    desk = FraudDesk(db, settings.fraud)
    desk.score_and_open(NOW)
    with db.read() as s:
        cases = {
            c.subscription_id: (c.ref, c.score)
            for c in s.scalars(sa.select(FraudCase).where(FraudCase.state == "open"))
        }
        msisdn = dict(s.execute(sa.select(Subscription.id, Subscription.msisdn)).all())
    threshold = settings.fraud.threshold
    # The model trained on generated data takes every branch-office line for fraud.
    assert set(look_alikes) <= set(cases), "the look-alikes are not flagged before feedback"
    confirmed = [sid for sid in cases if sid in fraud_ids]
    assert len(confirmed) >= 2

    # Decisions an hour after the scoring run, through the router as erin.
    router = make_router(db, settings, clock=lambda: NOW + timedelta(hours=1))
    erin = Access(settings).user("erin")
    for sid in look_alikes[:DISMISSED]:
        reply = router.handle(erin, f'/fraud dismiss {cases[sid][0]} note="branch office"')
        assert reply.ok, reply.text
    for sid in confirmed:
        reply = router.handle(erin, f"/fraud confirm {cases[sid][0]}")
        assert reply.ok, reply.text

    names = {msisdn[sid]: sid for sid in (*look_alikes, *confirmed)}
    before = _scores(db, tmp_path / "models")
    capsys.readouterr()
    assert main(["--config", str(config), "fraud", "train", "--from-db", "--lines", "2400"]) == 0
    printed = capsys.readouterr().out
    assert (
        f"learning from {len(confirmed)} confirmed and {DISMISSED} dismissed cases decided "
        "2026-11-01 01:00 to 2026-11-01 01:00 UTC" in printed
    )
    after = _scores(db, tmp_path / "models")

    report = [
        f"{_role(names[m], look_alikes)} {m}: {before[m]:.3f} -> {after[m]:.3f}"
        for m in sorted(names, key=lambda m: names[m] in look_alikes)
    ]
    truth = {msisdn[sid] for sid in fraud_ids}
    recall = (_recall(before, truth, threshold), _recall(after, truth, threshold))
    report.append(
        f"recall on every seeded fraud line in the window: {recall[0]:.3f} -> {recall[1]:.3f}"
    )
    print("\n".join(report))
    assert recall[1] >= recall[0], report
    for m, sid in names.items():
        if sid in look_alikes[:DISMISSED]:
            assert before[m] >= threshold and after[m] < threshold, report
        elif sid in look_alikes:
            # Undecided branch-office lines like them fall too: the model learnt the pattern.
            assert before[m] >= threshold and after[m] < threshold, report
        else:
            assert after[m] >= threshold, report  # no confirmed fraud line lost


def test_a_label_decided_at_t_never_sees_usage_after_t(db: Database, tmp_path: Path) -> None:
    seed(db, SMALL, seed=5, as_of=AS_OF)
    with db.read() as s:
        fraud_ids = set(s.scalars(sa.select(FraudLabel.subscription_id).where(FraudLabel.is_fraud)))
        line = s.scalars(
            sa.select(Subscription.id)
            .where(Subscription.state == "active", Subscription.id.not_in(fraud_ids))
            .order_by(Subscription.id)
        ).first()
    assert line is not None
    decided = NOW - timedelta(days=2)
    _, settings = _settings(tmp_path, db)
    desk = FraudDesk(db, settings.fraud)
    with db.transaction() as s:
        case = FraudCase(
            subscription_id=line,
            score=0.8,
            model_version="t",
            reasons=["many calls"],
            opened_at=decided - timedelta(hours=1),
        )
        s.add(case)
        s.flush()
        ref = case.ref
    router = make_router(db, settings, clock=lambda: decided)
    reply = router.handle(Access(settings).user("erin"), f"/fraud dismiss {ref}")
    assert reply.ok, reply.text

    def rows() -> tuple[np.ndarray, np.ndarray]:
        labels = labels_from_db(db, window_days=desk.window_days)
        fb = feedback_rows(pl.concat(list(usage_from_db(db))), labels)
        assert fb.dismissed == 1 and fb.confirmed == 0 and fb.first == int(decided.timestamp())
        return fb.X, fb.kinds

    def seen_to_now() -> np.ndarray:
        """The line's row over a window that runs on past the decision to NOW."""
        with db.read() as s:
            name = s.get_one(Subscription, line).msisdn
        f = compute_features(pl.concat(list(usage_from_db(db, since=decided - WINDOW))))
        return f.matrix[list(f.subscribers).index(name)]

    x_before, kinds = rows()
    assert kinds.tolist() == [NORMAL]
    unbounded = seen_to_now()
    # After the decision the line turns into a contact centre: calls that change its
    # features a great deal where they are counted...
    later = contact_centre_usage(db, [line], decided, NOW)
    assert len(later) > 200
    _add_usage(db, later)
    assert not np.allclose(seen_to_now(), unbounded)
    # ...and leave the row training takes from the decision exactly as it was.
    x_after, _ = rows()
    np.testing.assert_array_equal(x_after, x_before)


def test_train_from_db_refuses_without_decisions(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, _ = _settings(tmp_path, db)
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", db.url)
    assert main(["--config", str(config), "fraud", "train", "--from-db"]) == 1
    err = capsys.readouterr().err
    assert "error: the database holds no confirmed or dismissed fraud case to learn from" in err
    assert "hint: decide cases first (/fraud confirm F-1, /fraud dismiss F-2)" in err
    assert "Traceback" not in err
    assert not (tmp_path / "models" / "LATEST").exists()
