"""Orders coming in, from chat (`/order new`) and the order API (`POST /orders`).

`place_order` is the one way a new line is ordered: it owns its transaction, and an
idempotency key places at most one order however often (or however concurrently)
the caller sends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.catalog.models import ProductOffering
from domain.config import BillingSettings, OrderSettings
from domain.db import Database, utcnow
from domain.errors import Conflict, DomainError
from domain.lookup import SubjectKind, classify, looks_like_number
from domain.money import SPELLED_OUT
from domain.orders.choices import OrderState
from domain.orders.models import ProductOrder
from domain.orders.queries import order_by_key, order_view
from domain.orders.services import request_order
from domain.privacy import Audience


@dataclass(frozen=True)
class PlacedOrder:
    """What placing an order did, as the caller reports it."""

    ref: str
    state: OrderState
    #: What the approval policy said (approved by itself, or why a manager decides).
    policy_note: str | None = field(metadata=SPELLED_OUT)
    customer: str
    offering: str
    #: The line's identifier once it exists (a mobile line approved by policy).
    line: str | None
    #: The idempotency key had already placed this order; nothing new was made.
    repeated: bool = False


def _placed(session: Session, order: ProductOrder, *, repeated: bool = False) -> PlacedOrder:
    # Whoever placed it (a care agent, or the ordering system) is told the new line.
    view = order_view(session, order.id, audience=Audience.FULL)
    return PlacedOrder(
        ref=order.ref,
        state=order.state,
        policy_note=order.policy_note,
        customer=view.customer,
        offering=view.offering or "",
        line=view.line,
        repeated=repeated,
    )


def _already_placed(db: Database, external_id: str) -> PlacedOrder | None:
    with db.read() as s:
        order = order_by_key(s, external_id)
        return _placed(s, order, repeated=True) if order is not None else None


def place_order(
    db: Database,
    *,
    customer: str,
    offering: str,
    requested_by: str,
    orders: OrderSettings,
    billing: BillingSettings,
    site: str | None = None,
    port: str | None = None,
    note: str | None = None,
    external_id: str | None = None,
    now: datetime | None = None,
) -> PlacedOrder:
    """Order a line (all or nothing) through the approval policy; see `request_order`.

    With `external_id`, an order that key already placed comes back `repeated`.
    """
    if external_id:
        seen = _already_placed(db, external_id)
        if seen is not None:
            return seen
    try:
        with db.transaction() as s:
            order = request_order(
                s,
                customer=customer,
                offering=offering,
                requested_by=requested_by,
                orders=orders,
                billing=billing,
                site=site,
                port=port,
                note=note,
                external_id=external_id,
                now=now or utcnow(),
            )
            return _placed(s, order)
    except sa.exc.IntegrityError:
        # The same key raced in from another request: that one placed the order.
        seen = _already_placed(db, external_id) if external_id else None
        if seen is None:
            raise Conflict("the order clashed with another one at the same moment") from None
        return seen


# -- the words of `/order new` ------------------------------------------------------------------


@dataclass(frozen=True)
class OrderWords:
    """What `/order new`'s words say: whom for, which offering, and the words after it."""

    customer: str
    #: None when every word before site:/port: is the customer: the offering is missing.
    offering: str | None
    rest: tuple[str, ...]


def _placement(word: str) -> bool:
    key, sep, _ = word.replace("=", ":", 1).partition(":")
    return bool(sep) and key.lower() in ("site", "port")


def read_order_words(session: Session, words: Sequence[str]) -> OrderWords:
    """Divide `/order new`'s words: the customer may be several words (`+91 98765 43210`),
    the offering is one word naming a product offering (any case), and what follows it
    is where a fixed line goes (site:X port:Y).

    When no word after the first names an offering, the last word before any site:/port:
    is taken as one (so `BA100000001 NOPE` is refused as "no offering 'NOPE'"), unless all
    of them together are an identifier or a number: then the offering was left out.
    """
    words = [w for w in words if w.strip()]
    codes = {c.upper() for c in session.scalars(sa.select(ProductOffering.code))}
    at = next((i for i in range(1, len(words)) if words[i].strip().upper() in codes), None)
    if at is None:
        plain = len(words)
        while plain > 1 and _placement(words[plain - 1]):
            plain -= 1
        said = " ".join(words[:plain])
        try:
            whole = looks_like_number(said) or classify(said).kind != SubjectKind.NAME
        except DomainError:
            whole = False
        if whole or plain < 2:
            return OrderWords(" ".join(words[:plain]), None, tuple(words[plain:]))
        at = plain - 1
    return OrderWords(" ".join(words[:at]), words[at].strip(), tuple(words[at + 1 :]))
