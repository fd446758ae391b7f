"""The bill cycles before the usage month, replayed through the billing services.

The generator only plans how customers behave: who pays on time, late, in part or
never, and who disputes which bill. Everything with money in it comes from the
services a live system runs, in the order it would have run them: each month's usage
is rated (`rate_usage`) and billed (`run_bill`) at its bill run's time; payments go
through `record_payment` (oldest invoice first, the rest is credit); disputes through
`open_dispute` and `resolve_dispute`, whose credits the next bill run carries; and the
daily dunning job (`dunning_moves`, `apply_dunning`) moves accounts as their bills
fall overdue, suspending and resuming lines through orders. Nothing in this module
prices, prorates, taxes or allocates anything itself.

No line is suspended without an order that says why. Besides dunning's, the replay
makes the suspensions customers asked care for (`request_suspension`, requested by a
care agent, the customer's reason as the order's note): between the last past bill
cycle and the usage window, so the line has its usage up to then and none after.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from domain.billing.billrun import BillRunReport, run_bill
from domain.billing.choices import LineKind
from domain.billing.models import Invoice, InvoiceLine
from domain.billing.rating import Period, RatingReport, rate_usage
from domain.billing.services import (
    DUNNING_ACTOR,
    apply_dunning,
    dunning_moves,
    open_dispute,
    record_payment,
    resolve_dispute,
)
from domain.config import Settings
from domain.customers.choices import SubscriptionState
from domain.customers.models import BillingAccount, Subscription
from domain.demo.columns import DAY, FOREVER, epoch
from domain.demo.monthly_usage import QuietSpans
from domain.demo.timeline import Timeline
from domain.orders.choices import OrderAction, OrderState
from domain.orders.models import ProductOrder
from domain.orders.services import claim_fulfilment, complete_order, request_suspension

#: How accounts pay their bills, and the share of accounts that pay each way.
ON_TIME, LATE, IN_PART, NEVER = range(4)
BEHAVIOUR_SHARES = (0.78, 0.10, 0.07, 0.05)
#: Of the tickets a scale asks for, the share that are billing disputes.
DISPUTE_SHARE = 0.15
#: Who takes disputes at the care desk (a demo user in the shipped config).
CARE_AGENT = "carol"
_REASONS = (
    "Bill higher than expected",
    "Roaming charges I did not expect",
    "International calls I did not make",
    "Charged for a line I had cancelled",
    "Refund not received",
)
#: Why customers ask for their line to be suspended, mobile and fixed.
_MOBILE_HOLDS = (
    "abroad for a few months, keeping the number",
    "a second line, not needed for now",
    "not using the line for a while",
    "line kept for a family member who is away",
)
_FIXED_HOLDS = (
    "premises closed for renovation",
    "moving house, service on hold until the new address is ready",
    "office closed for the season",
)


@dataclass(frozen=True)
class PlannedPayments:
    """One row per payment a customer means to make for one of their bills."""

    account_id: np.ndarray
    #: Index into BillingPlan.months.
    cycle: np.ndarray
    #: Seconds after the cycle's bill run the money arrives.
    after_s: np.ndarray
    #: The part of the invoice's total paid: 1.0 for all of it.
    share: np.ndarray


@dataclass(frozen=True)
class PlannedDisputes:
    account_id: np.ndarray
    cycle: np.ndarray
    opened_after_s: np.ndarray
    #: Seconds after the bill run the dispute is resolved; -1 for still open.
    resolved_after_s: np.ndarray
    #: The credit given, as a part of the invoice's monthly charges (0 for none).
    credit_share: np.ndarray
    reason: list[str]


@dataclass(frozen=True)
class PlannedSuspensions:
    """Lines whose customers ask care to suspend them, one row per line."""

    subscription_id: np.ndarray
    #: Epoch seconds the customer asks.
    at: np.ndarray
    #: The customer's words, the suspend order's note.
    reason: list[str]


NO_SUSPENSIONS = PlannedSuspensions(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [])


@dataclass(frozen=True)
class BillingPlan:
    """How customers behaved over the past bill cycles; no amounts, only intentions."""

    months: tuple[Period, ...]
    payments: PlannedPayments
    disputes: PlannedDisputes
    suspensions: PlannedSuspensions = NO_SUSPENSIONS


def plan_suspensions(
    rng: np.random.Generator,
    timeline: Timeline,
    subscription_id: np.ndarray,
    fixed: np.ndarray,
    activated: np.ndarray,
) -> PlannedSuspensions:
    """When each line's customer asks for it to be suspended, and why.

    Between the end of the last past bill cycle and the start of the usage window (and
    after the line's activation): the past cycles keep the line's usage as it was, and
    the usage month has none of it.
    """
    n = subscription_id.size
    latest = timeline.window_start
    earliest = np.minimum(np.maximum(epoch(timeline.usage_month.start), activated + 3600), latest)
    at = rng.integers(earliest, latest + 1, n) if n else np.zeros(0, dtype=np.int64)
    pick = rng.random(n)
    reason = [
        "Customer's request: " + holds[int(u * len(holds))]
        for u, holds in zip(
            pick.tolist(),
            (_FIXED_HOLDS if f else _MOBILE_HOLDS for f in fixed.tolist()),
            strict=True,
        )
    ]
    return PlannedSuspensions(subscription_id.astype(np.int64), at.astype(np.int64), reason)


def disputes_for(tickets: int) -> int:
    """How many of a scale's tickets are billing disputes on past invoices."""
    return round(tickets * DISPUTE_SHARE)


def plan_billing_history(
    rng: np.random.Generator,
    accounts: int,
    months: tuple[Period, ...],
    *,
    payment_terms_days: int,
    disputes: int,
    suspensions: PlannedSuspensions = NO_SUSPENSIONS,
) -> BillingPlan:
    """Payment behaviour per account and disputes; resolved ones on the oldest cycle,
    open ones on the latest (their customers hold that bill's payment back). The
    suspensions customers ask for come along as planned (`plan_suspensions`)."""
    behaviour = rng.choice(len(BEHAVIOUR_SHARES), accounts, p=BEHAVIOUR_SHARES)
    ids = np.arange(1, accounts + 1, dtype=np.int64)
    terms = max(payment_terms_days, 1)
    # Late payers are late by the same days every month, so each bill is paid after the
    # one before it and every payment settles the bill it was meant for.
    late = (payment_terms_days + rng.integers(5, 36, accounts)) * DAY
    parts: list[tuple[np.ndarray, ...]] = []
    for cycle in range(len(months)):
        on_time = rng.integers(1, terms + 1, accounts) * DAY
        after = np.where(behaviour == LATE, late, on_time) + rng.integers(0, DAY, accounts)
        share = np.where(behaviour == IN_PART, rng.uniform(0.2, 0.8, accounts), 1.0)
        # Partial payers pay part of their first bill, then stop paying.
        pays = (
            (behaviour == ON_TIME) | (behaviour == LATE) | ((behaviour == IN_PART) & (cycle == 0))
        )
        parts.append((ids[pays], np.full(int(pays.sum()), cycle), after[pays], share[pays]))

    n = min(disputes, accounts)
    who = rng.choice(accounts, n, replace=False).astype(np.int64) + 1
    resolved = np.arange(n) < n // 2
    cycle_of = np.where(resolved, 0, len(months) - 1)
    opened = rng.integers(2, 11, n) * DAY + rng.integers(0, DAY, n)
    resolved_after = np.where(resolved, opened + rng.integers(2, 13, n) * DAY, -1)
    credit = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0.1, 0.5, n))
    reasons = [_REASONS[i] for i in rng.integers(0, len(_REASONS), n)]

    pay_account, pay_cycle, pay_after, pay_share = (
        np.concatenate(c) for c in zip(*parts, strict=True)
    )
    # Whoever disputes a bill still open holds its payment back.
    kept = ~np.isin(pay_account * 16 + pay_cycle, (who * 16 + cycle_of)[~resolved])
    return BillingPlan(
        months=months,
        payments=PlannedPayments(
            pay_account[kept], pay_cycle[kept], pay_after[kept], pay_share[kept]
        ),
        disputes=PlannedDisputes(who, cycle_of, opened, resolved_after, credit, reasons),
        suspensions=suspensions,
    )


