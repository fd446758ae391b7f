"""Sender times through `serve`: a time without a zone is 422 naming the field, year 9999
is filed at receipt and says so in `/alarm show`, and the ticket's SLA runs from receipt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from domain.faults.models import Alarm, Ticket
from domain.inventory.models import Device
from tests.scenario.conftest import Served, words
from tests.scenario.test_alert_intake import alarms, alert, am, post
from tests.world import populate_world


def test_a_time_without_a_zone_is_422_naming_the_field(served: Served) -> None:
    populate_world(served.sb.db)
    naive = {**alert("LinkDown", "a000000000000009"), "startsAt": "2026-11-20T09:00:00"}
    answer = post(served, am(alert("LinkDown", "a000000000000008"), naive))
    assert answer.status == 422
    assert json.loads(answer.body)["error"] == "alerts.1.startsAt: Input should have timezone info"
    assert alarms(served) == []


def test_year_9999_is_filed_at_receipt_flagged_and_its_ticket_due_from_receipt(
    served: Served,
) -> None:
    populate_world(served.sb.db)
    before = datetime.now(UTC)
    far = {
        **alert("DeviceDown", "a000000000000010", severity="critical"),
        "startsAt": "9999-12-31T00:00:00Z",
    }
    answer = post(served, am(far))
    after = datetime.now(UTC)
    assert answer.status == 202
    assert json.loads(answer.body)["tickets"] == 1
    (row,) = alarms(served)
    assert before <= row.raised_at <= after
    with served.sb.db.read() as s:
        ticket = s.scalars(sa.select(Ticket)).one()
    assert before + timedelta(hours=4) <= ticket.sla_due_at <= after + timedelta(hours=4)
    shown = words(served.ask("alice", f"/alarm show {row.ref}"))
    assert "switchboard_time=clamped to receipt: sender said 9999-12-31T00:00:00+00:00" in shown


def test_a_time_before_the_device_existed_is_its_creation(served: Served) -> None:
    populate_world(served.sb.db)
    with served.sb.db.read() as s:
        created = s.scalars(sa.select(Device.created_at)).one()
    post(served, am({**alert("LinkDown", "a000000000000011"), "startsAt": "1999-01-01T00:00:00Z"}))
    with served.sb.db.read() as s:
        row = s.scalars(sa.select(Alarm)).one()
    assert row.raised_at == created
    assert row.labels["switchboard_time"].startswith("clamped to the device's creation")
