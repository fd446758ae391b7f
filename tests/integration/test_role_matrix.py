"""The policy table decides, and nothing else: every command x every role through the
router, every digest x role (the sections shown, the buttons), every ticket kind x role
x move. The expected outcome of each is read from domain/policy.py, so a row changed
there changes what is expected here, and a check that drifts from the table fails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.access import Access, Caller, refusal
from bot.router import Router
from domain import policy
from domain.audit.choices import Outcome
from domain.config import PROJECT_ROOT, Role, load_settings
from domain.db import Database
from domain.faults.choices import TicketKind
from domain.faults.services import open_ticket
from skills.digests import build_digest
from skills.reply import Reply
from tests.integration.test_orders import more_world
from tests.world import make_router

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ACCESS = Access(SETTINGS)

#: The shipped demo users cover every role; `nobody` is a Slack user with none.
CALLERS = [ACCESS.user(name) for name in ("alice", "carol", "dave", "erin", "root")] + [
    Caller("nobody", frozenset())
]
IDS = [f"{c.name}({','.join(c.role_names) or 'no role'})" for c in CALLERS]


@pytest.fixture
def router(world: Database) -> Iterator[Router]:
    more_world(world)
    yield make_router(world, SETTINGS, clock=lambda: NOW)


def test_the_demo_users_cover_every_role() -> None:
    assert {r for c in CALLERS for r in c.roles} == set(Role)


def _refused_by_role(reply: Reply, outcome: Outcome) -> bool:
    return (
        outcome == Outcome.REFUSED
        and re.search(r" needs (the .+ role|a role); you have ", reply.text) is not None
    )


@pytest.mark.parametrize("caller", CALLERS, ids=IDS)
def test_every_command_is_refused_exactly_when_the_table_says(
    router: Router, caller: Caller
) -> None:
    wrong = []
    for cmd in router.registry:
        routed = router.route(caller, "/" + cmd.name)
        allowed = policy.may_run(caller.roles, cmd.name)
        if allowed == _refused_by_role(routed.reply, routed.outcome):
            wrong.append((cmd.name, allowed, routed.outcome.value, routed.reply.text))
        if not allowed:
            assert routed.reply.text == refusal(cmd.name, caller, policy.COMMANDS[cmd.name])
            assert routed.reply.hint == "ask an admin to grant the role in config.yaml"
    assert not wrong, f"commands whose refusal disagrees with the table: {wrong}"


@pytest.mark.parametrize("caller", CALLERS, ids=IDS)
def test_help_lists_exactly_what_the_table_allows(router: Router, caller: Caller) -> None:
    helped = router.handle(caller, "/ops help")
    if not policy.may_run(caller.roles, "ops help"):
        assert helped.text == "/ops help needs a role; you have no role"
        return
    shown = {h.command for h in helped.data}
    assert shown == {f"/{p}" for p in policy.COMMANDS if policy.may_run(caller.roles, p)}
    # A misspelt command is only ever corrected to one the caller may run.
    for path in policy.COMMANDS:
        typo = "/" + path[:-1] + ("x" if path[-1] != "x" else "y")
        hint = router.handle(caller, typo).hint
        if found := re.search(r"did you mean /([a-z ]+)\?", hint):
            assert policy.may_run(caller.roles, found.group(1)), (typo, hint)


# -- digests ------------------------------------------------------------------------------


def _headings(reply: Reply) -> set[str]:
    words = {
        "network": "*Network*",
        "tickets": "*Tickets*",
        "orders": "*Orders*",
        "revenue": "*Revenue",
        "fraud": "*Fraud*",
        "changes": "*Changes",
    }
    texts = [s.text or "" for s in reply.sections]
    return {name for name, head in words.items() if any(t.startswith(head) for t in texts)}


@pytest.mark.parametrize("caller", CALLERS, ids=IDS)
def test_every_digest_shows_a_reader_only_the_sections_and_buttons_they_may_see(
    router: Router, caller: Caller
) -> None:
    dave = ACCESS.user("dave")
    waiting = router.handle(ACCESS.user("carol"), "/order new BA100000001 POST-1499")
    assert "waits for a manager" in waiting.text  # an order with Approve / Reject
    for spec in SETTINGS.digests:
        reply = router.handle(caller, f"/digest preview {spec.name}")
        if not policy.may_run(caller.roles, "digest preview"):
            assert reply.text == "/digest preview needs a role; you have no role"
            continue
        mine = [s for s in spec.sections if policy.may_read_section(caller.roles, s)]
        hidden = [s for s in spec.sections if s not in mine]
        assert reply.meta["sections"] == mine and reply.meta["left_out"] == hidden
        assert _headings(reply) == set(mine), (spec.name, caller.name)
        said = [s.text for s in reply.sections if s.text and s.text.startswith("Not shown")]
        if hidden:
            assert said == [f"Not shown to you: {policy.left_out(hidden)}."]
        else:
            assert said == []
        for button in reply.buttons:
            path = " ".join(button.command.lstrip("/").split()[:2])
            assert policy.may_run(caller.roles, path), (caller.name, button.command)
        if "orders" in mine:
            approve = [b for b in reply.buttons if b.command == "/order approve O-1"]
            assert bool(approve) == policy.may_run(caller.roles, "order approve")
    manager = router.handle(dave, "/digest preview manager-daily")
    assert {b.command for b in manager.buttons} == {"/order approve O-1", "/order reject O-1"}


def test_the_revenue_a_care_agent_may_not_ask_for_is_not_in_her_digest(router: Router) -> None:
    carol = ACCESS.user("carol")
    assert not router.handle(carol, "/revenue").ok
    reply = router.handle(carol, "/digest preview manager-daily")
    assert reply.ok and reply.buttons == ()
    assert _headings(reply) == {"tickets", "orders"}
    assert reply.data.figures.revenue is None and reply.data.figures.fraud is None
    assert reply.sections[-1].text == (
        "Not shown to you: the network section is for engineers and managers; the revenue "
        "section is for managers; the fraud section is for managers and fraud analysts."
    )
    assert {p["title"] for p in reply.meta["panels"]} == {"Tickets per day"}


@pytest.mark.parametrize("caller", CALLERS, ids=IDS)
def test_subscribing_needs_every_section_of_the_digest(router: Router, caller: Caller) -> None:
    for spec in SETTINGS.digests:
        reply = router.handle(caller, f"/digest subscribe {spec.name}")
        if not policy.may_run(caller.roles, "digest subscribe"):
            assert " needs a role; you have no role" in reply.text
            continue
        hidden = [s for s in spec.sections if not policy.may_read_section(caller.roles, s)]
        if hidden:
            assert (reply.ok, reply.text, reply.hint) == (
                False,
                f"you may not subscribe to {spec.name}: {policy.left_out(hidden)}",
                f"/digest preview {spec.name} shows the part you may read",
            )
        else:
            assert reply.ok and reply.text == (
                f"You will get {spec.name} by direct message ({spec.cron}, {spec.timezone}): "
                f"{policy.joined(spec.sections)}"
            )


def test_a_channel_gets_what_every_role_of_its_audience_may_read(router: Router, tmp_path) -> None:
    router.handle(ACCESS.user("carol"), "/order new BA100000001 POST-1499")
    # As shipped, the channel's audience is its managers: all of it.
    full = build_digest(router.services, "manager-daily", NOW)
    assert full.meta["sections"] == ["network", "tickets", "orders", "revenue", "fraud"]
    assert {b.command for b in full.buttons} == {"/order approve O-1", "/order reject O-1"}
    # A channel that engineers read too gets what both may read, and no manager's buttons.
    text = (PROJECT_ROOT / "config.yaml").read_text()
    shared = text.replace("    audience: [manager]   #", "    audience: [manager, engineer]   #")
    assert shared != text
    config = tmp_path / "config.yaml"
    config.write_text(shared)
    narrowed = make_router(router.db, load_settings(config, env={}), clock=lambda: NOW)
    reply = build_digest(narrowed.services, "manager-daily", NOW)
    assert reply.meta["sections"] == ["network", "tickets", "orders"]
    assert _headings(reply) == {"network", "tickets", "orders"}
    assert reply.buttons == ()
    assert reply.sections[-1].text == (
        "Not in this channel: the revenue section is for managers; "
        "the fraud section is for managers and fraud analysts."
    )


# -- tickets ------------------------------------------------------------------------------

MOVES = [
    ("ticket note", '/ticket note {ref} "looked at it"'),
    ("ticket assign", "/ticket assign {ref} me"),
    ("ticket status", "/ticket status {ref} inProgress"),
    ("ticket resolve", '/ticket resolve {ref} "fixed"'),
    ("ticket close", "/ticket close {ref}"),
]


def _ticket(db: Database, kind: TicketKind) -> str:
    network = kind in (TicketKind.INCIDENT, TicketKind.PROVISIONING)
    with db.transaction() as s:
        return open_ticket(
            s,
            title=f"a {kind.value}",
            severity=3,
            reporter="root",
            sla_hours=SETTINGS.tickets.sla_hours,
            kind=kind,
            device_id=1 if network else None,
            customer_id=None if network else 1,
            now=NOW,
        ).ref


@pytest.mark.parametrize("kind", list(TicketKind), ids=[k.value for k in TicketKind])
@pytest.mark.parametrize("caller", CALLERS, ids=IDS)
def test_every_ticket_move_obeys_the_kind_and_the_role(
    router: Router, caller: Caller, kind: TicketKind
) -> None:
    ref = _ticket(router.db, kind)
    works = policy.may_work_ticket(caller.roles, kind)
    shown = router.handle(caller, f"/ticket show {ref}")
    if shown.ok:
        # The buttons on the ticket's message are only the moves this reader may make.
        assert all(policy.may_run(caller.roles, "ticket assign") for _ in shown.buttons)
        assert bool(shown.buttons) == (works and policy.may_run(caller.roles, "ticket assign"))
    for path, typed in MOVES:
        reply = router.handle(caller, typed.format(ref=ref))
        if not policy.may_run(caller.roles, path):
            assert reply.text.startswith(f"/{path} needs the "), reply.text
        elif not works:
            have = ", ".join(caller.role_names)
            assert (reply.ok, reply.text, reply.hint) == (
                False,
                f"{ref} is a {policy.TICKET_KIND_NAMES[kind]}: "
                f"{policy.people(policy.TICKET_KINDS[kind])} work those (you have {have})",
                f"ask one of them to take it; /ticket show {ref} says who has it",
            )
        else:
            assert reply.ok, (path, reply.text, reply.hint)
            for button in reply.buttons:
                path_of = " ".join(button.command.lstrip("/").split()[:2])
                assert policy.may_run(caller.roles, path_of)


@pytest.mark.parametrize("caller", CALLERS, ids=IDS)
def test_opening_a_ticket_of_a_kind_you_do_not_work_is_refused(
    router: Router, caller: Caller
) -> None:
    for about, kind in (
        ("r1-mum", TicketKind.INCIDENT),
        ("9876543210", TicketKind.SERVICE_REQUEST),
    ):
        reply = router.handle(caller, f'/ticket open {about} "something is wrong"')
        if not policy.may_run(caller.roles, "ticket open"):
            assert reply.text.startswith("/ticket open needs the ")
        elif policy.may_work_ticket(caller.roles, kind):
            assert reply.ok and reply.data.kind == kind, (reply.text, reply.hint)
        else:
            assert (reply.ok, reply.text, reply.hint) == (
                False,
                f"a ticket about {about} is a {policy.TICKET_KIND_NAMES[kind]}: "
                f"{policy.people(policy.TICKET_KINDS[kind])} work those "
                f"(you have {', '.join(caller.role_names)})",
                "ask one of them to open it",
            )


def test_a_care_agent_cannot_resolve_or_close_a_core_incident(router: Router) -> None:
    """The issue's T-18: a BGP neighbour down on the core, resolved and closed by carol."""
    ref = _ticket(router.db, TicketKind.INCIDENT)
    carol, alice = ACCESS.user("carol"), ACCESS.user("alice")
    for typed in (f'/ticket resolve {ref} "billing fixed"', f"/ticket close {ref}"):
        refused = router.handle(carol, typed)
        assert refused.text == (
            f"{ref} is a network incident: engineers work those (you have care_agent)"
        )
    assert router.handle(carol, f"/ticket show {ref}").buttons == ()
    assert router.handle(alice, f'/ticket resolve {ref} "BGP session re-established"').ok
    assert router.handle(alice, f"/ticket close {ref}").text == f"{ref} closed"


@pytest.mark.parametrize("kind", list(TicketKind), ids=[k.value for k in TicketKind])
def test_a_ticket_is_given_only_to_someone_who_works_its_kind(
    router: Router, kind: TicketKind
) -> None:
    """carol gave a billing dispute to alice, an engineer who may not move it."""
    giver = next(
        (
            ACCESS.user(u)
            for u in ("carol", "alice")
            if policy.may_work_ticket(ACCESS.user(u).roles, kind)
        ),
        None,
    )
    assert giver is not None, kind
    for user in sorted(SETTINGS.users):
        ref = _ticket(router.db, kind)
        reply = router.handle(giver, f"/ticket assign {ref} {user}")
        theirs = ACCESS.user(user).roles
        if policy.may_work_ticket(theirs, kind):
            assert (reply.ok, reply.text) == (True, f"{ref} assigned to {user}"), reply.text
        else:
            have = ", ".join(sorted(r.value for r in theirs)) or "no role"
            assert (reply.ok, reply.text) == (
                False,
                f"{ref} is a {policy.TICKET_KIND_NAMES[kind]}: "
                f"{policy.people(policy.TICKET_KINDS[kind])} work those, and {user} has {have}",
            ), reply.text
