"""/network health with hand-computed availability and MTTR."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.access import Access
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database
from domain.faults.choices import AlarmSource, PerceivedSeverity
from domain.faults.services import clear_alarm, raise_alarm
from tests.world import make_router

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_health_figures(world: Database) -> None:
    with world.transaction() as s:
        raise_alarm(
            s,
            fingerprint="down1",
            source=AlarmSource.ALERTMANAGER,
            alarm_type="DeviceUnreachable",
            severity=PerceivedSeverity.CRITICAL,
            summary="r1-mum unreachable",
            device_id=1,
            now=NOW - timedelta(hours=12),
        )
        clear_alarm(s, "down1", now=NOW - timedelta(hours=6))
        raise_alarm(
            s,
            fingerprint="link1",
            source=AlarmSource.ALERTMANAGER,
            alarm_type="LinkDown",
            severity=PerceivedSeverity.MAJOR,
            summary="Gi0/0/1 down",
            device_id=1,
            now=NOW - timedelta(hours=1),
        )
    router = make_router(world, SETTINGS, clock=lambda: NOW)
    reply = router.handle(Access(SETTINGS).user("dave"), "/network health MUM")
    fields = {f.label: f.value for f in reply.sections[0].fields}
    assert reply.text == "Health of Mumbai"
    assert fields["devices active"] == "1" and fields["down now"] == "0"
    assert fields["availability 24 h"] == "75.000%"  # down 6 of 24 hours
    assert fields["availability 30 days"] == "99.167%"  # 6 of 720 hours
    assert fields["MTTR (30 days)"] == "360 min over 1 alarms"
    assert fields["open alarms"].startswith("critical 0, major 1")
    assert reply.tables[0].rows == (("MUM-AND1", "1"),)
