"""What the review found in alert intake, through `serve` on SQLite and PostgreSQL: an
over-long sender value in any field is cut to fit or refused naming the field (never a
5xx, nothing half-stored); an alarm that fires and resolves in one batch opens no ticket;
a clear time before the raise is clamped to it; the database going away part way
through a batch is a 503 with Retry-After saying how many alerts were filed."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from domain.db import Database
from domain.faults.models import Alarm, Ticket
from domain.inventory.models import Device
from tests.scenario.conftest import Served, _serve
from tests.scenario.test_alert_intake import AUTH, alert, am
from tests.world import populate_world

LONG = 5_000  # over every bounded column, under the webhooks' 10,000 per string


@pytest.fixture
def served_on(db: Database, tmp_path: Path) -> Iterator[Served]:
    """`serve` on the `db` fixture's database (SQLite, and PostgreSQL when configured)."""
    populate_world(db)
    yield from _serve(tmp_path, None, database_url=db.url)


def send(
    served: Served, payload: dict[str, Any] | bytes, path: str = "/alerts/alertmanager"
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """POST a batch; the status, the headers and the JSON body of the answer."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    where = urlparse(served.url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers={**AUTH, "Content-Type": "application/json"})
        resp = conn.getresponse()
        return (
            resp.status,
            {k.lower(): v for k, v in resp.getheaders()},
            json.loads(resp.read() or b"null"),
        )
    finally:
        conn.close()


def stored(served: Served, prefix: str = "") -> list[Alarm]:
    with served.sb.db.read() as s:
        return list(
            s.scalars(
                sa.select(Alarm).where(Alarm.fingerprint.startswith(prefix)).order_by(Alarm.id)
            )
        )


def tickets(served: Served) -> list[Ticket]:
    with served.sb.db.read() as s:
        return list(s.scalars(sa.select(Ticket).order_by(Ticket.id)))


def am_batch(prefix: str, bad: dict[str, Any]) -> dict[str, Any]:
    """300 good alerts, then one carrying the over-long value (so it is in the second chunk)."""
    good = [alert("LinkDown", f"{prefix}{i:05d}") for i in range(300)]
    return json.loads(am(*good, bad))


def am_alert(prefix: str, **change: Any) -> dict[str, Any]:
    a = alert("LinkDown", f"{prefix}bad", severity="critical")
    for key, value in change.items():
        if key in ("labels", "annotations"):
            a[key] = {**a[key], **value}
        else:
            a[key] = value
    return a


def generic_batch(prefix: str, **bad: Any) -> dict[str, Any]:
    good = [
        {"name": "LinkDown", "device": "r1-mum", "fingerprint": f"{prefix}{i:05d}"}
        for i in range(300)
    ]
    return {"alerts": [*good, {"name": "LinkDown", "fingerprint": f"{prefix}bad", **bad}]}


ALERTMANAGER_FIELDS: list[tuple[str, dict[str, Any], str | None]] = [
    # (what, the last alert's change, the field a 422 names; None when it is filed)
    ("alertname", {"labels": {"alertname": "X" * 200}}, None),
    ("long alertname", {"labels": {"alertname": "Down" * (LONG // 4)}}, None),
    ("fingerprint", {"fingerprint": "f" * 200}, "alerts.300.fingerprint"),
    ("summary", {"annotations": {"summary": "S" * LONG}}, None),
    ("description", {"annotations": {"description": "D" * LONG}}, None),
    ("too long description", {"annotations": {"description": "D" * 10_001}}, "alerts.300."),
    ("label key", {"labels": {"k" * LONG: "v"}}, None),
    ("label value", {"labels": {"interface": "v" * LONG}}, None),
    ("device name", {"labels": {"instance": "r" * LONG}}, None),
    ("device label", {"labels": {"device": "r" * LONG, "host": "h" * LONG}}, None),
    ("severity", {"labels": {"severity": "c" * LONG}}, None),
]

GENERIC_FIELDS: list[tuple[str, dict[str, Any], str | None]] = [
    ("name", {"name": "X" * 200}, "alerts.300.name"),
    ("fingerprint", {"fingerprint": "f" * 200}, "alerts.300.fingerprint"),
    ("summary", {"summary": "S" * 401}, "alerts.300.summary"),
    ("description", {"description": "D" * LONG}, "alerts.300.description"),
    ("device", {"device": "r" * 200}, "alerts.300.device"),
    ("label key", {"labels": {"k" * LONG: "v"}}, None),
    ("label value", {"labels": {"interface": "v" * LONG}}, None),
    ("severity", {"severity": "c" * LONG}, None),
]


def fits(served: Served) -> None:
    """Every bounded column holds what its length allows (SQLite would keep more)."""
    for a in stored(served):
        assert len(a.alarm_type) <= 120 and len(a.summary) <= 400 and len(a.fingerprint) <= 128
    assert all(len(t.title) <= 200 for t in tickets(served))


def test_an_over_long_value_in_any_field_is_cut_or_refused_never_a_5xx(
    served_on: Served,
) -> None:
    cases = [
        ("/alerts/alertmanager", f"a{n:02d}-", am_batch(f"a{n:02d}-", am_alert(f"a{n:02d}-", **c)))
        for n, (_, c, _) in enumerate(ALERTMANAGER_FIELDS)
    ] + [
        ("/alerts", f"g{n:02d}-", generic_batch(f"g{n:02d}-", **c))
        for n, (_, c, _) in enumerate(GENERIC_FIELDS)
    ]
    expected = [named for _, _, named in ALERTMANAGER_FIELDS + GENERIC_FIELDS]
    whats = [
        f"{path} {what}"
        for path, (what, _, _) in zip(
            ["/alerts/alertmanager"] * len(ALERTMANAGER_FIELDS) + ["/alerts"] * len(GENERIC_FIELDS),
            ALERTMANAGER_FIELDS + GENERIC_FIELDS,
            strict=True,
        )
    ]
    for (path, prefix, payload), named, what in zip(cases, expected, whats, strict=True):
        status, _, body = send(served_on, payload, path)
        if named is None:
            assert status == 202, f"{what}: {status} {body}"
            assert (body["new"], len(stored(served_on, prefix))) == (301, 301), what
        else:
            assert status == 422, f"{what}: {status} {body}"
            assert body["error"].startswith(named), f"{what}: {body['error'][:300]}"
            assert len(body["error"]) < 400, what  # the sender's key is not echoed whole
            assert stored(served_on, prefix) == [], f"{what}: half-stored"
        fits(served_on)


def test_a_200_character_alertname_is_cut_with_an_ellipsis_and_its_ticket_title_fits(
    served_on: Served,
) -> None:
    name = "DeviceDownBecause" + "x" * 183  # 200 characters
    last = am_alert("cut-", labels={"alertname": name}, annotations={"summary": "S " * 300})
    status, _, body = send(served_on, am_batch("cut-", last))
    assert status == 202, body
    assert (body["new"], body["tickets"]) == (301, 1)
    (row,) = [a for a in stored(served_on, "cut-bad")]
    assert row.alarm_type == name[:119] + "\u2026"
    assert len(row.summary) == 400 and row.summary.endswith("\u2026")
    (ticket,) = tickets(served_on)
    assert len(ticket.title) == 200 and ticket.title.endswith("\u2026")


def test_an_alarm_that_fires_and_resolves_in_one_batch_opens_no_ticket(served_on: Served) -> None:
    up = alert("DeviceDown", "flap0000000001", severity="critical")
    down = alert("DeviceDown", "flap0000000001", severity="critical", status="resolved")
    status, _, body = send(served_on, json.loads(am(up, down)))
    assert status == 202
    assert (body["new"], body["cleared"], body["tickets"]) == (1, 1, 0)
    assert tickets(served_on) == []
    # Raised again afterwards in the same batch, it is still raised when applied: one ticket.
    again = alert("DeviceDown", "flap0000000002", severity="critical")
    gone = {**down, "fingerprint": "flap0000000002"}
    status, _, body = send(served_on, json.loads(am(again, gone, again)))
    assert (status, body["new"], body["cleared"], body["tickets"]) == (202, 2, 1, 1)
    assert len(tickets(served_on)) == 1


def test_a_clear_before_the_raise_is_clamped_to_the_raise_and_labelled(
    served_on: Served,
) -> None:
    with served_on.sb.db.transaction() as s:  # the device is older than both times
        s.execute(sa.update(Device).values(created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    raised = {**alert("LinkDown", "back0000000001"), "startsAt": "2026-11-20T08:55:00Z"}
    cleared = {
        **alert("LinkDown", "back0000000001", status="resolved"),
        "startsAt": "2026-11-20T08:55:00Z",
        "endsAt": "2026-11-20T08:00:00Z",
    }
    # In one batch and in two.
    send(served_on, json.loads(am(raised, cleared)))
    other = {**raised, "fingerprint": "back0000000002"}
    send(served_on, json.loads(am(other)))
    send(served_on, json.loads(am({**cleared, "fingerprint": "back0000000002"})))
    for row in stored(served_on, "back"):
        assert row.state == "cleared"
        assert row.raised_at == datetime(2026, 11, 20, 8, 55, tzinfo=UTC)
        assert row.cleared_at == row.raised_at
        assert row.labels["switchboard_time"] == (
            "clamped to the alarm's raise: sender said it ended 2026-11-20T08:00:00+00:00"
        )


def test_the_database_going_away_mid_batch_is_a_truthful_503_and_the_retry_files_the_rest(
    served_on: Served,
) -> None:
    engine = served_on.sb.db.engine
    inserts: list[str] = []

    def go_away(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The server goes down as the second chunk stores its alarms.
        if statement.lstrip().upper().startswith("INSERT INTO ALARMS"):
            inserts.append(statement)
            if len(inserts) == 2:
                raise sa.exc.OperationalError(
                    statement, {}, Exception("server closed the connection unexpectedly")
                )

    flood = [alert("InterfaceErrors", f"gone{i:010d}") for i in range(600)]
    sa.event.listen(engine, "before_cursor_execute", go_away)
    try:
        status, headers, body = send(served_on, am(*flood))
    finally:
        sa.event.remove(engine, "before_cursor_execute", go_away)
    assert status == 503
    assert headers["retry-after"] == "5"
    assert body["error"].startswith(
        "filed 250 of 600 alerts; the rest were not: the database is away"
    )
    assert "none twice" in body["hint"]
    assert (body["filed"], body["of"], body["new"]) == (250, 600, 250)
    assert len(stored(served_on, "gone")) == 250
    # Alertmanager sends the same batch again: the rest is filed, the first 250 repeat.
    status, _, body = send(served_on, am(*flood))
    assert (status, body["new"], body["updated"]) == (202, 350, 250)
    assert {a.repeat_count for a in stored(served_on, "gone")[:250]} == {2}
    assert len(stored(served_on, "gone")) == 600
