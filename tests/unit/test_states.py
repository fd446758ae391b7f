"""Lifecycles refuse invalid moves with a sentence a chat user can read."""

from __future__ import annotations

import itertools
from enum import StrEnum

import pytest

from domain.billing.choices import INVOICE_LIFECYCLE
from domain.changes.choices import CHANGE_LIFECYCLE
from domain.customers.choices import SUBSCRIPTION_LIFECYCLE
from domain.errors import InvalidTransition
from domain.faults.choices import TICKET_LIFECYCLE, TicketStatus
from domain.fraud.choices import CASE_LIFECYCLE
from domain.orders.choices import ORDER_LIFECYCLE, OrderState
from domain.states import Lifecycle


def test_closed_ticket_cannot_move_back_to_in_progress() -> None:
    with pytest.raises(InvalidTransition) as exc:
        TICKET_LIFECYCLE.check("T-12", TicketStatus.CLOSED, TicketStatus.IN_PROGRESS)
    assert str(exc.value) == "ticket T-12 is closed; it cannot move to inProgress"
    assert exc.value.hint == "closed is final; nothing follows it"


def test_refusal_lists_where_the_entity_can_go() -> None:
    with pytest.raises(InvalidTransition) as exc:
        ORDER_LIFECYCLE.check("O-1042", OrderState.PENDING, OrderState.COMPLETED)
    assert str(exc.value) == "order O-1042 is pending; it cannot move to completed"
    assert exc.value.hint == "from pending it can move to inProgress, rejected, cancelled, held"


def test_same_state_says_already() -> None:
    with pytest.raises(InvalidTransition, match="order O-1 is already cancelled"):
        ORDER_LIFECYCLE.check("O-1", OrderState.CANCELLED, OrderState.CANCELLED)


def test_tmf622_happy_path_is_allowed() -> None:
    path = [
        OrderState.ACKNOWLEDGED,
        OrderState.PENDING,
        OrderState.IN_PROGRESS,
        OrderState.COMPLETED,
    ]
    for a, b in itertools.pairwise(path):
        ORDER_LIFECYCLE.check("O-1", a, b)


@pytest.mark.parametrize(
    "lifecycle",
    [
        TICKET_LIFECYCLE,
        ORDER_LIFECYCLE,
        CHANGE_LIFECYCLE,
        SUBSCRIPTION_LIFECYCLE,
        INVOICE_LIFECYCLE,
        CASE_LIFECYCLE,
    ],
    ids=lambda lc: lc.noun,
)
def test_every_state_of_the_enum_is_listed(lifecycle: Lifecycle) -> None:  # type: ignore[type-arg]
    enum = type(next(iter(lifecycle.moves)))
    assert set(lifecycle.moves) == set(enum)


def test_a_state_left_out_of_a_lifecycle_is_refused_at_definition() -> None:
    class Light(StrEnum):
        RED = "red"
        GREEN = "green"

    with pytest.raises(ValueError, match="does not list"):
        Lifecycle("light", {Light.RED: [Light.GREEN]})
