"""Fault entities: Alarm (TMF642), Ticket (TMF621) and the ticket's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.db import Base, UtcDateTime, enum_column, make_ref, utcnow
from domain.faults.choices import (
    AckState,
    AlarmSource,
    AlarmState,
    PerceivedSeverity,
    TicketEventKind,
    TicketKind,
    TicketStatus,
)


class Alarm(Base):
    """One alarm per fingerprint; repeats update it, a resolution clears it."""

    __tablename__ = "alarms"
    ref_prefix = "A"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(128), unique=True)
    source: Mapped[AlarmSource] = mapped_column(enum_column(AlarmSource))
    alarm_type: Mapped[str] = mapped_column(sa.String(120))
    perceived_severity: Mapped[PerceivedSeverity] = mapped_column(enum_column(PerceivedSeverity))
    state: Mapped[AlarmState] = mapped_column(enum_column(AlarmState), default=AlarmState.RAISED)
    ack_state: Mapped[AckState] = mapped_column(
        enum_column(AckState), default=AckState.UNACKNOWLEDGED
    )
    acked_by: Mapped[str | None] = mapped_column(sa.String(64))
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"), index=True)
    summary: Mapped[str] = mapped_column(sa.String(400))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    labels: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    service_affecting: Mapped[bool] = mapped_column(default=False)
    #: The root-cause alarm this one is correlated under (e.g. its device is down).
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alarms.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    repeat_count: Mapped[int] = mapped_column(default=1)
    #: Bumped on every change people should see; the chat message follows it.
    revision: Mapped[int] = mapped_column(default=1, server_default="1")
    #: The revision the alarm's chat message shows (0: not posted yet).
    posted_revision: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Where the alarm's own message is (channel id and ts), once posted.
    slack_channel: Mapped[str | None] = mapped_column(sa.String(32))
    slack_ts: Mapped[str | None] = mapped_column(sa.String(32))
    #: The storm summary this alarm was reported in instead of a message of its own.
    storm_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alarm_storms.id"), index=True)

    __table_args__ = (
        sa.Index("ix_alarms_state_severity", "state", "perceived_severity"),
        sa.Index("ix_alarms_unposted", "posted_revision", "revision"),
    )

    def touch(self) -> None:
        """Mark a change that the alarm's chat message should show."""
        self.revision = (self.revision or 0) + 1

    @property
    def ref(self) -> str:
        return make_ref(self.ref_prefix, self.id)


class AlarmStorm(Base):
    """More new alarms in a minute than people can read: reported as one summary."""

    __tablename__ = "alarm_storms"
    ref_prefix = "S"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: When the last alarm joined; the storm is over a quiet minute after it.
    last_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    slack_channel: Mapped[str | None] = mapped_column(sa.String(32))
    slack_ts: Mapped[str | None] = mapped_column(sa.String(32))
    #: Bumped whenever an alarm joins or one in it changes; the summary in chat shows
    #: `posted_revision`, so a summary still owed survives a restart or a new replica.
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    posted_revision: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def ref(self) -> str:
        return make_ref(self.ref_prefix, self.id)


class Ticket(Base):
    """A trouble ticket; its status follows TMF621's lifecycle."""

    __tablename__ = "tickets"
    ref_prefix = "T"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TicketKind] = mapped_column(enum_column(TicketKind), default=TicketKind.INCIDENT)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    severity: Mapped[int] = mapped_column(sa.SmallInteger)
    status: Mapped[TicketStatus] = mapped_column(
        enum_column(TicketStatus), default=TicketStatus.ACKNOWLEDGED, index=True
    )
    # A state move is compare-and-set on the status itself, so two people acting on
    # the same record at once cannot both succeed.
    __mapper_args__ = {"version_id_col": status, "version_id_generator": False}
    reporter: Mapped[str] = mapped_column(sa.String(64))
    assignee: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subscriptions.id"))
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"))
    sla_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolution: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        sa.CheckConstraint("severity BETWEEN 1 AND 4", name="severity_range"),
        sa.Index("ix_tickets_status_sla", "status", "sla_due_at"),
    )

    history: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id"
    )

    @property
    def ref(self) -> str:
        return make_ref(self.ref_prefix, self.id)

    def breached(self, now: datetime) -> bool:
        """Resolved after its SLA due time, or still open past it."""
        return (self.resolved_at or now) > self.sla_due_at


class TicketEvent(Base):
    """One entry in a ticket's history: creation, note, status move, assignment."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[TicketEventKind] = mapped_column(enum_column(TicketEventKind))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    from_status: Mapped[TicketStatus | None] = mapped_column(enum_column(TicketStatus))
    to_status: Mapped[TicketStatus | None] = mapped_column(enum_column(TicketStatus))

    ticket: Mapped[Ticket] = relationship(back_populates="history")