@dataclass
class ReplayReport:
    rated: list[RatingReport] = field(default_factory=list)
    billed: list[BillRunReport] = field(default_factory=list)
    payments: int = 0
    disputes: int = 0
    dunning_moves: int = 0
    #: Lines suspended at their customer's request.
    holds: int = 0


def _daily_runs(cron: str, timezone: str, first: date, last: date) -> list[datetime]:
    """When a daily job ("M H * * *") ran each day from first to last, in UTC.

    A cron that is not once a day at a fixed time counts as midnight: the demo only
    needs the day an account moved.
    """
    minute, hour = cron.split()[:2]
    at = time(int(hour), int(minute)) if minute.isdigit() and hour.isdigit() else time()
    zone = ZoneInfo(timezone)
    return [
        datetime.combine(first + timedelta(days=d), at, zone).astimezone(UTC)
        for d in range((last - first).days + 1)
    ]


class BillingReplay:
    """Replays a BillingPlan in the session's transaction, one event at a time, in order."""

    def __init__(
        self, session: Session, plan: BillingPlan, timeline: Timeline, settings: Settings
    ) -> None:
        self.session = session
        self.plan = plan
        self.timeline = timeline
        self.billing = settings.billing
        self.sla_hours = settings.tickets.sla_hours
        self.zone = ZoneInfo(settings.scheduler.timezone)
        self.unit = 10**settings.billing.minor_digits
        self.now = timeline.now_at
        self.report = ReplayReport()
        self._events: list[tuple[datetime, int, str, int]] = []
        self._order = itertools.count()  # same time: first planned, first done
        #: (cycle, account id) -> that cycle's invoice: (id, total).
        self._invoices: dict[tuple[int, int], tuple[int, int]] = {}
        self._tickets: dict[int, str] = {}
        self._accounts: dict[int, BillingAccount] = {}
        first = Timeline.bill_run_at(plan.months[0]).date()
        for at in _daily_runs(
            settings.scheduler.dunning_cron, settings.scheduler.timezone, first, timeline.as_of
        ):
            self._push(at, "dunning", 0)
        asks = plan.suspensions
        for i, t in enumerate(asks.at.tolist()):
            self._push(datetime.fromtimestamp(t, UTC), "hold", i)

    def _push(self, at: datetime, kind: str, index: int) -> None:
        if at < self.now:  # later than the data's now it has not happened
            heapq.heappush(self._events, (at, next(self._order), kind, index))

    def advance_to(self, until: datetime) -> None:
        """Everything planned before `until` happens, in time order."""
        while self._events and self._events[0][0] < until:
            at, _, kind, index = heapq.heappop(self._events)
            {
                "pay": self._pay,
                "open": self._open_dispute,
                "resolve": self._resolve_dispute,
                "dunning": self._dunning,
                "hold": self._hold,
            }[kind](at, index)

    def finish(self) -> ReplayReport:
        """Everything up to the data's now."""
        self.advance_to(self.now)
        self.session.flush()
        return self.report

    def bill(self, cycle: int) -> None:
        """Rate and bill a past month at its bill run's time, as the bill run did then."""
        month = self.plan.months[cycle]
        at = Timeline.bill_run_at(month)
        self.advance_to(at)
        self.session.flush()  # the bill run reads the adjustments written so far
        self.report.rated.append(rate_usage(self.session, month))
        self.report.billed.append(run_bill(self.session, month, self.billing, now=at))
        # Rating and the bill run write in bulk, behind the ORM's back: read the
        # accounts again, all at once, and keep them at hand for the payments.
        self.session.expire_all()
        self._accounts = {a.id: a for a in self.session.scalars(sa.select(BillingAccount))}
        rows = self.session.execute(
            sa.select(Invoice.billing_account_id, Invoice.id, Invoice.total_minor).where(
                Invoice.period_start == month.first_day
            )
        ).all()
        self._invoices.update(((cycle, a), (i, total)) for a, i, total in rows)
        p = self.plan.payments
        for i in np.flatnonzero(p.cycle == cycle).tolist():
            self._push(at + timedelta(seconds=int(p.after_s[i])), "pay", i)
        d = self.plan.disputes
        for i in np.flatnonzero(d.cycle == cycle).tolist():
            self._push(at + timedelta(seconds=int(d.opened_after_s[i])), "open", i)
            if d.resolved_after_s[i] >= 0:
                self._push(at + timedelta(seconds=int(d.resolved_after_s[i])), "resolve", i)

    def quiet_spans(self) -> QuietSpans:
        """The spans (epoch seconds) each line spent suspended, from its completed orders."""
        rows = self.session.execute(
            sa.select(ProductOrder.subscription_id, ProductOrder.action, ProductOrder.completed_at)
            .where(
                ProductOrder.state == OrderState.COMPLETED,
                ProductOrder.action.in_((OrderAction.SUSPEND, OrderAction.RESUME)),
            )
            .order_by(ProductOrder.completed_at, ProductOrder.id)
        ).all()
        since: dict[int, int] = {}
        spans: dict[int, list[tuple[int, int]]] = {}
        for sub, action, done in rows:
            if sub is None or done is None:
                continue
            t = int(done.timestamp())
            if action == OrderAction.SUSPEND:
                since.setdefault(sub, t)
            elif sub in since:
                spans.setdefault(sub, []).append((since.pop(sub), t))
        for sub, t in since.items():
            spans.setdefault(sub, []).append((t, FOREVER))
        return spans

    # -- what customers and the daily job did ------------------------------------------------

    def _pay(self, at: datetime, i: int) -> None:
        p = self.plan.payments
        account_id = int(p.account_id[i])
        billed = self._invoices.get((int(p.cycle[i]), account_id))
        if billed is None:
            return  # nothing was billed to the account that month
        share, total = float(p.share[i]), billed[1]
        # Whoever pays part of a bill pays a round amount.
        amount = total if share >= 1 else int(total * share) // self.unit * self.unit
        if amount <= 0:
            return
        account = self._accounts[account_id]
        self.report.payments += 1
        paid = record_payment(
            self.session,
            account,
            amount,
            reference=f"PAY{self.report.payments:09d}",
            method=account.payment_method,
            received_at=at,
            now=at,  # recorded as received, back then: the replay never reads the clock
        )
        if paid.cleared_dunning:
            self._provision_dunning_orders(at)

    def _open_dispute(self, at: datetime, i: int) -> None:
        d = self.plan.disputes
        billed = self._invoices.get((int(d.cycle[i]), int(d.account_id[i])))
        if billed is None:
            return
        ticket = open_dispute(
            self.session,
            self.session.get_one(Invoice, billed[0]),
            d.reason[i],
            actor=CARE_AGENT,
            sla_hours=self.sla_hours,
            now=at,
        )
        self._tickets[i] = ticket.ref
        self.report.disputes += 1

    def _resolve_dispute(self, at: datetime, i: int) -> None:
        ref = self._tickets.get(i)
        if ref is None:
            return
        d = self.plan.disputes
        invoice_id = self._invoices[(int(d.cycle[i]), int(d.account_id[i]))][0]
        # A goodwill credit on part of the monthly charges: the next bill, which carries
        # it, has those charges again, so it never comes to less than nothing.
        monthly = self.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(InvoiceLine.amount_minor), 0)).where(
                InvoiceLine.invoice_id == invoice_id, InvoiceLine.kind == LineKind.RECURRING
            )
        )
        credit = int(int(monthly or 0) * float(d.credit_share[i])) // self.unit * self.unit
        resolve_dispute(
            self.session,
            ref,
            "Goodwill credit on the monthly charges"
            if credit > 0
            else "Charges checked with the customer: they are right",
            credit_minor=max(credit, 0),
            actor=CARE_AGENT,
            now=at,
        )

    def _dunning(self, at: datetime, _: int) -> None:
        today = at.astimezone(self.zone).date()
        for move in dunning_moves(self.session, self.billing.dunning, today):
            apply_dunning(self.session, move, at)
            self.report.dunning_moves += 1
        self._provision_dunning_orders(at)

    def _hold(self, at: datetime, i: int) -> None:
        """A customer asks care to suspend their line: a suspend order says why."""
        asks = self.plan.suspensions
        sub = self.session.get_one(Subscription, int(asks.subscription_id[i]))
        if sub.state == SubscriptionState.SUSPENDED:
            # Suspended for debt meanwhile: the customer asks again the next day, once
            # paying has brought the line back (a time past the data's now never comes).
            self._push(at + timedelta(days=1), "hold", i)
            return
        if sub.state != SubscriptionState.ACTIVE:
            return
        order = request_suspension(
            self.session, sub.id, reason=asks.reason[i], requested_by=CARE_AGENT, now=at
        )
        if order.state == OrderState.IN_PROGRESS:
            self._provision([order.ref], at)
        self.report.holds += 1

    def _provision_dunning_orders(self, at: datetime) -> None:
        """Dunning's orders for fixed lines, done on their access ports back then."""
        self._provision(
            [
                o.ref
                for o in self.session.scalars(
                    sa.select(ProductOrder).where(
                        ProductOrder.requested_by == DUNNING_ACTOR,
                        ProductOrder.state == OrderState.IN_PROGRESS,
                        ProductOrder.fulfilment_started_at.is_(None),
                    )
                )
            ],
            at,
        )

    def _provision(self, refs: list[str], at: datetime) -> None:
        """Fixed lines' suspensions and resumptions, done on their access ports back then.

        A live system's provisioning worker does this minutes after the order; the
        seeded devices are not reachable, so history says it was done.
        """
        for ref in refs:
            claim_fulfilment(self.session, ref, now=at + timedelta(minutes=1))
            complete_order(self.session, ref, now=at + timedelta(minutes=5), tell=False)
