"""Without a bot token the outbound queue sends nothing, and says so once per loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from bot.bootstrap import Switchboard, bootstrap
from bot.jobs import send_digest
from bot.outbound import SlackNotConfigured
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database
from tests.fakes.slack_api import FakeSlack
from tests.world import NOW


@pytest.fixture
def unslacked(world: Database) -> Iterator[tuple[Switchboard, FakeSlack]]:
    with FakeSlack() as slack:
        settings = load_settings(PROJECT_ROOT / "config.yaml", env={"SLACK_API_URL": slack.api_url})
        sb = bootstrap(settings, database_url=world.url)
        yield sb, slack
        sb.close()


def test_a_digest_without_a_bot_token_is_not_sent_and_each_loop_hears_it_once(
    unslacked: tuple[Switchboard, FakeSlack], caplog: pytest.LogCaptureFixture
) -> None:
    sb, slack = unslacked
    caplog.set_level(logging.WARNING, logger="bot.outbound")
    errors: list[SlackNotConfigured] = []

    def digest_twice() -> None:
        for _ in range(2):
            try:
                send_digest(sb, sb.outbound, "manager-daily", NOW)
            except SlackNotConfigured as exc:
                errors.append(exc)

    for name in ("scheduler-a", "scheduler-b"):
        worker = threading.Thread(target=digest_twice, name=name)
        worker.start()
        worker.join(60)
    assert [str(e) for e in errors] == [
        "Slack is not configured (SLACK_BOT_TOKEN unset): the message was not sent"
    ] * 4
    assert errors[0].hint == "export SLACK_BOT_TOKEN=xoxb-... and restart serve"
    assert [r.getMessage() for r in caplog.records if r.name == "bot.outbound"] == [
        f"{name}: Slack is not configured (SLACK_BOT_TOKEN unset); its Slack messages are skipped"
        for name in ("scheduler-a", "scheduler-b")
    ]
    assert slack.calls == []
