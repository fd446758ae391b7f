"""Orders at the edge: `POST /orders`, and serve's order worker.

`POST /orders` needs `Authorization: Bearer <orders.api_token>`. The body:

    {"customer": "BA100000001", "offering": "FIBRE-100", "site": "TN-WHI1",
     "port": "Gi0/0/5", "requested_by": "crm", "note": "optional",
     "external_id": "optional idempotency key (or the Idempotency-Key header)"}

Answers: 201 when the order was fulfilled within the request (a mobile line approved
by policy is active), 202 when it was accepted and goes on without the caller (pending
a manager, or approved and waiting for provisioning), 200 for a repeated idempotency
key (the order it made, nothing new), 400 for a body that is not JSON, 401 without the
token, 413 over `orders.max_body_bytes`, 422 naming the first bad field or what the
order cannot be (unknown customer, port taken, ...), each with `error` and `hint`.

The worker (one replica at a time, a named database lock) provisions approved orders
nobody has started, posts pending orders to the orders channel with Approve / Reject
and keeps those messages up to date, and tells each requester how their order ended.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_sdk.errors import SlackApiError

from automation.provisioning import Provisioner
from bot import webhooks
from bot.bootstrap import Switchboard
from bot.outbound import Outbound
from bot.render.blockkit import to_message
from bot.webhooks import Rejected
from bot.worker import Loop
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


def _answer(placed: PlacedOrder) -> dict[str, Any]:
    answer = {
        "order": placed.ref,
        "state": str(placed.state),
        "line": placed.line,
        "policy": placed.policy_note,
    }
    return {**answer, "repeated": True} if placed.repeated else answer


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
    try:
        placed = place_order(
            db,
            customer=request.customer,
            offering=request.offering,
            requested_by=request.requested_by,
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
        raise Rejected(422, str(exc), exc.hint) from None
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


class OrderWorker(Loop):
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
        self.interval_s = sb.settings.orders.worker_interval_s

    def run_once(self) -> WorkerPass | None:
        """One pass; None when another replica holds the worker's lock."""
        with self.sb.db.hold(LOCK) as held:
            if not held:
                return None
            done = WorkerPass()
            done.provisioned = len(self.provisioner.run_pending())
            self._announce(done)
            self._tell(done)
            return done

    def _announce(self, done: WorkerPass) -> None:
        work: list[tuple[int, datetime, Reply, str | None, str | None, bool]] = []
        billing = self.sb.settings.billing
        with self.sb.db.read() as s:
            due = [
                (o.id, o.updated_at, o.slack_channel, o.slack_ts, order_view(s, o.id, billing))
                for o in orders_to_announce(s)
            ]
        for order_id, seen, channel, ts, v in due:
            pending = v.state == OrderState.PENDING
            work.append((order_id, seen, order_card(v), channel, ts, pending))
        for order_id, seen, card, channel, ts, pending in work:
            message = to_message(card)
            posted: dict[str, Any] = {}
            try:
                if ts and channel:
                    self.outbound.update(channel, ts, message).result(timeout=SEND_TIMEOUT_S)
                    done.updated += 1
                elif pending:
                    resp = self.outbound.post(self.sb.settings.channels.orders, message).result(
                        timeout=SEND_TIMEOUT_S
                    )
                    posted = {"channel": resp.get("channel"), "ts": resp.get("ts")}
                    done.posted += 1
                # else: decided before it was ever posted; nothing to show or update.
            except SlackApiError as exc:
                log.warning("order message not sent: %s", exc.response.get("error"))
            mark_announced(
                self.sb.db, order_id, channel=posted.get("channel"), ts=posted.get("ts"), seen=seen
            )

    def _tell(self, done: WorkerPass) -> None:
        work: list[tuple[int, str, str, Reply]] = []
        billing = self.sb.settings.billing
        with self.sb.db.read() as s:
            due = [(o.id, order_view(s, o.id, billing)) for o in orders_to_tell(s)]
        for order_id, v in due:
            text = news(v)
            reply = Reply(text, sections=order_card(v).sections)
            work.append((order_id, v.requested_by, text, reply))
        for order_id, requester, _text, reply in work:
            user = self._slack_id(requester)
            if user is not None:
                message = to_message(reply)
                try:
                    self.outbound.direct(user, message).result(timeout=SEND_TIMEOUT_S)
                    done.told += 1
                except SlackApiError as exc:
                    log.warning("could not tell %s: %s", requester, exc.response.get("error"))
            mark_told(self.sb.db, order_id)

    def _slack_id(self, name: str) -> str | None:
        """The requester's Slack id: from the config, or the name itself when it is one."""
        user = self.sb.settings.users.get(name)
        if user is not None:
            return user.slack_id
        return name if re.fullmatch(r"[UW][A-Z0-9]{6,}", name) else None
