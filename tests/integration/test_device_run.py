"""/device run: allowlisted read-only commands over SSH, parsed with ntc-templates."""

from __future__ import annotations

import sqlalchemy as sa

from automation.lab.lab import Lab
from domain.audit.models import AuditEvent
from domain.db import Database
from skills.device import allowed
from tests.world import lab_router


def test_allowlist() -> None:
    allow = ("show version", "show interfaces")
    assert allowed("show version", allow) and allowed("SHOW  interfaces Gi0/1", allow)
    for bad in (
        "show versions",
        "configure terminal",
        "show version | include x",
        "show version\nreload",
        "show interfaces; reload",
        "reload",
    ):
        assert not allowed(bad, allow), bad


def test_device_run_parses_refuses_and_audits(lab_db: tuple[Database, Lab]) -> None:
    db, _ = lab_db
    router, access = lab_router(db)
    alice = access.user("alice")
    brief = router.handle(alice, '/device run r1-mum "show ip interface brief"')
    assert brief.ok and brief.tables[0].columns[:2] == ("interface", "ip_address")
    version = router.handle(alice, '/device run r1-mum "show version"')
    assert version.ok and any(f.label == "hostname" for f in version.sections[0].fields)
    refused = router.handle(alice, '/device run r1-mum "configure terminal"')
    assert not refused.ok
    assert refused.text == "'configure terminal' is not an allowed read-only command"
    with db.read() as s:
        last = s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last is not None and (last.command, last.outcome) == ("device run", "refused")
