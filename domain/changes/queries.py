"""What change views show: a change with its devices, a device's changes and backups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.changes.choices import ChangeState, Risk, TargetState
from domain.changes.models import ChangeRequest, ChangeTarget, ConfigBackup
from domain.changes.services import get_change
from domain.db import make_ref
from domain.errors import DomainError
from domain.inventory.models import Device
from domain.secrets import mask_config, mask_values


@dataclass(frozen=True)
class ChangeTargetRow:
    """One device of a change: its outcome, the diff planned for it, what went wrong."""

    hostname: str
    state: TargetState
    canary: bool
    diff: str
    error: str | None


@dataclass(frozen=True)
class ChangeView:
    """A change and each of its devices, in the order planned; secrets masked (a secret
    value shows as `********`, in the values, the diffs, the errors and the summary)."""

    ref: str
    state: ChangeState
    template: str
    params: dict[str, Any]
    #: The targets as typed (a selector).
    targets: str
    risk: Risk
    needs_second_approval: bool
    requested_by: str
    approved_by: str | None
    summary: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    devices: list[ChangeTargetRow]
    #: For a rollback: the change it undoes; and the admin who forced it over later ones.
    reverts: str | None = None
    forced_by: str | None = None


def change_view(session: Session, ref: str) -> ChangeView:
    """The change `ref` ("CR-7") with its devices."""
    change = get_change(session, ref)
    rows = session.execute(
        sa.select(Device.hostname, ChangeTarget)
        .join(ChangeTarget, ChangeTarget.device_id == Device.id)
        .where(ChangeTarget.change_id == change.id)
        .order_by(ChangeTarget.id)
    ).all()
    return ChangeView(
        ref=change.ref,
        state=change.state,
        template=change.template,
        params=mask_values(change.params),
        targets=change.targets,
        risk=change.risk,
        needs_second_approval=change.needs_second_approval,
        requested_by=change.requested_by,
        approved_by=change.approved_by,
        summary=mask_config(change.summary),
        created_at=change.created_at,
        started_at=change.started_at,
        finished_at=change.finished_at,
        reverts=make_ref(ChangeRequest.ref_prefix, change.reverts_id)
        if change.reverts_id is not None
        else None,
        forced_by=change.forced_by,
        devices=[
            ChangeTargetRow(
                h,
                t.state,
                t.canary,
                mask_config(t.diff),
                mask_config(t.error) if t.error else t.error,
            )
            for h, t in rows
        ],
    )


@dataclass(frozen=True)
class BackupRow:
    id: int
    taken_at: datetime
    reason: str


@dataclass(frozen=True)
class DeviceChange:
    """A change that touched a device, with what it did on that device."""

    ref: str
    template: str
    state: ChangeState
    device_state: TargetState
    requested_by: str
    created_at: datetime


@dataclass(frozen=True)
class DeviceHistory:
    """The changes that touched a device (with its own outcome) and its backups, newest first."""

    device: str
    changes: list[DeviceChange]
    backups: list[BackupRow]
    #: How many there are in all; the lists hold the newest of them.
    changes_total: int = 0
    backups_total: int = 0


def device_history(
    session: Session, device: Device, changes: int = 20, backups: int = 10
) -> DeviceHistory:
    """A device's latest `changes` changes and `backups` backups."""
    touched = session.execute(
        sa.select(ChangeRequest, ChangeTarget.state)
        .join(ChangeTarget, ChangeTarget.change_id == ChangeRequest.id)
        .where(ChangeTarget.device_id == device.id)
        .order_by(ChangeRequest.id.desc())
        .limit(changes)
    ).all()
    kept = session.execute(
        sa.select(ConfigBackup.id, ConfigBackup.taken_at, ConfigBackup.reason)
        .where(ConfigBackup.device_id == device.id)
        .order_by(ConfigBackup.id.desc())
        .limit(backups)
    ).all()
    changes_total = session.scalar(
        sa.select(sa.func.count())
        .select_from(ChangeTarget)
        .where(ChangeTarget.device_id == device.id)
    )
    backups_total = session.scalar(
        sa.select(sa.func.count())
        .select_from(ConfigBackup)
        .where(ConfigBackup.device_id == device.id)
    )
    return DeviceHistory(
        device.hostname,
        [
            DeviceChange(c.ref, c.template, c.state, t, c.requested_by, c.created_at)
            for c, t in touched
        ],
        [BackupRow(i, at, why) for i, at, why in kept],
        changes_total or 0,
        backups_total or 0,
    )


def config_backup(session: Session, device: Device, backup_id: int | None = None) -> ConfigBackup:
    """The device's backup `backup_id`, or its latest; DomainError when there is none."""
    query = sa.select(ConfigBackup).where(ConfigBackup.device_id == device.id)
    query = (
        query.where(ConfigBackup.id == backup_id)
        if backup_id is not None
        else query.order_by(ConfigBackup.id.desc()).limit(1)
    )
    saved = session.scalars(query).first()
    if saved is None:
        raise DomainError(
            f"{device.hostname} has no backup {backup_id}"
            if backup_id is not None
            else f"{device.hostname} has no backup yet",
            hint=f"/config history {device.hostname} lists its backups; "
            f"/config backup {device.hostname} takes one",
        )
    return saved
