"""Orders at the edge: `POST /orders`, and serve's order worker.

`POST /orders` needs `Authorization: Bearer <orders.api_token>`. The body:

    {"customer": "BA100000001", "offering": "FIBRE-100", "site": "TN-WHI1",
     "port": "Gi0/0/5", "requested_by": "carol", "note": "optional",
     "external_id": "optional idempotency key (or the Idempotency-Key header)"}

Answers: 201 when the order was fulfilled within the request (a mobile line approved
by policy is active), 202 when it was accepted and goes on without the caller (pending
a manager, or approved and waiting for provisioning), 200 for a repeated idempotency
key (the order it made, nothing new), 400 for a body that is not JSON, 401 without the
token, 413 over `orders.max_body_bytes`, 422 naming the first bad field or what the
order cannot be (unknown customer, port taken, ...), each with `error` and `hint`.

The worker (one replica at a time, a named database lock) provisions approved orders
nobody has started, and runs one loop over what is due in a channel: pending orders in
the orders channel and pending credits in the approvals channel (`channels.approvals`,
else the orders channel), each posted once with Approve / Reject and its message updated
in place once decided. It tells each requester how their order or credit ended, by direct
message. A send Slack refuses is logged in one line and not retried; one that does not
reach Slack ends the pass, and the loop (bot/worker.py) says so once per outage, backs
off and tries again: everything not sent stays due.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_sdk.errors import SlackApiError

from automation.provisioning import Provisioner
from bot import webhooks
from bot.bootstrap import Switchboard
from bot.outbound import Outbound, Sends, SlackNotConfigured, refused_for_good
from bot.render.blockkit import to_message
from bot.webhooks import Rejected
from bot.worker import Loop
from domain import policy
from domain.audit.choices import Outcome
from domain.audit.journal import PendingEvent, journal_beside
from domain.audit.services import AuditUnwritten, keep_in_journal, store_events
from domain.billing.choices import CreditState
from domain.billing.queries import CreditView, credit_view
from domain.billing.services import (
    credits_to_announce,
    credits_to_tell,
    mark_credit_announced,
    mark_credit_told,
)
from domain.config import OrderSettings, Settings
from domain.db import Database, utcnow
from domain.errors import Conflict, DatabaseUnavailable, DomainError
from domain.orders.choices import OrderState
from domain.orders.intake import PlacedOrder, place_order
from domain.orders.queries import OrderView, order_view
from domain.orders.services import (
    mark_announced,
    mark_told,
    orders_to_announce,
    orders_to_tell,
)
from domain.privacy import Audience
from skills.billing import credit_card, credit_outcome
from skills.orders import order_card
from skills.reply import Reply

log = logging.getLogger(__name__)

LOCK = "order-worker"
#: How long the worker waits for the outbound queue to send one message.
SEND_TIMEOUT_S = 300


class OrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer: str = Field(min_length=1, max_length=40)
    offering: str = Field(min_length=1, max_length=32)
    site: str | None = Field(default=None, min_length=1, max_length=32)
    port: str | None = Field(default=None, min_length=1, max_length=96)
    requested_by: str = Field(default="api", pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    note: str | None = Field(default=None, max_length=1000)
    external_id: str | None = Field(default=None, min_length=1, max_length=80)


def check_request(settings: OrderSettings, headers: dict[str, str], body: bytes) -> Any:
    """Token, size and JSON; raises Rejected with the status to answer."""
    return webhooks.check_request(
        settings.api_token, settings.max_body_bytes, headers, body, token_key="orders.api_token"
    )


#: Who an order is requested by when the ordering system names no one: the webhook itself.
SERVICE = "api"
#: How the audit names where such an order came from.
VIA = "POST /orders"


def _requester(settings: Settings, named: str) -> str:
    """The requester an ordering system names: a configured user who may order lines, or
    the webhook's own identity. Anyone else (a name nobody configured) is refused, so no
    order reads as if someone asked who did not."""
    if named == SERVICE:
        return named
    user = settings.users.get(named)
    if user is None:
        raise Rejected(
            422,
            f"requested_by: {named!r} is not a configured user",
            f"name a user from config.yaml (users), or leave it out: the order is then "
            f"requested by {SERVICE!r}, the webhook itself",
        )
    if not policy.may_run(user.roles, "order new"):
        have = ", ".join(sorted(r.value for r in user.roles)) or "no role"
        raise Rejected(
            422,
            f"requested_by: {named} may not order lines (has {have})",
            f"name someone who may (/order new: {', '.join(sorted(policy.COMMANDS['order new']))})",
        )
    return named


def _answer(placed: PlacedOrder) -> dict[str, Any]:
    answer = {
        "order": placed.ref,
        "state": str(placed.state),
        "line": placed.line,
        "policy": placed.policy_note,
    }
    return {**answer, "repeated": True} if placed.repeated else answer


def _record_outcome(
    db: Database, journal: Path, asked: PendingEvent, outcome: Outcome, detail: str
) -> None:
    """Store the outcome event; the order is placed (or refused) already, so when the
    database cannot take it the event waits in the journal rather than failing the call."""
    event = replace(asked, outcome=outcome, detail=detail)
    try:
        store_events(db, (event,), journal_file=journal)
    except AuditUnwritten as exc:
        log.warning("POST /orders: audit outcome kept in the journal: %s", exc)
        keep_in_journal(journal, event)


def receive(
    db: Database,
    settings: Settings,
    data: Any,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[int, dict[str, Any]]:
    """Validate a parsed body and place the order (all or nothing): (status, answer)."""
    try:
        request = OrderRequest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        raise Rejected(
            422,
            f"{where}: {msg}",
            "fields: customer, offering, site, port, requested_by, note, external_id",
        ) from None
    key = idempotency_key or request.external_id
    if idempotency_key and request.external_id and idempotency_key != request.external_id:
        raise Rejected(422, "Idempotency-Key and external_id differ", "send one of them")
    requester = _requester(settings, request.requested_by)
    # The audit fails closed as chat's changes do: the request is stored before the
    # order is placed (AuditUnwritten, a 503, when it cannot be), the outcome after.
    journal = journal_beside(settings.resolve_path(settings.audit.anchor_file), db.url)
    asked = PendingEvent(
        actor=requester,
        command="order new",
        outcome=Outcome.REQUESTED,
        at=now or utcnow(),
        via=VIA,
        arguments=f"{request.customer} {request.offering}",
    )
    store_events(db, (asked,), journal_file=journal)
    try:
        placed = place_order(
            db,
            customer=request.customer,
            offering=request.offering,
            requested_by=requester,
            orders=settings.orders,
            billing=settings.billing,
            site=request.site,
            port=request.port,
            note=request.note,
            external_id=key,
            now=now or utcnow(),
        )
    except (Conflict, DatabaseUnavailable):
        raise
    except DomainError as exc:
        _record_outcome(db, journal, asked, Outcome.INVALID, str(exc))
        raise Rejected(422, str(exc), exc.hint) from None
    # The audit says who the ordering system named, and that it was the system.
    if placed.repeated:
        detail = f"{placed.ref}; a repeat of the same request (idempotency key), nothing new"
    elif requester != SERVICE:
        detail = (
            f"{placed.ref}; requested_by {requester!r} as the ordering system said "
            "(authenticated by orders.api_token)"
        )
    else:
        detail = f"{placed.ref}; requested by the ordering system itself"
    _record_outcome(db, journal, asked, Outcome.OK, detail)
    if placed.repeated:
        return 200, _answer(placed)
    return (201 if placed.state == OrderState.COMPLETED else 202), _answer(placed)


# -- the worker ------------------------------------------------------------------------------


@dataclass
class WorkerPass:
    provisioned: int = 0
    posted: int = 0
    updated: int = 0
    told: int = 0


@dataclass(frozen=True)
class ChannelDue:
    """A thing whose message in a channel is missing or behind (an order, a credit)."""

    #: What it is, for the log ("order O-2").
    what: str
    card: Reply
    #: Its message, once posted.
    channel: str | None
    ts: str | None
    #: Where to post it while it has no message; None when there is nothing to show (it
    #: was decided before it was ever posted).
    post_to: str | None
    #: Record that the message shows it: (channel, ts) of a new post, or (None, None).
    mark: Callable[[str | None, str | None], None]


@dataclass(frozen=True)
class OutcomeDue:
    """Someone to tell how the thing they asked for ended (an order, a credit)."""

    what: str
    requester: str
    reply: Reply
    #: Record that they have been told.
    mark: Callable[[], None]


def news(order: OrderView) -> str:
    """What a requester is told about their order's outcome."""
    line = order.line
    if order.state == OrderState.COMPLETED:
        return f"Your order {order.ref} is complete" + (f": {line} is ready" if line else "")
    if order.state == OrderState.FAILED:
        return (
            f"Your order {order.ref} failed: {order.failure_reason}. "
            "A provisioning ticket is open; nothing was left half-done."
        )
    if order.state == OrderState.REJECTED:
        why = f": {order.decision_note}" if order.decision_note else ""
        return f"Your order {order.ref} was rejected by {order.decided_by}{why}"
    return f"Your order {order.ref} was {order.state} by {order.decided_by}"


