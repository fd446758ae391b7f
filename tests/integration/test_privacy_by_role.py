"""Privacy by role through the router, on SQLite and PostgreSQL: free text is masked in
storage, in what is shown and in the audit; a reply the channel reads masks the customer
whoever asked, a private one shows them in full to a role that may see it."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.audit.models import AuditEvent
from domain.billing.choices import InvoiceState
from domain.billing.models import Invoice
from domain.changes.models import ChangeRequest, ChangeTarget
from domain.db import Database
from domain.faults.choices import PerceivedSeverity
from domain.faults.intake import AlertEvent, file_alerts
from domain.faults.models import Alarm, Ticket, TicketEvent
from domain.fraud.models import FraudCase
from domain.orders.choices import OrderState
from domain.orders.models import ProductOrder
from domain.orders.services import create_order, move_order
from domain.privacy import luhn_ok, verhoeff_digit
from tests.world import NOW, lab_router

AADHAAR = "9198 7654 3216"  # starts like a mobile number, Verhoeff-valid
CARD = "4111 1111 1111 1111"
PAN = "ABCPE1234F"
SECRET = "hunter22"


def _shown(reply: Any) -> str:
    """Everything a reply shows or carries (text, fields, tables, buttons, data)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return str(value)

    return json.dumps(plain(reply), ensure_ascii=False)


def _stored(db: Database) -> str:
    """Every free-text column the typed text could have reached, and the audit."""
    with db.read() as s:
        rows = [
            *s.execute(sa.select(Ticket.title, Ticket.description, Ticket.resolution)).all(),
            *s.execute(sa.select(TicketEvent.text)).all(),
            *s.execute(sa.select(ProductOrder.note, ProductOrder.decision_note)).all(),
            *s.execute(sa.select(FraudCase.note)).all(),
            *s.execute(sa.select(Alarm.summary, Alarm.description, Alarm.labels)).all(),
            *s.execute(sa.select(ChangeRequest.params, ChangeRequest.summary)).all(),
            *s.execute(sa.select(ChangeTarget.intended, ChangeTarget.diff)).all(),
        ]
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def _audit(db: Database) -> str:
    with db.read() as s:
        rows = s.execute(sa.select(AuditEvent.arguments, AuditEvent.detail)).all()
    return "\n".join(" ".join(row) for row in rows)


def _gone(text: str, *typed: str) -> bool:
    compact = text.replace(" ", "").replace("-", "")
    return all(t not in text and t.replace(" ", "") not in compact for t in typed)


def _invoice(db: Database) -> str:
    with db.transaction() as s:
        s.add(
            Invoice(
                number="INV-202610-0000001",
                billing_account_id=1,
                period_start=date(2026, 10, 1),
                period_end=date(2026, 10, 31),
                issued_at=NOW - timedelta(days=19),
                due_date=date(2026, 11, 16),
                state=InvoiceState.SENT,
                subtotal_minor=39900,
                tax_minor=7182,
                total_minor=47082,
                paid_minor=0,
            )
        )
    return "INV-202610-0000001"


def test_ticket_show_on_a_billing_ticket_masks_the_customer_in_the_channel(
    world: Database,
) -> None:
    router, access = lab_router(world)
    carol, root, alice = access.user("carol"), access.user("root"), access.user("alice")
    number = _invoice(world)
    opened = router.handle(
        carol, f'/dispute open {number} "charged twice on card {CARD}, my aadhaar {AADHAAR}"'
    )
    assert opened.ok, opened.text
    ref = opened.text.split()[0]

    for reader in (root, alice, carol):  # an admin too: a public reply is read by everyone
        public = router.handle(reader, f"/ticket show {ref}")
        assert public.ok and not public.ephemeral
        about = {f.label: f.value for f in public.sections[0].fields}["about"]
        assert about == "Priya N."
        assert "Priya Nair" not in _shown(public)
        assert "••••••••••••1111" in public.text and "••••••••3216" in public.text
        assert _gone(_shown(public), CARD, AADHAAR)

    private = router.handle(root, f"/ticket show {ref} --private")
    assert private.ephemeral
    assert {f.label: f.value for f in private.sections[0].fields}["about"] == "Priya Nair"
    assert _gone(_shown(private), CARD, AADHAAR)  # the original is not kept, for anyone

    assert _gone(_stored(world), CARD, AADHAAR)
    assert _gone(_audit(world), CARD, AADHAAR)


