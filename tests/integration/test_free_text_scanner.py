"""The one scanner through the router, on SQLite and PostgreSQL: identifiers written any
way (irregular groups; spaces, dots and dashes), secrets in every form people type them
(`key is value`, JSON, a URL's user:password@, `pwd=`), and a customer's name typed into
free text a channel reads."""

from __future__ import annotations

import sqlalchemy as sa

from domain.audit.models import AuditEvent
from domain.db import Database
from domain.faults.models import Ticket, TicketEvent
from tests.world import lab_router

TYPED = "Aadhaar 2345 67890124, card 4111.1111.1111.1111, PAN ABCPE 1234 F"


def _stored_and_audited(db: Database) -> str:
    with db.read() as s:
        rows = [
            *s.execute(sa.select(Ticket.title, Ticket.description)).all(),
            *s.execute(sa.select(TicketEvent.text)).all(),
            *s.execute(sa.select(AuditEvent.arguments, AuditEvent.detail)).all(),
        ]
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def test_identifiers_written_with_irregular_groups_are_masked(world: Database) -> None:
    router, access = lab_router(world)
    carol, alice = access.user("carol"), access.user("alice")
    opened = router.handle(carol, f'/ticket open BA100000001 "{TYPED}"')
    assert opened.ok, opened.text
    assert opened.text == (
        "T-1 opened: Aadhaar ••••••••0124, card ••••••••••••1111, PAN ••••••234F"
    )
    shown = router.handle(alice, "/ticket show T-1")
    assert "Aadhaar ••••••••0124, card ••••••••••••1111, PAN ••••••234F" in shown.text
    kept = _stored_and_audited(world)
    for typed in ("2345 67890124", "4111.1111.1111.1111", "ABCPE 1234 F"):
        assert typed not in kept
    assert "67890124" not in kept and "4111.1111" not in kept


def test_secrets_in_every_form_people_type_them_are_masked(world: Database) -> None:
    router, access = lab_router(world)
    alice = access.user("alice")
    opened = router.handle(alice, '/ticket open r1-mum "login fails: password is hunter2"')
    assert opened.ok, opened.text
    assert opened.text == "T-1 opened: login fails: password is ********"
    notes = [
        ('{"password": "s3cr3t", "user": "ops"}', '{"password": "********", "user": "ops"}'),
        ("tried https://admin:adm1n@10.0.0.1/ then pwd=letmein", None),
        ("the api_key: k3y-9x and apikey=Zz81q", "the api_key: ******** and apikey=********"),
        ("her token is tk-4412 (the token is expired)", None),
    ]
    for typed, _ in notes:
        noted = router.handle(alice, f"/ticket note T-1 '{typed}'")
        assert noted.ok, noted.text
    shown = router.handle(alice, "/ticket show T-1")
    history = [row[2] for row in shown.tables[0].rows]
    assert history == [
        "created: login fails: password is ********",
        'note: {"password": "********", "user": "ops"}',
        "note: tried https://admin:********@10.0.0.1/ then pwd=********",
        "note: the api_key: ******** and apikey=********",
        "note: her token is ******** (the token is expired)",
    ]
    kept = _stored_and_audited(world)
    for secret in ("hunter2", "s3cr3t", "adm1n", "letmein", "k3y-9x", "Zz81q", "tk-4412"):
        assert secret not in kept, secret


def test_a_change_carrying_an_identifier_written_any_way_is_refused(world: Database) -> None:
    router, access = lab_router(world)
    alice = access.user("alice")
    for typed, said, hidden in [
        ("UID 2345 67890124", "an Aadhaar number (••••••••0124)", "67890124"),
        ("card 4111.1111.1111.1111", "a card number (••••••••••••1111)", "4111.1111"),
        ("PAN ABCPE 1234 F", "a PAN (••••••234F)", "ABCPE"),
        ("ops login admin password is hunter2", "a secret (********)", "hunter2"),
    ]:
        planned = router.handle(alice, f'/config plan banner r1-mum text="{typed}"')
        assert not planned.ok
        assert planned.text.startswith(f"text= carries {said}; "), planned.text
        assert hidden not in planned.text
    with world.read() as s:
        assert s.scalar(sa.text("SELECT count(*) FROM change_requests")) == 0


def test_a_customer_shared_to_the_channel_is_not_named_in_full_in_free_text(
    world: Database,
) -> None:
    router, access = lab_router(world)
    carol, root = access.user("carol"), access.user("root")
    opened = router.handle(
        carol, '/ticket open BA100000001 "Priya Nair disputes the roaming charge; NAIR says paid"'
    )
    assert opened.ok, opened.text
    shared = router.handle(root, "/customer BA100000001 --share")
    assert shared.ok and not shared.ephemeral
    assert shared.text == "Priya N."
    titles = [row[3] for row in shared.tables[1].rows]
    assert titles == ["Priya N. disputes the roaming charge; N. says paid"]
    assert "Nair" not in str(shared) and "NAIR" not in str(shared)

    private = router.handle(root, "/customer BA100000001")  # to an unmasking role, privately
    assert private.ephemeral and private.text == "Priya Nair"
    assert [row[3] for row in private.tables[1].rows] == [
        "Priya Nair disputes the roaming charge; NAIR says paid"
    ]


def test_a_ticket_in_the_channel_does_not_name_its_customer_in_full_in_free_text(
    world: Database,
) -> None:
    """/ticket show and /ticket list are read in the channel: the customer's name typed
    into the title or a note is masked there as the ticket's own header masks it."""
    router, access = lab_router(world)
    carol, root = access.user("carol"), access.user("root")
    opened = router.handle(carol, '/ticket open BA100000001 "Priya Nair says the bill is wrong"')
    assert opened.ok, opened.text
    ref = opened.data.ref
    assert router.handle(carol, f'/ticket note {ref} "called Ms Nair back"').ok
    for reply in (
        router.handle(carol, f"/ticket show {ref}"),
        router.handle(carol, "/ticket list"),
    ):
        assert reply.ok and not reply.ephemeral
        assert "Nair" not in str(reply), str(reply)
        assert "Priya N." in str(reply)
    private = router.handle(root, f"/ticket show {ref} --private")
    assert "Priya Nair says the bill is wrong" in str(private)
