"""The audit trail against a writer with database access but not the key.

Every tampering is done the way such a writer would: SQL on the audit table, or the ORM
with a seal recomputed without the key. Each must be caught, naming the first bad event;
an untouched trail, and one sealed across a key rotation, must verify.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import main
from domain.audit import keys
from domain.audit.anchors import append_anchor
from domain.audit.choices import Outcome
from domain.audit.keys import AuditKey, KeySource, init_key_file, key_id, rotate_key_file
from domain.audit.models import AuditEvent
from domain.audit.queries import ChainHead
from domain.audit.services import (
    GENESIS,
    _digest,
    _seal,
    anchor_chain,
    audit,
    claim_delivery,
    verify_trail,
)
from domain.db import Database

#: How long ago the morning began: its events are younger than two anchor intervals
#: (20 minutes), so no anchor is expected yet; the tests about expected anchors pass
#: their own clock.
MORNING_AGO = timedelta(minutes=9)

#: What a care agent and a manager did on a morning: two disputes resolved among them.
COMMANDS = [
    ("carol", "bill 919876543210"),
    ("carol", "dispute open INV-7 too high"),
    ("carol", "dispute resolve D-1 credit 500"),
    ("dave", "revenue"),
    ("carol", "dispute resolve D-2 credit 900"),
    ("dave", "order approve O-9"),
    ("alice", "device show r1-mum"),
    ("alice", "ticket list"),
]


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's own key file (no SWITCHBOARD_AUDIT_KEY), made by `audit init`'s code."""
    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    path = tmp_path / "var" / "audit.key"
    init_key_file(path)
    previous = keys.use_source(KeySource(path))
    yield path
    keys.use_source(previous)


def write_morning(
    db: Database, commands: list[tuple[str, str]] = COMMANDS, ago: timedelta = MORNING_AGO
) -> list[int]:
    start = datetime.now(UTC).replace(microsecond=0) - ago
    for i, (who, text) in enumerate(commands):
        audit(
            db,
            actor=who,
            command=text.split(" ")[0],
            arguments=f"/{text}",
            outcome=Outcome.OK,
            roles=("care_agent",),
            via="console",
            at=start + timedelta(minutes=i),
        )
    with db.read() as s:
        ids = list(s.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)))
    return ids


def findings(db: Database, anchors: Path) -> list[str]:
    return [f.describe() for f in verify_trail(db, anchors).findings]


