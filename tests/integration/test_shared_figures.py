"""A figure several views show is one query: the command and the digest say the same.

Open alarms count what `/alarm list` lists: a symptom filed under its device's
device-down alarm is not an open alarm of its own, in any view.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.access import Access
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database
from domain.faults.choices import PerceivedSeverity
from domain.faults.intake import AlertEvent, file_alerts
from domain.faults.services import open_ticket
from tests.world import make_router

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
ACCESS = Access(SETTINGS)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SLA_HOURS = {1: 1, 2: 8, 3: 24, 4: 72}


def _alert(name: str, severity: PerceivedSeverity) -> AlertEvent:
    return AlertEvent(
        fingerprint=name,
        name=name,
        firing=True,
        severity=severity,
        summary=f"r1-mum {name}",
        description="",
        labels={"device": "r1-mum"},
    )


def _fields(reply, title: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    (section,) = [s for s in reply.sections if s.text.startswith(title)]
    return {f.label: f.value for f in section.fields}


def test_open_alarms_and_late_tickets_agree_across_views(world: Database) -> None:
    two_hours_ago = NOW - timedelta(hours=2)
    # r1-mum goes down (critical: a ticket with a one-hour SLA opens), then its link
    # alarm arrives and is filed under the device-down alarm as a symptom.
    file_alerts(
        world,
        [_alert("DeviceDown", PerceivedSeverity.CRITICAL)],
        now=two_hours_ago,
        sla_hours=SLA_HOURS,
    )
    file_alerts(
        world,
        [_alert("LinkDown", PerceivedSeverity.MAJOR)],
        now=two_hours_ago,
        sla_hours=SLA_HOURS,
    )
    with world.transaction() as s:
        for severity, opened in ((3, two_hours_ago), (4, NOW - timedelta(hours=100))):
            open_ticket(
                s,
                title=f"sev {severity}",
                severity=severity,
                reporter="alice",
                sla_hours=SLA_HOURS,
                device_id=1,
                now=opened,
            )
    router = make_router(world, SETTINGS, clock=lambda: NOW)
    alice = ACCESS.user("alice")

    listed = router.handle(alice, "/alarm list")
    assert [row[1] for row in listed.tables[0].rows] == ["critical"]
    health = router.handle(alice, "/network health")
    assert {f.label: f.value for f in health.sections[0].fields}["open alarms"].startswith(
        "critical 1, major 0,"
    )
    assert health.tables[0].rows == (("MUM-AND1", "1"),)
    late = router.handle(alice, "/ticket list breached")
    assert len(late.tables[0].rows) == 2  # the device-down ticket and the sev 4 one

    digest = router.handle(alice, "/digest preview engineer-daily")
    assert _fields(digest, "*Network*")["open now"] == "1"
    assert _fields(digest, "*Tickets*")["open past SLA (due before now)"] == "2"
    by_site = _fields(digest, "*Changes and open work by site*")
    assert by_site["open alarms by site"] == "MUM-AND1 1"
    assert by_site["open tickets by site"] == "MUM-AND1 3"


def test_the_device_card_counts_what_the_alarm_and_ticket_lists_show(world: Database) -> None:
    """With a symptom filed under its device-down alarm, the card says one open alarm,
    as `/alarm list r1-mum` lists one, and the open tickets `/ticket list site:` lists."""
    file_alerts(
        world, [_alert("DeviceDown", PerceivedSeverity.CRITICAL)], now=NOW, sla_hours=SLA_HOURS
    )
    file_alerts(world, [_alert("LinkDown", PerceivedSeverity.MAJOR)], now=NOW, sla_hours=SLA_HOURS)
    router = make_router(world, SETTINGS, clock=lambda: NOW)
    alice = ACCESS.user("alice")

    listed = router.handle(alice, "/alarm list r1-mum")
    assert len(listed.tables[0].rows) == listed.data.total == 1
    tickets = router.handle(alice, "/ticket list site:MUM-AND1")
    card = router.handle(alice, "/inventory show r1-mum")
    fields = {f.label: f.value for f in card.sections[0].fields}
    assert fields["open alarms / tickets"] == f"1 / {len(tickets.tables[0].rows)}"
    assert (card.data.open_alarms, card.data.open_tickets) == (1, tickets.data.total)
