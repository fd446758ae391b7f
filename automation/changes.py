"""The change workflow: plan, approve, apply (canary, then batches), verify, roll back.

plan      read each device's running config and merge the intended lines into it with
          hier_config: the diff, the lines to send and the lines that undo them. A device
          ends the plan as `pending` (to change), `unchanged` (the read shows it already
          as intended), `unreachable` or `failed`. A plan with an unread device is a
          failed plan and cannot be applied; one with nothing to change is `unchanged`.
apply     check policy (windows, freezes, a second engineer for core devices), lock the
          devices, push to a canary first and then in batches with Nornir's threaded
          runner. Each device is read again at apply: the lines sent and the lines that
          undo them are computed then, and kept with a backup of what it ran. After the
          push a read must show every intended line (verified); otherwise the device is
          put back as it was at apply (rolled back).
rollback  a change like any other: planned from the lines that undo what the change
          pushed, merged into each device's running config now, so it takes away only
          what its change added and puts back only what its change removed. If that would
          undo a later change's lines it is refused, naming the change (an admin may force
          it). It is then applied with /config apply, under the same windows, freezes and
          second approval.

Each device's work is a plain function run by Nornir; it never raises (every failure
becomes the device's outcome in words), results are recorded as devices finish, so a
progress message can follow along and a crash leaves a readable trail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    new_backup,
    running_lock,
)
from domain.changes.services import unlock_devices as release
from domain.config import AutomationSettings
from domain.db import Database, make_ref, parse_ref, utcnow
from domain.errors import Conflict, DomainError, PolicyViolation
from domain.inventory.models import Device
from domain.inventory.queries import interface_names
from domain.privacy import Kind, refuse_identifiers
from domain.secrets import is_secret_name, mask_config

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: Outcomes that mean a device did not end as the change meant.
TROUBLE = (
    TargetState.FAILED,
    TargetState.UNREACHABLE,
    TargetState.ROLLED_BACK,
    TargetState.INTERRUPTED,
)

#: What the text a person types into a change (a banner, a description, a location) may
#: not carry. It cannot be masked on the way in, as free text elsewhere is: it goes to the
#: device as typed. It is refused instead, so it is neither stored nor shown.
NOT_IN_CONFIG = frozenset({Kind.AADHAAR, Kind.PAN, Kind.CARD, Kind.MOBILE, Kind.SECRET})


def refuse_personal_data(params: dict[str, Any]) -> None:
    """DomainError when a change's text carries an identity, card or mobile number or a
    secret; a secret's own parameter (an SNMP community) is one, and is masked as one."""
    for name, value in params.items():
        if not is_secret_name(name):
            refuse_identifiers(
                f"{name}=",
                str(value),
                NOT_IN_CONFIG,
                why="a device's configuration is read by everyone who reads the device, "
                "and its diff is shown in the changes channel",
            )


#: Seconds between logins to a device that dropped the session after a commit.
RELOGIN_EVERY_S = 2.0
#: A device in one of these may hold lines the change pushed.
TOUCHED = (TargetState.VERIFIED, TargetState.PUSHED, TargetState.INTERRUPTED)


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
    #: "plan" for a plan's report, "apply" for an apply's.
    stage: str = "apply"
    #: After an apply: some device may hold lines it pushed (so a rollback has work).
    holds_lines: bool = False

    def count(self, state: TargetState) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def counts(self) -> str:
        """'2 changed and verified, 1 unreachable', every state with its count."""
        parts = [f"{self.count(s)} {s.label}" for s in TargetState if self.count(s)]
        return ", ".join(parts) or "no device"

    @property
    def summary(self) -> str:
        verb = self.state.label
        if self.stage == "plan":
            verb = {
                ChangeState.PLANNED: "planned",
                ChangeState.FAILED: "plan failed",
                ChangeState.UNCHANGED: "unchanged, nothing to apply",
            }.get(self.state, verb)
        return f"{self.ref} {verb}: {self.counts}"

    @property
    def detailed(self) -> str:
        """The summary and, for each device that did not take the change, what happened."""
        said: dict[str, list[str]] = {}  # the same words once, with every device they fit
        for o in self.outcomes:
            if o.state in (*TROUBLE, TargetState.SKIPPED) and o.detail:
                said.setdefault(o.detail, []).append(o.hostname)
        if not said:
            return self.summary
        trouble = [f"{', '.join(hosts)}: {detail}" for detail, hosts in said.items()]
        more = f" (and {len(trouble) - 5} more)" if len(trouble) > 5 else ""
        return f"{self.summary}. " + "; ".join(trouble[:5]) + more


