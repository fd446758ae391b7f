"""Domain services on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from domain.changes.choices import ChangeState
from domain.changes.services import approve_change, move_change
from domain.customers.choices import SubscriptionState
from domain.customers.services import move_subscription, subscription_by_msisdn
from domain.db import Database
from domain.errors import Conflict, DomainError, InvalidTransition, NotFound, PolicyViolation
from domain.faults.choices import (
    AckState,
    AlarmSource,
    AlarmState,
    PerceivedSeverity,
    TicketEventKind,
    TicketStatus,
)
from domain.faults.services import (
    acknowledge_alarm,
    add_note,
    assign_ticket,
    clear_alarm,
    get_ticket,
    move_ticket,
    open_ticket,
    raise_alarm,
)
from domain.fraud.choices import CaseState, FraudKind, LabelSource
from domain.fraud.services import decide_case
from domain.orders.choices import OrderState
from domain.orders.services import create_order, decide_order, get_order, move_order
from domain.schema import (
    ChangeRequest,
    FraudCase,
    FraudLabel,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SLA = {1: 4.0, 2: 8.0, 3: 24.0, 4: 72.0}


# -- tickets ------------------------------------------------------------------------------


def test_ticket_lifecycle_with_history_and_sla(world: Database) -> None:
    with world.transaction() as s:
        t = open_ticket(
            s,
            title="  Link   down at Andheri ",
            severity=2,
            reporter="alice",
            sla_hours=SLA,
            device_id=1,
            now=NOW,
        )
        ref = t.ref
        assert t.title == "Link down at Andheri"
        assert t.sla_due_at == NOW + timedelta(hours=8)
    with world.transaction() as s:
        assign_ticket(s, ref, "bob", actor="alice", now=NOW)
        move_ticket(s, ref, TicketStatus.IN_PROGRESS, actor="bob", now=NOW)
        add_note(s, ref, "optics replaced", actor="bob", now=NOW)
        move_ticket(
            s,
            ref,
            TicketStatus.RESOLVED,
            actor="bob",
            note="SFP swapped",
            now=NOW + timedelta(hours=9),
        )
    with world.read() as s:
        t = get_ticket(s, ref)
        assert t.status == TicketStatus.RESOLVED
        assert t.resolution == "SFP swapped"
        assert t.breached(NOW + timedelta(hours=10))  # resolved after 9 h on an 8 h SLA
        assert [e.kind for e in t.history] == [
            TicketEventKind.CREATED,
            TicketEventKind.ASSIGNED,
            TicketEventKind.STATUS,
            TicketEventKind.NOTE,
            TicketEventKind.STATUS,
        ]
    with world.transaction() as s:
        move_ticket(s, ref, TicketStatus.CLOSED, actor="alice")
    with pytest.raises(InvalidTransition) as exc, world.transaction() as s:
        move_ticket(s, ref, TicketStatus.IN_PROGRESS, actor="alice")
    assert str(exc.value) == f"ticket {ref} is closed; it cannot move to inProgress"


def test_resolving_needs_a_resolution_and_bad_input_is_refused(world: Database) -> None:
    with world.transaction() as s:
        ref = open_ticket(s, title="No data", severity=3, reporter="carol", sla_hours=SLA).ref
    with pytest.raises(DomainError, match="say how"), world.transaction() as s:
        move_ticket(s, ref, TicketStatus.RESOLVED, actor="bob")
    with pytest.raises(DomainError, match="severity 7 is not 1-4"), world.transaction() as s:
        open_ticket(s, title="x", severity=7, reporter="bob", sla_hours=SLA)
    with pytest.raises(DomainError, match="needs a title"), world.transaction() as s:
        open_ticket(s, title="   ", severity=3, reporter="bob", sla_hours=SLA)
    with pytest.raises(NotFound, match="no ticket T-999"), world.read() as s:
        get_ticket(s, "T-999")
    with pytest.raises(NotFound, match="not a ticket reference"), world.read() as s:
        get_ticket(s, "DROP TABLE tickets")


def test_a_failed_transaction_leaves_nothing_behind(world: Database) -> None:
    with pytest.raises(DomainError), world.transaction() as s:
        open_ticket(s, title="first", severity=3, reporter="bob", sla_hours=SLA)
        open_ticket(s, title="second", severity=9, reporter="bob", sla_hours=SLA)
    with world.read() as s:
        assert s.execute(sa.text("SELECT COUNT(*) FROM tickets")).scalar_one() == 0
        assert s.execute(sa.text("SELECT COUNT(*) FROM ticket_events")).scalar_one() == 0


# -- alarms -------------------------------------------------------------------------------


def test_alarm_is_one_per_fingerprint_and_clears_and_returns(world: Database) -> None:
    args = dict(
        fingerprint="a1b2c3d4e5f60718",
        source=AlarmSource.ALERTMANAGER,
        alarm_type="LinkDown",
        severity=PerceivedSeverity.MAJOR,
        summary="LinkDown on r1-mum",
        device_id=1,
    )
    with world.transaction() as s:
        first, new = raise_alarm(s, **args, now=NOW)  # type: ignore[arg-type]
        assert new and first.state == AlarmState.RAISED
    with world.transaction() as s:
        again, new = raise_alarm(s, **args, now=NOW + timedelta(minutes=5))  # type: ignore[arg-type]
        assert not new and again.id == first.id
        assert again.state == AlarmState.UPDATED and again.repeat_count == 2
    with world.transaction() as s:
        acknowledge_alarm(s, first.ref, "alice")
    with (
        pytest.raises(DomainError, match="already acknowledged by alice"),
        world.transaction() as s,
    ):
        acknowledge_alarm(s, first.ref, "bob")
    with world.transaction() as s:
        cleared = clear_alarm(s, "a1b2c3d4e5f60718", now=NOW + timedelta(hours=1))
        assert cleared is not None and cleared.state == AlarmState.CLEARED
    with world.transaction() as s:
        back, new = raise_alarm(s, **args, now=NOW + timedelta(hours=2))  # type: ignore[arg-type]
        assert new and back.id == first.id and back.state == AlarmState.RAISED
        assert back.ack_state == AckState.UNACKNOWLEDGED and back.cleared_at is None
    with world.read() as s:
        assert s.execute(sa.text("SELECT COUNT(*) FROM alarms")).scalar_one() == 1
    with world.transaction() as s:
        assert clear_alarm(s, "ffffffffffffffff") is None


# -- orders -------------------------------------------------------------------------------


def _pending_order(db: Database, requester: str = "carol") -> str:
    with db.transaction() as s:
        order = create_order(s, customer_id=1, offering_id=1, requested_by=requester)
        ref = order.ref
        move_order(s, ref, OrderState.PENDING)
    return ref


def test_order_needs_a_second_person_and_is_decided_once(world: Database) -> None:
    ref = _pending_order(world)
    with pytest.raises(PolicyViolation, match="carol requested"), world.transaction() as s:
        decide_order(s, ref, "carol", approve=True)
    with world.transaction() as s:
        decide_order(s, ref, "dave", approve=True, now=NOW)
    with pytest.raises(PolicyViolation, match="already decided by dave"), world.transaction() as s:
        decide_order(s, ref, "root", approve=False)
    with world.read() as s:
        order = get_order(s, ref)
        assert (order.state, order.decided_by) == (OrderState.IN_PROGRESS, "dave")
    with world.transaction() as s:
        move_order(s, ref, OrderState.COMPLETED, now=NOW)
    with world.read() as s:
        assert get_order(s, ref).completed_at == NOW


def test_a_double_click_from_two_places_decides_once(world: Database) -> None:
    """Two approvals racing on one pending order: exactly one takes effect.

    On PostgreSQL both read the pending order before either writes; on SQLite the
    writer lock makes the second wait, so the barrier times out and it reads the result.
    """
    ref = _pending_order(world)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click(who: str) -> None:
        try:
            with world.transaction() as s:
                order = get_order(s, ref)
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=2)
                decide_order(s, order.ref, who, approve=True)
            outcomes.append("ok")
        except (Conflict, PolicyViolation, InvalidTransition) as exc:
            outcomes.append(type(exc).__name__)
        except sa.exc.OperationalError:
            outcomes.append("locked")

    threads = [threading.Thread(target=click, args=(who,)) for who in ("dave", "root")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcomes.count("ok") == 1, outcomes
    with world.read() as s:
        assert get_order(s, ref).state == OrderState.IN_PROGRESS


# -- changes, subscriptions, fraud ----------------------------------------------------------


def test_core_change_needs_another_engineer(world: Database) -> None:
    with world.transaction() as s:
        cr = ChangeRequest(
            template="ntp", targets="role:core", requested_by="alice", needs_second_approval=True
        )
        s.add(cr)
        s.flush()
        ref = cr.ref
    with (
        pytest.raises(PolicyViolation, match="an engineer other than alice must apply it"),
        world.transaction() as s,
    ):
        approve_change(s, ref, "alice")
    with world.transaction() as s:
        approve_change(s, ref, "bob")
        move_change(s, ref, ChangeState.RUNNING)
        move_change(s, ref, ChangeState.SUCCEEDED)
    with pytest.raises(InvalidTransition, match="cannot move to running"), world.transaction() as s:
        move_change(s, ref, ChangeState.RUNNING)


def test_subscription_found_by_any_spelling_of_its_number(world: Database) -> None:
    with world.transaction() as s:
        for text in ("919876543210", "+91 98765 43210", "09876543210", "9876543210"):
            assert subscription_by_msisdn(s, text).id == 1
        sub = subscription_by_msisdn(s, "9876543210")
        move_subscription(s, sub, SubscriptionState.SUSPENDED)
    with pytest.raises(NotFound, match="not a mobile number"), world.read() as s:
        subscription_by_msisdn(s, "98765'; --")
    with pytest.raises(InvalidTransition), world.transaction() as s:
        sub = subscription_by_msisdn(s, "9876543210")
        move_subscription(s, sub, SubscriptionState.PENDING_ACTIVE)


def test_analyst_decision_becomes_a_training_label(world: Database) -> None:
    with world.transaction() as s:
        case = FraudCase(
            subscription_id=1,
            score=0.93,
            kind=FraudKind.SIM_BOX,
            reasons=["212 calls a day from one cell"],
            model_version="t1",
        )
        s.add(case)
        s.flush()
        ref = case.ref
    with world.transaction() as s:
        decide_case(s, ref, "erin", confirmed=True, note="gateway found")
    with world.read() as s:
        (label,) = s.scalars(sa.select(FraudLabel)).all()
        assert (label.is_fraud, label.kind, label.source) == (
            True,
            FraudKind.SIM_BOX,
            LabelSource.ANALYST,
        )
        assert s.get(FraudCase, 1).state == CaseState.CONFIRMED  # type: ignore[union-attr]
    with pytest.raises(InvalidTransition, match="is confirmed"), world.transaction() as s:
        decide_case(s, ref, "erin", confirmed=False)


def test_only_one_open_case_per_subscription(world: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError), world.transaction() as s:
        s.add(FraudCase(subscription_id=1, score=0.9, model_version="t1"))
        s.add(FraudCase(subscription_id=1, score=0.8, model_version="t1"))
