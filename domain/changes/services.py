"""Change services: the ChangeRequest lifecycle and its approval rule."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.approvals import same_person
from domain.changes.choices import CHANGE_LIFECYCLE, ChangeState, TargetState
from domain.changes.models import ChangeRequest, ChangeTarget, ConfigBackup, DeviceLock
from domain.db import Database, get_by_ref, make_ref, utcnow
from domain.errors import PolicyViolation
from domain.inventory.models import Device


def get_change(session: Session, ref: str) -> ChangeRequest:
    return get_by_ref(session, ChangeRequest, ref, "change")


def approve_change(
    session: Session,
    ref: str,
    approver: str,
    now: datetime | None = None,
    second_approval_roles: Collection[str] = (),
) -> ChangeRequest:
    """Approve a planned change; one touching devices of `second_approval_roles` needs
    an engineer other than the one who planned it."""
    now = now or utcnow()
    change = get_change(session, ref)
    if change.state in (ChangeState.FAILED, ChangeState.UNCHANGED) and change.started_at is None:
        why = (
            "every device was already as intended when it was planned"
            if change.state == ChangeState.UNCHANGED
            else f"its plan failed ({change.summary.partition(': ')[2] or 'see the plan'})"
        )
        raise PolicyViolation(
            f"{change.ref} cannot be applied: {why}",
            hint=f"/config show {change.ref}, then plan it again",
        )
    if change.state != ChangeState.PLANNED:
        ran = change.started_at is not None
        raise PolicyViolation(
            f"{change.ref} is {change.state.label}; only a planned change can be applied",
            hint=f"/config rollback {change.ref} plans its undo"
            if ran and change.state in (ChangeState.SUCCEEDED, ChangeState.FAILED)
            else f"/config show {change.ref}",
        )
    if same_person(change.requested_by, approver):
        # The rule is the policy now, not when the change was planned.
        held = session.execute(
            sa.select(Device.hostname, Device.role)
            .join(ChangeTarget, ChangeTarget.device_id == Device.id)
            .where(ChangeTarget.change_id == change.id)
            .order_by(Device.hostname)
        ).all()
        named = [(h, r.value) for h, r in held if r.value in second_approval_roles]
        if named or change.needs_second_approval:
            roles = sorted({r for _, r in named})
            hosts = ", ".join(h for h, _ in named[:3]) + (
                f" and {len(named) - 3} more" if len(named) > 3 else ""
            )
            why = (
                f"touches {' and '.join(roles)} devices ({hosts})"
                if named
                else "needs a second engineer"
            )
            raise PolicyViolation(
                f"{change.ref} {why}; an engineer other than {approver} must apply it",
                hint=f"ask a colleague to run /config apply {change.ref}",
            )
    CHANGE_LIFECYCLE.check(change.ref, change.state, ChangeState.APPROVED)
    change.state = ChangeState.APPROVED
    change.approved_by = approver
    change.approved_at = now
    return change


def move_change(
    session: Session, ref: str, to: ChangeState, now: datetime | None = None
) -> ChangeRequest:
    now = now or utcnow()
    change = get_change(session, ref)
    CHANGE_LIFECYCLE.check(change.ref, change.state, to)
    change.state = to
    if to == ChangeState.RUNNING:
        change.started_at = now
    elif CHANGE_LIFECYCLE.is_final(to) or to in (
        ChangeState.SUCCEEDED,
        ChangeState.FAILED,
        ChangeState.INTERRUPTED,
        ChangeState.UNCHANGED,
    ):
        change.finished_at = now
    return change


@dataclass(frozen=True)
class ChangeCancelled:
    change: str
    state: ChangeState
    cancelled_by: str
    at: datetime


def cancel_change(db: Database, ref: str, actor: str, *, now: datetime) -> ChangeCancelled:
    """Cancel a change that has not run, in one transaction."""
    with db.transaction() as s:
        change = get_change(s, ref)
        if change.state not in (ChangeState.PLANNED, ChangeState.APPROVED):
            ran = change.started_at is not None
            raise PolicyViolation(
                f"{change.ref} is {change.state.label}; only a change that has not run "
                "can be cancelled",
                hint=f"/config rollback {change.ref} plans its undo"
                if ran and change.state != ChangeState.ROLLED_BACK
                else f"/config show {change.ref}",
            )
        change = move_change(s, ref, ChangeState.CANCELLED, now=now)
        return ChangeCancelled(change.ref, change.state, actor, now)


def lock_devices(
    session: Session,
    change: ChangeRequest,
    device_ids: list[int],
    hostnames: dict[int, str],
    now: datetime | None = None,
) -> None:
    """Hold every device for the change, or none: refuse if another change holds one."""
    held = session.execute(
        sa.select(DeviceLock.device_id, DeviceLock.change_id).where(
            DeviceLock.device_id.in_(device_ids), DeviceLock.change_id != change.id
        )
    ).first()
    if held is not None:
        raise PolicyViolation(
            f"{hostnames.get(held.device_id, held.device_id)} is being changed by "
            f"{make_ref(ChangeRequest.ref_prefix, held.change_id)}",
            hint="wait for that change to finish, then apply again",
        )
    for device_id in device_ids:
        session.add(DeviceLock(device_id=device_id, change_id=change.id, locked_at=now or utcnow()))
    try:
        session.flush()
    except sa.exc.IntegrityError:  # another replica took one of them a moment ago
        raise PolicyViolation(
            "another change took one of these devices at the same moment",
            hint="look at /config history, then apply again",
        ) from None


def unlock_devices(session: Session, change_id: int) -> None:
    session.execute(sa.delete(DeviceLock).where(DeviceLock.change_id == change_id))


def running_lock(change_id: int) -> str:
    """The named lock a process holds while it applies a change."""
    return f"change-{change_id}"


def new_backup(
    device_id: int,
    config: str,
    reason: str,
    taken_at: datetime,
    change_id: int | None = None,
) -> ConfigBackup:
    """A backup of a device's running configuration, its checksum computed."""
    return ConfigBackup(
        device_id=device_id,
        change_id=change_id,
        taken_at=taken_at,
        reason=reason,
        config=config,
        sha256=hashlib.sha256(config.encode()).hexdigest(),
    )


