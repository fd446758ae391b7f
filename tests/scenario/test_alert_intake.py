"""Alert webhooks into `serve`: Alertmanager v4 and generic JSON become alarms."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from domain.faults.models import Alarm, Ticket
from tests.scenario.conftest import ALERTS_TOKEN, Answer, Served
from tests.world import populate_world

AUTH = {"Authorization": f"Bearer {ALERTS_TOKEN}"}


def am(*alerts: dict[str, Any], status: str = "firing") -> bytes:
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{alertname="x"}',
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "switchboard",
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://127.0.0.1:9093",
            "alerts": list(alerts),
        }
    ).encode()


def alert(
    name: str,
    fingerprint: str,
    severity: str = "major",
    status: str = "firing",
    instance: str = "r1-mum:9100",
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, "instance": instance},
        "annotations": {"summary": f"{name} on {instance}"},
        "startsAt": "2026-11-20T09:00:00Z",
        "endsAt": "2026-11-20T09:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://127.0.0.1:9090/graph",
        "fingerprint": fingerprint,
    }


def post(
    served: Served,
    body: bytes,
    path: str = "/alerts/alertmanager",
    headers: dict[str, str] | None = None,
) -> Answer:
    return served.post(
        body, "application/json", AUTH if headers is None else headers, signed=False, path=path
    )


def alarms(served: Served) -> list[Alarm]:
    with served.sb.db.read() as s:
        return list(s.scalars(sa.select(Alarm).order_by(Alarm.id)))


def test_firing_repeat_and_resolve(served: Served) -> None:
    populate_world(served.sb.db)
    body = am(
        alert("LinkDown", "a1b2c3d4e5f60001"),
        alert("HighCPU", "a1b2c3d4e5f60002", severity="warning"),
    )
    first = post(served, body)
    assert first.status == 202
    assert json.loads(first.body) == {
        "accepted": True,
        "new": 2,
        "updated": 0,
        "cleared": 0,
        "correlated": 0,
        "tickets": 0,
    }
    again = post(served, body)
    assert json.loads(again.body)["updated"] == 2
    rows = alarms(served)
    assert len(rows) == 2 and all(a.device_id == 1 for a in rows)
    assert rows[0].repeat_count == 2
    done = post(
        served, am(alert("LinkDown", "a1b2c3d4e5f60001", status="resolved"), status="resolved")
    )
    assert json.loads(done.body)["cleared"] == 1
    assert alarms(served)[0].state == "cleared"


def test_device_down_files_other_alarms_under_it_and_opens_one_ticket(served: Served) -> None:
    populate_world(served.sb.db)
    post(served, am(alert("LinkDown", "f000000000000001")))
    down = post(served, am(alert("DeviceDown", "f000000000000002", severity="critical")))
    counts = json.loads(down.body)
    assert (counts["new"], counts["correlated"], counts["tickets"]) == (1, 1, 1)
    post(served, am(alert("BGPSessionDown", "f000000000000003")))
    post(served, am(alert("DeviceDown", "f000000000000002", severity="critical")))  # repeat
    rows = {a.alarm_type: a for a in alarms(served)}
    parent = rows["DeviceDown"].id
    assert rows["LinkDown"].parent_id == parent and rows["BGPSessionDown"].parent_id == parent
    with served.sb.db.read() as s:
        tickets = s.scalars(sa.select(Ticket)).all()
    assert len(tickets) == 1 and tickets[0].severity == 1 and tickets[0].device_id == 1


def test_generic_json_alerts(served: Served) -> None:
    populate_world(served.sb.db)
    body = json.dumps(
        {
            "alerts": [
                {
                    "name": "PowerSupplyFailure",
                    "severity": "major",
                    "device": "127.0.0.1",
                    "summary": "PSU 2 failed",
                }
            ]
        }
    ).encode()
    answer = post(served, body, path="/alerts")
    assert answer.status == 202 and json.loads(answer.body)["new"] == 1
    (row,) = alarms(served)
    assert (row.summary, row.device_id, row.source) == ("PSU 2 failed", 1, "webhook")


def test_bad_requests_are_refused_and_nothing_is_half_stored(served: Served) -> None:
    populate_world(served.sb.db)
    good = am(alert("LinkDown", "b000000000000001"))
    assert post(served, good, headers={}).status == 401
    assert post(served, good, headers={"Authorization": "Bearer wrong"}).status == 401
    assert (
        post(
            served,
            b"{not json",
        ).status
        == 400
    )
    missing = am({"status": "firing", "labels": {"alertname": "X"}})  # no fingerprint
    answer = post(served, missing)
    assert answer.status == 422
    assert json.loads(answer.body)["error"] == "alerts.0.fingerprint: Field required"
    half = am(
        alert("LinkDown", "b000000000000002"),
        {"status": "exploding", "labels": {}, "fingerprint": "x"},
    )
    assert post(served, half).status == 422
    nested = b"[" * 100_000 + b"]" * 100_000
    assert post(served, nested).status in (400, 413)
    huge = am(*[alert("LinkDown", f"c{i:015d}") for i in range(6000)])
    assert len(huge) > 1_048_576 and post(served, huge).status == 413
    assert alarms(served) == []
