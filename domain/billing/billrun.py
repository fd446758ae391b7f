"""Bill run: one TMF678 invoice per billing account for a bill cycle (a calendar month).

Everything is read in a few set-based queries, priced in NumPy and written in bulk,
all in the caller's transaction: a failure leaves nothing half-written.

An invoice carries these lines (InvoiceLine.kind, service, quantity, description):

* recurring, no service: one per subscription active in the period (activated before
  its end, not terminated before its start, suspended lines included); the monthly
  fee prorated by the days of the month the line was active, counting the days of
  activation and termination; quantity is that share of the month (1.0 for all of it).
  "Postpaid 399 monthly charge" or "Postpaid 399 monthly charge, 22 of 31 days".
* one_off, no service: the offering's one-off fee for a line activated in the period;
  quantity 1. "Fibre 100 Mbps one-off fee".
* usage, with service: one per subscription x service x zone, roaming apart; the sum of
  the rated charges; quantity in billed units: minutes (voice), messages (SMS) or MB
  (data), for national usage at home only what lies beyond the allowance.
  "Voice national, 34 min beyond allowance", "Voice to Gulf/SAARC, 12 min",
  "Voice roaming to India, 8 min", "SMS to rest of world, 3 messages",
  "Data, 120 MB beyond allowance", "Data roaming, 120 MB". Lines that come to 0 are
  left out; every usage record of the period is still marked billed.
* adjustment, no service: each unbilled Adjustment of the account, quantity 1, its
  reason and reference as the description; it is then marked billed_invoice_id.

Tax is billing.tax_rate on each line, rounded (half away from zero) once per line; an
invoice's subtotal and tax are the sums of its lines and its total their sum. Invoices
are sent at once, due billing.payment_terms_days after issue, numbered
INV-YYYYMM-NNNNNNN (the invoice id), and add their total to the account's balance.
An account already invoiced for the period is skipped, so a re-run adds nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from domain.billing.choices import InvoiceState, LineKind
from domain.billing.models import invoice_number
from domain.billing.rating import (
    DATA,
    MB_UNIT,
    MEGABYTE,
    NATIONAL,
    SECOND,
    SERVICES,
    ZONES,
    Period,
    epoch_sql,
    in_period_sql,
    load_plans,
    period_bounds,
    read_usage,
    round_half_up,
    units_of,
)
from domain.bulk import (
    bulk_insert,
    column_by_id,
    fetch_columns,
    placeholder,
    write_by_id,
)
from domain.catalog.choices import ZONE_PLACES
from domain.config import BillingSettings
from domain.db import utcnow
from domain.errors import PolicyViolation

DAY = 86_400
_FAR = np.iinfo(np.int64).max // 4
#: Lines appear on an invoice in the order their kinds are declared.
_KIND_ORDER = {kind.value: rank for rank, kind in enumerate(LineKind)}


@dataclass(frozen=True)
class BillRunReport:
    """What one bill run did."""

    period: Period
    invoices: int
    #: Accounts that already had an invoice for the period.
    skipped: int
    lines: int
    usage_records: int
    adjustments: int
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    seconds: float
    #: Of those seconds: reading the month's usage, and marking it billed.
    reading_s: float = 0.0
    marking_s: float = 0.0


@dataclass
class _Lines:
    """Invoice lines as parallel lists, before they have invoices."""

    account: list[int]
    kind: list[str]
    description: list[str]
    subscription: list[int | None]
    service: list[str | None]
    quantity: list[float]
    amount: list[int]

    @classmethod
    def empty(cls) -> _Lines:
        return cls([], [], [], [], [], [], [])

    def add(
        self,
        account: np.ndarray,
        kind: LineKind,
        description: list[str],
        subscription: list[int | None],
        service: list[str | None],
        quantity: np.ndarray,
        amount: np.ndarray,
    ) -> None:
        self.account.extend(account.tolist())
        self.kind.extend([kind.value] * account.size)
        self.description.extend(d[:200] for d in description)
        self.subscription.extend(subscription)
        self.service.extend(service)
        self.quantity.extend(quantity.tolist())
        self.amount.extend(amount.tolist())


def _groups(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(key, return_inverse=True) for keys >= 0, without sorting when dense."""
    if key.size and key.max() < 4 * key.size:
        present = np.zeros(int(key.max()) + 1, dtype=bool)
        present[key] = True
        keys = np.flatnonzero(present)
        position = np.zeros(present.size, dtype=np.int64)
        position[keys] = np.arange(keys.size)
        return keys, position[key]
    keys, inverse = np.unique(key, return_inverse=True)
    return keys, inverse.reshape(-1)


