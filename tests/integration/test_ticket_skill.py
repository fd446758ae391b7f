"""/ticket through the router: TMF621 moves with readable refusals and a full history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.access import Access
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database
from tests.world import make_router

SETTINGS = load_settings(PROJECT_ROOT / "config.yaml", env={})
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_a_ticket_from_open_to_closed(world: Database) -> None:
    clock = [START]
    router = make_router(world, SETTINGS, clock=lambda: clock[0])
    access = Access(SETTINGS)
    alice, carol = access.user("alice"), access.user("carol")

    opened = router.handle(alice, '/ticket open r1-mum "Link flapping on uplink" sev=2')
    assert opened.text == "T-1 opened: Link flapping on uplink"
    sla = {f.label: f.value for f in opened.sections[0].fields}["SLA due"]
    assert sla == "2026-11-20 17:00 UTC"  # severity 2: 8 hours
    by_number = router.handle(carol, '/ticket open 9876543210 "No data since morning"')
    assert by_number.text == "T-2 opened: No data since morning"
    by_name = router.handle(carol, '/ticket open "priya nair" "Wants a plan change" sev=4')
    assert by_name.ok

    assert router.handle(alice, "/ticket assign T-1 me").text == "T-1 assigned to alice"
    bad_user = router.handle(alice, "/ticket assign T-1 mallory")
    assert (bad_user.text, bad_user.hint) == (
        "no user 'mallory'",
        "users: alice, bob, carol, dave, erin, root",
    )
    assert router.handle(alice, "/ticket status T-1 inprogress").text == "T-1 is now inProgress"
    assert router.handle(alice, '/ticket note T-1 "optics replaced"').ok
    clock[0] = START + timedelta(hours=9)
    assert router.handle(alice, "/ticket list breached").tables[0].rows[0][0] == "T-1"
    resolved = router.handle(alice, '/ticket resolve T-1 "SFP swapped"')
    assert resolved.text == "T-1 resolved (after its SLA)"
    assert router.handle(alice, "/ticket close T-1").text == "T-1 closed"
    refused = router.handle(alice, "/ticket status T-1 inProgress")
    assert (refused.ok, refused.text, refused.hint) == (
        False,
        "ticket T-1 is closed; it cannot move to inProgress",
        "closed is final; nothing follows it",
    )

    shown = router.handle(carol, "/ticket show T-1")
    what = [row[2] for row in shown.tables[0].rows]
    assert what == [
        "created: Link flapping on uplink",
        "assigned: alice",
        "status: acknowledged -> inProgress",
        "note: optics replaced",
        "status: inProgress -> resolved SFP swapped",
        "status: resolved -> closed",
    ]
    fields = {f.label: f.value for f in shown.sections[0].fields}
    assert fields["SLA due"].endswith("(breached)") and fields["about"] == "r1-mum"

    assert (
        router.handle(carol, '/ticket open nowhere-7 "x"').text
        == "no device, number or customer 'nowhere-7'"
    )
    assert router.handle(carol, '/ticket open r1-mum "x" sev=9').text == "severity 9 is not 1-4"
    assert (
        router.handle(access.user("erin"), "/ticket list").text
        == "/ticket list needs the care_agent or engineer or manager role; you have fraud_analyst"
    )
