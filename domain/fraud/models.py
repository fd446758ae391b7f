"""Fraud entities: FraudCase (one open per subscription) and FraudLabel (ground truth)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, UtcDateTime, enum_column, make_ref, utcnow
from domain.fraud.choices import CaseState, FraudKind, LabelSource


class FraudCase(Base):
    """A subscription the model flagged, waiting for or carrying an analyst's decision."""

    __tablename__ = "fraud_cases"
    ref_prefix = "F"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscriptions.id"), index=True)
    state: Mapped[CaseState] = mapped_column(enum_column(CaseState), default=CaseState.OPEN)
    # A state move is compare-and-set on the state itself, so two people acting on
    # the same record at once cannot both succeed.
    __mapper_args__ = {"version_id_col": state, "version_id_generator": False}
    score: Mapped[float]
    kind: Mapped[FraudKind | None] = mapped_column(enum_column(FraudKind))
    #: Plain-words reasons, most important first.
    reasons: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    model_version: Mapped[str] = mapped_column(sa.String(40))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        # One open case per subscription.
        sa.Index(
            "uq_fraud_cases_open_subscription",
            "subscription_id",
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        ),
    )

    @property
    def ref(self) -> str:
        return make_ref(self.ref_prefix, self.id)


class FraudLabel(Base):
    """Whether a subscription was fraudulent, and how we know."""

    __tablename__ = "fraud_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscriptions.id"), index=True)
    is_fraud: Mapped[bool]
    kind: Mapped[FraudKind | None] = mapped_column(enum_column(FraudKind))
    source: Mapped[LabelSource] = mapped_column(enum_column(LabelSource))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("fraud_cases.id"))
    #: When the fraud began (for seeded ground truth) or was decided.
    since: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
