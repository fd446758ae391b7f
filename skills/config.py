"""Configuration changes from chat: plan, apply, roll back, and look at backups and history."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field as PydanticField
from pydantic import model_validator

from domain import policy
from domain.changes.choices import ChangeState, Risk, TargetState
from domain.changes.queries import change_view, config_backup, device_history
from domain.changes.services import cancel_change, record_backup
from domain.inventory.models import Device
from domain.inventory.queries import one_device
from domain.secrets import mask_lines
from skills.context import Context
from skills.registry import Args, command, key_values, positional
from skills.reply import Button, Confirm, Field, Reply, Section, Table, showing
from skills.words import last_word_is

if TYPE_CHECKING:
    from automation.changes import ChangeReport
    from domain.changes.models import ChangeRequest

MAX_DIFF_LINES = 12


@dataclass(frozen=True)
class ChangePlanned:
    """What /config plan answers: the plan device by device, and who may approve it."""

    change: str
    template: str
    #: How many devices the selector matched, in words ("3 devices matched role:core").
    matched: str
    risk: Risk
    needs_second_approval: bool
    plan: ChangeReport


@dataclass(frozen=True)
class ConfigDiff:
    """A device's running configuration against one of its backups (unified diff lines)."""

    device: str
    backup: int
    backup_taken_at: datetime
    changed: bool
    lines: list[str]


class PlanArgs(Args):
    template: str = positional(metavar="template")
    targets: list[str] = positional(metavar="target")
    values: dict[str, str] = key_values()


class ChangeRef(Args):
    change: str = positional(metavar="change")


#: The most changes or backups `/config history` lists at once.
HISTORY_CAP = 500


class DeviceArgs(Args):
    """A hostname, address or serial, or a selector (of several words) naming one device."""

    device: list[str] = positional(metavar="device")


class HistoryArgs(DeviceArgs):
    """As DeviceArgs, with how many of the newest changes and backups to list."""

    limit: int = PydanticField(20, ge=1, le=HISTORY_CAP)


class DiffArgs(Args):
    """As DeviceArgs; a last word of digits after the device is the backup id."""

    device: list[str] = positional(metavar="device")
    backup: int | None = positional(None, metavar="backup-id")

    @model_validator(mode="before")
    @classmethod
    def _last_number_is_the_backup(cls, data: Any) -> Any:
        # A negative number is a (bad) backup id too, not a hostname.
        return last_word_is(data, "device", "backup", when=lambda w: w.lstrip("-").isdigit())


def _cut(text: str) -> str:
    """A diff or result for a table cell: its first lines, saying how many more there are."""
    lines = text.splitlines()
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more lines"]
    return "\n".join(lines)


def _outcomes(report: ChangeReport) -> Table:
    rows = tuple((o.hostname, o.state.label, _cut(o.detail)) for o in report.outcomes)
    return Table(("device", "state", "diff or result"), rows)