def test_a_line_ticket_shows_its_number_and_name_masked_in_the_channel(world: Database) -> None:
    router, access = lab_router(world)
    carol, alice = access.user("carol"), access.user("alice")
    opened = router.handle(
        carol, f'/ticket open 9876543210 "No data; PAN {PAN}, app password: {SECRET}"'
    )
    assert opened.ok, opened.text
    assert opened.text == "T-1 opened: No data; PAN ••••••234F, app password: ********"
    note = router.handle(carol, f'/ticket note T-1 "she also gave card {CARD}"')
    assert note.ok

    shown = router.handle(alice, "/ticket show T-1")
    fields = {f.label: f.value for f in shown.sections[0].fields}
    assert fields["about"] == "91••••••3210, Priya N."
    assert [row[2] for row in shown.tables[0].rows] == [
        "created: No data; PAN ••••••234F, app password: ********",
        "note: she also gave card ••••••••••••1111",
    ]
    assert _gone(_shown(shown), "919876543210", "Priya Nair", PAN, SECRET, CARD)
    listed = router.handle(alice, "/ticket list")
    assert _gone(_shown(listed), PAN, SECRET)

    assert _gone(_stored(world), PAN, SECRET, CARD)
    audit = _audit(world)
    assert _gone(audit, PAN, SECRET, CARD)
    assert "/ticket open 9876543210" in audit  # the line care work was about stays


def test_customer_shared_to_the_channel_is_masked_for_every_reader(world: Database) -> None:
    router, access = lab_router(world)
    root = access.user("root")
    shared = router.handle(root, "/customer 9876543210 --share")
    assert not shared.ephemeral
    assert shared.text == "Priya N."
    fields = {f.label: f.value for f in shared.sections[0].fields}
    assert fields["address"] == "Mumbai" and fields["aadhaar"] == "••••••••0123"
    assert fields["accounts"].startswith("BA•••••0001: balance")
    assert shared.tables[0].rows[0][0] == "91••••••3210"
    assert shared.buttons == ()  # a button would carry the account number
    assert _gone(_shown(shared), "Priya Nair", "BA100000001", "919876543210", "Powai")

    private = router.handle(root, "/customer 9876543210")
    assert private.ephemeral and private.text == "Priya Nair"
    assert {f.label: f.value for f in private.sections[0].fields}["address"] == "1, Powai"


def test_order_and_fraud_notes_are_masked_when_stored(world: Database) -> None:
    router, access = lab_router(world)
    carol, erin = access.user("carol"), access.user("erin")
    ordered = router.handle(
        carol, f'/order new BA100000001 POST-399 note="pay by card {CARD} pw: x" '
    )
    with world.transaction() as s:
        s.add(
            FraudCase(
                subscription_id=1,
                score=0.93,
                reasons=["calls to premium numbers"],
                model_version="test",
                opened_at=NOW,
            )
        )
    dismissed = router.handle(erin, f'/fraud dismiss F-1 note="customer said aadhaar {AADHAAR}"')
    assert dismissed.ok, dismissed.text
    assert ordered.ok, ordered.text
    stored = _stored(world)
    assert "••••••••3216" in stored
    assert "••••••••••••1111" in stored
    assert _gone(stored, CARD, AADHAAR)
    assert _gone(_audit(world), CARD, AADHAAR)


