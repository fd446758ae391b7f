"""Alarms in Slack: one message per alarm in its severity's channel, kept up to date.

Alerts go into a running `serve`; the messages are read back from the fake Slack.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from domain.faults.models import Alarm, AlarmStorm
from domain.faults.queries import storm_summary
from tests.fakes.slack_api import Call
from tests.scenario.conftest import USERS, Served
from tests.scenario.test_alert_intake import alert, am, post
from tests.world import populate_world


def posts(served: Served, text: str, count: int = 1) -> list[Call]:
    return served.slack.wait_for(
        "chat.postMessage", count, where=lambda c: text in c.params.get("text", "")
    )


def buttons(call: Call) -> dict[str, dict[str, Any]]:
    actions = [b for b in call.params["blocks"] if b["type"] == "actions"]
    return {e["text"]["text"]: e for a in actions for e in a["elements"]}


def test_an_alarm_is_posted_to_its_severity_channel_and_updated_in_place(served: Served) -> None:
    populate_world(served.sb.db)
    post(served, am(alert("LinkDown", "d000000000000001", severity="major")))
    post(served, am(alert("HighTemperature", "d000000000000002", severity="critical")))
    (major,) = posts(served, "LinkDown")
    (critical,) = posts(served, "HighTemperature")
    assert major.params["channel"] == "#noc-alarms"
    assert critical.params["channel"] == "#noc-critical"
    assert major.params["text"].startswith(":large_orange_circle: A-1 major: LinkDown")
    assert list(buttons(major)) == ["Acknowledge", "Open ticket", "Show device"]

    # A repeat with nothing new changes nothing in chat; the resolution updates in place.
    post(served, am(alert("LinkDown", "d000000000000001", severity="major")))
    post(served, am(alert("LinkDown", "d000000000000001", status="resolved"), status="resolved"))
    (update,) = served.slack.wait_for("chat.update")
    with served.sb.db.read() as s:
        row = s.scalars(sa.select(Alarm).where(Alarm.fingerprint == "d000000000000001")).one()
    assert (update.params["channel"], update.params["ts"]) == (row.slack_channel, row.slack_ts)
    assert row.slack_channel == "C0NOCALARMS"  # the id Slack answered with, not the #name
    assert update.params["text"].endswith("(cleared)")
    assert "Acknowledge" not in buttons(update)
    time.sleep(0.5)
    assert len(served.slack.calls_to("chat.postMessage")) == 2
    assert len(served.slack.calls_to("chat.update")) == 1


def test_acknowledge_from_the_alarm_message(served: Served) -> None:
    populate_world(served.sb.db)
    post(served, am(alert("LinkDown", "d100000000000001")))
    (message,) = posts(served, "LinkDown")
    ack = buttons(message)["Acknowledge"]
    served.click(
        "alice",
        ack,
        {"ts": "1700000001.000100", "blocks": message.params["blocks"]},
        channel="C0NOCALARMS",
    )
    updates = served.slack.wait_for(
        "chat.update", where=lambda c: "acknowledged" in json.dumps(c.params.get("blocks"))
    )
    assert updates[0].params["ts"] == "1700000001.000100"
    # The card itself follows: acknowledged by alice, no Acknowledge button any more.
    card = served.slack.wait_for(
        "chat.update", where=lambda c: "by alice" in json.dumps(c.params.get("blocks"))
    )[-1]
    assert "Acknowledge" not in buttons(card)
    with served.sb.db.read() as s:
        assert s.scalars(sa.select(Alarm.acked_by)).one() == "alice"


def test_open_ticket_from_the_alarm_message_asks_in_a_modal(served: Served) -> None:
    populate_world(served.sb.db)
    post(served, am(alert("LinkDown", "d200000000000001")))
    (message,) = posts(served, "LinkDown")
    button = buttons(message)["Open ticket"]
    served.click("bob", button, {"ts": "1700000001.000100", "blocks": message.params["blocks"]})
    (opened,) = served.slack.wait_for("views.open")
    view = opened.params["view"]
    title = view["blocks"][0]
    assert title["element"]["initial_value"] == "LinkDown on r1-mum:9100"
    served.interactive(
        {
            "type": "view_submission",
            "user": {"id": USERS["bob"]},
            "trigger_id": "trig.v9",
            "view": {
                **view,
                "id": "V0VIEW9",
                "hash": "h9",
                "state": {
                    "values": {
                        "title": {"value": {"value": "Gi0/0/1 down at Mumbai core"}},
                        "sev": {"value": {"value": "2"}},
                    }
                },
            },
        }
    )
    served.slack.wait_for("chat.update", where=lambda c: "T-1 opened" in c.params.get("text", ""))
    from domain.faults.models import Ticket

    with served.sb.db.read() as s:
        ticket = s.scalars(sa.select(Ticket)).one()
    assert (ticket.title, ticket.severity, ticket.reporter) == (
        "Gi0/0/1 down at Mumbai core",
        2,
        "bob",
    )


def test_symptoms_of_a_device_down_get_no_message_of_their_own(served: Served) -> None:
    populate_world(served.sb.db)
    post(
        served,
        am(
            alert("DeviceDown", "d300000000000001", severity="critical"),
            alert("LinkDown", "d300000000000002"),
            alert("BGPSessionDown", "d300000000000003"),
        ),
    )
    (down,) = posts(served, "DeviceDown")
    assert down.params["channel"] == "#noc-critical"
    text = json.dumps(down.params["blocks"])
    assert "2 alarm(s) on this device filed under it" in text and "T-1" in text
    time.sleep(0.5)
    assert len(served.slack.calls_to("chat.postMessage")) == 1


def test_a_storm_becomes_one_summary_updated_while_it_lasts(served: Served) -> None:
    populate_world(served.sb.db)
    limit = served.sb.settings.alerts.storm_per_minute
    first = [alert("LinkDown", f"e{i:015d}", instance=f"10.9.0.{i}") for i in range(limit + 5)]
    assert post(served, am(*first)).status == 202
    (summary,) = posts(served, "Alarm storm")
    assert summary.params["text"].startswith(f":rotating_light: Alarm storm S-1: {limit + 5} new")
    more = [alert("PortFlap", f"f{i:015d}", severity="critical") for i in range(10)]
    post(served, am(*more))
    (update,) = served.slack.wait_for(
        "chat.update", where=lambda c: f"{limit + 15} new" in c.params.get("text", "")
    )
    time.sleep(0.5)
    assert len(served.slack.calls_to("chat.postMessage")) == 1  # nothing one by one
    with served.sb.db.read() as s:
        storm = s.scalars(sa.select(AlarmStorm)).one()
        summary = storm_summary(s, storm.id)
        assert summary is not None and summary.alarms == limit + 15
        assert (storm.slack_channel, storm.slack_ts) == (
            update.params["channel"],
            update.params["ts"],
        )
        unreported = s.scalar(
            sa.select(sa.func.count()).where(Alarm.revision > Alarm.posted_revision)
        )
    assert unreported == 0


def test_a_flood_of_ten_thousand_alerts_is_one_storm_and_loses_nothing(served: Served) -> None:
    populate_world(served.sb.db)
    batches = 20
    for b in range(batches):
        body = am(
            *[
                alert("LinkDown", f"{b:04d}{i:012d}", instance=f"10.{b}.{i // 250}.{i % 250}")
                for i in range(500)
            ]
        )
        answer = post(served, body)
        assert answer.status == 202 and json.loads(answer.body)["new"] == 500
    deadline = time.monotonic() + 120
    while True:
        with served.sb.db.read() as s:
            behind = s.scalar(
                sa.select(sa.func.count()).where(Alarm.revision > Alarm.posted_revision)
            )
            total = s.scalar(sa.select(sa.func.count()).select_from(Alarm))
        if not behind:
            break
        assert time.monotonic() < deadline, f"{behind} alarms never reported"
        time.sleep(0.5)
    assert total == 10_000
    with served.sb.db.read() as s:
        (storm,) = s.scalars(sa.select(AlarmStorm)).all()
        summary = storm_summary(s, storm.id)
        assert summary is not None and summary.alarms == 10_000
    final = "Alarm storm S-1: 10000 new alarms"
    while not any(
        final in c.params.get("text", "")
        for c in served.slack.calls_to("chat.postMessage") + served.slack.calls_to("chat.update")
    ):
        assert time.monotonic() < deadline, "the storm summary never showed all 10,000"
        time.sleep(0.2)
    assert len(served.slack.calls_to("chat.postMessage")) == 1  # the one storm summary
