"""The router end to end on a real database: access, arguments, audit, decisions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.access import Access
from bot.bootstrap import build_services
from bot.router import Router
from domain.audit.choices import Outcome
from domain.audit.models import AuditEvent
from domain.audit.services import claim_request, verify_chain
from domain.config import PROJECT_ROOT, Role, load_settings
from domain.db import Database
from domain.orders.choices import OrderState
from domain.orders.services import create_order, get_order, move_order
from skills.registry import Command, NoArgs, Registry
from tests.world import make_router

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
ACCESS = Access(SETTINGS)


@pytest.fixture
def router(world: Database) -> Router:
    return make_router(world, SETTINGS)


def pending_order(db: Database, requester: str = "carol") -> str:
    with db.transaction() as s:
        ref = create_order(s, customer_id=1, offering_id=1, requested_by=requester).ref
        move_order(s, ref, OrderState.PENDING)
    return ref


def audit_rows(db: Database) -> list[AuditEvent]:
    with db.read() as s:
        return list(s.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def test_help_shows_only_what_the_caller_may_run(router: Router) -> None:
    def commands(user: str) -> set[str]:
        reply = router.handle(ACCESS.user(user), "/ops help")
        return {row[0].split(" <")[0].split(" [")[0] for row in reply.tables[0].rows}

    assert "/order approve" in commands("dave")
    assert "/order approve" not in commands("carol")
    assert "/order show" in commands("carol")
    assert "/audit recent" not in commands("alice")
    assert commands("root") >= commands("dave") | commands("alice") | {"/audit recent"}


def test_a_refusal_names_the_role_and_is_audited(router: Router, world: Database) -> None:
    ref = pending_order(world)
    reply = router.handle(ACCESS.user("alice"), f"/order approve {ref}", channel="C1")
    assert not reply.ok and reply.ephemeral
    assert reply.text == "/order approve needs the manager role; you have engineer"
    (event,) = audit_rows(world)
    assert (event.actor, event.command, event.outcome, event.channel, event.via) == (
        "alice",
        "order approve",
        Outcome.REFUSED,
        "C1",
        "console",
    )
    with world.read() as s:
        assert get_order(s, ref).state == OrderState.PENDING


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("/order approve", "missing <order>", "usage: /order approve <order> [note=NOTE]"),
        ("/order approve O-1 O-2", "unexpected 'O-2'", "usage: /order approve <order> [note=NOTE]"),
        (
            '/order approve "O-1',
            "could not read that command: no closing quotation",
            'close every quote: /ticket note T-12 "text with spaces"',
        ),
        (
            "/order aprove O-1",
            "unknown command /order aprove",
            "did you mean /order approve? /ops help lists what you can run",
        ),
        (
            "/order approve DROP-TABLE",
            "'DROP-TABLE' is not an order reference",
            "use the form O-12",
        ),
        (
            "x" * 5000,
            "that command is 5,000 characters; the limit is 4,000",
            "shorten it, or attach long text as a file",
        ),
    ],
)
def test_bad_input_gets_one_line_and_a_hint(
    router: Router, text: str, message: str, hint: str
) -> None:
    reply = router.handle(ACCESS.user("dave"), text)
    assert (reply.ok, reply.text, reply.hint) == (False, message, hint)


def test_approval_is_decided_once_by_someone_else(router: Router, world: Database) -> None:
    ref = pending_order(world, requester="dave")
    own = router.handle(ACCESS.user("dave"), f"/order approve {ref}")
    assert (
        not own.ok
        and own.text == f"dave requested {ref}; a manager other than dave must approve or reject it"
    )
    ref = pending_order(world)
    first = router.handle(ACCESS.user("dave"), f"/order approve {ref}")
    assert first.ok and first.text == f"{ref} approved by dave; completed: 917000000001 is active"
    second = router.handle(ACCESS.user("root"), f"/order reject {ref}")
    assert not second.ok and second.text == f"order {ref} was already decided by dave (completed)"
    outcomes = [e.outcome for e in audit_rows(world)]
    # A change stores its request before it runs, then its outcome.
    assert outcomes == [
        *(Outcome.REQUESTED, Outcome.REFUSED),
        *(Outcome.REQUESTED, Outcome.OK),
        *(Outcome.REQUESTED, Outcome.REFUSED),
    ]


def test_the_pending_order_card_carries_buttons_with_typed_twins(
    router: Router, world: Database
) -> None:
    ref = pending_order(world)
    reply = router.handle(ACCESS.user("dave"), f"/order show {ref}")
    assert [(b.label, b.command) for b in reply.buttons] == [
        ("Approve", f"/order approve {ref}"),
        ("Reject", f"/order reject {ref}"),
    ]
    assert reply.buttons[1].form is not None
    assert [i.name for i in reply.buttons[1].form.inputs] == ["note"]


def test_a_crashing_skill_answers_with_a_reference_not_a_traceback(world: Database) -> None:
    def broken(ctx, args):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    registry = Registry()
    registry.add(Command(("ops", "crash"), broken, frozenset({Role.ENGINEER}), NoArgs, "Crash."))
    router = Router(registry, build_services(SETTINGS, world))
    reply = router.handle(ACCESS.user("alice"), "/ops crash")
    assert not reply.ok
    assert reply.text.startswith("/ops crash failed unexpectedly (reference E-")
    assert "boom" not in reply.text
    (event,) = audit_rows(world)
    assert event.outcome == Outcome.FAILED


def test_audit_chain_detects_a_changed_and_a_removed_row(router: Router, world: Database) -> None:
    for text in ("/ops whoami", "/ops help", "/order list", "/ops help password=hunter2"):
        router.handle(ACCESS.user("dave"), text)
    rows = audit_rows(world)
    assert rows[-1].arguments == "/ops help password=********"
    with world.read() as s:
        check = verify_chain(s)
    assert check.intact and check.events == 4
    with world.transaction() as s:
        s.execute(
            sa.text("UPDATE audit_events SET actor = 'mallory' WHERE id = :i"), {"i": rows[1].id}
        )
    with world.read() as s:
        check = verify_chain(s)
    assert (check.first_broken, check.reason) == (
        rows[1].id,
        "its contents do not match its seal (the row was changed)",
    )
    with world.transaction() as s:
        s.execute(
            sa.text("UPDATE audit_events SET actor = 'dave' WHERE id = :i"), {"i": rows[1].id}
        )
        s.execute(sa.text("DELETE FROM audit_events WHERE id = :i"), {"i": rows[2].id})
    with world.read() as s:
        check = verify_chain(s)
    assert check.first_broken == rows[3].id
    assert check.reason.startswith("it does not point at the row before it")


def test_a_delivery_is_claimed_once_across_connections(db: Database) -> None:
    other = Database(db.url)
    try:
        with db.transaction() as s:
            assert claim_request(s, "event:Ev123")
        with other.transaction() as s:
            assert not claim_request(s, "event:Ev123")
            assert claim_request(s, "action:1700000000.000100")
    finally:
        other.dispose()


# -- through the command line ---------------------------------------------------------


def chat(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("switchboard")
    env = {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "SWITCHBOARD_CONFIG": str(PROJECT_ROOT / "config.yaml"),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(exe), "chat", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_switchboard_chat_prints_the_reply_and_sets_the_exit_code(tmp_path: Path) -> None:
    ok = chat(tmp_path, "--as", "erin", "/ops whoami")
    assert ok.returncode == 0, ok.stderr
    assert "You are Erin Bose" in ok.stdout and "fraud_analyst" in ok.stdout
    refused = chat(tmp_path, "--as", "carol", "/order approve O-1")
    assert refused.returncode == 1
    assert "/order approve needs the manager role; you have care_agent" in refused.stdout
    as_json = chat(tmp_path, "--as", "root", "/ops whoami", "--json")
    data = json.loads(as_json.stdout)
    assert data["ok"] is True and data["ephemeral"] is True
    assert {"label": "roles", "value": "admin"} in data["sections"][0]["fields"]


def test_switchboard_chat_with_an_unknown_user(tmp_path: Path) -> None:
    result = chat(tmp_path, "--as", "mallory", "/ops help")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: no user 'mallory' in the config",
        "hint: users: alice, bob, carol, dave, erin, root",
    ]
