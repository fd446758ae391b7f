"""A scheduled digest is built for each reader: the channel gets what its audience may
read, each person by direct message what their configured roles may read."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.bootstrap import Switchboard, bootstrap
from bot.jobs import send_digest
from bot.outbound import Outbound
from bot.slack.edge import web_client
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database
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
        outbound = Outbound(web_client(settings.slack), per_channel_s=0.05)
        yield sb, outbound, slack
        outbound.stop()
        sb.close()


def test_each_subscriber_gets_the_sections_their_roles_may_read_and_nobody_gets_none(
    wired: tuple[Switchboard, Outbound, FakeSlack],
) -> None:
    sb, outbound, slack = wired
    with sb.db.transaction() as s:
        for user in ("erin", "carol", "bob"):  # subscribed before the rule, or by hand
            subscribe(s, "engineer-daily", user)
    sent = send_digest(sb, outbound, "engineer-daily", NOW)
    assert sent == ["#noc", "carol", "bob"]  # erin, a fraud analyst, may read none of it
    posts = {p.params["channel"]: p.params for p in slack.calls_to("chat.postMessage")}
    assert set(posts) == {"#noc", "DU0DEMOCAROL", "DU0DEMOBOB"}

    def said(channel: str) -> str:
        return json.dumps(posts[channel]["blocks"])

    for full in ("#noc", "DU0DEMOBOB"):
        assert "*Network*" in said(full) and "*Changes" in said(full)
        assert "Not shown" not in said(full) and "Not in this channel" not in said(full)
    carol = said("DU0DEMOCAROL")
    assert "*Tickets*" in carol and "*Network*" not in carol and "*Changes" not in carol
    assert (
        "Not shown to you: the network section is for engineers and managers; "
        "the changes section is for engineers."
    ) in carol