def _planned(ctx: Context, change: ChangeRequest, report: ChangeReport, what: str) -> Reply:
    """A plan (a change or a rollback) as the engineer reads it: what the selector caught,
    each device's diff or outcome, who may apply it, and Apply only when it can be."""
    pending = report.count(TargetState.PENDING)
    fields = (
        Field("devices", str(len(report.outcomes))),
        Field("to change", str(pending)),
        Field("risk", change.risk.value),
        Field("approval", "another engineer" if change.needs_second_approval else "any engineer"),
    )
    buttons: tuple[Button, ...] = ()
    if change.state == ChangeState.PLANNED:
        buttons = (
            Button(
                "Apply",
                f"/config apply {change.ref}",
                style="primary",
                confirm=Confirm(
                    f"Apply {change.ref}?", f"Push {what} to {pending} device(s).", "Apply"
                ),
            ),
            Button("Cancel", f"/config cancel {change.ref}"),
        )
    # How many devices the selector matched comes first: a selector that caught more (or
    # fewer) devices than meant is seen before the diffs.
    if change.state == ChangeState.FAILED:
        unread = report.count(TargetState.UNREACHABLE) + report.count(TargetState.FAILED)
        outcome = (
            f"{report.summary}. {unread} device(s) could not be read, so it cannot be applied; "
            "plan it again when they answer, or leave them out of the targets"
        )
    elif change.state == ChangeState.UNCHANGED:
        outcome = f"{change.ref}: every device is already as intended; nothing to apply"
    else:
        outcome = f"{change.ref}: {what} on {pending} device(s); {report.counts}"
        if change.needs_second_approval:
            outcome += f". Another engineer applies it: /config apply {change.ref}"
    return Reply(
        text=f"{report.matched}. {outcome}" if report.matched else outcome,
        sections=(Section(fields=fields),),
        tables=(_outcomes(report),),
        buttons=buttons,
        ok=change.state != ChangeState.FAILED,
        meta={"change": change.ref},
        data=ChangePlanned(
            change.ref,
            change.template,
            report.matched,
            change.risk,
            change.needs_second_approval,
            report,
        ),
    )


@command("config plan", args=PlanArgs)
def plan(ctx: Context, args: PlanArgs) -> Reply:
    """Plan a change from a template on devices: /config plan ntp site:MUM-AND1 servers=10.0.0.1."""
    from automation.intents import INTENTS  # Jinja2: only when a change is planned

    if args.template not in INTENTS:
        return Reply.error(
            f"no template {args.template!r}", hint=f"templates: {', '.join(INTENTS)}"
        )
    change, report = ctx.services.changes.plan(
        args.template, args.targets, dict(args.values), requested_by=ctx.actor
    )
    return _planned(ctx, change, report, args.template)


@command("config apply", args=ChangeRef)
def apply(ctx: Context, args: ChangeRef) -> Reply:
    """Apply a planned change: canary first, then batches; failures are rolled back."""
    report = ctx.services.changes.apply(args.change, ctx.actor, progress=ctx.progress)
    buttons: tuple[Button, ...] = ()
    if report.holds_lines:  # only when a device may hold what it pushed
        buttons = (
            Button(
                "Roll back",
                f"/config rollback {report.ref}",
                style="danger",
                confirm=Confirm(
                    f"Plan the roll back of {report.ref}?",
                    "Plans a change that undoes it on every device it changed; "
                    "you see the diff before anything is sent.",
                    "Plan roll back",
                ),
            ),
        )
    return Reply(
        text=report.detailed,
        tables=(_outcomes(report),),
        buttons=buttons,
        ok=report.state == ChangeState.SUCCEEDED,
        data=report,
    )


class RollbackArgs(Args):
    change: str = positional(metavar="change")
    #: `force`: plan it even over a later change's lines (admins only; audited).
    force: Literal["force"] | None = positional(None, metavar="force")


@command("config rollback", args=RollbackArgs)
def rollback(ctx: Context, args: RollbackArgs) -> Reply:
    """Plan the change that undoes a change on every device it changed; apply it as any
    change (/config apply). Refused over a later change's lines unless an admin forces it."""
    change, report = ctx.services.changes.plan_rollback(
        args.change,
        ctx.actor,
        force=args.force is not None,
        may_force=policy.may(ctx.roles, "config rollback --force, over a later change"),
    )
    return _planned(ctx, change, report, f"the roll back of {change.params.get('of', args.change)}")


@command("config cancel", args=ChangeRef)
def cancel(ctx: Context, args: ChangeRef) -> Reply:
    """Cancel a change that has not run."""
    done = cancel_change(ctx.db, args.change, ctx.actor, now=ctx.now())
    return Reply(text=f"{done.change} cancelled by {ctx.actor}", data=done)