def test_an_untouched_trail_verifies_and_says_what_is_not_anchored(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.log"
    write_morning(db)
    check = verify_trail(db, anchors)
    assert check.intact and check.events == 8
    assert check.key_ids == (key_id(keys.read_key_file(key_file)[0].secret),)
    assert (check.anchored_through, check.unanchored) == (0, 8)
    assert anchor_chain(db, anchors).result == "written"
    assert anchor_chain(db, anchors).result == "unchanged"  # the head did not move
    write_morning(db, COMMANDS[:2])
    check = verify_trail(db, anchors)
    assert check.intact and (check.anchored_through, check.unanchored) == (8, 2)
    assert len(anchors.read_text().splitlines()) == 1


def test_an_edited_row_is_named(db: Database, key_file: Path, tmp_path: Path) -> None:
    ids = write_morning(db)
    with db.transaction() as s:
        s.execute(
            sa.text(
                "UPDATE audit_events SET arguments = '/dispute resolve D-1 credit 5' WHERE id = :i"
            ),
            {"i": ids[2]},
        )
    assert findings(db, tmp_path / "anchors.log") == [
        f"audit event {ids[2]} is broken: its contents do not match its seal (the row was changed)"
    ]


def test_deleting_every_dispute_resolve_row_is_named_at_the_first_gap(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    ids = write_morning(db)
    with db.transaction() as s:
        s.execute(sa.text("DELETE FROM audit_events WHERE arguments LIKE '/dispute resolve%'"))
    assert findings(db, tmp_path / "anchors.log") == [
        f"audit event {ids[3]} is broken: it does not point at the row before it "
        "(a row was removed or inserted)"
    ]


def test_deleting_rows_and_relinking_the_chain_without_the_key_is_named(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    """The symptom of issue 16: delete, edit, recompute the chain. With SHA-256 it passed."""
    ids = write_morning(db)
    with db.transaction() as s:
        s.execute(sa.text("DELETE FROM audit_events WHERE arguments LIKE '/dispute resolve%'"))
        rows = list(s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
        rows[1].actor = "dave"
        prev = GENESIS
        for row in rows:  # relink, keeping each row's key id, sealing with a guessed key
            row.prev_hash = prev
            row.hash = _seal(prev, row, AuditKey(row.key_id, b"guess" * 8))
            prev = row.hash
    assert findings(db, tmp_path / "anchors.log") == [
        f"audit event {ids[0]} is broken: its contents do not match its seal (the row was changed)"
    ]


def test_the_whole_chain_recomputed_with_sha256_is_named(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    ids = write_morning(db)
    with db.transaction() as s:
        prev = GENESIS
        for row in s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)):
            row.key_id = ""  # pass the rows off as written before audit keys
            row.prev_hash = prev
            row.hash = _digest(prev, row)
            prev = row.hash
    assert findings(db, tmp_path / "anchors.log") == [
        f"audit event {ids[0]} is broken: none of the 8 events is sealed with a key or "
        "anchored (plain SHA-256 seals anyone with database access can recompute)"
    ]


def test_sha256_rows_after_keyed_ones_are_named(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    ids = write_morning(db)
    with db.transaction() as s:
        rows = list(s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
        prev = rows[4].hash
        for row in rows[5:]:
            row.detail = "nothing happened"
            row.key_id = ""
            row.prev_hash = prev
            row.hash = _digest(prev, row)
            prev = row.hash
    assert findings(db, tmp_path / "anchors.log") == [
        f"audit event {ids[5]} is broken: it is sealed without a key after events sealed "
        "with one (the chain was recomputed without the key)"
    ]


def test_the_whole_chain_recomputed_with_another_key_is_named(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    ids = write_morning(db)
    wrong = AuditKey(key_id(b"w" * 32), b"w" * 32)
    with db.transaction() as s:
        prev = GENESIS
        for row in s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)):
            row.key_id = wrong.id
            row.prev_hash = prev
            row.hash = _seal(prev, row, wrong)
            prev = row.hash
    assert findings(db, tmp_path / "anchors.log") == [
        f"audit event {ids[0]} is broken: it names audit key {wrong.id}, which is not among "
        "the keys here (sealed with another key, or a rotated key is missing)"
    ]


@pytest.mark.parametrize("where", ["middle", "end"])
def test_an_inserted_row_is_named(db: Database, key_file: Path, tmp_path: Path, where: str) -> None:
    ids = write_morning(db)
    with db.transaction() as s:
        rows = list(s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
        kid = rows[0].key_id
        if where == "middle":  # make room after event 3 (in two steps: ids are unique)
            after = rows[2]
            s.expunge_all()
            bump = "UPDATE audit_events SET id = id + :d WHERE id > :i"
            s.execute(sa.text(bump), {"d": 1000, "i": after.id})
            s.execute(sa.text(bump), {"d": -999, "i": after.id + 1000})
            new_id = after.id + 1
        else:
            after, new_id = rows[-1], rows[-1].id + 1
        forged = AuditEvent(
            id=new_id,
            at=after.at,
            actor="carol",
            roles="manager",
            channel="",
            via="console",
            command="dispute",
            arguments="/dispute approve D-2",
            outcome=Outcome.OK,
            detail="",
            duration_ms=3,
            prev_hash=after.hash,
            key_id=kid,
            hash="",
        )
        forged.hash = _seal(after.hash, forged, AuditKey(kid, b"guess" * 8))
        s.add(forged)
    assert findings(db, tmp_path / "anchors.log")[0] == (
        f"audit event {new_id} is broken: its contents do not match its seal (the row was changed)"
    )
    assert len(ids) == 8


def test_cutting_off_the_newest_rows_is_named_through_the_anchor(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.log"
    ids = write_morning(db)
    anchor_chain(db, anchors)
    with db.transaction() as s:
        s.execute(sa.text("DELETE FROM audit_events WHERE id > :i"), {"i": ids[4]})
    assert findings(db, anchors) == [
        f"audit event {ids[5]} is missing: the anchor of "
        f"{anchors.read_text().split()[0]} names event {ids[-1]}, the trail ends at "
        f"{ids[4]} (the newest events were cut off)"
    ]


def test_truncating_and_rewriting_up_to_the_anchor_is_named(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    """Rows replaced by as many new ones: the anchored event's seal no longer matches."""
    anchors = tmp_path / "anchors.log"
    ids = write_morning(db)
    anchor_chain(db, anchors)
    with db.transaction() as s:
        s.execute(sa.text("DELETE FROM audit_events WHERE id > :i"), {"i": ids[4]})
    write_morning(db, COMMANDS[5:])  # the same number of rows again, sealed with the key
    stamp = anchors.read_text().split()[0]
    assert findings(db, anchors) == [
        f"audit event {ids[-1]} is broken: its seal differs from the one anchored at {stamp} "
        "(the events up to it were rewritten)"
    ]


def test_an_edited_anchor_line_is_named(db: Database, key_file: Path, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.log"
    ids = write_morning(db)
    anchor_chain(db, anchors)
    line = anchors.read_text()
    anchors.write_text(line.replace(f"event={ids[-1]} ", f"event={ids[3]} "))
    assert findings(db, anchors) == [
        f"audit event {ids[3]} is unconfirmed: anchor line 1 naming it is not signed by an "
        "audit key here (the line was edited or forged, or its key is missing)"
    ]


def test_after_a_key_rotation_old_and_new_rows_verify_by_their_key(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.log"
    first = keys.read_key_file(key_file)[0]
    write_morning(db, COMMANDS[:3])
    anchor_chain(db, anchors)
    second = rotate_key_file(key_file)
    write_morning(db, COMMANDS[3:])
    anchor_chain(db, anchors)
    check = verify_trail(db, anchors)
    assert check.intact, check.findings
    assert check.key_ids == (first.id, second.id)
    with db.read() as s:
        kids = list(s.scalars(sa.select(AuditEvent.key_id).order_by(AuditEvent.id)))
    assert kids == [first.id] * 3 + [second.id] * 5
    assert [line.split()[3] for line in anchors.read_text().splitlines()] == [
        f"key={first.id}",
        f"key={second.id}",
    ]
    # The new key alone (the old one lost) no longer vouches for the old rows.
    key_file.write_text(key_file.read_text().replace(f"{first.id} {first.secret.hex()}\n", ""))
    assert findings(db, anchors)[0].startswith(
        f"audit event 1 is broken: it names audit key {first.id}, which is not among"
    )


def test_rows_from_before_keys_are_vouched_for_by_the_first_keyed_one(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    """A database upgraded from plain SHA-256 seals keeps verifying; its old rows cannot
    be rewritten once a keyed row seals over them."""
    write_morning(db, COMMANDS[:3])
    with db.transaction() as s:  # as revision 0009 wrote them
        prev = GENESIS
        for row in s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)):
            row.key_id, row.prev_hash = "", prev
            row.hash = prev = _digest(prev, row)
    write_morning(db, COMMANDS[3:])
    check = verify_trail(db, tmp_path / "anchors.log")
    assert check.intact and (check.unkeyed, check.events) == (3, 8)
    with db.transaction() as s:
        s.execute(sa.text("UPDATE audit_events SET actor = 'bob' WHERE id = 2"))
    assert findings(db, tmp_path / "anchors.log") == [
        "audit event 2 is broken: its contents do not match its seal (the row was changed)"
    ]


def test_with_no_key_at_all_the_first_event_creates_one_with_a_warning(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    path = tmp_path / "fresh" / "audit.key"
    previous = keys.use_source(KeySource(path))
    try:
        with caplog.at_level(logging.WARNING, logger="domain.audit.keys"):
            write_morning(db, COMMANDS[:3])
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert warnings[0].startswith(f"no audit key: created {path} to seal audit events")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert verify_trail(db, tmp_path / "anchors.log").intact
    finally:
        keys.use_source(previous)


def reseal_from(db: Database, first: int, key: AuditKey, actor: str) -> None:
    """What a holder of `key` does: change the actor from event `first` on and re-chain."""
    with db.transaction() as s:
        rows = list(s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
        prev = next(r.hash for r in rows if r.id == first - 1)
        for row in rows:
            if row.id < first:
                continue
            row.actor, row.key_id, row.prev_hash = actor, key.id, prev
            row.hash = prev = _seal(prev, row, key)


def test_events_resealed_with_a_rotated_out_key_are_named(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    """The old key leaked and was rotated out; its holder re-seals the newest events."""
    old = keys.read_key_file(key_file)[0]
    write_morning(db, COMMANDS[:3])
    new = rotate_key_file(key_file)
    ids = write_morning(db, COMMANDS[3:])
    assert verify_trail(db, tmp_path / "anchors.log").intact
    reseal_from(db, ids[4], old, "mallory")
    assert findings(db, tmp_path / "anchors.log") == [
        f"audit event {ids[4]} is broken: it is sealed with audit key {old.id}, older than "
        f"key {new.id} that already sealed event {ids[3]} (keys only move forward: a "
        "rotated-out key sealed it)"
    ]


def test_an_anchor_signed_with_a_rotated_out_key_is_named(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.log"
    old = keys.read_key_file(key_file)[0]
    write_morning(db, COMMANDS[:3])
    new = rotate_key_file(key_file)
    ids = write_morning(db, COMMANDS[3:])
    anchor_chain(db, anchors)
    with db.read() as s:
        head = s.get(AuditEvent, ids[-1])
        assert head is not None
        forged = append_anchor(anchors, ChainHead(head.id, head.hash), old, datetime.now(UTC))
    assert findings(db, anchors) == [
        f"anchor line 2 of {anchors}: it is signed with audit key {old.id}, older than key "
        f"{new.id} of line 1 (keys only move forward: a rotated-out key signed it)"
    ]
    assert forged.signed


@pytest.mark.parametrize("how", ["removed", "emptied"])
def test_cutting_off_events_and_the_anchor_file_is_named(
    db: Database, key_file: Path, tmp_path: Path, how: str
) -> None:
    """The newest rows deleted and the anchors with them: events older than two anchor
    intervals and no anchor at all means anchors were removed."""
    anchors = tmp_path / "anchors.log"
    ids = write_morning(db, ago=timedelta(hours=2))
    anchor_chain(db, anchors)
    with db.transaction() as s:
        s.execute(sa.text("DELETE FROM audit_events WHERE id > :i"), {"i": ids[4]})
    if how == "removed":
        anchors.unlink()
        where = "no anchor file"
    else:
        anchors.write_text("")
        where = "no anchor in"
    assert findings(db, anchors) == [
        f"{where} {anchors}: events up to {ids[4]} are older than two anchor intervals, so "
        "anchors were expected (the file was removed or emptied, or nothing anchors this "
        "trail: `serve` runs the anchor job)"
    ]
    # With a longer interval the same events are young enough: nothing expected yet.
    assert verify_trail(db, anchors, anchor_every=timedelta(hours=2)).intact


def test_an_empty_trail_on_a_database_that_handled_deliveries_is_named(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.log"
    assert verify_trail(db, anchors).intact  # a new installation: nothing yet, nothing wrong
    write_morning(db)
    with db.transaction() as s:
        s.execute(sa.text("DELETE FROM audit_events"))
    assert claim_delivery(db, "event:Ev01")  # App Home opened: writes no audit event
    assert verify_trail(db, anchors).intact
    assert claim_delivery(db, "command:T02") and claim_delivery(db, "action:1.5:U3")
    assert findings(db, anchors) == [
        "the audit trail is empty: the database ran 2 Slack commands, clicks or forms "
        "(processed_requests), each of which writes one, but holds no audit event "
        "(the events were deleted)"
    ]


def test_a_garbage_anchor_line_is_named_as_not_an_anchor(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.log"
    write_morning(db)
    anchor_chain(db, anchors)
    with anchors.open("a") as f:
        f.write("all is well, nothing to see\n")
    assert findings(db, anchors) == [f"anchor line 2 of {anchors} is not an anchor (unreadable)"]


# -- through the command line ----------------------------------------------------------


@pytest.fixture
def config(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A config whose database is the test's and whose key and anchor files are in tmp."""
    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"database:\n  url: {db.url}\n"
        "users:\n  zed: {roles: [admin]}\n"
        "audit:\n  key_file: keys/audit.key\n  anchor_file: anchors/audit.log\n"
    )
    # `chat` finds the key file through the config SWITCHBOARD_CONFIG names.
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(cfg))
    previous = keys.use_source(None)
    yield cfg
    keys.use_source(previous)


def cli(capsys: pytest.CaptureFixture[str], cfg: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *argv])
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def test_audit_init_creates_the_key_once_and_refuses_a_second_time(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config.parent / "keys" / "audit.key"
    code, out, _ = cli(capsys, config, "audit", "init")
    (kid,) = [k.id for k in keys.read_key_file(path)]
    assert (code, out) == (
        0,
        f"created audit key {kid} in {path} (mode 0600); keep a copy outside the database "
        "and its backups",
    )
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    before = path.read_text()
    code, out, err = cli(capsys, config, "audit", "init")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"error: the audit key file {path} already exists; it is not overwritten",
        "hint: its keys verify the events they sealed; `switchboard audit rotate-key` adds one",
    ]
    assert path.read_text() == before


def test_the_cli_seals_anchors_rotates_and_catches_a_cut(
    config: Path, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, config, "audit", "init")[0] == 0
    for text in ("/ops whoami", "/ops help", "/audit recent"):
        assert cli(capsys, config, "chat", "--as", "zed", text)[0] == 0
    code, out, _ = cli(capsys, config, "audit", "anchor")
    assert (code, out) == (0, f"anchored audit event 3 in {config.parent}/anchors/audit.log")
    code, out, _ = cli(capsys, config, "audit", "rotate-key")
    assert code == 0 and out.startswith("added audit key ")
    keys_now = keys.read_key_file(config.parent / "keys" / "audit.key")
    assert cli(capsys, config, "chat", "--as", "zed", "/ops whoami")[0] == 0
    code, out, _ = cli(capsys, config, "audit", "verify")
    stamp = (config.parent / "anchors" / "audit.log").read_text().split()[0]
    assert (code, out) == (
        0,
        f"OK: 4 audit events, the chain is intact (sealed with key {keys_now[0].id}, "
        f"{keys_now[1].id}); anchored through event 3 at {stamp}; 1 newer not anchored yet",
    )
    with db.transaction() as s:
        s.execute(sa.text("DELETE FROM audit_events WHERE id >= 3"))
    code, out, err = cli(capsys, config, "audit", "verify")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"audit event 3 is missing: the anchor of {stamp} names event 3, the trail ends at 2 "
        "(the newest events were cut off)",
        "hint: restore the audit table from a backup and compare; events from the first one "
        "named on cannot be trusted",
    ]


def test_the_cli_names_a_cut_whose_anchor_file_was_removed(
    config: Path, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reviewer's attack: delete the newest events and the anchor file with them."""
    assert cli(capsys, config, "audit", "init")[0] == 0
    ids = write_morning(db, ago=timedelta(hours=3))
    assert cli(capsys, config, "audit", "anchor")[0] == 0
    anchors = config.parent / "anchors" / "audit.log"
    with db.transaction() as s:
        s.execute(sa.text("DELETE FROM audit_events WHERE id > :i"), {"i": ids[4]})
    anchors.unlink()
    code, out, err = cli(capsys, config, "audit", "verify")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"no anchor file {anchors}: events up to {ids[4]} are older than two anchor "
        "intervals, so anchors were expected (the file was removed or emptied, or nothing "
        "anchors this trail: `serve` runs the anchor job)",
        "hint: restore the audit table from a backup and compare; events from the first one "
        "named on cannot be trusted",
    ]


def test_verify_without_any_key_says_so_in_one_line(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, config, "audit", "verify")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "error: no audit key here: the seals cannot be checked",
        "hint: set SWITCHBOARD_AUDIT_KEY or restore the key file (audit.key_file); "
        "`switchboard audit init` is for a new installation only",
    ]
    assert not (config.parent / "keys").exists()  # verifying never makes a key


def test_rotate_key_with_the_key_in_the_environment_says_how(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(keys.KEY_ENV, "ab" * 32)
    code, _, err = cli(capsys, config, "audit", "rotate-key")
    assert code == 1
    assert err.splitlines() == [
        "SWITCHBOARD_AUDIT_KEY is set, and it seals audit events, not the key file",
        "hint: append a new key to the variable (SWITCHBOARD_AUDIT_KEY=OLD,NEW; the last "
        "seals, all verify), then restart",
    ]


def test_a_short_key_in_the_environment_is_one_line(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(keys.KEY_ENV, "abcd")
    code, _, err = cli(capsys, config, "audit", "verify")
    assert code == 1
    assert err.splitlines() == [
        "error: SWITCHBOARD_AUDIT_KEY: an audit key needs at least 32 bytes (64 hex digits), "
        "this one has 2",
        "hint: make one with `switchboard audit init`",
    ]


# -- the scheduled anchor ------------------------------------------------------------------


def test_the_scheduled_anchor_writes_the_head_and_posts_it_when_it_moved(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    from automation.scheduler import jobs_from_config
    from bot.bootstrap import bootstrap
    from bot.jobs import anchor_audit, runners
    from bot.outbound import Outbound
    from bot.slack.edge import web_client
    from domain.config import PROJECT_ROOT, load_settings
    from tests.fakes.slack_api import FakeSlack

    with FakeSlack() as slack:
        base = load_settings(
            PROJECT_ROOT / "config.yaml",
            env={"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_API_URL": slack.api_url},
        )
        settings = base.model_copy(
            update={
                "audit": base.audit.model_copy(
                    update={
                        "anchor_file": str(tmp_path / "anchors.log"),
                        "anchor_channel": "#audit",
                        "anchor_every_minutes": 5,
                    }
                )
            }
        )
        job = {j.id: j for j in jobs_from_config(settings)}["audit-anchor"]
        assert (job.kind, str(job.trigger)) == ("audit_anchor", "interval[0:05:00]")
        sb = bootstrap(settings, database_url=db.url)
        outbound = Outbound(web_client(settings.slack), per_channel_s=0.2)
        try:
            assert "audit_anchor" in runners(sb, outbound)
            assert anchor_audit(sb, outbound) == "empty"
            ids = write_morning(db)
            assert anchor_audit(sb, outbound) == "written"
            assert anchor_audit(sb, outbound) == "unchanged"
        finally:
            outbound.stop()
            sb.close()
        posts = slack.calls_to("chat.postMessage")
    line = (tmp_path / "anchors.log").read_text().splitlines()
    assert len(line) == 1 and f" event={ids[-1]} " in line[0]
    assert [p.params["channel"] for p in posts] == ["#audit"]
    assert posts[0].params["text"].startswith(f":lock: Audit anchor: event {ids[-1]} at ")
    assert verify_trail(db, tmp_path / "anchors.log").intact


def test_verify_says_how_many_events_wait_in_the_journal_and_anchor_stores_them(
    config: Path, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Events the database could not take in time wait in the journal: verify says so
    (they are not in the chain yet), and `audit anchor` stores them before it anchors."""
    from domain.audit.journal import PendingEvent, journal_beside
    from domain.audit.services import keep_in_journal

    assert cli(capsys, config, "audit", "init")[0] == 0
    assert cli(capsys, config, "chat", "--as", "zed", "/ops whoami")[0] == 0
    kept = journal_beside(config.parent / "anchors" / "audit.log", db.url)
    for _ in range(2):
        keep_in_journal(
            kept,
            PendingEvent(
                actor="zed", command="ops whoami", outcome=Outcome.OK, at=datetime.now(UTC)
            ),
        )
    code, out, _ = cli(capsys, config, "audit", "verify")
    assert code == 0
    assert out.splitlines()[0] == (
        f"2 audit event(s) wait in the journal {kept}, not yet in the chain; the next audit "
        "write or `switchboard audit anchor` stores them"
    )
    assert cli(capsys, config, "audit", "anchor")[0] == 0
    code, out, _ = cli(capsys, config, "audit", "verify")
    assert code == 0 and out.startswith("OK: 3 audit events, the chain is intact")