@dataclass(frozen=True)
class BackupSaved:
    backup: int
    device: str
    taken_at: datetime
    reason: str
    #: How many lines the configuration has, and its checksum.
    lines: int
    sha256: str


def record_backup(
    db: Database, device_id: int, config: str, reason: str, taken_at: datetime
) -> BackupSaved:
    """Keep a device's running configuration as read now (`/config backup`)."""
    with db.transaction() as s:
        saved = new_backup(device_id, config, reason, taken_at)
        s.add(saved)
        s.flush()
        device = s.get_one(Device, device_id)
        return BackupSaved(
            saved.id, device.hostname, taken_at, reason, len(config.splitlines()), saved.sha256
        )


def mark_interrupted(db: Database, now: datetime | None = None) -> list[tuple[str, list[str]]]:
    """At start: changes cut off by a crash become interrupted; returns their devices.

    A change another replica is applying right now (it holds the change's lock) is
    left alone.
    """
    found = []
    with db.read() as s:
        running = s.scalars(
            sa.select(ChangeRequest.id).where(ChangeRequest.state == ChangeState.RUNNING)
        ).all()
    for change_id in running:
        with db.hold(running_lock(change_id)) as orphaned:
            if orphaned:
                found.extend(_interrupt(db, change_id, now))
    return found


def _interrupt(db: Database, change_id: int, now: datetime | None) -> list[tuple[str, list[str]]]:
    found = []
    with db.transaction() as s:
        running = s.scalars(
            sa.select(ChangeRequest).where(
                ChangeRequest.id == change_id, ChangeRequest.state == ChangeState.RUNNING
            )
        ).all()
        for change in running:
            rows = s.execute(
                sa.select(ChangeTarget, Device.hostname)
                .join(Device, Device.id == ChangeTarget.device_id)
                .where(
                    ChangeTarget.change_id == change.id,
                    ChangeTarget.state.in_([TargetState.PENDING, TargetState.PUSHED]),
                    ChangeTarget.started_at.is_not(None),
                )
            ).all()
            for target, _ in rows:
                target.state = TargetState.INTERRUPTED
            move_change(s, change.ref, ChangeState.INTERRUPTED, now=now)
            change.summary = (
                f"{change.ref} interrupted; check "
                f"{', '.join(h for _, h in rows) or 'no device (none had started)'}"
            )
            unlock_devices(s, change.id)
            found.append((change.ref, [h for _, h in rows]))
    return found