@command("config show", args=ChangeRef)
def show(ctx: Context, args: ChangeRef) -> Reply:
    """Show a change: what, where, who, and each device's outcome."""
    with ctx.db.read() as s:
        change = change_view(s, args.change)
    params = " ".join(f"{k}={v}" for k, v in change.params.items())
    fields = (
        Field("state", change.state.label),
        Field("template", change.template),
        Field("values", params or "-"),
        Field("targets", change.targets),
        Field("requested by", change.requested_by),
        Field("approved by", change.approved_by or "-"),
        Field("risk", change.risk),
    )
    if change.reverts:
        fields += (Field("rolls back", change.reverts),)
    if change.forced_by:
        fields += (Field("forced by", f"{change.forced_by}, over a later change's lines"),)
    table = Table(
        ("device", "state", "detail"),
        tuple((t.hostname, t.state.label, _cut(t.error or t.diff or "-")) for t in change.devices),
    )
    return Reply(
        text=change.summary or f"{change.ref} {change.state}",
        sections=(Section(fields=fields),),
        tables=(table,),
        data=change,
    )


def _device(ctx: Context, words: list[str]) -> Device:
    """The one device a hostname, address, serial or selector names, of any status."""
    with ctx.db.read() as s:
        return one_device(s, words)


@command("config history", args=HistoryArgs)
def history(ctx: Context, args: HistoryArgs) -> Reply:
    """The changes that touched a device, newest first, and its backups."""
    device = _device(ctx, args.device)
    with ctx.db.read() as s:
        h = device_history(s, device, changes=args.limit, backups=args.limit)
    return Reply(
        text=f"{device.hostname}: "
        + showing("change(s)", len(h.changes), h.changes_total, cap=HISTORY_CAP)
        + "; "
        + showing("backup(s)", len(h.backups), h.backups_total, cap=HISTORY_CAP),
        tables=(
            Table(
                ("change", "template", "change state", "this device", "by", "when"),
                tuple(
                    (
                        c.ref,
                        c.template,
                        c.state.label,
                        c.device_state.label,
                        c.requested_by,
                        f"{c.created_at:%Y-%m-%d %H:%M}",
                    )
                    for c in h.changes
                ),
                title="changes",
            ),
            Table(
                ("backup", "taken (UTC)", "why"),
                tuple((str(b.id), f"{b.taken_at:%Y-%m-%d %H:%M}", b.reason) for b in h.backups),
                title="backups",
            ),
        ),
        data=h,
    )


def _running(ctx: Context, device: Device) -> str:
    with ctx.services.devices.session(device) as driver:
        return driver.running_config()


@command("config backup", args=DeviceArgs)
def backup(ctx: Context, args: DeviceArgs) -> Reply:
    """Back up a device's running configuration now."""
    device = _device(ctx, args.device)
    config = _running(ctx, device)
    saved = record_backup(ctx.db, device.id, config, f"on request by {ctx.actor}", ctx.now())
    return Reply(
        text=f"{saved.device} backed up as backup {saved.backup} ({saved.lines} lines)", data=saved
    )


@command("config diff", args=DiffArgs)
def diff(ctx: Context, args: DiffArgs) -> Reply:
    """What changed on a device since its latest backup (or the backup named)."""
    from automation.diffing import config_lines  # hier_config: only when a diff is asked for

    device = _device(ctx, args.device)
    with ctx.db.read() as s:
        saved = config_backup(s, device, args.backup)
    running = _running(ctx, device)
    body = mask_lines(
        difflib.unified_diff(
            config_lines(saved.config),
            config_lines(running),
            f"backup {saved.id}",
            "running",
            lineterm="",
            n=1,
        )
    )
    data = ConfigDiff(device.hostname, saved.id, saved.taken_at, bool(body), body)
    if not body:
        return Reply(
            text=f"{device.hostname} is as it was in backup {saved.id} "
            f"({saved.taken_at:%Y-%m-%d %H:%M} UTC)",
            data=data,
        )
    return Reply(
        text=f"{device.hostname}: changes since backup {saved.id}",
        sections=(Section(text="```" + "\n".join(body[:120]) + "```"),),
        data=data,
    )
