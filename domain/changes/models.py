"""Change entities: ChangeRequest, its per-device ChangeTargets, ConfigBackups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.changes.choices import ChangeState, Risk, TargetState
from domain.db import Base, UtcDateTime, enum_column, make_ref, utcnow


class ChangeRequest(Base):
    """A configuration change planned from a template onto one or more devices."""

    __tablename__ = "change_requests"
    ref_prefix = "CR"

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(sa.String(64))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: The targets as typed (hostnames, site:X, role:Y).
    targets: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[ChangeState] = mapped_column(
        enum_column(ChangeState), default=ChangeState.PLANNED, index=True
    )
    # A state move is compare-and-set on the state itself, so two people acting on
    # the same record at once cannot both succeed.
    __mapper_args__ = {"version_id_col": state, "version_id_generator": False}
    risk: Mapped[Risk] = mapped_column(enum_column(Risk), default=Risk.LOW)
    needs_second_approval: Mapped[bool] = mapped_column(default=False)
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    approved_by: Mapped[str | None] = mapped_column(sa.String(64))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: For a rollback: the change it undoes.
    reverts_id: Mapped[int | None] = mapped_column(sa.ForeignKey("change_requests.id"))
    #: An admin who forced a rollback over a later change's lines.
    forced_by: Mapped[str | None] = mapped_column(sa.String(64))

    devices: Mapped[list[ChangeTarget]] = relationship(
        back_populates="change", order_by="ChangeTarget.id"
    )

    @property
    def ref(self) -> str:
        return make_ref(self.ref_prefix, self.id)


class ChangeTarget(Base):
    """One device in a change: its diff, its rollback and what happened."""

    __tablename__ = "change_targets"
    __table_args__ = (sa.UniqueConstraint("change_id", "device_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(sa.ForeignKey("change_requests.id", ondelete="CASCADE"))
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"), index=True)
    state: Mapped[TargetState] = mapped_column(
        enum_column(TargetState), default=TargetState.PENDING
    )
    canary: Mapped[bool] = mapped_column(default=False)
    #: What is shown: the diff of the running config, secrets masked.
    diff: Mapped[str] = mapped_column(sa.Text, default="")
    #: The configuration lines this change wants on the device (rendered from the
    #: template, or for a rollback the lines that undo the other change).
    intended: Mapped[str | None] = mapped_column(sa.Text)
    #: The lines sent to the device at apply (computed then against its running config).
    pushed: Mapped[str | None] = mapped_column(sa.Text)
    #: The lines that undo what was pushed (at plan: what would undo the planned lines).
    rollback: Mapped[str] = mapped_column(sa.Text, default="")
    error: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    change: Mapped[ChangeRequest] = relationship(back_populates="devices")


class ConfigBackup(Base):
    """A device's running configuration as it was at one moment."""

    __tablename__ = "config_backups"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"))
    change_id: Mapped[int | None] = mapped_column(sa.ForeignKey("change_requests.id"))
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(sa.String(120))
    config: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_config_backups_device_taken", "device_id", "taken_at"),)


class DeviceLock(Base):
    """A device held by a running change: no two changes touch one device at once."""

    __tablename__ = "device_locks"

    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"), primary_key=True)
    change_id: Mapped[int] = mapped_column(sa.ForeignKey("change_requests.id"), index=True)
    locked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
