"""The change workflow: plan, approve, apply (canary, then batches), verify, roll back.

plan     render the template per device, back up and diff against the running config
         (devices with nothing to change are skipped), and record a ChangeRequest.
apply    check policy (windows, freezes, size, a second engineer for core devices), lock
         the devices in the database, push to a canary first and then in batches with
         Nornir's threaded runner, verify each device, roll back any device that fails,
         and the whole change when the canary fails.
rollback undo a change on every device it touched.

Each device's work is a plain function run by Nornir; results are recorded as devices
finish, so a progress message can follow along and a crash leaves a readable trail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from nornir.core.task import Result, Task

from automation import diffing, drivers, intents
from automation.drivers.base import ConfigRejected, DeviceUnreachable, Driver, Target
from automation.inventory import nornir_for, select_targets
from domain.changes.choices import ChangeState, Risk, TargetState
from domain.changes.models import ChangeRequest, ChangeTarget, ConfigBackup
from domain.changes.services import (
    approve_change,
    get_change,
    lock_devices,
    move_change,
    running_lock,
)
from domain.changes.services import unlock_devices as release
from domain.config import AutomationSettings
from domain.db import Database, make_ref, parse_ref, utcnow
from domain.errors import Conflict, DomainError, PolicyViolation
from domain.inventory.choices import Platform
from domain.inventory.models import Device

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DeviceOutcome:
    hostname: str
    state: TargetState
    detail: str = ""


@dataclass
class ChangeReport:
    """What happened, device by device, in words an engineer reads in chat."""

    ref: str
    state: ChangeState
    outcomes: list[DeviceOutcome] = field(default_factory=list)
    #: For a plan: how many devices the targets matched, "3 devices matched role:core".
    matched: str = ""

    def count(self, state: TargetState) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def summary(self) -> str:
        parts = [
            f"{self.count(s)} {s.value.replace('_', ' ')}" for s in TargetState if self.count(s)
        ]
        return f"{self.ref} {self.state.value.replace('_', ' ')}: {', '.join(parts) or 'nothing'}"

    @property
    def detailed(self) -> str:
        """The summary and, for each device that did not take the change, what happened."""
        trouble = [
            f"{o.hostname}: {o.detail}"
            for o in self.outcomes
            if o.state in (TargetState.FAILED, TargetState.ROLLED_BACK) and o.detail
        ]
        if not trouble:
            return self.summary
        more = f" (and {len(trouble) - 5} more)" if len(trouble) > 5 else ""
        return f"{self.summary}. " + "; ".join(trouble[:5]) + more


def _risk(devices: Sequence[Device], core_roles: Collection[str]) -> Risk:
    if any(d.role.value in core_roles for d in devices) or len(devices) > 20:
        return Risk.HIGH
    return Risk.MEDIUM if len(devices) > 5 else Risk.LOW


class ChangeWorkflow:
    def __init__(
        self,
        db: Database,
        automation: AutomationSettings,
        connector: drivers.DeviceConnector,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`connector` opens devices (bootstrap builds it; tests give it an in-memory
        opener with `DeviceConnector.from_settings(..., opener=...)`)."""
        self.db = db
        self.policy = automation
        self.connector = connector
        self.credentials = connector.credentials
        self.clock = clock

    # -- plan -----------------------------------------------------------------------------

    def plan(
        self, template: str, targets: Sequence[str], params: dict[str, Any], requested_by: str
    ) -> tuple[ChangeRequest, ChangeReport]:
        intents.validate(template, params)  # a bad value is refused before any device
        selection = select_targets(self.db, targets)
        devices = selection.devices
        limit = self.policy.max_devices_per_change
        if len(devices) > limit:
            raise PolicyViolation(
                f"{len(devices)} devices is more than a change may touch ({limit})",
                hint="split it, or narrow the targets",
            )
        lines = {d.hostname: intents.render(template, d.platform, params) for d in devices}

        def plan_one(task: Task) -> Result:
            target = Target(
                task.host.name,
                Platform(task.host.platform),
                str(task.host.hostname),
                int(task.host.port or 22),
            )
            driver = self.connector(target)
            try:
                running = driver.running_config()
                driver.load_candidate(lines[task.host.name])
                staged = getattr(driver, "staged", None)
                rollback = "\n".join(staged.rollback) if staged else ""
                return Result(
                    host=task.host,
                    result={"running": running, "diff": driver.diff(), "rollback": rollback},
                )
            finally:
                driver.close()

        results = nornir_for(devices, self.credentials, self.policy.workers).run(
            task=plan_one, name="plan"
        )
        now = self.clock()
        with self.db.transaction() as s:
            change = ChangeRequest(
                template=template,
                params={k: str(v) for k, v in params.items()},
                targets=" ".join(targets),
                state=ChangeState.PLANNED,
                risk=_risk(devices, self.policy.second_approval_roles),
                needs_second_approval=any(
                    d.role.value in self.policy.second_approval_roles for d in devices
                ),
                requested_by=requested_by,
                created_at=now,
            )
            s.add(change)
            s.flush()
            report = ChangeReport(change.ref, ChangeState.PLANNED, matched=selection.sentence)
            first = True
            for d in devices:
                r = results[d.hostname]
                if r.failed:
                    error = _error_text(r.exception or r.result)
                    s.add(
                        ChangeTarget(
                            change_id=change.id,
                            device_id=d.id,
                            state=TargetState.FAILED,
                            error=f"could not plan: {error}",
                        )
                    )
                    report.outcomes.append(DeviceOutcome(d.hostname, TargetState.FAILED, error))
                    continue
                data = r[0].result
                s.add(
                    ConfigBackup(
                        device_id=d.id,
                        change_id=change.id,
                        taken_at=now,
                        reason=f"before {change.ref}",
                        config=data["running"],
                        sha256=hashlib.sha256(data["running"].encode()).hexdigest(),
                    )
                )
                state = TargetState.PENDING if data["diff"] else TargetState.SKIPPED
                s.add(
                    ChangeTarget(
                        change_id=change.id,
                        device_id=d.id,
                        state=state,
                        canary=first and state == TargetState.PENDING,
                        diff=data["diff"],
                        rollback=data["rollback"],
                    )
                )
                first = first and state != TargetState.PENDING
                report.outcomes.append(
                    DeviceOutcome(d.hostname, state, data["diff"] or "already as intended")
                )
            change.summary = report.summary
        return change, report

    # -- apply ------------------------------------------------------------------------------

    def check_window(self, at: datetime) -> None:
        """Refuse outside every change window, or inside a freeze."""
        for freeze in self.policy.freezes:
            if freeze.start <= at.date() <= freeze.end:
                raise PolicyViolation(
                    f"changes are frozen until {freeze.end} ({freeze.reason})",
                    hint="ask a manager about an emergency change",
                )
        windows = self.policy.change_windows
        if not windows:
            return
        for w in windows:
            local = at.astimezone(ZoneInfo(w.timezone))
            day = local.strftime("%a").lower()
            if day in w.days and w.start <= local.time() <= w.end:
                return
        spans = "; ".join(
            f"{','.join(w.days)} {w.start:%H:%M}-{w.end:%H:%M} {w.timezone}" for w in windows
        )
        raise PolicyViolation("this is outside the change windows", hint=f"windows: {spans}")

    def apply(self, ref: str, actor: str, progress: Progress | None = None) -> ChangeReport:
        # While it runs, the change's named lock is held by this process: a replica that
        # starts meanwhile sees a live change, not one a crash cut off.
        change_id = parse_ref(ChangeRequest.ref_prefix, ref, "change")
        with self.db.hold(running_lock(change_id)) as held:
            if not held:
                shown = make_ref(ChangeRequest.ref_prefix, change_id)
                raise Conflict(
                    f"{shown} is being applied elsewhere right now",
                    hint=f"/config show {shown} to follow it",
                )
            return self._apply(ref, actor, progress)

    def _apply(self, ref: str, actor: str, progress: Progress | None = None) -> ChangeReport:
        note = progress or (lambda _t: None)
        now = self.clock()
        self.check_window(now)
        with self.db.transaction() as s:
            change = approve_change(s, ref, actor, now=now)
            pending = s.execute(
                sa.select(ChangeTarget, Device)
                .join(Device, Device.id == ChangeTarget.device_id)
                .where(
                    ChangeTarget.change_id == change.id, ChangeTarget.state == TargetState.PENDING
                )
                .order_by(ChangeTarget.canary.desc(), ChangeTarget.id)
            ).all()
            lock_devices(
                s, change, [d.id for _, d in pending], {d.id: d.hostname for _, d in pending}, now
            )
            move_change(s, change.ref, ChangeState.RUNNING, now=now)
            change_id, ref = change.id, change.ref
            params, template = dict(change.params), change.template
            work = [(t.id, d, t.canary) for t, d in pending]
            backups = {
                b.device_id: b.config
                for b in s.scalars(
                    sa.select(ConfigBackup).where(ConfigBackup.change_id == change_id)
                )
            }
            s.expunge_all()
        report = ChangeReport(ref, ChangeState.RUNNING)
        canary_failed = False
        finished = False
        try:
            canary = [w for w in work if w[2]] if self.policy.canary else []
            rest = [w for w in work if w not in canary]
            if canary:
                note(f"{ref}: canary {canary[0][1].hostname}")
                self._push(template, params, canary, backups, report, note, len(work))
                canary_failed = report.outcomes[-1].state != TargetState.VERIFIED
                if canary_failed:
                    why = "not pushed: the canary failed"
                    for target_id, device, _ in rest:
                        self._record(target_id, TargetState.SKIPPED, why)
                        report.outcomes.append(
                            DeviceOutcome(device.hostname, TargetState.SKIPPED, why)
                        )
                    rest = []
            size = self.policy.batch_size
            for i in range(0, len(rest), size):
                self._push(template, params, rest[i : i + size], backups, report, note, len(work))
            finished = True
        finally:
            failed = not finished or any(
                o.state in (TargetState.FAILED, TargetState.ROLLED_BACK) for o in report.outcomes
            )
            final = (
                ChangeState.ROLLED_BACK
                if canary_failed
                else ChangeState.FAILED
                if failed
                else ChangeState.SUCCEEDED
            )
            with self.db.transaction() as s:
                move_change(s, ref, final, now=self.clock())
                get_change(s, ref).summary = ChangeReport(ref, final, report.outcomes).detailed
                release(s, change_id)
            report.state = final
        note(report.summary)
        return report

    def _push(
        self,
        template: str,
        params: dict[str, Any],
        batch: list[tuple[int, Device, bool]],
        backups: dict[int, str],
        report: ChangeReport,
        note: Progress,
        total: int,
    ) -> None:
        by_host = {d.hostname: (tid, d) for tid, d, _ in batch}

        def push_one(task: Task) -> Result:
            target_id, device = by_host[task.host.name]
            self._record(target_id, None, None, started=True)
            intended = intents.render(template, device.platform, params)
            target = drivers.target_of(device)
            try:
                driver = self.connector(target)
            except DeviceUnreachable as exc:
                return Result(host=task.host, result=(TargetState.FAILED, str(exc)))
            try:
                driver.load_candidate(intended)
                try:
                    driver.commit()
                    missing = diffing.missing_lines(
                        device.platform, driver.running_config(), "\n".join(intended)
                    )
                    if not missing:
                        driver.confirm()
                        return Result(host=task.host, result=(TargetState.VERIFIED, "verified"))
                    why = f"post-check: {len(missing)} intended line(s) missing ({missing[0]})"
                except ConfigRejected as exc:
                    why = str(exc)
                self._restore(driver, device, backups.get(device.id))
                return Result(
                    host=task.host, result=(TargetState.ROLLED_BACK, f"{why}; rolled back")
                )
            except DeviceUnreachable as exc:
                # The session died mid-change: log in again and put the backup back.
                return Result(
                    host=task.host, result=self._restore_again(target, device, exc, backups)
                )
            finally:
                driver.close()

        results = nornir_for([d for _, d, _ in batch], self.credentials, self.policy.workers).run(
            task=push_one, name="apply"
        )
        for host, (target_id, device) in by_host.items():
            r = results[host]
            state, detail = (
                (TargetState.FAILED, _error_text(r.exception)) if r.failed else r[0].result
            )
            self._record(target_id, state, detail if state != TargetState.VERIFIED else None)
            report.outcomes.append(DeviceOutcome(device.hostname, state, detail))
            note(
                f"{report.ref}: {len(report.outcomes)}/{total} devices done "
                f"({device.hostname} {state.value.replace('_', ' ')})"
            )

    def _restore_again(
        self, target: Any, device: Device, lost: DeviceUnreachable, backups: dict[int, str]
    ) -> tuple[TargetState, str]:
        """After a dropped session: a new one restores the backup, or says it could not."""
        try:
            again = self.connector(target)
        except DeviceUnreachable as exc:
            return TargetState.FAILED, f"{lost}; could not log in again to roll back ({exc})"
        try:
            self._restore(again, device, backups.get(device.id))
        except (DeviceUnreachable, ConfigRejected) as exc:
            return TargetState.FAILED, f"{lost}; the roll back failed too ({exc}), check the device"
        finally:
            again.close()
        return TargetState.ROLLED_BACK, f"{lost}; logged in again and rolled back"

    def _restore(self, driver: Driver, device: Device, backup: str | None) -> None:
        """Put a device back as its backup was: the lines that undo whatever got applied."""
        if backup is None:
            driver.rollback()
            return
        lines = diffing.restore(device.platform, driver.running_config(), backup)
        send = getattr(driver, "send_lines", None)
        if lines and send is not None:
            send(lines)
        elif lines:
            driver.rollback()

    def _record(
        self, target_id: int, state: TargetState | None, error: str | None, started: bool = False
    ) -> None:
        with self.db.transaction() as s:
            target = s.get(ChangeTarget, target_id)
            assert target is not None
            if started:
                target.started_at = self.clock()
                return
            if state is not None:
                target.state = state
            target.error = error
            target.finished_at = self.clock()

    # -- rollback and recovery -----------------------------------------------------------------

    def rollback(self, ref: str, actor: str, progress: Progress | None = None) -> ChangeReport:
        """Undo a finished change on every device it left changed."""
        note = progress or (lambda _t: None)
        with self.db.transaction() as s:
            change = get_change(s, ref)
            if change.state not in (
                ChangeState.SUCCEEDED,
                ChangeState.FAILED,
                ChangeState.INTERRUPTED,
            ):
                raise DomainError(
                    f"change {change.ref} is {change.state}; only a finished "
                    "change can be rolled back"
                )
            rows = s.execute(
                sa.select(ChangeTarget, Device)
                .join(Device, Device.id == ChangeTarget.device_id)
                .where(
                    ChangeTarget.change_id == change.id,
                    ChangeTarget.state.in_(
                        [TargetState.VERIFIED, TargetState.PUSHED, TargetState.INTERRUPTED]
                    ),
                )
            ).all()
            lock_devices(s, change, [d.id for _, d in rows], {d.id: d.hostname for _, d in rows})
            backups = {
                b.device_id: b.config
                for b in s.scalars(
                    sa.select(ConfigBackup).where(ConfigBackup.change_id == change.id)
                )
            }
            work = [(t.id, d) for t, d in rows]
            change_id, ref = change.id, change.ref
            s.expunge_all()
        report = ChangeReport(ref, ChangeState.ROLLED_BACK)
        try:
            for target_id, device in work:
                target = drivers.target_of(device)
                try:
                    driver = self.connector(target)
                    try:
                        self._restore(driver, device, backups.get(device.id))
                    finally:
                        driver.close()
                    state, detail = TargetState.ROLLED_BACK, "restored from the backup"
                except DomainError as exc:
                    state, detail = TargetState.FAILED, f"could not roll back: {exc}"
                self._record(target_id, state, None if state == TargetState.ROLLED_BACK else detail)
                report.outcomes.append(DeviceOutcome(device.hostname, state, detail))
                note(f"{ref}: rolled back {len(report.outcomes)}/{len(work)}")
        finally:
            with self.db.transaction() as s:
                change = get_change(s, ref)
                if all(o.state == TargetState.ROLLED_BACK for o in report.outcomes):
                    move_change(s, ref, ChangeState.ROLLED_BACK, now=self.clock())
                else:
                    report.state = change.state
                change.summary = report.summary
                release(s, change_id)
        return report


def _error_text(error: Any) -> str:
    text = str(error).strip() if error is not None else "failed"
    return text.splitlines()[0] if text else type(error).__name__