def _date_param(conn: Connection, value: Any) -> Any:
    return value.isoformat() if conn.dialect.name == "sqlite" else value


def _time_param(conn: Connection, value: datetime) -> Any:
    if conn.dialect.name == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _quantity_text(q: float, unit: str) -> str:
    if unit in ("MB", "min"):
        return f"{q:,.0f} {unit}" if float(q).is_integer() else f"{q:,.1f} {unit}"
    return f"{q:,.0f} message{'' if q == 1 else 's'}"


def _usage_text(service: int, zone: int, roaming: bool, beyond: bool, q: float) -> str:
    unit = ("min", "messages", "MB")[service]
    qty = _quantity_text(q, unit)
    if service == DATA:
        return f"Data roaming, {qty}" if roaming else f"Data, {qty} beyond allowance"
    word = ("Voice", "SMS")[service]
    where = ZONE_PLACES[ZONES[zone]]
    if roaming:
        return f"{word} roaming to {where}, {qty}"
    if beyond:
        return f"{word} national, {qty} beyond allowance"
    return f"{word} to {where}, {qty}"


def _refuse_closed_or_empty(conn: Connection, period: Period, *, rerun: bool) -> None:
    """A period is billed in order: a first run for it is refused once a later period is
    invoiced (it is closed), and so is any run before a line was active (there is nothing
    to bill, and a bogus run would spend the credits meant for the next real invoice)."""
    (latest,) = conn.exec_driver_sql("SELECT MAX(period_start) FROM invoices").one()
    if latest is not None and not rerun:
        closed_by = Period.of(date.fromisoformat(str(latest)[:10]))
        if closed_by.first_day > period.first_day:
            raise PolicyViolation(
                f"{period} is closed: invoices for {closed_by} were issued already",
                hint=f"bill runs go in order; the next is --period {closed_by.next} once it "
                "is over (a charge or credit for an earlier month goes on it as an adjustment)",
            )
    (first,) = conn.exec_driver_sql(
        "SELECT MIN(activated_at) FROM subscriptions WHERE activated_at IS NOT NULL"
    ).one()
    if first is None:
        raise PolicyViolation(
            f"nothing to bill in {period}: no line has been activated yet",
            hint="bill runs invoice the lines of billing accounts; activate one first",
        )
    first_day = date.fromisoformat(str(first)[:10])
    if first_day > period.last_day:
        raise PolicyViolation(
            f"nothing to bill in {period}: the first line was activated on {first_day:%Y-%m-%d}",
            hint=f"the first bill cycle is --period {Period.of(first_day)}",
        )


def _adjustments_to_take(
    adj_account: np.ndarray,
    adj_amount: np.ndarray,
    line_account: list[int],
    line_amount: list[int],
) -> np.ndarray:
    """Which unbilled adjustments (oldest first) go on this run's invoices.

    Only an account invoiced for its charges takes adjustments (credits alone make no
    invoice), and never so many credits that its invoice goes below zero: a credit beyond
    the charges stays unbilled, whole, for the account's next invoice.
    """
    charged: dict[int, int] = {}
    for account, amount in zip(line_account, line_amount, strict=True):
        charged[account] = charged.get(account, 0) + amount
    take = []
    # One pass over the unbilled adjustments, a handful per account: not the usage.
    for i, (account, amount) in enumerate(
        zip(adj_account.tolist(), adj_amount.tolist(), strict=True)
    ):
        if account in charged and charged[account] + amount >= 0:
            charged[account] += amount
            take.append(i)
    return np.array(take, dtype=np.int64)


