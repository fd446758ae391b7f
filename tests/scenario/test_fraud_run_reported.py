"""A scheduled fraud run that fills the day's budget says where every flagged line went
in the job's line for the log and in the fraud channel after the cases it opened;
serve's /metrics (the run happens in a job worker process, /metrics in serve's) shows
its operational figures only, none of the desk's business figures; and every view that
shows a line's score shows the figure its case keeps; on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bot import jobs
from domain.db import Database
from domain.fraud.choices import score_text
from domain.fraud.models import FraudCase
from domain.fraud.queries import case_view
from tests import fraud_lines
from tests.fraud_lines import copy_models, fraud_config, insert_usage, usage_on_lines
from tests.scenario.conftest import Served, _serve

BUDGET = 0.02
REPORT = re.compile(
    r"fraud scoring: scored (?P<scored>[\d,]+) lines \((?P<new_records>[\d,]+) new records\), "
    r"(?P<flagged>[\d,]+) flagged: (?P<opened>[\d,]+) cases opened"
    r"(?:, (?P<held_back>[\d,]+) held back for tomorrow's budget \(today's "
    r"(?P<daily_cap>[\d,]+) new cases, for (?P<lines>[\d,]+) lines in the window, are used "
    r"up\))?(?:, (?P<not_due>[\d,]+) already have a case, were decided lately or are no "
    r"longer active)?"
)


#: The small model, trained once a session.
model_dir = fraud_lines.model_dir


@pytest.fixture
def served(db: Database, model_dir: Path, tmp_path: Path) -> Iterator[Served]:
    """`serve` over a week of usage ending now (40% of 60 lines fraud), its scheduler off
    (the test hands the job to the worker process itself), a 2% daily budget."""
    frame = usage_on_lines(db, fraud_share=0.4)
    start = int(frame["started_at"].min())  # type: ignore[arg-type]
    cut = start + 6 * 86_400 + 23 * 3600
    shift = int(time.time()) - 60 - cut
    insert_usage(
        db, frame.filter(pl.col("started_at") < cut).with_columns(pl.col("started_at") + shift)
    )
    models = copy_models(model_dir, tmp_path)
    config = fraud_config(tmp_path, models, alert_budget=BUDGET, window_days=3, scheduler=False)
    serving = _serve(tmp_path, None, config=config, database_url=db.url)
    yield next(serving)
    next(serving, None)


def _metrics(served: Served) -> dict[str, float]:
    with urllib.request.urlopen(served.url + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("switchboard_fraud_")
        for s in family.samples
    }


def _figures(report: str) -> dict[str, int]:
    found = REPORT.fullmatch(report)
    assert found, report
    return {k: int((v or "0").replace(",", "")) for k, v in found.groupdict().items()}


def test_a_run_that_holds_lines_back_says_so_in_its_report_the_channel_and_metrics(
    served: Served,
) -> None:
    worker = jobs.job_worker(served.sb)  # as serve hands its scheduled jobs over
    try:
        assert _metrics(served) == {}, "no figures before the first run"
        _, report = worker.run("fraud_scoring", "")
        first = _figures(str(report))
        assert first["held_back"] > 0, report
        assert first["daily_cap"] == math.ceil(BUDGET * first["lines"])
        assert first["opened"] == first["daily_cap"]
        assert first["flagged"] == first["opened"] + first["held_back"] + first["not_due"]
        assert first["not_due"] == 0
        with served.sb.db.read() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(FraudCase)) == first["opened"]

        posts = [p.params["text"] for p in served.slack.calls_to("chat.postMessage")]
        assert len(posts) == first["opened"] + 1
        assert all(":rotating_light: F-" in p for p in posts[:-1])
        assert posts[-1] == f":hourglass_flowing_sand: {report[0].upper()}{report[1:]}"

        shown = _metrics(served)
        assert shown["switchboard_fraud_run_seconds"] > 0
        assert (
            abs(shown.pop("switchboard_fraud_run_finished_timestamp_seconds") - time.time()) < 600
        )
        # Operational figures only: /metrics is served without authentication.
        assert shown == {
            "switchboard_fraud_run_lines_scored": first["scored"],
            "switchboard_fraud_run_records_folded": first["new_records"],
            "switchboard_fraud_run_seconds": shown["switchboard_fraud_run_seconds"],
            "switchboard_fraud_runs_total": 1,
            "switchboard_fraud_records_folded_total": first["new_records"],
        }

        # Again the same day, nothing new: nothing scored, no case, no second note.
        _, report = worker.run("fraud_scoring", "")
        assert str(report) == (
            "fraud scoring: scored 0 lines (0 new records), 0 flagged: 0 cases opened"
        )
        assert len(served.slack.calls_to("chat.postMessage")) == len(posts)
        shown = _metrics(served)
        assert shown["switchboard_fraud_run_lines_scored"] == 0
        assert shown["switchboard_fraud_runs_total"] == 2
        assert shown["switchboard_fraud_records_folded_total"] == first["new_records"]
    finally:
        worker.shutdown(5)


def test_every_view_shows_a_lines_score_as_its_case_keeps_it(served: Served) -> None:
    """The card posted, /fraud explain, /fraud cases and /fraud check (which scores the
    line now, at full precision) show one figure: the six places the case keeps."""
    sb = served.sb
    run = jobs.score_fraud(sb, sb.outbound)
    assert run.opened
    erin = sb.access.user("erin")
    (table,) = sb.router.handle(erin, "/fraud cases").tables
    listed = {row[0]: row[table.columns.index("score")] for row in table.rows}
    # The cards go out through the outbound queue: wait for them, however busy the machine.
    served.slack.wait_for(
        "chat.postMessage",
        count=len(run.opened),
        timeout=60,
        where=lambda c: str(c.params.get("text", "")).startswith(":rotating_light: "),
    )
    posts = [p.params["text"] for p in served.slack.calls_to("chat.postMessage")]
    with sb.db.read() as s:
        cases = [case_view(s, i) for i in run.opened]
    for case in cases:
        figure = f"{case.score:.6f}"
        assert score_text(case.score) == figure
        (card,) = [p for p in posts if p.startswith(f":rotating_light: {case.ref}: ")]
        assert card.endswith(f"(score {figure})")
        explained = sb.router.handle(erin, f"/fraud explain {case.ref}")
        assert explained.text.endswith(f"(score {figure})")
        assert {f.label: f.value for f in explained.sections[0].fields}["score"] == figure
        assert listed[case.ref] == figure
        checked = sb.router.handle(erin, f"/fraud check {case.line}")
        assert checked.text.startswith(f"{case.line}: score {figure}, flagged"), checked.text
