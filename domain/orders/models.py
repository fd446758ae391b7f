"""Order entities: ProductOrder (TMF622)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, UtcDateTime, enum_column, make_ref, utcnow
from domain.orders.choices import OrderAction, OrderState


class ProductOrder(Base):
    """A customer's request to add, change or end a product; approval drives provisioning."""

    __tablename__ = "product_orders"
    ref_prefix = "O"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[OrderAction] = mapped_column(enum_column(OrderAction))
    state: Mapped[OrderState] = mapped_column(
        enum_column(OrderState), default=OrderState.ACKNOWLEDGED, index=True
    )
    # A state move is compare-and-set on the state itself, so two people acting on
    # the same record at once cannot both succeed.
    __mapper_args__ = {"version_id_col": state, "version_id_generator": False}
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    offering_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_offerings.id"))
    subscription_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subscriptions.id"))
    #: Where a fixed product is delivered.
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"))
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"))
    port: Mapped[str | None] = mapped_column(sa.String(64))
    one_off_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    monthly_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    change_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("change_requests.id"))
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: Why the order was asked for (the requester's words; a suspension's reason).
    note: Mapped[str | None] = mapped_column(sa.Text)
    #: What the approval policy said: approved by itself, or why a manager must decide.
    policy_note: Mapped[str | None] = mapped_column(sa.Text)
    #: The customer VLAN of a fixed line's access port.
    vlan: Mapped[int | None]
    #: The caller's idempotency key (POST /orders): one key, one order.
    external_id: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    #: Set once, when fulfilment is claimed: provisioning never runs twice.
    fulfilment_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The order's message in the orders channel, and whether it is behind the order.
    slack_channel: Mapped[str | None] = mapped_column(sa.String(32))
    slack_ts: Mapped[str | None] = mapped_column(sa.String(32))
    channel_due: Mapped[bool | None] = mapped_column(default=False, server_default=sa.false())
    #: The requester has not yet been told how the order ended.
    requester_due: Mapped[bool | None] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def ref(self) -> str:
        return make_ref(self.ref_prefix, self.id)
