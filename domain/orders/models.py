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
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def ref(self) -> str:
        return make_ref(self.ref_prefix, self.id)