def credit_news(credit: CreditView) -> str:
    """What a care agent is told about the credit they asked for."""
    said = f"Your credit {credit.credit} of {credit.amount} on {credit.invoice}"
    if credit.state == CreditState.APPROVED:
        return (
            f"{said} was approved by {credit.decided_by}: {credit.adjustment} credits it on "
            "the next invoice"
        )
    return f"{said} was {credit_outcome(credit)}"


class OrderWorker(Loop):
    """Provisions approved orders, and keeps the orders' and credits' messages: their cards
    in the managers' channels (posted while they wait, then updated in place) and a direct
    message to whoever asked once they are decided."""

    name = "order-worker"

    def __init__(
        self,
        sb: Switchboard,
        outbound: Outbound,
        *,
        provisioner: Provisioner | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__()
        self.sb = sb
        self.outbound = outbound
        self.clock = clock
        self.provisioner = provisioner or sb.services.provisioner
        #: Messages Slack failed to take while it took others (`Sends`).
        self._stuck: dict[str, bool] = {}
        self.interval_s = sb.settings.orders.worker_interval_s

    def run_once(self) -> WorkerPass | None:
        """One pass; None when another replica holds the worker's lock."""
        with self.sb.db.hold(LOCK) as held:
            if not held:
                return None
            done = WorkerPass()
            done.provisioned = len(self.provisioner.run_pending())
            sends = Sends(self._stuck, self.name)
            self._announce(done, self._orders_due() + self._credits_due(), sends)
            self._tell(done, self._order_outcomes() + self._credit_outcomes(), sends)
            return done

    # -- what is due ---------------------------------------------------------------------

    def _orders_due(self) -> list[ChannelDue]:
        db, billing = self.sb.db, self.sb.settings.billing
        with db.read() as s:
            due = [
                (o.id, o.updated_at, o.slack_channel, o.slack_ts, order_view(s, o.id, billing))
                for o in orders_to_announce(s)
            ]
        return [
            ChannelDue(
                f"order {v.ref}",
                order_card(v),
                channel,
                ts,
                self.sb.settings.channels.orders if v.state == OrderState.PENDING else None,
                partial(_mark_order, db, order_id, seen=seen),
            )
            for order_id, seen, channel, ts, v in due
        ]

    def _credits_due(self) -> list[ChannelDue]:
        db, billing = self.sb.db, self.sb.settings.billing
        with db.read() as s:
            due = [
                (c.id, c.slack_channel, c.slack_ts, credit_view(s, c.id, billing))
                for c in credits_to_announce(s)
            ]
        return [
            ChannelDue(
                f"credit {v.credit}",
                credit_card(v),
                channel,
                ts,
                self.sb.settings.channels.credits if v.state == CreditState.PENDING else None,
                partial(_mark_credit, db, credit_id, seen=v.state),
            )
            for credit_id, channel, ts, v in due
        ]

    def _order_outcomes(self) -> list[OutcomeDue]:
        billing = self.sb.settings.billing
        with self.sb.db.read() as s:
            due = [
                (o.id, order_view(s, o.id, billing, audience=Audience.PRIVATE))
                for o in orders_to_tell(s)
            ]
        return [
            OutcomeDue(
                f"order {v.ref}",
                v.requested_by,
                Reply(news(v), sections=order_card(v).sections),
                partial(mark_told, self.sb.db, order_id),
            )
            for order_id, v in due
        ]

    def _credit_outcomes(self) -> list[OutcomeDue]:
        billing = self.sb.settings.billing
        with self.sb.db.read() as s:
            due = [
                (c.id, credit_view(s, c.id, billing, audience=Audience.PRIVATE))
                for c in credits_to_tell(s)
            ]
        return [
            OutcomeDue(
                f"credit {v.credit}",
                v.requested_by,
                Reply(credit_news(v), sections=credit_card(v).sections),
                partial(mark_credit_told, self.sb.db, credit_id),
            )
            for credit_id, v in due
        ]

    # -- sending ------------------------------------------------------------------------

    def _announce(self, done: WorkerPass, due: list[ChannelDue], sends: Sends) -> None:
        """Post what has no message yet and update the rest in place, each once."""
        for i in sends.last([item.what for item in due]):
            item = due[i]
            message = to_message(item.card)
            posted: dict[str, Any] = {}
            try:
                if item.ts and item.channel:
                    self.outbound.update(item.channel, item.ts, message).result(
                        timeout=SEND_TIMEOUT_S
                    )
                    done.updated += 1
                    sends.ok(item.what)
                elif item.post_to:
                    resp = self.outbound.post(item.post_to, message).result(timeout=SEND_TIMEOUT_S)
                    posted = {"channel": resp.get("channel"), "ts": resp.get("ts")}
                    done.posted += 1
                    sends.ok(item.what)
                # else: decided before it was ever posted; nothing to show or update.
            except SlackNotConfigured:
                return  # said once by the outbound; everything stays due until Slack is set
            except SlackApiError as exc:
                if not refused_for_good(exc):
                    sends.failure(item.what, exc)  # stays due; the pass may end (Sends)
                    continue
                # Slack said no for good (not in the channel): asking again would not
                # change it. Slack not reached ends the pass: it stays due.
                sends.ok(item.what)
                log.warning("%s message not sent: %s", item.what, exc.response.get("error"))
            item.mark(posted.get("channel"), posted.get("ts"))

    def _tell(self, done: WorkerPass, due: list[OutcomeDue], sends: Sends) -> None:
        """A direct message to each requester, once."""
        keys = [f"{item.what} to {item.requester}" for item in due]
        for i in sends.last(keys):
            item, key = due[i], keys[i]
            user = self._slack_id(item.requester)
            if user is not None:
                try:
                    self.outbound.direct(user, to_message(item.reply)).result(
                        timeout=SEND_TIMEOUT_S
                    )
                    done.told += 1
                    sends.ok(key)
                except SlackNotConfigured:
                    return  # said once by the outbound; the requesters are told later
                except SlackApiError as exc:
                    if not refused_for_good(exc):
                        sends.failure(key, exc)  # told later; the pass may end (Sends)
                        continue
                    sends.ok(key)
                    log.warning(
                        "could not tell %s about %s: %s",
                        item.requester,
                        item.what,
                        exc.response.get("error"),
                    )
            item.mark()

    def _slack_id(self, name: str) -> str | None:
        """The requester's Slack id: from the config, or the name itself when it is one."""
        user = self.sb.settings.users.get(name)
        if user is not None:
            return user.slack_id
        return name if re.fullmatch(r"[UW][A-Z0-9]{6,}", name) else None


def _mark_order(
    db: Database, order_id: int, channel: str | None, ts: str | None, *, seen: datetime
) -> None:
    mark_announced(db, order_id, channel=channel, ts=ts, seen=seen)


def _mark_credit(
    db: Database, credit_id: int, channel: str | None, ts: str | None, *, seen: CreditState
) -> None:
    mark_credit_announced(db, credit_id, channel=channel, ts=ts, seen=seen)
