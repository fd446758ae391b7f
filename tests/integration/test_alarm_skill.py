"""/alarm through the router on seeded alarms."""

from __future__ import annotations

import sqlalchemy as sa

from domain.db import Database
from domain.faults.models import Alarm
from tests.world import AS_OF, SMALL, lab_router


def test_alarm_list_show_and_ack(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from domain.demo.seed import seed

    db = Database(f"sqlite:///{tmp_path / 'alarms.db'}")
    seed(db, SMALL, seed=9, as_of=AS_OF)
    router, access = lab_router(db)
    alice = access.user("alice")
    listed = router.handle(alice, "/alarm list")
    severities = [row[1] for row in listed.tables[0].rows]
    order = ["critical", "major", "minor", "warning", "indeterminate"]
    assert severities == sorted(severities, key=order.index)  # worst first
    with db.read() as s:
        target = s.scalars(
            sa.select(Alarm).where(Alarm.state != "cleared", Alarm.acked_by.is_(None))
        ).first()
        assert target is not None
        ref, host = target.ref, target.labels["instance"]
    shown = router.handle(alice, f"/alarm show {ref}")
    assert [b.label for b in shown.buttons] == ["Acknowledge", "Open ticket", "Show device"]
    assert shown.buttons[2].command == f"/inventory show {host}"
    assert router.handle(alice, f"/alarm ack {ref}").text == f"{ref} acknowledged by alice"
    again = router.handle(access.user("bob"), f"/alarm ack {ref}")
    assert not again.ok and again.text == f"alarm {ref} was already acknowledged by alice"
    assert (
        router.handle(alice, "/alarm list banana").text
        == "'banana' is not a severity, site or device"
    )
    assert (
        router.handle(access.user("dave"), f"/alarm ack {ref}").text
        == "/alarm ack needs the engineer role; you have manager"
    )
    db.dispose()
