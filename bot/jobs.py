"""What scheduled jobs do: digests, dunning, SLA warnings, fraud scoring and audit anchors,
sent through the outbound queue.

`runners(...)` gives one callable per job kind; each takes the job's argument (a
digest's name, or nothing) and says what it did. `serve` runs them in a job worker
process (`job_worker`), never in the process that acks Slack: that process builds its
own Switchboard from the same settings, with its own database engine and its own
outbound queue, so Slack's pacing (a message a second per channel) is per process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from multiprocessing.util import Finalize
from pathlib import Path
from typing import TYPE_CHECKING

from automation.scheduler import JobWorker, register_runners
from bot import metrics
from bot.bootstrap import Switchboard
from bot.outbound import Outbound
from bot.render.blockkit import Message, to_message
from domain import policy
from domain.audit.services import anchor_chain
from domain.billing import runs as billing_runs
from domain.billing.runs import DunningRun
from domain.config import Role, Settings
from domain.db import utcnow
from domain.faults.queries import open_tickets
from domain.fraud.queries import case_view
from domain.jobs import subscribers
from models.fraud.artifact import ModelMissing
from skills.digests import build_digest
from skills.fraud import case_card
from skills.reply import Button, Field, Reply, Section

if TYPE_CHECKING:
    from models.fraud.desk import ScoringRun

log = logging.getLogger(__name__)


def send_digest(
    sb: Switchboard, outbound: Outbound, name: str, now: datetime | None = None
) -> list[str]:
    """Build a digest and send it to its channel, its users and its subscribers.

    The channel gets the sections its audience may read; each person by direct message
    the sections their configured roles may read, and nothing when that is none.
    Returns where it went (channels and user names).
    """
    spec = sb.services.digest(name)
    at = now or utcnow()
    sent = []
    if spec.channel:
        message = to_message(build_digest(sb.services, name, at))
        posted = outbound.post(spec.channel, message).result(timeout=120)
        if message.files:
            outbound.upload(posted["channel"], message, thread=posted["ts"]).result(timeout=120)
        sent.append(spec.channel)
    with sb.db.read() as s:
        subscribed = subscribers(s, name)
    built: dict[frozenset[Role], Message] = {}  # one build per set of roles
    for user in dict.fromkeys([*spec.users, *subscribed]):
        person = sb.settings.users.get(user)
        if person is None or not person.slack_id:
            log.warning("digest %s: %s has no Slack id; not sent", name, user)
            continue
        roles = frozenset(person.roles)
        if not policy.readable(roles, spec.sections):
            log.warning("digest %s: %s may read none of its sections; not sent", name, user)
            continue
        if roles not in built:
            built[roles] = to_message(build_digest(sb.services, name, at, roles=roles))
        outbound.direct(person.slack_id, built[roles]).result(timeout=120)
        sent.append(user)
    return sent


def dunning_report(run: DunningRun) -> Reply | None:
    """The day's dunning as the billing channel reads it; None when nothing happened."""
    if not run.moved and not run.failed:
        return None
    lines = [o.describe(channel=True) for o in (*run.failed, *run.moved)]
    text = f"Dunning on {run.day:%d %b %Y}: {len(run.moved)} account(s) moved"
    if run.failed:
        text += f", {len(run.failed)} failed"
    shown = lines[:40]
    if len(lines) > len(shown):
        shown.append(f"… and {len(lines) - len(shown)} more")
    return Reply(text=text, sections=(Section(text="\n".join(shown)),), ok=not run.failed)


def run_dunning(sb: Switchboard, outbound: Outbound, now: datetime | None = None) -> int:
    """Evaluate dunning on the operator's day (the scheduler's time zone); report it."""
    now = now or utcnow()
    run = billing_runs.run_dunning(
        sb.db,
        sb.settings.billing.dunning,
        billing_runs.business_day(now, sb.settings.billing.timezone),
        now=now,
    )
    reply = dunning_report(run)
    if reply is not None:
        outbound.post(sb.settings.channels.billing, to_message(reply)).result(timeout=120)
    return len(run.moved)


def warn_sla(sb: Switchboard, outbound: Outbound, now: datetime | None = None) -> int:
    """Announce open tickets that went past their SLA since the last run."""
    now = now or utcnow()
    since = now - timedelta(minutes=sb.settings.scheduler.sla_warning_minutes)
    with sb.db.read() as s:
        late = open_tickets(s, now=now, breached_since=since, limit=None)
    for t in late:
        reply = Reply(
            text=f":alarm_clock: {t.ref} is past its SLA: {t.title}",
            sections=(
                Section(
                    fields=(
                        Field("severity", str(t.severity)),
                        Field("was due", f"{t.sla_due_at:%Y-%m-%d %H:%M} UTC"),
                        Field("status", str(t.status)),
                        Field("assignee", t.assignee or "nobody"),
                    )
                ),
            ),
            buttons=(
                Button("Take it", f"/ticket assign {t.ref} me", "primary"),
                Button("Show", f"/ticket show {t.ref}"),
            ),
        )
        outbound.post(sb.settings.channels.tickets, to_message(reply)).result(timeout=120)
    return len(late)


