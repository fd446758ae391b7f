"""The fraud desk's files beside the models fail safely: a run whose files cannot be
written still announces the cases it committed and says that some could not be saved
(the errors, with their paths, in the log only); garbage running state is warned about
and rebuilt, never trusted; a mark above the database's newest usage record rebuilds
the running window; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

from bot.bootstrap import bootstrap
from bot.jobs import score_fraud
from bot.outbound import Outbound
from bot.slack.edge import web_client
from domain.config import FraudSettings, load_settings
from domain.db import Database
from domain.fraud.models import FraudCase
from models.fraud import TrainedModel
from models.fraud.desk import FraudDesk
from models.fraud.features import DAY
from models.fraud.running import STATE_FILE, RunningWindow, max_usage_id
from tests import fraud_lines
from tests.fakes.slack_api import FakeSlack
from tests.fraud_lines import copy_models, fraud_config, insert_usage, usage_on_lines

WINDOW_DAYS = 3
BUDGET = 0.02


#: The small model, trained once a session.
model_dir = fraud_lines.model_dir


def _start(db: Database) -> tuple[pl.DataFrame, int]:
    """The world's usage up to 23:00 UTC of its seventh day inserted; (all usage, that time)."""
    frame = usage_on_lines(db, fraud_share=0.4)
    t = (int(frame["started_at"].min()) // DAY + 6) * DAY + 23 * 3600  # type: ignore[operator]
    insert_usage(db, frame.filter(pl.col("started_at") < t))
    return frame, t


def _folded(
    db: Database, model_dir: Path, tmp_path: Path, now: datetime
) -> tuple[FraudDesk, TrainedModel, RunningWindow]:
    """A desk on a copy of the model, with its running window folded up to `now`."""
    desk = FraudDesk(
        db, FraudSettings(model_dir=str(copy_models(model_dir, tmp_path)), window_days=WINDOW_DAYS)
    )
    model = desk.model()
    window = desk.running_window(model)
    window.refresh(db, model.version, now)
    return desk, model, window


def _between(frame: pl.DataFrame, lo: int, hi: int) -> pl.DataFrame:
    return frame.filter((pl.col("started_at") >= lo) & (pl.col("started_at") < hi))


def _scores(frame: pl.DataFrame) -> dict[str, float]:
    return dict(frame.select("subscriber", "score").iter_rows())


def _cases(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(sa.select(sa.func.count(FraudCase.id))) or 0)


def _one_line_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings logged, each asserted to be one line without a traceback."""
    found = [r for r in caplog.records if r.levelno >= logging.WARNING]
    for r in found:
        assert r.exc_info is None and "\n" not in r.getMessage(), r.getMessage()
    return [r.getMessage() for r in found]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def test_side_files_that_cannot_be_written_are_said_and_the_cases_still_posted(
    db: Database,
    model_dir: Path,
    tmp_path: Path,
    slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, t = _start(db)
    models = copy_models(model_dir, tmp_path)
    # Paths that really cannot be written, even as root: the running folder is a regular
    # file, and fraud-runs.json is a folder.
    (models / "running").write_text("not a folder")
    (models / "fraud-runs.json").mkdir()
    config = fraud_config(
        tmp_path, models, alert_budget=BUDGET, window_days=WINDOW_DAYS, scheduler=False
    )
    settings = load_settings(
        config,
        env={
            "SLACK_BOT_TOKEN": "xoxb-t",
            "SLACK_API_URL": slack.api_url,
            "SWITCHBOARD_DATABASE_URL": db.url,
        },
    )
    sb = bootstrap(settings)
    try:
        outbound = Outbound(web_client(sb.settings.slack), per_channel_s=0.01)
        now = datetime.fromtimestamp(t, UTC)
        caplog.set_level(logging.INFO)
        run = score_fraud(sb, outbound, now)
        full = sb.services.fraud.rescan(now)
    finally:
        sb.close()

    flagged = int(full["flagged"].sum())
    cap = math.ceil(BUDGET * full.height)
    # The cases are committed and announced; the scores are a full pass's.
    assert len(run.opened) == cap == _cases(db)
    assert run.held_back == flagged - cap > 0
    assert (run.all_lines, run.scored, run.window_lines) == (True, full.height, full.height)
    posts = [c.params["text"] for c in slack.calls_to("chat.postMessage")]
    assert len(posts) == cap + 1
    note = posts[-1]
    assert f"{flagged} flagged: {cap} cases opened, {flagged - cap} held back" in note
    assert note.endswith("; some of the desk's files could not be saved; see the log")
    assert str(tmp_path) not in note and "Error" not in note, "no server path in the channel"
    (unsaved, figures) = run.problems
    assert unsaved.startswith("running window not saved (FileExistsError: ")
    assert unsaved.endswith("): every line scored from the records")
    assert figures == "figures not saved for /metrics"
    warnings = [w for w in _one_line_warnings(caplog) if "fraud" in w]
    assert [w.split(" (")[0] for w in warnings] == [
        f"fraud running window not saved in {models / 'running'}",
        f"fraud run figures not saved in {models / 'fraud-runs.json'} for /metrics",
    ]
    assert not list(models.glob("fraud-runs.json.*")), "no temporary file is left behind"


@pytest.mark.parametrize(
    "garbage",
    ["[]", '{"mark": "abc"}', "{not json", "mark-abc", "files-path"],
)
def test_garbage_running_state_is_one_warning_and_rebuilt_from_the_records(
    db: Database, model_dir: Path, tmp_path: Path, garbage: str, caplog: pytest.LogCaptureFixture
) -> None:
    frame, t = _start(db)
    now = datetime.fromtimestamp(t, UTC)
    desk, model, window = _folded(db, model_dir, tmp_path, now)
    insert_usage(db, _between(frame, t, t + 1800))
    later = now + timedelta(minutes=30)
    path = window.folder / STATE_FILE
    state = json.loads(path.read_text())
    if garbage == "mark-abc":  # a whole state but for its mark
        garbage = json.dumps({**state, "mark": "abc"})
    elif garbage == "files-path":  # a generation that would name a file elsewhere
        garbage = json.dumps({**state, "files": {k: "../../x" for k in state["files"]}})
    path.write_text(garbage)

    caplog.set_level(logging.INFO)
    refresh = window.refresh(db, model.version, later)
    assert refresh.rebuilt and refresh.all_lines
    assert refresh.new_records > len(_between(frame, t, t + 1800))
    incremental = _scores(model.model.score(refresh.features))
    full = _scores(desk.rescan(later))
    assert incremental.keys() == full.keys()
    assert np.allclose([incremental[k] for k in full], list(full.values()), rtol=0, atol=1e-9)
    warnings = _one_line_warnings(caplog)
    assert len(warnings) == 1 and warnings[0].endswith("; rebuilt from the records")
    assert str(path) in warnings[0]
    # The rebuilt state is whole again: the next run folds only what is new.
    caplog.clear()
    insert_usage(db, _between(frame, t + 1800, t + 3600))
    again = window.refresh(db, model.version, later + timedelta(minutes=30))
    assert not again.rebuilt and again.new_records == len(_between(frame, t + 1800, t + 3600))
    assert _one_line_warnings(caplog) == []


def test_a_mark_above_the_databases_newest_record_rebuilds_the_window(
    db: Database, model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frame, t = _start(db)
    now = datetime.fromtimestamp(t, UTC)
    desk, model, window = _folded(db, model_dir, tmp_path, now)
    # The database restored from an older backup: the state's mark is past its newest id,
    # and the records that arrive next are given ids below the mark.
    path = window.folder / STATE_FILE
    state = json.loads(path.read_text())
    path.write_text(json.dumps({**state, "mark": max_usage_id(db) + 5_000}))
    new = _between(frame, t, t + 3600)
    insert_usage(db, new)
    later = now + timedelta(hours=1)

    caplog.set_level(logging.INFO, logger="models.fraud.running")
    refresh = window.refresh(db, model.version, later)
    assert refresh.rebuilt and refresh.mark == max_usage_id(db)
    assert refresh.new_records > len(new)
    incremental = _scores(model.model.score(refresh.features))
    full = _scores(desk.rescan(later))
    assert incremental.keys() == full.keys()
    assert np.allclose([incremental[k] for k in full], list(full.values()), rtol=0, atol=1e-9)
    said = [r for r in caplog.records if "below the mark" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.INFO
    assert _one_line_warnings(caplog) == []