@dataclass(frozen=True)
class _Read:
    """One device read for a plan: what it runs and what the change would do to it."""

    state: TargetState
    detail: str
    running: str = ""
    plan: diffing.ConfigPlan | None = None


def _words(exc: BaseException) -> str:
    """An exception's first line, for a device's outcome."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
        refuse_personal_data(params)
        selection = select_targets(self.db, targets)
        devices = selection.devices
        self._check_size(devices)
        # A template only goes to platforms whose dialect it is written in.
        intents.check_platforms(template, {d.hostname: d.platform for d in devices})
        if "interface" in params:
            params = {**params, "interface": self._one_interface(str(params["interface"]), devices)}
        intended = {
            d.hostname: "\n".join(intents.render(template, d.platform, params)) for d in devices
        }
        reads = self._read(devices, intended)
        return self._record_plan(
            template,
            {k: str(v) for k, v in params.items()},
            " ".join(targets),
            devices,
            intended,
            reads,
            requested_by,
            matched=selection.sentence,
        )

    def _one_interface(self, typed: str, devices: Sequence[Device]) -> str:
        """The interface a change names, by its full name (Gi0/0/1 is GigabitEthernet0/0/1),
        which every targeted device must have in the inventory."""
        from netutils.interface import canonical_interface_name

        name = canonical_interface_name(typed)
        with self.db.read() as s:
            held = interface_names(s, [d.id for d in devices])
        for d in devices:
            names = held[d.id]
            if names and name not in names:  # an inventory without ports cannot say
                shown = ", ".join(names[:6]) + (
                    f" and {len(names) - 6} more" if len(names) > 6 else ""
                )
                raise DomainError(
                    f"{d.hostname} has no interface {name}"
                    + (f" (typed {typed})" if name != typed else ""),
                    hint=f"its interfaces: {shown}"
                    if names
                    else f"/inventory interfaces {d.hostname} lists what it has",
                )
        return name

    def _check_size(self, devices: Sequence[Device]) -> None:
        limit = self.policy.max_devices_per_change
        if len(devices) > limit:
            raise PolicyViolation(
                f"{len(devices)} devices is more than a change may touch ({limit})",
                hint="split it, or narrow the targets",
            )

    def _read(self, devices: Sequence[Device], intended: dict[str, str]) -> dict[str, _Read]:
        """Read every device in parallel and plan its lines; never raises."""
        by_host = {d.hostname: d for d in devices}

        def read_one(task: Task) -> Result:
            device = by_host[task.host.name]
            try:
                with self.connector.session(device) as driver:
                    running = driver.running_config()
            except DeviceUnreachable as exc:
                return Result(host=task.host, result=_Read(TargetState.UNREACHABLE, _words(exc)))
            except Exception as exc:  # a driver's surprise is this device's outcome
                log.warning("reading %s failed: %s", device.hostname, mask_config(repr(exc)))
                return Result(
                    host=task.host,
                    result=_Read(TargetState.FAILED, f"could not read it: {_words(exc)}"),
                )
            try:
                plan = diffing.plan(device.platform, running, intended[device.hostname])
            except Exception as exc:
                log.warning("planning %s failed: %s", device.hostname, mask_config(repr(exc)))
                return Result(
                    host=task.host,
                    result=_Read(
                        TargetState.FAILED,
                        f"could not merge the change into its configuration: {_words(exc)}",
                        running,
                    ),
                )
            if plan.empty:
                return Result(
                    host=task.host,
                    result=_Read(TargetState.UNCHANGED, "already as intended", running, plan),
                )
            return Result(host=task.host, result=_Read(TargetState.PENDING, "", running, plan))

        results = nornir_for(devices, self.credentials, self.policy.workers).run(
            task=read_one, name="read"
        )
        out = {}
        for d in devices:
            r = results[d.hostname]
            out[d.hostname] = (
                _Read(TargetState.FAILED, f"could not read it: {_words(r.exception)}")
                if r.failed
                else r[0].result
            )
        return out

    def _record_plan(
        self,
        template: str,
        params: dict[str, str],
        targets: str,
        devices: Sequence[Device],
        intended: dict[str, str],
        reads: dict[str, _Read],
        requested_by: str,
        *,
        matched: str = "",
        reverts_id: int | None = None,
        forced_by: str | None = None,
    ) -> tuple[ChangeRequest, ChangeReport]:
        """Keep a plan: the change, each device's outcome and lines, and its backups."""
        now = self.clock()
        found = [reads[d.hostname].state for d in devices]
        state = (
            ChangeState.FAILED
            if any(st in (TargetState.FAILED, TargetState.UNREACHABLE) for st in found)
            else ChangeState.PLANNED
            if TargetState.PENDING in found
            else ChangeState.UNCHANGED
        )
        with self.db.transaction() as s:
            change = ChangeRequest(
                template=template,
                params=params,
                targets=targets,
                state=state,
                risk=_risk(devices, self.policy.second_approval_roles),
                needs_second_approval=any(
                    d.role.value in self.policy.second_approval_roles for d in devices
                ),
                requested_by=requested_by,
                created_at=now,
                finished_at=None if state == ChangeState.PLANNED else now,
                reverts_id=reverts_id,
                forced_by=forced_by,
            )
            s.add(change)
            s.flush()
            report = ChangeReport(change.ref, state, matched=matched, stage="plan")
            first = True
            for d in devices:
                read = reads[d.hostname]
                if read.running:
                    s.add(
                        new_backup(
                            d.id, read.running, f"before {change.ref} was planned", now, change.id
                        )
                    )
                pending = read.state == TargetState.PENDING
                plan = read.plan
                s.add(
                    ChangeTarget(
                        change_id=change.id,
                        device_id=d.id,
                        state=read.state,
                        canary=first and pending,
                        diff=mask_config(plan.diff) if plan and pending else "",
                        intended=intended[d.hostname],
                        rollback="\n".join(plan.rollback) if plan else "",
                        error=read.detail
                        if not pending and read.state != TargetState.UNCHANGED
                        else None,
                    )
                )
                first = first and not pending
                detail = mask_config(plan.diff if plan and pending else read.detail)
                report.outcomes.append(DeviceOutcome(d.hostname, read.state, detail))
            change.summary = report.detailed
        return change, report

    # -- apply ------------------------------------------------------------------------------

    def check_window(self, at: datetime) -> None:
        """Refuse inside a freeze (its days are the operator's local days), or outside
        every change window (a window that ends before it starts runs past midnight,
        into the next day)."""
        for freeze in self.policy.freezes:
            day = at.astimezone(ZoneInfo(freeze.timezone)).date()
            if freeze.start <= day <= freeze.end:
                raise PolicyViolation(
                    f"changes are frozen until {freeze.end} ({freeze.reason})",
                    hint=f"changes run again from {freeze.end + timedelta(days=1)}; "
                    "the freeze is set in automation.freezes",
                )
        windows = self.policy.change_windows
        if not windows:
            return
        for w in windows:
            local = at.astimezone(ZoneInfo(w.timezone))
            today = local.strftime("%a").lower()
            yesterday = (local - timedelta(days=1)).strftime("%a").lower()
            now = local.time().replace(tzinfo=None)
            if w.start <= w.end:
                if today in w.days and w.start <= now <= w.end:
                    return
            elif (today in w.days and now >= w.start) or (yesterday in w.days and now <= w.end):
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
            change = approve_change(
                s, ref, actor, now=now, second_approval_roles=self.policy.second_approval_roles
            )
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
            change_id, ref, reverts_id = change.id, change.ref, change.reverts_id
            forced_by = change.forced_by
            params, template = dict(change.params), change.template
            planned_on = {
                b.device_id: b.config
                for b in s.scalars(
                    sa.select(ConfigBackup)
                    .where(ConfigBackup.change_id == change.id)
                    .order_by(ConfigBackup.id)
                )
            }
            keep: dict[int, list[tuple[str, str]]] = {}
            if reverts_id is not None and change.forced_by is None:
                keep = _later_changes(
                    s, s.get_one(ChangeRequest, reverts_id), [d.id for _, d in pending]
                )
            work = [
                _Work(
                    t.id,
                    d,
                    t.canary,
                    t.intended or "\n".join(intents.render(template, d.platform, params)),
                    planned_on.get(d.id),
                    tuple(keep.get(d.id, [])),
                )
                for t, d in pending
            ]
            s.flush()  # the approval, the locks and RUNNING, before the rows are let go
            s.expunge_all()
        report = ChangeReport(ref, ChangeState.RUNNING)
        canary_failed = False
        finished = False
        try:
            canary = [w for w in work if w.canary] if self.policy.canary else []
            rest = [w for w in work if w not in canary]
            if canary:
                note(f"{ref}: canary {canary[0].device.hostname}")
                self._push(ref, canary, report, note, len(work))
                canary_failed = report.outcomes[-1].state in TROUBLE
                if canary_failed:
                    why = f"not pushed: the canary {canary[0].device.hostname} did not take it"
                    for w in rest:
                        self._record(w.target_id, TargetState.SKIPPED, why)
                        report.outcomes.append(
                            DeviceOutcome(w.device.hostname, TargetState.SKIPPED, why)
                        )
                    rest = []
            size = self.policy.batch_size
            for i in range(0, len(rest), size):
                self._push(ref, rest[i : i + size], report, note, len(work))
            finished = True
        finally:
            report.state = self._final_state(report, finished, canary_failed)
            with self.db.transaction() as s:
                move_change(s, ref, report.state, now=self.clock())
                get_change(s, ref).summary = report.detailed
                release(s, change_id)
                report.holds_lines = any(
                    _holds_lines(t)
                    for t in s.scalars(
                        sa.select(ChangeTarget).where(ChangeTarget.change_id == change_id)
                    )
                )
                if reverts_id is not None:
                    self._mark_reverted(s, reverts_id, report)
                    if params.get("over") and report.count(TargetState.VERIFIED):
                        for other in str(params["over"]).split(", "):
                            overridden = get_change(s, other)
                            overridden.summary += (
                                f"; partly undone by {ref}, a rollback forced by {forced_by}"
                            )
        note(report.summary)
        return report

    @staticmethod
    def _final_state(report: ChangeReport, finished: bool, canary_failed: bool) -> ChangeState:
        states = {o.state for o in report.outcomes}
        if canary_failed:
            # Only a canary that took lines and gave them back makes a rolled-back change.
            return (
                ChangeState.ROLLED_BACK
                if states & {TargetState.ROLLED_BACK} and TargetState.VERIFIED not in states
                else ChangeState.FAILED
            )
        if not finished or states & {*TROUBLE, TargetState.SKIPPED}:
            return ChangeState.FAILED
        if TargetState.VERIFIED in states:
            return ChangeState.SUCCEEDED
        return ChangeState.UNCHANGED  # every device already as intended: nothing was done

    def _mark_reverted(self, s: Any, reverts_id: int, report: ChangeReport) -> None:
        """A rollback's devices that now hold none of the other change's lines."""
        undone = {o.hostname for o in report.outcomes if o.state == TargetState.VERIFIED}
        rows = s.execute(
            sa.select(ChangeTarget, Device.hostname)
            .join(Device, Device.id == ChangeTarget.device_id)
            .where(ChangeTarget.change_id == reverts_id)
        ).all()
        left = 0
        for target, hostname in rows:
            if _holds_lines(target):
                if hostname in undone:
                    target.state = TargetState.ROLLED_BACK
                    target.finished_at = self.clock()
                else:
                    left += 1
        original = s.get_one(ChangeRequest, reverts_id)
        if not left and original.state != ChangeState.ROLLED_BACK:
            move_change(s, original.ref, ChangeState.ROLLED_BACK, now=self.clock())
            original.summary = f"{original.ref} rolled back by {report.ref}"

    def _push(
        self,
        ref: str,
        batch: list[_Work],
        report: ChangeReport,
        note: Progress,
        total: int,
    ) -> None:
        by_host = {w.device.hostname: w for w in batch}

        def push_one(task: Task) -> Result:
            work = by_host[task.host.name]
            self._record(work.target_id, TargetState.PUSHED, None, started=True)
            try:
                outcome = self._push_one(ref, work)
            except Exception as exc:  # never a traceback: the device's outcome, in words
                log.warning(
                    "%s on %s failed: %s", ref, work.device.hostname, mask_config(repr(exc))
                )
                outcome = (TargetState.FAILED, f"stopped: {_words(exc)}; check the device")
            return Result(host=task.host, result=outcome)

        results = nornir_for([w.device for w in batch], self.credentials, self.policy.workers).run(
            task=push_one, name="apply"
        )
        for host, work in by_host.items():
            r = results[host]
            state, detail = (
                (TargetState.FAILED, f"stopped: {_words(r.exception)}") if r.failed else r[0].result
            )
            detail = mask_config(detail)  # a device quoting a refused line may quote a secret
            self._record(work.target_id, state, detail if state in TROUBLE else None)
            report.outcomes.append(DeviceOutcome(host, state, detail))
            note(
                f"{report.ref}: {len(report.outcomes)}/{total} devices done ({host} {state.label})"
            )

    def _push_one(self, ref: str, work: _Work) -> tuple[TargetState, str]:
        """Read, push, read back; put the device back as it was when anything goes wrong."""
        device = work.device
        target = drivers.target_of(device)
        try:
            driver = self.connector(target)
        except DeviceUnreachable as exc:
            return TargetState.UNREACHABLE, _words(exc)
        before: str | None = None
        try:
            before = driver.running_config()
            planned = diffing.plan(device.platform, before, work.intended)
            if planned.empty:
                return TargetState.UNCHANGED, "already as intended (read at apply)"
            drift = self._drift(ref, work, before, planned)
            if drift:
                return TargetState.SKIPPED, drift
            self._record_push(work, before, planned, ref)
            driver.load_candidate(work.intended.splitlines())
            try:
                driver.commit()
                missing = diffing.missing_lines(
                    device.platform, driver.running_config(), work.intended
                )
                if not missing:
                    driver.confirm()
                    return TargetState.VERIFIED, "changed and verified"
                why = f"post-check: {len(missing)} intended line(s) missing ({missing[0].strip()})"
            except ConfigRejected as exc:
                why = _words(exc)
            except DeviceUnreachable:
                raise
            except Exception as exc:  # the read-back could not be understood: not verified
                log.warning(
                    "%s: post-check on %s failed: %s", ref, device.hostname, mask_config(repr(exc))
                )
                why = f"post-check could not read the change back ({_words(exc)})"
            try:
                self._restore(driver, device, before)
            except DeviceUnreachable:
                raise
            except Exception as exc:
                failed_too = f"the roll back failed too ({_words(exc)}), check the device"
                return TargetState.FAILED, f"{why}; {failed_too}"
            return TargetState.ROLLED_BACK, f"{why}; rolled back"
        except DeviceUnreachable as exc:
            if before is None:
                return TargetState.UNREACHABLE, f"{_words(exc)} (before any line was sent)"
            # The session died mid-change: log in again and put it back as it was (on a
            # device with a commit timer, it may have put itself back by then).
            return self._restore_again(target, device, exc, before, driver.confirm_within_s)
        finally:
            driver.close()

    @staticmethod
    def _drift(ref: str, work: _Work, before: str, planned: diffing.ConfigPlan) -> str:
        """Why the lines to send now are not the ones approved ("" when they are): the
        device changed since the plan, or a rollback would now undo a later change."""
        platform = work.device.platform
        if work.planned_on is not None:
            # Both ways: the lines to send, and what they would replace on the device.
            approved = diffing.plan(platform, work.planned_on, work.intended)
            if (approved.remediation, approved.rollback) != (planned.remediation, planned.rollback):
                was = [*approved.remediation, *approved.rollback]
                now = [*planned.remediation, *planned.rollback]
                seen = next((ln for ln in now if ln not in was), None) or next(
                    (ln for ln in was if ln not in now), ""
                )
                return (
                    f"not pushed: {work.device.hostname} changed since {ref} was planned, "
                    f"so the lines to send are not the ones approved ({seen.strip()}); "
                    "plan it again"
                )
        for other, lines in work.keep:
            undone = diffing.undone_by(platform, before, work.intended, lines)
            if undone:
                return (
                    f"not pushed: it would now undo {other} ({undone[0].strip()}); "
                    f"roll back {other} first, or plan this rollback again"
                )
        return ""

    def _record_push(self, work: _Work, before: str, planned: diffing.ConfigPlan, ref: str) -> None:
        """Before a line is sent: what the device ran, the lines to send and to undo."""
        with self.db.transaction() as s:
            s.add(new_backup(work.device.id, before, f"before {ref} was applied", self.clock()))
            target = s.get_one(ChangeTarget, work.target_id)
            target.pushed = "\n".join(planned.remediation)
            target.rollback = "\n".join(planned.rollback)

    def _restore_again(
        self,
        target: Target,
        device: Device,
        lost: DeviceUnreachable,
        before: str,
        reverts_within_s: float | None = None,
    ) -> tuple[TargetState, str]:
        """After a dropped session: a new one restores the device, or says it could not.

        A device whose commit reverts by itself unless confirmed (EOS session timer,
        Junos and IOS-XR commit confirmed) may stay out of reach until it has: it is
        tried again until its timer (and half a minute) has run out, and read."""
        deadline = time.monotonic() + (reverts_within_s + 30 if reverts_within_s else 0)
        while True:
            try:
                again = self.connector(target)
                break
            except DeviceUnreachable as exc:
                if time.monotonic() >= deadline:
                    waited = " after its commit timer ran out" if reverts_within_s else ""
                    return (
                        TargetState.FAILED,
                        f"{lost}; could not log in again{waited} to roll back ({exc})",
                    )
                time.sleep(min(RELOGIN_EVERY_S, max(0.0, deadline - time.monotonic())))
        try:
            left = diffing.restore(device.platform, again.running_config(), before)
            if not left:
                return TargetState.ROLLED_BACK, (
                    f"{lost}; the device reverted the change itself (commit timer)"
                    if reverts_within_s
                    else f"{lost}; logged in again: nothing of the change was left"
                )
            self._restore(again, device, before)
        except (DeviceUnreachable, ConfigRejected) as exc:
            return TargetState.FAILED, f"{lost}; the roll back failed too ({exc}), check the device"
        finally:
            again.close()
        return TargetState.ROLLED_BACK, f"{lost}; logged in again and rolled back"

    def _restore(self, driver: Driver, device: Device, before: str) -> None:
        """Put a device back as it ran before this push: the lines that undo the push."""
        lines = diffing.restore(device.platform, driver.running_config(), before)
        send = getattr(driver, "send_lines", None)
        if lines and send is not None:
            send(lines)
        elif lines:
            driver.rollback()

    def _record(
        self, target_id: int, state: TargetState | None, error: str | None, started: bool = False
    ) -> None:
        with self.db.transaction() as s:
            target = s.get_one(ChangeTarget, target_id)
            if started:
                target.started_at = self.clock()
                return
            if state is not None:
                target.state = state
            target.error = error
            target.finished_at = self.clock()

    # -- rollback ----------------------------------------------------------------------------

    def plan_rollback(
        self, ref: str, actor: str, *, force: bool = False, may_force: bool = False
    ) -> tuple[ChangeRequest, ChangeReport]:
        """Plan the change that undoes `ref` on every device it left changed.

        Each device's undo lines (kept when `ref` was applied) are merged into what it
        runs now. Refused when that would take away a later change's lines, naming it;
        `force` (for those who `may_force`) plans it anyway and records who forced it.
        """
        with self.db.read() as s:
            original = get_change(s, ref)
            if original.state not in (
                ChangeState.SUCCEEDED,
                ChangeState.FAILED,
                ChangeState.INTERRUPTED,
            ):
                raise PolicyViolation(
                    f"{original.ref} is {original.state.label}; only a change that ran "
                    "and left devices changed can be rolled back",
                    hint=f"/config show {original.ref}",
                )
            open_rollback = s.scalar(
                sa.select(ChangeRequest)
                .where(
                    ChangeRequest.reverts_id == original.id,
                    ChangeRequest.state.in_(
                        [ChangeState.PLANNED, ChangeState.APPROVED, ChangeState.RUNNING]
                    ),
                )
                .limit(1)
            )
            if open_rollback is not None:
                raise Conflict(
                    f"{open_rollback.ref} already rolls back {original.ref}",
                    hint=f"/config apply {open_rollback.ref} "
                    f"(or /config cancel {open_rollback.ref})",
                )
            rows = [
                (t, d)
                for t, d in s.execute(
                    sa.select(ChangeTarget, Device)
                    .join(Device, Device.id == ChangeTarget.device_id)
                    .where(ChangeTarget.change_id == original.id)
                    .order_by(ChangeTarget.id)
                ).all()
                if _holds_lines(t)
            ]
            if not rows:
                raise PolicyViolation(
                    f"{original.ref} left no device changed; there is nothing to roll back",
                    hint=f"/config show {original.ref}",
                )
            devices = [d for _, d in rows]
            self._check_size(devices)
            undo = {d.hostname: t.rollback or self._undo_lines(s, original, t, d) for t, d in rows}
            later = _later_changes(s, original, [d.id for d in devices])
            original_ref, original_id = original.ref, original.id
            s.expunge_all()
        reads = self._read(devices, undo)
        conflicts = [
            (other_ref, d.hostname, undone[0].strip())
            for d in devices
            if reads[d.hostname].running
            for other_ref, other_lines in later.get(d.id, [])
            if (
                undone := diffing.undone_by(
                    d.platform, reads[d.hostname].running, undo[d.hostname], other_lines
                )
            )
        ]
        if conflicts and not (force and may_force):
            other, host, line = conflicts[0]
            more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
            if force:
                raise PolicyViolation(
                    "only an admin may force a rollback over a later change",
                    hint=f"roll back {other} first: /config rollback {other}",
                )
            raise PolicyViolation(
                f"rolling back {original_ref} would undo {other} on {host} ({line}){more}",
                hint=f"roll back {other} first (/config rollback {other}); "
                f"an admin may force it: /config rollback {original_ref} force",
            )
        forced = ", ".join(sorted({c[0] for c in conflicts}))
        return self._record_plan(
            "rollback",
            {"of": original_ref, **({"over": forced} if conflicts else {})},
            " ".join(d.hostname for d in devices),
            devices,
            undo,
            reads,
            actor,
            matched=f"rolls back {original_ref} on {len(devices)} device"
            + ("" if len(devices) == 1 else "s")
            + (f"; forced over {forced}" if conflicts else ""),
            reverts_id=original_id,
            forced_by=actor if conflicts else None,
        )

    @staticmethod
    def _undo_lines(s: Any, original: ChangeRequest, target: ChangeTarget, device: Device) -> str:
        """For a change kept before undo lines were: recompute them from its plan backup."""
        backup = s.scalar(
            sa.select(ConfigBackup.config)
            .where(ConfigBackup.change_id == original.id, ConfigBackup.device_id == device.id)
            .order_by(ConfigBackup.id)
            .limit(1)
        )
        intended = target.intended or "\n".join(
            intents.render(original.template, device.platform, dict(original.params))
        )
        if backup is None:
            raise PolicyViolation(
                f"{original.ref} kept no backup of {device.hostname}; it cannot be undone safely",
                hint=f"/config history {device.hostname}",
            )
        return "\n".join(diffing.plan(device.platform, backup, intended).rollback)

    def undo(self, ref: str, actor: str, progress: Progress | None = None) -> ChangeReport:
        """Plan the rollback of `ref` and apply it at once (provisioning cleaning up after
        itself): the same change, with the same policy, as a person's rollback."""
        change, report = self.plan_rollback(ref, actor)
        if change.state != ChangeState.PLANNED:
            return report
        return self.apply(change.ref, actor, progress)