def fraud_runs_file(sb: Switchboard) -> Path:
    """Where the scheduled fraud run's figures are kept for /metrics: beside the models,
    with the desk's other state between runs."""
    return sb.services.fraud.model_dir / metrics.FRAUD_RUNS_FILE


def score_fraud(sb: Switchboard, outbound: Outbound, now: datetime | None = None) -> ScoringRun:
    """Score the window's usage; each new case goes to the fraud channel with its buttons.

    A run that opens cases and fills the day's budget of new cases, or could not keep a
    file beside the models, says so in the channel after its cases (the files' errors,
    with their paths, go to the log only); later runs of the day that hold lines back say
    so in the log. The run's figures that cannot be kept for /metrics are one warning:
    its cases are posted all the same. ModelMissing when there is no model to score with.
    """
    started = time.monotonic()
    run = sb.services.fraud.score_and_open(now or utcnow())
    seconds = time.monotonic() - started
    path = fraud_runs_file(sb)
    try:
        metrics.record_fraud_run(path, run, seconds, finished=time.time())
    except OSError as exc:
        log.warning(
            "fraud run figures not saved in %s for /metrics (%s: %s)",
            path,
            type(exc).__name__,
            exc,
        )
        run = replace(run, problems=(*run.problems, "figures not saved for /metrics"))
    metrics.watch_fraud_runs(path)
    for case_id in run.opened:
        with sb.db.read() as s:
            view = case_view(s, case_id)
        reply = case_card(view)
        outbound.post(sb.settings.channels.fraud, to_message(reply)).result(timeout=120)
    if run.opened and (run.held_back or run.problems):
        note = Reply(text=f":hourglass_flowing_sand: Fraud scoring: {run.describe()}")
        outbound.post(sb.settings.channels.fraud, to_message(note)).result(timeout=120)
    return run


def fraud_scoring(sb: Switchboard, outbound: Outbound) -> str:
    """The scheduled fraud scoring job: what it did (or why it did not run) in a line."""
    try:
        run = score_fraud(sb, outbound)
    except ModelMissing as exc:
        log.warning("fraud scoring skipped: %s (%s)", exc, exc.hint)
        return f"fraud scoring skipped: {exc} ({exc.hint})"
    return f"fraud scoring: {run.describe()}"


def anchor_audit(sb: Switchboard, outbound: Outbound, now: datetime | None = None) -> str:
    """Write the audit chain's head to the anchor file when it moved; post it if configured."""
    settings = sb.settings.audit
    run = anchor_chain(sb.db, sb.settings.resolve_path(settings.anchor_file), now)
    if run.result == "written" and run.anchor is not None and settings.anchor_channel:
        reply = Reply(
            text=f":lock: Audit anchor: event {run.anchor.event} at {run.anchor.at}",
            sections=(Section(text=f"`{run.anchor.describe()}`"),),
        )
        outbound.post(settings.anchor_channel, to_message(reply)).result(timeout=120)
    return run.result


def runners(sb: Switchboard, outbound: Outbound) -> dict[str, Callable[[str], str]]:
    """One runner per job kind; each returns what it did, in a line for the log."""
    return {
        "audit_anchor": lambda _: f"audit anchor: {anchor_audit(sb, outbound)}",
        "fraud_scoring": lambda _: fraud_scoring(sb, outbound),
        "digest": lambda name: f"sent to {', '.join(send_digest(sb, outbound, name)) or 'nobody'}",
        "dunning": lambda _: f"dunning moved accounts: {run_dunning(sb, outbound)}",
        "sla_warnings": lambda _: f"SLA warnings sent: {warn_sla(sb, outbound)}",
    }


def job_worker(sb: Switchboard) -> JobWorker:
    """The process(es) `serve`'s scheduler hands its jobs to (scheduler.processes).

    This process serves /metrics: the fraud runs' figures the workers keep are read there.
    """
    metrics.watch_fraud_runs(fraud_runs_file(sb))
    root = logging.getLogger()
    return JobWorker(
        start_job_worker,
        (sb.settings, sb.db.url, root.level if root.handlers else None),
        processes=sb.settings.scheduler.processes,
    )


def start_job_worker(settings: Settings, database_url: str, log_level: int | None) -> None:
    """A job worker process's start: its own Switchboard, outbound queue and runners.

    It neither migrates (serve did) nor marks changes interrupted (serve's start does).
    """
    from bot.access import Access
    from bot.bootstrap import build_services, load_skills, open_database
    from bot.router import Router

    if log_level is not None:  # serve logs; so does its worker, on the same stderr
        logging.basicConfig(
            level=log_level,
            format="%(asctime)s %(levelname)s %(name)s [job worker %(process)d]: %(message)s",
        )
    db = open_database(settings, database_url, migrate=False)
    services = build_services(settings, db)
    sb = Switchboard(
        settings=settings,
        db=db,
        access=Access(settings),
        router=Router(load_skills(lazy=True), services),
        services=services,
    )
    register_runners(runners(sb, sb.outbound))
    # A pool's process ends through multiprocessing, which runs these and not atexit.
    Finalize(None, sb.close, exitpriority=10)
