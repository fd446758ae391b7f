"""Scheduled jobs run in a job worker process, never in the process that acks Slack:
the digest reaches Slack from another process, a failing job is logged once a run and
the next run happens, a job that kills its process gets a new one, a job is never run
twice at once, and stopping gives a running job its grace and no more."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from automation.scheduler import ClusterScheduler, JobSpec, JobWorker
from bot import jobs
from bot.bootstrap import Switchboard, bootstrap
from domain.config import PROJECT_ROOT, Settings, load_settings
from domain.db import Database
from tests.fakes.slack_api import FakeSlack
from tests.scenario import job_kinds
from tests.scenario.conftest import Served


def _every(kind: str, arg: str, seconds: float) -> list[JobSpec]:
    trigger = IntervalTrigger(seconds=seconds, timezone="UTC")
    return [JobSpec(f"{kind}:{arg}", kind, arg, trigger)]


def _settings(slack: FakeSlack) -> Settings:
    return load_settings(
        PROJECT_ROOT / "config.yaml",
        env={"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_API_URL": slack.api_url},
    )


@pytest.fixture
def wired(world: Database) -> Iterator[tuple[Switchboard, FakeSlack]]:
    with FakeSlack() as slack:
        sb = bootstrap(_settings(slack), database_url=world.url)
        yield sb, slack
        sb.close()


def _messages(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_scheduled_digest_is_built_in_another_process_and_reaches_slack(
    wired: tuple[Switchboard, FakeSlack], caplog: pytest.LogCaptureFixture
) -> None:
    sb, slack = wired
    caplog.set_level(logging.INFO, logger="automation.scheduler")
    worker = jobs.job_worker(sb)
    sched = ClusterScheduler(
        sb.db, sb.settings, worker, poll_s=0.3, jobs=_every("digest", "manager-daily", 1.5)
    )
    sched.start()
    try:
        assert sched.wait_leading(10)
        (post,) = slack.wait_for(
            "chat.postMessage", timeout=60, where=lambda c: c.params["channel"] == "#ops-managers"
        )[:1]
        assert post.params["text"].startswith("Manager daily digest")
        deadline = time.monotonic() + 30
        while not _messages(caplog, "scheduled job digest manager-daily done"):
            assert time.monotonic() < deadline, "the digest's run was never logged"
            time.sleep(0.1)
        workers = worker.pids()
    finally:
        sched.stop(10)
    (done, *_) = _messages(caplog, "scheduled job digest manager-daily done")
    message = done.getMessage()
    assert "sent to #ops-managers" in message
    pid = int(message.rsplit("job worker process ", 1)[1].rstrip(")"))
    assert pid != os.getpid() and pid in workers
    assert not _alive(pid), "stopping the scheduler left its job worker running"


def test_serve_hands_its_jobs_to_a_worker_process(served: Served) -> None:
    scheduler = served.service.scheduler
    assert scheduler is not None and scheduler.worker is not None
    pid, result = scheduler.worker.run("digest", "engineer-daily")
    assert pid != os.getpid()
    assert result == "sent to #noc"
    (post,) = served.slack.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == "#noc"
    )
    assert post.params["text"].startswith("Engineer daily digest")
    pid_again, result = scheduler.worker.run("fraud_scoring", "")
    models = served.sb.services.fraud.model_dir
    assert (pid_again, result) == (
        pid,
        f"fraud scoring skipped: no fraud model in {models} "
        "(train one: switchboard fraud train --synthetic (or --from-db))",
    )
    # Jobs yield the CPU to the process that acks Slack.
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, mine + 10)


def _tested_worker(tmp_path: Path) -> tuple[JobWorker, Path]:
    trail = tmp_path / "trail.txt"
    return JobWorker(job_kinds.start, (str(trail),)), trail


def _run_for(sched: ClusterScheduler, seconds: float) -> None:
    sched.start()
    try:
        assert sched.wait_leading(10)
        time.sleep(seconds)
    finally:
        sched.stop(5)


def test_a_failing_job_is_logged_once_a_run_and_runs_again(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    worker, trail = _tested_worker(tmp_path)
    settings = load_settings(PROJECT_ROOT / "config.yaml", env={})
    _run_for(ClusterScheduler(db, settings, worker, poll_s=0.3, jobs=_every("boom", "x", 1)), 4.5)
    runs = [what for _, _, what in job_kinds.trail(trail)]
    assert runs.count("boom") >= 2, runs
    failed = _messages(caplog, "boom x")
    assert len(failed) == runs.count("boom")
    for record in failed:
        assert record.levelno == logging.ERROR
        assert (
            record.getMessage() == "scheduled job boom x failed: ValueError: no such thing as 'x'"
        )
        assert record.exc_info is not None  # the worker's traceback, in that one record
    assert not [r for r in caplog.records if r.name.startswith("apscheduler") and r.exc_info]


def test_a_job_that_kills_its_process_is_reported_once_and_the_next_runs_in_a_new_one(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    worker, trail = _tested_worker(tmp_path)
    settings = load_settings(PROJECT_ROOT / "config.yaml", env={})
    _run_for(ClusterScheduler(db, settings, worker, poll_s=0.3, jobs=_every("crash", "", 1)), 5)
    crashes = job_kinds.trail(trail)
    assert len(crashes) >= 2, crashes
    assert len({pid for pid, _, _ in crashes}) == len(crashes)  # each run in a new process
    died = _messages(caplog, "scheduled job crash failed")
    assert len(died) == len(crashes)
    assert died[0].getMessage() == (
        "scheduled job crash failed: the job worker process died while running it "
        "(killed, out of memory or a crash); a new one runs the next job"
    )


def test_a_job_still_running_when_it_is_due_again_is_not_started_twice(
    db: Database, tmp_path: Path
) -> None:
    worker, trail = _tested_worker(tmp_path)
    settings = load_settings(PROJECT_ROOT / "config.yaml", env={})
    sched = ClusterScheduler(db, settings, worker, poll_s=0.3, jobs=_every("sleep", "1.6", 0.5))
    _run_for(sched, 5)
    rows = job_kinds.trail(trail)
    starts = [at for _, at, what in rows if what == "start"]
    ends = [at for _, at, what in rows if what == "end"]
    assert len(ends) >= 2, rows
    # One at a time: each run starts after the one before it ended.
    assert all(start > end for start, end in zip(starts[1:], ends, strict=False)), rows


def test_stopping_gives_a_running_job_its_grace_then_ends_its_process(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    worker, trail = _tested_worker(tmp_path)
    settings = load_settings(PROJECT_ROOT / "config.yaml", env={})
    sched = ClusterScheduler(db, settings, worker, poll_s=0.3, jobs=_every("sleep", "60", 1))
    sched.start()
    assert sched.wait_leading(10)
    deadline = time.monotonic() + 30
    while not job_kinds.trail(trail):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    (pid,) = worker.pids()
    started = time.monotonic()
    sched.stop(1.5)
    assert 1.4 < time.monotonic() - started < 10
    assert not _alive(pid)
    assert [what for _, _, what in job_kinds.trail(trail)] == ["start"]
    assert len(_messages(caplog, "were still running after 2 s and were cut off")) == 1
    assert len(_messages(caplog, "scheduled job sleep 60 cut off")) == 1