def run_bill(
    session: Session, period: Period, settings: BillingSettings, *, now: datetime | None = None
) -> BillRunReport:
    """Invoice every billing account not yet invoiced for the period."""
    started = time.perf_counter()
    now = now or utcnow()
    if period.end > now:
        raise PolicyViolation(
            f"{period} is not over yet: its bill run can start on {period.end:%Y-%m-%d}",
            hint=f"bill a finished month, e.g. --period {Period.of(now - timedelta(days=28))}",
        )
    conn = session.connection()
    mark = placeholder(conn)
    bounds = period_bounds(conn, period)
    (unrated,) = conn.exec_driver_sql(
        f"SELECT COUNT(*) FROM usage_records WHERE {in_period_sql(conn)} AND state = 'received'",
        tuple(bounds),
    ).one()
    if unrated:
        raise PolicyViolation(
            f"{unrated:,} usage records of {period} are not rated yet",
            hint=f"run `switchboard billing rate --period {period}` first "
            "(records a plan has no tariff for stay unrated: add the tariff)",
        )
    ps = _date_param(conn, period.first_day)
    done = np.array(
        conn.exec_driver_sql(
            f"SELECT billing_account_id FROM invoices WHERE period_start = {mark}", (ps,)
        )
        .scalars()
        .all(),
        dtype=np.int64,
    )
    skipped = int(done.size)
    _refuse_closed_or_empty(conn, period, rerun=bool(skipped))
    # A re-run invoices only accounts missed before, never one a later invoice has closed.
    later = conn.exec_driver_sql(
        f"SELECT DISTINCT billing_account_id FROM invoices WHERE period_start > {mark}", (ps,)
    )
    done = np.union1d(done, np.array(later.scalars().all(), dtype=np.int64))
    plans = load_plans(conn)
    start_s, end_s = int(period.start.timestamp()), int(period.end.timestamp())
    lines = _Lines.empty()

    # -- recurring and one-off fees ------------------------------------------------------
    off = fetch_columns(
        conn,
        "SELECT id, name, monthly_fee_minor, one_off_fee_minor FROM product_offerings ORDER BY id",
        (),
        4,
    )
    off_name = np.array(off[1], dtype=object)
    off_fee = np.array(off[2], dtype=np.int64)
    off_one_off = np.array(off[3], dtype=np.int64)
    subs = fetch_columns(
        conn,
        f"SELECT id, billing_account_id, offering_id, {epoch_sql(conn, 'activated_at')}, "
        f"COALESCE({epoch_sql(conn, 'terminated_at')}, {_FAR}) FROM subscriptions "
        f"WHERE activated_at IS NOT NULL AND activated_at < {mark} "
        f"AND (terminated_at IS NULL OR terminated_at > {mark}) ORDER BY id",
        (_time_param(conn, period.end), _time_param(conn, period.start)),
        5,
    )
    sub_id = np.array(subs[0], dtype=np.int64)
    sub_acc = np.array(subs[1], dtype=np.int64)
    keep = ~np.isin(sub_acc, done)
    sub_id, sub_acc = sub_id[keep], sub_acc[keep]
    sub_off = plans.position(np.array(subs[2], dtype=np.int64)[keep])
    act = np.array(subs[3], dtype=np.int64)[keep]
    term = np.array(subs[4], dtype=np.int64)[keep]
    first = (np.maximum(act, start_s) - start_s) // DAY
    last = (np.minimum(term, end_s) - 1 - start_s) // DAY
    days = last - first + 1
    fee = off_fee[sub_off]
    charged = np.flatnonzero(fee > 0)
    whole = days[charged] == period.days
    lines.add(
        sub_acc[charged],
        LineKind.RECURRING,
        [
            f"{name} monthly charge" if w else f"{name} monthly charge, {d} of {period.days} days"
            for name, w, d in zip(
                off_name[sub_off[charged]], whole, days[charged].tolist(), strict=True
            )
        ],
        sub_id[charged].tolist(),
        [None] * charged.size,
        np.round(days[charged] / period.days, 4),
        round_half_up(fee[charged] * days[charged], period.days),
    )
    new = np.flatnonzero((act >= start_s) & (off_one_off[sub_off] > 0))
    lines.add(
        sub_acc[new],
        LineKind.ONE_OFF,
        [f"{name} one-off fee" for name in off_name[sub_off[new]]],
        sub_id[new].tolist(),
        [None] * new.size,
        np.ones(new.size),
        off_one_off[sub_off[new]],
    )

    # -- usage ----------------------------------------------------------------------------
    read_at = time.perf_counter()
    usage, (_, _, charge) = read_usage(conn, period, plans, states="'rated'", stored_zone=True)
    reading_s = time.perf_counter() - read_at
    account_of = column_by_id(conn, "subscriptions", "billing_account_id")
    rec_acc = account_of[usage.subscription_id]
    p = units_of(usage, plans)
    mine = np.flatnonzero(~np.isin(rec_acc, done))
    if mine.size:
        unit = p.unit[mine]
        units = p.units[mine].astype(np.float64)
        shown = np.where(
            unit == SECOND, units / 60, np.where(unit == MB_UNIT, units / MEGABYTE, units)
        )
        # One line per subscription x service x zone x roaming, as one sortable integer.
        key = (
            (usage.subscription_id[mine] * 4 + usage.service[mine]) * 8 + usage.zone[mine]
        ) * 2 + usage.roaming[mine]
        keys, inverse = _groups(key)
        amount = np.bincount(inverse, weights=charge[mine], minlength=keys.size)
        amount = np.rint(amount).astype(np.int64)
        qty = np.bincount(inverse, weights=shown, minlength=keys.size)
        k_sub, k_svc = keys // 64, keys // 16 % 4
        k_zone, k_roam = keys // 2 % 8, keys % 2
        # Every record of a subscription has its offering: one table from the records.
        offering_of = np.zeros(int(k_sub.max()) + 1, dtype=np.int64)
        offering_of[usage.subscription_id[mine]] = usage.offering[mine]
        k_off = offering_of[k_sub]
        beyond = (k_zone == NATIONAL) & (k_roam == 0)
        allowance = plans.allowance[k_off, k_svc].astype(np.float64)
        qty = np.where(beyond, np.maximum(qty - allowance, 0), qty)
        qty = np.round(qty, 2)
        billed = np.flatnonzero(amount != 0)
        lines.add(
            account_of[k_sub[billed]],
            LineKind.USAGE,
            [
                _usage_text(s, z, bool(r), bool(b), q)
                for s, z, r, b, q in zip(
                    k_svc[billed].tolist(),
                    k_zone[billed].tolist(),
                    k_roam[billed].tolist(),
                    beyond[billed].tolist(),
                    qty[billed].tolist(),
                    strict=True,
                )
            ],
            k_sub[billed].tolist(),
            [SERVICES[s].value for s in k_svc[billed].tolist()],
            qty[billed],
            amount[billed],
        )

    # -- adjustments ----------------------------------------------------------------------
    adj = fetch_columns(
        conn,
        "SELECT id, billing_account_id, amount_minor, reason FROM adjustments "
        "WHERE billed_invoice_id IS NULL ORDER BY id",
        (),
        4,
    )
    adj_id = np.array(adj[0], dtype=np.int64)
    adj_acc = np.array(adj[1], dtype=np.int64)
    take = _adjustments_to_take(
        adj_acc, np.array(adj[2], dtype=np.int64), lines.account, lines.amount
    )
    lines.add(
        adj_acc[take],
        LineKind.ADJUSTMENT,
        [f"{adj[3][i]} (ADJ-{adj[0][i]})" for i in take.tolist()],
        [None] * take.size,
        [None] * take.size,
        np.ones(take.size),
        np.array(adj[2], dtype=np.int64)[take],
    )

    # -- invoices ---------------------------------------------------------------------------
    n_lines = len(lines.account)
    line_acc = np.array(lines.account, dtype=np.int64)
    line_amount = np.array(lines.amount, dtype=np.int64)
    rate_ppm = round(settings.tax_rate * 1_000_000)
    line_tax = round_half_up(line_amount * rate_ppm, 1_000_000)
    kind_rank = np.array([_KIND_ORDER[k] for k in lines.kind], dtype=np.int64)
    line_sub = np.array([s or 0 for s in lines.subscription], dtype=np.int64)
    order = np.lexsort((np.arange(n_lines), line_sub, kind_rank, line_acc))
    accounts, line_inv = np.unique(line_acc, return_inverse=True)
    subtotal = np.bincount(line_inv, weights=line_amount, minlength=accounts.size)
    tax = np.bincount(line_inv, weights=line_tax, minlength=accounts.size)
    subtotal, tax = np.rint(subtotal).astype(np.int64), np.rint(tax).astype(np.int64)
    (max_id,) = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM invoices").one()
    first_id = int(max_id) + 1
    inv_ids = first_id + np.arange(accounts.size, dtype=np.int64)
    issued = now
    due = issued.date() + timedelta(days=settings.payment_terms_days)
    if accounts.size:
        bulk_insert(
            conn,
            "invoices",
            (
                "id",
                "number",
                "billing_account_id",
                "period_start",
                "period_end",
                "issued_at",
                "due_date",
                "state",
                "subtotal_minor",
                "tax_minor",
                "total_minor",
                "paid_minor",
                "disputed",
            ),
            zip(
                inv_ids.tolist(),
                [invoice_number(period.first_day, i) for i in inv_ids.tolist()],
                accounts.tolist(),
                [ps] * accounts.size,
                [_date_param(conn, period.last_day)] * accounts.size,
                [_time_param(conn, issued)] * accounts.size,
                [_date_param(conn, due)] * accounts.size,
                [InvoiceState.SENT.value] * accounts.size,
                subtotal.tolist(),
                tax.tolist(),
                (subtotal + tax).tolist(),
                [0] * accounts.size,
                [False] * accounts.size,
                strict=True,
            ),
        )
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('invoices', 'id'), MAX(id)) FROM invoices"
            )
        o = order.tolist()
        bulk_insert(
            conn,
            "invoice_lines",
            (
                "invoice_id",
                "kind",
                "description",
                "subscription_id",
                "service",
                "quantity",
                "amount_minor",
                "tax_minor",
            ),
            zip(
                inv_ids[line_inv[order]].tolist(),
                [lines.kind[i] for i in o],
                [lines.description[i] for i in o],
                [lines.subscription[i] for i in o],
                [lines.service[i] for i in o],
                [float(lines.quantity[i]) for i in o],
                line_amount[order].tolist(),
                line_tax[order].tolist(),
                strict=True,
            ),
        )
    # Every record read of an account invoiced now is billed on its invoice.
    invoice_of = np.zeros(
        max(int(rec_acc.max(initial=0)), int(accounts.max(initial=0))) + 1, dtype=np.int64
    )
    invoice_of[accounts] = inv_ids
    rec_invoice = invoice_of[rec_acc]
    invoiced = np.flatnonzero(rec_invoice)
    mark_at = time.perf_counter()
    marked = write_by_id(
        conn,
        "usage_records",
        usage.id[invoiced],
        rec_invoice[invoiced],
        "state = 'billed', invoice_id = {v}",
    )
    marking_s = time.perf_counter() - mark_at
    # The adjustments taken are billed on their account's invoice; the others carry on.
    carried = write_by_id(
        conn, "adjustments", adj_id[take], invoice_of[adj_acc[take]], "billed_invoice_id = {v}"
    )
    if accounts.size:
        conn.exec_driver_sql(
            "UPDATE billing_accounts SET balance_minor = balance_minor + i.total_minor "
            "FROM invoices i WHERE i.billing_account_id = billing_accounts.id "
            f"AND i.period_start = {mark} AND i.id >= {mark}",
            (ps, first_id),
        )
    return BillRunReport(
        period=period,
        invoices=int(accounts.size),
        skipped=skipped,
        lines=n_lines,
        usage_records=marked,
        adjustments=carried,
        subtotal_minor=int(subtotal.sum()),
        tax_minor=int(tax.sum()),
        total_minor=int((subtotal + tax).sum()),
        seconds=time.perf_counter() - started,
        reading_s=reading_s,
        marking_s=marking_s,
    )