def test_an_alert_from_monitoring_is_masked_before_it_is_stored(world: Database) -> None:
    event = AlertEvent(
        fingerprint="fp-privacy",
        name="LinkDown",
        firing=True,
        severity=PerceivedSeverity.CRITICAL,
        summary=f"link down; customer aadhaar {AADHAAR}",
        description=f"ops token={SECRET}, card {CARD}",
        labels={"device": "r1-mum", "contact": "priya@example.in"},
    )
    result = file_alerts(world, [event], now=NOW, sla_hours={1: 4, 2: 8, 3: 24, 4: 72})
    assert result.tickets  # critical and service-affecting: a ticket too
    stored = _stored(world)
    assert _gone(stored, AADHAAR, SECRET, CARD, "priya@example.in")
    assert "p•••@example.in" in stored


@st.composite
def identifier(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["aadhaar", "card", "pan", "secret"]))
    digits = st.text("0123456789", min_size=1, max_size=1)
    if kind == "aadhaar":
        body = draw(st.sampled_from("23456789")) + "".join(
            draw(st.lists(digits, min_size=10, max_size=10))
        )
        n = body + verhoeff_digit(body)
        return draw(st.sampled_from(["", " ", "-"])).join((n[:4], n[4:8], n[8:]))
    if kind == "card":
        size = draw(st.integers(13, 19))
        body = "4" + "".join(draw(st.lists(digits, min_size=size - 2, max_size=size - 2)))
        return body + next(d for d in "0123456789" if luhn_ok(body + d))
    if kind == "pan":
        return draw(st.from_regex(r"[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]", fullmatch=True))
    name = draw(st.sampled_from(["password", "secret", "token"]))
    return (
        name
        + draw(st.sampled_from(["=", ": "]))
        + draw(st.from_regex(r"[a-z]{4,8}[0-9]{3,6}", fullmatch=True))
    )


WORDS = st.lists(st.from_regex(r"[a-z]{3,8}", fullmatch=True), min_size=1, max_size=4).map(" ".join)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(before=WORDS, typed=identifier(), after=WORDS)
def test_no_identifier_typed_into_a_ticket_survives_storage_display_or_audit(
    world: Database, before: str, typed: str, after: str
) -> None:
    """Ticket titles and notes, order notes (new, approve, reject, cancel) and a change's
    text (refused: it would go to the device as typed)."""
    router, access = lab_router(world)
    alice, carol, dave = access.user("alice"), access.user("carol"), access.user("dave")
    with world.transaction() as s:
        pending = []
        for _ in range(3):
            order = create_order(s, customer_id=1, offering_id=1, requested_by="carol")
            move_order(s, order.ref, OrderState.PENDING, now=NOW)
            pending.append(order.ref)
    opened = router.handle(alice, f'/ticket open r1-mum "{before} {typed} {after}"')
    assert opened.ok, opened.text
    ref = opened.text.split()[0]
    noted = router.handle(alice, f'/ticket note {ref} "{after} {typed}"')
    assert noted.ok, noted.text
    shown = router.handle(alice, f"/ticket show {ref}")
    text = f"{before} {typed} {after}"
    replies = [opened, shown]
    ordered = router.handle(carol, f'/order new BA100000001 POST-399 note="{text}"')
    assert ordered.ok, ordered.text
    replies.append(ordered)
    for who, verb, ref in zip(
        (dave, dave, carol), ("approve", "reject", "cancel"), pending, strict=True
    ):
        decided = router.handle(who, f'/order {verb} {ref} note="{text}"')
        assert decided.ok, decided.text
        replies += [decided, router.handle(dave, f"/order show {ref}")]
    planned = router.handle(alice, f'/config plan banner r1-mum text="{text}"')
    assert not planned.ok and planned.text.startswith("text= carries "), planned.text
    replies.append(planned)
    value = typed.split("=")[-1].split(": ")[-1]
    for shown_or_kept in (*map(_shown, replies), _stored(world), _audit(world)):
        assert _gone(shown_or_kept, value)
