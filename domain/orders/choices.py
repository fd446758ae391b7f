"""Order choices (TMF622 product ordering)."""

from __future__ import annotations

from enum import StrEnum

from domain.states import Lifecycle


class OrderAction(StrEnum):
    ADD = "add"
    MODIFY = "modify"
    SUSPEND = "suspend"
    RESUME = "resume"
    TERMINATE = "terminate"


class OrderState(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    PENDING = "pending"  # awaiting approval
    IN_PROGRESS = "inProgress"  # provisioning
    COMPLETED = "completed"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    HELD = "held"


ORDER_LIFECYCLE = Lifecycle(
    "order",
    {
        OrderState.ACKNOWLEDGED: [
            OrderState.PENDING,
            OrderState.IN_PROGRESS,
            OrderState.REJECTED,
            OrderState.CANCELLED,
        ],
        OrderState.PENDING: [
            OrderState.IN_PROGRESS,
            OrderState.REJECTED,
            OrderState.CANCELLED,
            OrderState.HELD,
        ],
        OrderState.HELD: [OrderState.PENDING, OrderState.CANCELLED],
        OrderState.IN_PROGRESS: [OrderState.COMPLETED, OrderState.FAILED, OrderState.HELD],
        OrderState.COMPLETED: [],
        OrderState.FAILED: [],
        OrderState.REJECTED: [],
        OrderState.CANCELLED: [],
    },
)

#: States before provisioning starts: the order may still be cancelled.
CANCELLABLE_ORDER_STATES = (OrderState.ACKNOWLEDGED, OrderState.PENDING, OrderState.HELD)
#: Orders still in progress (what /customer lists as open work).
OPEN_ORDER_STATES = (*CANCELLABLE_ORDER_STATES, OrderState.IN_PROGRESS)
