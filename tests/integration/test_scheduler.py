"""The scheduler on both databases: cron in time zones, once per cluster, takeover,
no replay after a restart; digests with the right numbers and a real PNG chart."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from automation.scheduler import ClusterScheduler, JobSpec, jobs_from_config
from bot.bootstrap import build_services
from domain.config import PROJECT_ROOT, Settings, load_settings
from domain.db import Database
from domain.faults.choices import AlarmSource, PerceivedSeverity, TicketStatus
from domain.faults.services import clear_alarm, move_ticket, open_ticket, raise_alarm
from skills.digests import build_digest
from tests.world import NOW


def settings(grace_s: int = 3600) -> Settings:
    base = load_settings(PROJECT_ROOT / "config.yaml", env={})
    return base.model_copy(
        update={"scheduler": base.scheduler.model_copy(update={"misfire_grace_s": grace_s})}
    )


def test_digests_fire_at_their_cron_time_in_their_time_zone() -> None:
    jobs = {j.id: j for j in jobs_from_config(settings())}
    manager = jobs["digest:manager-daily"].trigger  # "0 8 * * *" Asia/Kolkata
    after = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    fire = manager.get_next_fire_time(None, after)
    assert fire.astimezone(UTC) == datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # 08:00 IST
    engineer = jobs["digest:engineer-daily"].trigger  # "30 7 * * 1-5": weekdays only
    saturday = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    fire = engineer.get_next_fire_time(None, saturday)
    assert fire.astimezone(UTC) == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 07:30 IST
    assert {"dunning", "sla-warnings", "fraud-scoring"} <= set(jobs)


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("sat,sun", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("5-1", "sun,mon,fri,sat"),
        ("*", "*"),
    ],
)
def test_cron_weekdays_mean_what_crontab_means(field: str, names: str) -> None:
    from automation.scheduler import _weekday_names

    assert _weekday_names(field) == names


def _tick_job(seconds: float = 1.0) -> list[JobSpec]:
    return [JobSpec("tick", "tick", "x", IntervalTrigger(seconds=seconds, timezone=UTC))]


def test_two_schedulers_on_one_database_fire_a_job_once_and_one_takes_over(
    db: Database,
) -> None:
    runs: list[tuple[str, float]] = []
    lock = threading.Lock()

    def runner(who: str):  # type: ignore[no-untyped-def]
        def run(_: str) -> None:
            with lock:
                runs.append((who, time.monotonic()))

        return run

    twin = Database(db.url)  # another replica: its own engine and connections
    first = ClusterScheduler(db, settings(), {"tick": runner("a")}, poll_s=0.3, jobs=_tick_job())
    first.start()
    assert first.wait_leading(10)
    second = ClusterScheduler(twin, settings(), {"tick": runner("b")}, poll_s=0.3, jobs=_tick_job())
    second.start()
    time.sleep(3.2)
    assert not second.leading
    # The runners are per kind, shared in one process; the leader's name shows who ran.
    with lock:
        ran = list(runs)
    assert 2 <= len(ran) <= 4
    first.stop()  # the leader goes away; the other replica takes over
    assert second.wait_leading(10)
    time.sleep(2.2)
    second.stop()
    with lock:
        after = runs[len(ran) :]
    assert after, "the second scheduler never ran the job"
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(runs)]
    assert min(gaps) > 0.5  # never two runs of one tick
    twin.dispose()


def test_a_restart_does_not_replay_missed_runs(db: Database) -> None:
    runs: list[float] = []
    sched = ClusterScheduler(
        db,
        settings(grace_s=1),
        {"tick": lambda _: runs.append(time.monotonic())},
        poll_s=0.2,
        jobs=_tick_job(),
    )
    sched.start()
    assert sched.wait_leading(10)
    time.sleep(2.5)
    sched.stop()
    before = len(runs)
    assert before >= 2
    time.sleep(4)  # four runs missed, each beyond the one-second grace
    again = ClusterScheduler(
        db,
        settings(grace_s=1),
        {"tick": lambda _: runs.append(time.monotonic())},
        poll_s=0.2,
        jobs=_tick_job(),
    )
    again.start()
    assert again.wait_leading(10)
    time.sleep(0.6)
    again.stop()
    # Four runs were missed. At most the latest one (if still within the grace) runs,
    # once, beside the next regular run: nothing piles up, nothing is replayed.
    assert len(runs) - before <= 2


def test_the_manager_digest_counts_what_happened_and_draws_its_chart(world: Database) -> None:
    now = NOW
    with world.transaction() as s:
        for i, hours in enumerate((2, 5, 30)):
            raise_alarm(
                s,
                fingerprint=f"fp{i}",
                source=AlarmSource.WEBHOOK,
                alarm_type="LinkDown",
                severity=PerceivedSeverity.MAJOR,
                summary="link down",
                device_id=1,
                now=now - timedelta(hours=hours),
            )
        clear_alarm(s, "fp0", now=now - timedelta(hours=1))
        t = open_ticket(
            s,
            title="Fibre cut",
            severity=2,
            reporter="alice",
            sla_hours={1: 4, 2: 8, 3: 24, 4: 72},
            device_id=1,
            now=now - timedelta(hours=20),
        )
        move_ticket(
            s, t.ref, TicketStatus.RESOLVED, "bob", note="spliced", now=now - timedelta(hours=3)
        )
    reply = build_digest(build_services(settings(), world), "manager-daily", now)
    by_section = {sec.text: {f.label: f.value for f in sec.fields} for sec in reply.sections}
    network = by_section["*Network*"]
    assert (network["alarms raised"], network["alarms cleared"], network["open now"]) == (
        "2",
        "1",
        "2",
    )
    tickets = by_section["*Tickets*"]
    assert (tickets["opened"], tickets["resolved"], tickets["resolved late"]) == ("1", "1", "1")
    assert reply.text.startswith("Manager daily digest, Fri 20 Nov 2026 14:30 (Asia/Kolkata)")
    (chart,) = reply.files
    assert chart.content[:8] == b"\x89PNG\r\n\x1a\n" and len(chart.content) > 10_000
    panels = reply.meta["panels"]
    assert [(p["title"], p["series"]) for p in panels] == [
        ("Alarms per day", ["raised", "cleared"]),
        ("Tickets per day", ["opened", "resolved"]),
        ("Collected per day", ["collected"]),
    ]
    # Counts are whole numbers on their axes; money is in the currency's format.
    for counts in panels[:2]:
        assert all(label.isdigit() for label in counts["axis"]), counts
    assert all(label.startswith("₹") for label in panels[2]["axis"]), panels[2]


@pytest.mark.parametrize("name", ["nope"])
def test_an_unknown_digest_names_the_ones_there_are(world: Database, name: str) -> None:
    from domain.errors import NotFound

    with pytest.raises(NotFound, match="no digest 'nope'") as exc:
        build_digest(build_services(settings(), world), name, NOW)
    assert exc.value.hint == "digests: manager-daily, engineer-daily"
