"""Alert floods on both databases: intake is linear in the batch, correlation holds
across chunks, repeats count truthfully, times are the receiver's, and a writer beside
a 10,000-alert batch is not locked out."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.alerts import receive
from bot.webhooks import Rejected
from domain.config import AlertSettings, Role, TicketSettings
from domain.db import Database
from domain.faults.intake import CHUNK, TIME_LABEL
from domain.faults.models import Alarm, Ticket
from domain.faults.services import file_ticket
from domain.inventory.models import Device

ALERTS = AlertSettings()
TICKETS = TicketSettings()
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def alert(
    name: str,
    fingerprint: str,
    *,
    severity: str = "major",
    status: str = "firing",
    instance: str = "r1-mum:9100",
    starts: str = "2026-11-20T08:55:00Z",
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, "instance": instance},
        "annotations": {"summary": f"{name} on {instance}"},
        "startsAt": starts,
        "endsAt": "2026-11-20T08:58:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "fingerprint": fingerprint,
    }


def batch(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "alerts": list(alerts)}


def file(db: Database, *alerts: dict[str, Any], now: datetime = NOW) -> dict[str, int]:
    return receive(db, ALERTS, TICKETS, "alertmanager", batch(*alerts), now=now).counts()


def alarms(db: Database) -> dict[str, Alarm]:
    with db.read() as s:
        return {a.fingerprint: a for a in s.scalars(sa.select(Alarm))}


def tickets(db: Database) -> list[Ticket]:
    with db.read() as s:
        return list(s.scalars(sa.select(Ticket).order_by(Ticket.id)))


def device_created(db: Database, when: datetime) -> None:
    with db.transaction() as s:
        s.execute(sa.update(Device).where(Device.id == 1).values(created_at=when))


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement the database is sent meanwhile (an executemany counts once)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def test_a_batch_about_one_device_costs_a_bounded_number_of_statements(world: Database) -> None:
    # Filed one query per alert against every alarm of the device, 2,000 alerts took
    # 235 s and over 4,000 statements; set-wise it is a few statements per chunk.
    device_created(world, NOW - timedelta(days=365))
    flood = [alert("InterfaceErrors", f"flood{i:011d}") for i in range(2_000)]
    started = time.perf_counter()
    with statements(world) as seen:
        counts = file(world, *flood)
    elapsed = time.perf_counter() - started
    assert counts == {"new": 2_000, "updated": 0, "cleared": 0, "correlated": 0, "tickets": 0}
    chunks = -(-2_000 // CHUNK)
    assert len(seen) <= 12 * chunks, f"{len(seen)} statements for 2,000 alerts"
    assert elapsed < 30
    # Filing it again updates each alarm once, still in a bounded number of statements.
    with statements(world) as again:
        assert file(world, *flood)["updated"] == 2_000
    assert len(again) <= 12 * chunks
    assert {a.repeat_count for a in alarms(world).values()} == {2}


def test_a_device_down_parents_symptoms_in_later_chunks_and_adopts_earlier_ones(
    world: Database,
) -> None:
    device_created(world, NOW - timedelta(days=365))
    n = 2 * CHUNK + 100  # three transactions
    down = alert("DeviceDown", "down0000000001", severity="critical")
    symptoms = [alert("LinkDown", f"sym{i:012d}") for i in range(n)]
    counts = file(world, down, *symptoms)
    assert (counts["new"], counts["correlated"], counts["tickets"]) == (n + 1, n, 1)
    rows = alarms(world)
    parent = rows["down0000000001"].id
    assert all(rows[f"sym{i:012d}"].parent_id == parent for i in range(n))
    # The other way round: once the device is back, symptoms filed first are adopted by
    # a device-down alarm in the batch's last chunk; those filed under the first stay.
    later = [alert("BGPSessionDown", f"bgp{i:012d}") for i in range(n)]
    assert file(world, alert("DeviceDown", "down0000000001", status="resolved"))["cleared"] == 1
    counts = file(world, *later, alert("NodeDown", "down0000000002", severity="critical"))
    assert (counts["new"], counts["correlated"], counts["tickets"]) == (n + 1, n, 1)
    rows = alarms(world)
    node = rows["down0000000002"].id
    assert all(rows[f"bgp{i:012d}"].parent_id == node for i in range(n))
    assert all(rows[f"sym{i:012d}"].parent_id == parent for i in range(n))


def test_repeats_within_a_batch_count_each_time_and_the_last_state_wins(world: Database) -> None:
    a = alert("LinkDown", "rep00000000000a")
    a_done = alert("LinkDown", "rep00000000000a", status="resolved")
    b = alert("HighCPU", "rep00000000000b", severity="warning")
    b_done = alert("HighCPU", "rep00000000000b", status="resolved")
    counts = file(world, a, a, a, a_done, a_done, b, b_done, b)
    # A: new, two repeats, cleared (the second resolve changes nothing); B: new, cleared,
    # raised again: the same counts as filing the alerts one by one.
    assert counts == {"new": 3, "updated": 2, "cleared": 2, "correlated": 0, "tickets": 0}
    rows = alarms(world)
    assert (rows["rep00000000000a"].state, rows["rep00000000000a"].repeat_count) == ("cleared", 3)
    assert (rows["rep00000000000b"].state, rows["rep00000000000b"].repeat_count) == ("raised", 2)
    one_by_one = {"new": 0, "updated": 0, "cleared": 0, "correlated": 0, "tickets": 0}
    for each in (a, a, a, a_done, a_done, b, b_done, b):
        for k, v in file(world, {**each, "fingerprint": "x" + each["fingerprint"]}).items():
            one_by_one[k] += v
    assert one_by_one == counts


def test_a_time_without_a_zone_is_refused_naming_the_field(world: Database) -> None:
    naive = alert("LinkDown", "naive0000000001", starts="2026-11-20T08:55:00")
    with pytest.raises(Rejected) as refused:
        file(world, alert("LinkDown", "naive0000000000"), naive)
    assert refused.value.status == 422
    assert str(refused.value) == "alerts.1.startsAt: Input should have timezone info"
    assert alarms(world) == {}


def test_year_9999_is_clamped_to_receipt_and_flagged_and_the_sla_runs_from_receipt(
    world: Database,
) -> None:
    far = "9999-12-31T23:00:00-05:00"  # in UTC it would be year 10000
    counts = file(world, alert("DeviceDown", "far000000000001", severity="critical", starts=far))
    assert (counts["new"], counts["tickets"]) == (1, 1)
    row = alarms(world)["far000000000001"]
    assert row.raised_at == NOW
    assert row.labels[TIME_LABEL] == f"clamped to receipt: sender said {far}"
    (ticket,) = tickets(world)
    assert (ticket.created_at, ticket.sla_due_at) == (NOW, NOW + timedelta(hours=4))


def test_a_time_before_the_device_existed_is_clamped_to_its_creation(world: Database) -> None:
    created = NOW - timedelta(days=30)
    device_created(world, created)
    file(world, alert("LinkDown", "old000000000001", starts="2001-01-01T00:00:00Z"))
    row = alarms(world)["old000000000001"]
    assert row.raised_at == created
    assert row.labels[TIME_LABEL] == (
        "clamped to the device's creation: sender said 2001-01-01T00:00:00+00:00"
    )


def test_a_believable_sender_time_is_when_it_began_but_the_sla_starts_at_receipt(
    world: Database,
) -> None:
    device_created(world, NOW - timedelta(days=365))
    began = NOW - timedelta(hours=3)
    file(
        world,
        alert(
            "DeviceDown",
            "sla000000000001",
            severity="critical",
            starts=f"{began:%Y-%m-%dT%H:%M:%SZ}",
        ),
    )
    row = alarms(world)["sla000000000001"]
    assert row.raised_at == began and TIME_LABEL not in row.labels
    (ticket,) = tickets(world)
    assert ticket.sla_due_at == NOW + timedelta(hours=4)  # not 1 hour from now


def test_a_writer_beside_a_ten_thousand_alert_batch_is_not_locked_out(world: Database) -> None:
    flood = [alert("InterfaceErrors", f"big{i:012d}") for i in range(10_000)]
    errors: list[str] = []
    waits: list[float] = []
    filing = threading.Event()
    done = threading.Event()

    def open_tickets() -> None:
        filing.wait()
        while not done.is_set():
            started = time.perf_counter()
            try:
                file_ticket(
                    world,
                    "r1-mum",
                    title="Link flapping at Andheri",
                    severity=3,
                    reporter="alice",
                    roles=[Role.ENGINEER],
                    sla_hours=TICKETS.sla_hours,
                    now=NOW,
                )
            except Exception as exc:  # the failure itself is what this test looks for
                errors.append(f"{type(exc).__name__}: {exc}")
                return
            waits.append(time.perf_counter() - started)

    writer = threading.Thread(target=open_tickets)
    writer.start()
    try:
        filing.set()
        counts = file(world, *flood)
    finally:
        done.set()
        writer.join(timeout=60)
    assert errors == []
    assert counts["new"] == 10_000
    # Tickets were opened while the batch was being filed, not only after it.
    assert len(waits) >= 3, f"only {len(waits)} tickets opened during the batch"
    assert max(waits) < 5, f"a ticket waited {max(waits):.1f} s behind the batch"


def test_a_fingerprint_another_replica_filed_meanwhile_is_a_repeat_not_a_500(
    world: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two replicas file the same new fingerprint at once: the one that loses the insert
    (a unique violation, its chunk rolled back whole) reads again and counts a repeat."""
    from domain.faults import intake

    assert file(world, alert("LinkDown", "f000000000000001")) == {
        "new": 1,
        "updated": 0,
        "cleared": 0,
        "correlated": 0,
        "tickets": 0,
    }
    real = intake.alarms_by_fingerprint
    calls = []

    def read_before_the_other_replica_committed(session: Any, fingerprints: Any) -> Any:
        calls.append(1)
        found = real(session, fingerprints)
        return {} if len(calls) == 1 else found  # the first read missed it

    monkeypatch.setattr(intake, "alarms_by_fingerprint", read_before_the_other_replica_committed)
    again = file(world, alert("LinkDown", "f000000000000001"), alert("LinkUp", "f000000000000002"))
    assert len(calls) == 2  # the chunk was read and filed again
    assert (again["new"], again["updated"]) == (1, 1)
    assert sorted(alarms(world)) == ["f000000000000001", "f000000000000002"]
    assert alarms(world)["f000000000000001"].repeat_count == 2
