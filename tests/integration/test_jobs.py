"""Scheduled jobs end to end against the fake Slack: digests to channels and people,
SLA warnings, dunning, all through the one outbound queue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.bootstrap import Switchboard, bootstrap
from bot.jobs import send_digest, warn_sla
from bot.outbound import Outbound
from bot.slack.edge import web_client
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database
from domain.faults.services import open_ticket
from domain.jobs import subscribe
from tests.fakes.slack_api import FakeSlack
from tests.world import NOW


@pytest.fixture
def wired(world: Database) -> Iterator[tuple[Switchboard, Outbound, FakeSlack]]:
    with FakeSlack() as slack:
        settings = load_settings(
            PROJECT_ROOT / "config.yaml",
            env={"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_API_URL": slack.api_url},
        )
        sb = bootstrap(settings, database_url=world.url)
        outbound = Outbound(web_client(settings.slack), per_channel_s=0.2)
        yield sb, outbound, slack
        outbound.stop()
        sb.close()


def test_a_digest_goes_to_its_channel_with_its_chart_and_to_subscribers(
    wired: tuple[Switchboard, Outbound, FakeSlack],
) -> None:
    sb, outbound, slack = wired
    with sb.db.transaction() as s:
        subscribe(s, "manager-daily", "erin")
    sent = send_digest(sb, outbound, "manager-daily", NOW)
    assert sent == ["#ops-managers", "erin"]
    posts = slack.calls_to("chat.postMessage")
    assert [p.params["channel"] for p in posts] == ["#ops-managers", "DU0DEMOERIN"]
    assert posts[0].params["text"].startswith("Manager daily digest")
    # erin, a fraud analyst, gets the fraud section alone, which has no chart
    dm = str(posts[1].params["blocks"])
    assert "*Fraud*" in dm and "*Revenue" not in dm
    assert "Not shown to you: the network section is for engineers and managers;" in dm
    uploads = slack.calls_to("files.completeUploadExternal")
    assert len(uploads) == 1  # the chart, in the channel's thread
    assert slack.calls_to("upload")[0].params["bytes"] > 10_000


def test_tickets_newly_past_their_sla_are_announced_once(
    wired: tuple[Switchboard, Outbound, FakeSlack],
) -> None:
    sb, outbound, slack = wired
    hours = {1: 4, 2: 8, 3: 24, 4: 72}
    with sb.db.transaction() as s:
        late = open_ticket(
            s,
            title="Fibre cut",
            severity=1,
            reporter="alice",
            sla_hours=hours,
            device_id=1,
            now=NOW - timedelta(hours=4, minutes=5),
        )
        open_ticket(
            s,
            title="Slow",
            severity=3,
            reporter="alice",
            sla_hours=hours,
            device_id=1,
            now=NOW - timedelta(hours=1),
        )
    assert warn_sla(sb, outbound, NOW) == 1
    assert warn_sla(sb, outbound, NOW + timedelta(minutes=15)) == 0  # announced once
    (post,) = slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "#noc-tickets"
    assert post.params["text"] == f":alarm_clock: {late.ref} is past its SLA: Fibre cut"


def test_the_queue_keeps_a_channel_to_its_pace_without_holding_up_others(
    wired: tuple[Switchboard, Outbound, FakeSlack],
) -> None:
    from bot.render.blockkit import Message

    _, outbound, slack = wired
    started = time.monotonic()
    busy = [outbound.post("#busy", Message(f"b{i}", [])) for i in range(4)]
    quiet = outbound.post("#quiet", Message("q", []))
    quiet.result(5)
    for f in busy:
        f.result(5)
    busy_at = time.monotonic() - started
    assert busy_at >= 0.6  # 4 posts 0.2 s apart: load only makes it later
    # #quiet did not wait behind #busy's pace: it went out before b2 whatever the load (a
    # worker stalled past b1's turn sends b1, then #quiet, while #busy waits again), where
    # a queue that held it up would send it last. Not a clock: a clock fails on a busy host.
    sent = [c.params.get("text") for c in slack.calls_to("chat.postMessage")]
    assert sent.index("q") < sent.index("b2"), sent
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    retried = outbound.post("#busy", Message("after a 429", []))
    assert retried.result(10)["ok"]
    texts = [c.params.get("text") for c in slack.calls_to("chat.postMessage")]
    assert texts.count("after a 429") == 2  # refused once, then delivered once
