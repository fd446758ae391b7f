"""Alarm messages on both databases: one notifier at a time, nothing posted twice."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import bootstrap
from bot.notify import AlarmNotifier
from bot.outbound import Outbound
from bot.slack.edge import web_client
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database, utcnow
from domain.faults.choices import PerceivedSeverity
from domain.faults.intake import AlertEvent, ingest
from tests.fakes.slack_api import FakeSlack


def test_a_named_lock_has_one_holder_at_a_time(db: Database) -> None:
    with db.hold("job") as first, db.hold("job") as second, db.hold("other") as other:
        assert (first, second, other) == (True, False, True)
    with db.hold("job") as again:
        assert again


def _file(db: Database, *names: str, at=None) -> None:  # type: ignore[no-untyped-def]
    events = [
        AlertEvent(
            f"fp-{n}",
            n,
            True,
            PerceivedSeverity.MAJOR,
            f"{n} on r1-mum",
            labels={"device": "r1-mum"},
        )
        for n in names
    ]
    with db.transaction() as s:
        ingest(s, events, now=at or utcnow(), sla_hours={1: 4, 2: 8, 3: 24, 4: 72})


def test_posts_once_updates_after_and_waits_for_the_lock_holder(world: Database) -> None:
    with FakeSlack() as slack:
        settings = load_settings(
            PROJECT_ROOT / "config.yaml",
            env={"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_API_URL": slack.api_url},
        )
        sb = bootstrap(settings, database_url=world.url)
        clock = [utcnow()]
        outbound = Outbound(web_client(settings.slack), per_channel_s=0.05)
        notifier = AlarmNotifier(sb, outbound, clock=lambda: clock[0])
        _file(world, "LinkDown", "FanFailure")
        done = notifier.run_once()
        assert done is not None and (done.posted, done.updated) == (2, 0)
        assert notifier.run_once() == type(done)()  # nothing behind: nothing sent
        _file(world, "LinkDown")  # a plain repeat is not news
        assert notifier.run_once() == type(done)()
        with world.transaction() as s:
            from domain.faults.services import acknowledge_alarm

            acknowledge_alarm(s, "A-1", "alice")
        with sb.db.hold("alarm-notifier"):
            assert notifier.run_once() is None  # another replica is on it
        done = notifier.run_once()
        assert done is not None and done.updated == 1
        (update,) = slack.calls_to("chat.update")
        assert "by alice" in str(update.params["blocks"])

        # Over the limit within a minute: one storm summary; a quiet minute ends it.
        limit = settings.alerts.storm_per_minute
        _file(world, *[f"Flap{i}" for i in range(limit)])
        done = notifier.run_once()
        assert done is not None and (done.posted, done.stormed, done.storm) == (0, limit, "S-1")
        clock[0] += timedelta(minutes=2)
        _file(world, "PowerSupplyFailure")
        done = notifier.run_once()
        assert done is not None and (done.posted, done.stormed) == (1, 0)
        assert len(slack.calls_to("chat.postMessage")) == 4  # 2 alarms, 1 storm, 1 alarm
        outbound.stop()
        sb.close()
