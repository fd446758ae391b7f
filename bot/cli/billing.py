"""`switchboard billing rate|run|payments|dunning`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot.cli.base import Parser, Subcommands, add_command, as_of, database_url, err, out
from domain.config import Settings
from domain.db import Database
from domain.errors import DomainError
from domain.money import money


@contextmanager
def _billing_lock(db: Database) -> Iterator[None]:
    """One rating or bill run at a time, across processes and replicas."""
    with db.hold("billing") as held:
        if not held:
            raise DomainError(
                "another rating or bill run is going on", hint="wait for it to finish, then retry"
            )
        yield


def cmd_billing_rate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import open_database
    from domain.billing.rating import Period, periods_to_rate, rate_usage

    period = Period.parse(args.period) if args.period else None
    db = open_database(settings, database_url(args, settings))
    try:
        if period is None:
            with db.read() as session:
                periods = periods_to_rate(session)
            if not periods:
                out.print("nothing to rate: no usage record is in state received")
                return 0
        else:
            periods = [period]
        for p in periods:
            with _billing_lock(db), out.status(f"rating {p}"), db.transaction() as session:
                r = rate_usage(session, p)
            out.print(
                f"{r.period}: {r.records:,} records, {r.rated:,} rated ({r.changed:,} changed, "
                f"{r.already_billed:,} already billed, {r.no_tariff:,} without a tariff), "
                f"charges {money(r.charge_minor, settings.billing)}, {r.seconds:.1f} s "
                f"({r.per_second:,.0f} records/s)"
            )
            if r.no_tariff:
                err.print(
                    f"warning: {r.no_tariff:,} records of {r.period} stay received: their plan "
                    "has no tariff for their service and zone"
                )
    finally:
        db.dispose()
    return 0


def cmd_billing_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import open_database
    from domain.billing.billrun import run_bill
    from domain.billing.rating import Period

    period = Period.parse(args.period)
    db = open_database(settings, database_url(args, settings))
    try:
        with _billing_lock(db), out.status(f"bill run {period}"), db.transaction() as session:
            r = run_bill(session, period, settings.billing)
    finally:
        db.dispose()
    out.print(
        f"{r.period}: {r.invoices:,} invoices ({r.skipped:,} accounts already invoiced), "
        f"{r.lines:,} lines, {r.usage_records:,} usage records and {r.adjustments:,} "
        f"adjustments billed; total {money(r.total_minor, settings.billing)} "
        f"(tax {money(r.tax_minor, settings.billing)}), {r.seconds:.1f} s"
    )
    return 0


def cmd_billing_payments(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import open_database
    from domain.billing.services import import_payments

    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DomainError(
            f"cannot read {args.file}: {exc.strerror}", hint="give the path of a CSV file"
        ) from None
    except UnicodeDecodeError:
        raise DomainError(
            f"{args.file} is not UTF-8 text", hint="save the file as CSV, UTF-8"
        ) from None
    db = open_database(settings, database_url(args, settings))
    try:
        r = import_payments(db, text, settings.billing)
    finally:
        db.dispose()
    out.print(
        f"{r.recorded:,} payment(s) recorded, {money(r.total_minor, settings.billing)}; "
        f"{r.duplicates:,} already recorded; {len(r.skipped):,} line(s) skipped"
    )
    for line in r.skipped:
        err.print(f"  {line}")
    return 1 if r.skipped else 0


def cmd_billing_dunning(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import open_database
    from domain.billing.services import apply_dunning, dunning_moves

    today = args.as_of or datetime.now(UTC).date()
    now = datetime.combine(today, datetime.min.time(), UTC).replace(hour=6)
    db = open_database(settings, database_url(args, settings))
    try:
        with db.read() as session:
            moves = dunning_moves(session, settings.billing.dunning, today)
        for move in moves:
            with db.transaction() as session:
                orders = apply_dunning(session, move, now)
            tail = f" (orders {', '.join(orders)})" if orders else ""
            out.print(
                f"{move.account}: {move.before} -> {move.after}, "
                f"{move.days_overdue} days overdue{tail}"
            )
    finally:
        db.dispose()
    out.print(f"{len(moves):,} account(s) moved on {today:%Y-%m-%d}")
    return 0


def register(sub: Subcommands) -> None:
    bl = add_command(sub, "billing", lambda a, s: 0, "rating and bill runs")
    bls = bl.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    bls.required = True
    br = bls.add_parser("rate", help="rate received usage against the plans' tariffs")
    br.set_defaults(handler=cmd_billing_rate)
    br.add_argument(
        "--period", help="the bill cycle, YYYY-MM (default: every one with received usage)"
    )
    br.add_argument("--database", help="database URL (default: the configured one)")
    bu = bls.add_parser("run", help="invoice every billing account for a bill cycle")
    bu.set_defaults(handler=cmd_billing_run)
    bu.add_argument("--period", required=True, help="the bill cycle, YYYY-MM")
    bu.add_argument("--database", help="database URL (default: the configured one)")
    bp = bls.add_parser("payments", help="record a CSV file of payments, oldest invoice first")
    bp.set_defaults(handler=cmd_billing_payments)
    bp.add_argument("file", help="CSV with reference,account,amount,received_at,method")
    bp.add_argument("--database", help="database URL (default: the configured one)")
    bd = bls.add_parser("dunning", help="move overdue accounts through the dunning steps")
    bd.set_defaults(handler=cmd_billing_dunning)
    bd.add_argument("--as-of", type=as_of, help="the day to evaluate (default: today, UTC)")
    bd.add_argument("--database", help="database URL (default: the configured one)")
