"""What scheduled jobs do: digests, dunning, SLA warnings and fraud scoring, sent through
the outbound queue.

`runners(...)` gives the scheduler one callable per job kind; each takes the job's
argument (a digest's name, or nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.bootstrap import Switchboard
from bot.outbound import Outbound
from bot.render.blockkit import to_message
from domain.billing.services import apply_dunning, dunning_moves
from domain.db import utcnow
from domain.faults.services import open_tickets
from domain.fraud.models import FraudCase
from domain.jobs import subscribers
from models.fraud import ModelMissing
from skills.digests import build_digest, digest_named
from skills.fraud import case_card, case_msisdn, score_and_open
from skills.reply import Button, Field, Reply, Section

log = logging.getLogger(__name__)


def send_digest(
    sb: Switchboard, outbound: Outbound, name: str, now: datetime | None = None
) -> list[str]:
    """Build a digest and send it to its channel, its users and its subscribers.

    Returns where it went (channels and user names).
    """
    spec = digest_named(sb.settings, name)
    reply = build_digest(sb.db, sb.settings, name, now or utcnow())
    message = to_message(reply)
    sent = []
    if spec.channel:
        posted = outbound.post(spec.channel, message).result(timeout=120)
        if message.files:
            outbound.upload(posted["channel"], message, thread=posted["ts"]).result(timeout=120)
        sent.append(spec.channel)
    with sb.db.read() as s:
        subscribed = subscribers(s, name)
    for user in dict.fromkeys([*spec.users, *subscribed]):
        person = sb.settings.users.get(user)
        if person is None or not person.slack_id:
            log.warning("digest %s: %s has no Slack id; not sent", name, user)
            continue
        outbound.direct(person.slack_id, message).result(timeout=120)
        sent.append(user)
    return sent


def run_dunning(sb: Switchboard, outbound: Outbound, now: datetime | None = None) -> int:
    """Evaluate dunning for every account; each account moves in its own transaction."""
    now = now or utcnow()
    today = now.astimezone(ZoneInfo(sb.settings.scheduler.timezone)).date()
    with sb.db.read() as s:
        moves = dunning_moves(s, sb.settings.billing.dunning, today)
    lines = []
    for move in moves:
        try:
            with sb.db.transaction() as s:
                orders = apply_dunning(s, move, now)
        except Exception as exc:  # one account's trouble must not stop the others
            log.error("dunning %s failed: %s", move.account, exc)
            continue
        tail = f" (orders {', '.join(orders)})" if orders else ""
        lines.append(f"{move.account}: {move.before} -> {move.after}, {move.days_overdue} d{tail}")
    if lines:
        reply = Reply(
            text=f"Dunning on {today:%d %b %Y}: {len(lines)} account(s) moved",
            sections=(Section(text="\n".join(lines[:40])),),
        )
        outbound.post(sb.settings.channels.billing, to_message(reply)).result(timeout=120)
    return len(lines)


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


def score_fraud(sb: Switchboard, outbound: Outbound, now: datetime | None = None) -> int:
    """Score the window's usage; each new case goes to the fraud channel with its buttons."""
    try:
        made = score_and_open(sb.db, sb.settings, now or utcnow())
    except ModelMissing as exc:
        log.warning("fraud scoring skipped: %s (%s)", exc, exc.hint)
        return 0
    for case_id in made:
        with sb.db.read() as s:
            case = s.get(FraudCase, case_id)
            assert case is not None
            reply = case_card(case, case_msisdn(s, case))
        outbound.post(sb.settings.channels.fraud, to_message(reply)).result(timeout=120)
    return len(made)


def runners(sb: Switchboard, outbound: Outbound) -> dict[str, Callable[[str], None]]:
    return {
        "fraud_scoring": lambda _: _log(score_fraud(sb, outbound), "fraud cases opened:"),
        "digest": lambda name: _log(send_digest(sb, outbound, name), f"digest {name} sent to"),
        "dunning": lambda _: _log(run_dunning(sb, outbound), "dunning moved accounts:"),
        "sla_warnings": lambda _: _log(warn_sla(sb, outbound), "SLA warnings sent:"),
    }


def _log(result: object, what: str) -> None:
    log.info("%s %s", what, result)
