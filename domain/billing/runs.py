"""The billing runs as use-cases: rate a period, run a bill cycle, move accounts through
dunning. Each owns its lock and its transactions and returns a typed report; the CLI
(`billing rate|run|dunning`), the scheduler's daily dunning job and `make demo` (rating
and billing the seeded usage once the seed is in) call these and only render.

The demo seed does not call them: it replays its past bill cycles through the engines
underneath, inside the one transaction the whole seed runs in and without these locks
(see `domain.demo.billing_history`).

Rating and bill runs share one lock ("billing"), so only one runs at a time across
processes and replicas; dunning has its own ("dunning"). The engines underneath
(`rating.rate_usage`, `billrun.run_bill`, `services.apply_dunning`) take a session and
never commit on their own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.billing.billrun import BillRunReport, run_bill
from domain.billing.rating import Period, RatingReport, periods_to_rate, rate_usage
from domain.billing.services import DunningMove, apply_dunning, dunning_moves
from domain.config import BillingSettings, DunningStep
from domain.db import Database, utcnow
from domain.errors import Conflict
from domain.privacy import mask_reference, mask_text

log = logging.getLogger(__name__)

BILLING_LOCK = "billing"
DUNNING_LOCK = "dunning"


@contextmanager
def billing_lock(db: Database) -> Iterator[None]:
    """One rating or bill run at a time, across processes and replicas."""
    with db.hold(BILLING_LOCK) as held:
        if not held:
            raise Conflict(
                "another rating or bill run is going on", hint="wait for it to finish, then retry"
            )
        yield


def periods_with_received_usage(db: Database) -> list[Period]:
    """The bill cycles that hold usage not rated yet, oldest first."""
    with db.read() as session:
        return periods_to_rate(session)


def rate_period(db: Database, period: Period) -> RatingReport:
    """Rate one period's received usage, under the billing lock, in one transaction."""
    with billing_lock(db), db.transaction() as session:
        return rate_usage(session, period)


def bill_period(
    db: Database, period: Period, billing: BillingSettings, *, now: datetime | None = None
) -> BillRunReport:
    """Invoice every account for a finished period, under the billing lock, in one
    transaction."""
    with billing_lock(db), db.transaction() as session:
        return run_bill(session, period, billing, now=now)


def business_day(now: datetime, timezone: str) -> date:
    """The operator's calendar day at `now` (due dates are days in the operator's zone)."""
    return now.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class DunningOutcome:
    move: DunningMove
    #: Orders made (suspensions, resumptions).
    orders: tuple[str, ...] = ()
    #: Why the move failed; empty when it was made.
    error: str = ""

    def describe(self, *, channel: bool = False) -> str:
        """One line; for a channel the account shows its last four digits."""
        m = self.move
        account = mask_reference(m.account) if channel else m.account
        if self.error:
            error = mask_text(self.error).replace(m.account, account)
            return f"{account}: could not move from {m.before} to {m.after}: {error}"
        tail = f" (orders {', '.join(self.orders)})" if self.orders else ""
        return f"{account}: {m.before} -> {m.after}, {m.days_overdue} days overdue{tail}"


@dataclass
class DunningRun:
    """One evaluation of every account's dunning state."""

    day: date
    moved: list[DunningOutcome] = field(default_factory=list)
    failed: list[DunningOutcome] = field(default_factory=list)


def run_dunning(
    db: Database, steps: Sequence[DunningStep], day: date, *, now: datetime | None = None
) -> DunningRun:
    """Move every account to the dunning state its oldest overdue invoice calls for on `day`.

    Each account moves in its own transaction; one account's failure is recorded and
    the others still move. One run at a time (the "dunning" lock).
    """
    now = now or utcnow()
    run = DunningRun(day)
    with db.hold(DUNNING_LOCK) as held:
        if not held:
            raise Conflict("dunning is already running", hint="wait for it to finish, then retry")
        with db.read() as session:
            moves = dunning_moves(session, steps, day)
        for move in moves:
            try:
                with db.transaction() as session:
                    orders = apply_dunning(session, move, now)
            except Exception as exc:  # one account's trouble must not stop the others
                log.error("dunning %s failed: %s", move.account, exc)
                run.failed.append(DunningOutcome(move, error=str(exc) or type(exc).__name__))
                continue
            run.moved.append(DunningOutcome(move, tuple(orders)))
    return run
