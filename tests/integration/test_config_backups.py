"""/config backup, history and diff against a lab device over SSH."""

from __future__ import annotations

from automation.lab.lab import Lab
from domain.db import Database
from tests.world import lab_router


def test_backup_then_history_and_diff(lab_db: tuple[Database, Lab]) -> None:
    db, lab = lab_db
    router, access = lab_router(db)
    alice = access.user("alice")

    saved = router.handle(alice, "/config backup r1-mum")
    assert saved.ok and saved.text.startswith("r1-mum backed up as backup ")
    backup = saved.text.split()[5]

    history = router.handle(alice, "/config history r1-mum")
    backups = history.tables[1].rows
    assert backups[0][0] == backup and backups[0][2] == "on request by alice"

    same = router.handle(alice, "/config diff r1-mum")
    assert same.text.startswith(f"r1-mum is as it was in backup {backup} (")

    # The banner's byte count changes with any edit; only configuration lines show.
    lab.configs["r1-mum"].apply("ntp server 10.9.9.9", None)
    changed = router.handle(alice, "/config diff r1-mum")
    assert changed.text == f"r1-mum: changes since backup {backup}"
    body = changed.sections[0].text
    assert "+ntp server 10.9.9.9" in body
    assert "configuration" not in body.lower()

    missing = router.handle(alice, "/config diff r1-mum 999999")
    assert (missing.ok, missing.text) == (False, "r1-mum has no backup 999999")
    assert missing.hint == (
        "/config history r1-mum lists its backups; /config backup r1-mum takes one"
    )
    # 0 and negative numbers are backup ids too (none has them), not "the latest".
    for number in ("0", "-5"):
        none = router.handle(alice, f"/config diff r1-mum {number}")
        assert (none.ok, none.text) == (False, f"r1-mum has no backup {number}")


def test_history_says_when_it_is_cut(lab_db: tuple[Database, Lab]) -> None:
    """/config history listed the newest 20 changes and 10 backups without saying more existed."""
    db, _ = lab_db
    router, access = lab_router(db)
    alice = access.user("alice")
    for _ in range(3):
        assert router.handle(alice, "/config backup r1-mum").ok
    cut = router.handle(alice, "/config history r1-mum limit=2")
    assert len(cut.tables[1].rows) == 2
    assert "3 backup(s), showing 2 of 3; limit=3 shows them all" in cut.text, cut.text
    whole = router.handle(alice, "/config history r1-mum limit=3")
    assert whole.text.endswith("; 3 backup(s)") and "showing" not in whole.text, whole.text
    too_many = router.handle(alice, "/config history r1-mum limit=501")
    assert (too_many.ok, too_many.text) == (False, "limit=501 is too large; at most 500")