@dataclass(frozen=True)
class _Work:
    """One device to push in an apply: its target row, the device and its lines, what it
    ran when the change was planned, and (for a rollback) the later changes' lines it
    must not take away."""

    target_id: int
    device: Device
    canary: bool
    intended: str
    planned_on: str | None = None
    keep: tuple[tuple[str, str], ...] = ()


def _holds_lines(target: ChangeTarget) -> bool:
    """A device of a change that may hold lines it pushed."""
    return target.state in TOUCHED or (target.state == TargetState.FAILED and bool(target.pushed))


def _later_changes(
    s: Any, original: ChangeRequest, device_ids: list[int]
) -> dict[int, list[tuple[str, str]]]:
    """Changes applied on these devices after `original`, with the lines each wanted,
    by device: a rollback must not take those away."""
    if original.started_at is None:
        return {}
    rows = s.execute(
        sa.select(ChangeTarget, ChangeRequest, Device)
        .join(ChangeRequest, ChangeRequest.id == ChangeTarget.change_id)
        .join(Device, Device.id == ChangeTarget.device_id)
        .where(
            ChangeTarget.device_id.in_(device_ids),
            ChangeTarget.change_id != original.id,
            # At or after: two changes applied within one clock tick are both "later"
            # (an earlier one's lines are never taken away by this undo anyway).
            ChangeRequest.started_at >= original.started_at,
            ChangeRequest.state != ChangeState.ROLLED_BACK,
            # A rollback only puts back what was there before the change it undid.
            ChangeRequest.reverts_id.is_(None),
            ChangeTarget.state.in_(list(TOUCHED)),
        )
        .order_by(ChangeRequest.started_at)
    ).all()
    out: dict[int, list[tuple[str, str]]] = {}
    for target, change, device in rows:
        lines = target.intended or "\n".join(
            intents.render(change.template, device.platform, dict(change.params))
        )
        out.setdefault(device.id, []).append((change.ref, lines))
    return out
