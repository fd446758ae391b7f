"""`switchboard billing rate|run|payments|dunning`.

`billing payments FILE` records a payment file all or nothing: one refused row (named by
its row number, the header being row 1) refuses the file and stores none of it.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from bot.cli.base import Parser, Subcommands, add_command, as_of, database_url, err, out
from domain.config import Settings
from domain.errors import DomainError
from domain.money import money


def cmd_billing_rate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import open_database
    from domain.billing.rating import Period
    from domain.billing.runs import periods_with_received_usage, rate_period

    period = Period.parse(args.period) if args.period else None
    db = open_database(settings, database_url(args, settings))
    try:
        periods = [period] if period else periods_with_received_usage(db)
        if not periods:
            out.print("nothing to rate: no usage record is in state received")
            return 0
        for p in periods:
            with out.status(f"rating {p}"):
                r = rate_period(db, p)
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
    from domain.billing.rating import Period
    from domain.billing.runs import bill_period

    period = Period.parse(args.period)
    db = open_database(settings, database_url(args, settings))
    try:
        with out.status(f"bill run {period}"):
            r = bill_period(db, period, settings.billing)
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
    from domain.billing.services import PAYMENT_COLUMNS, import_payments
    from domain.csvfiles import read_csv_text

    # Checked before it is read whole: UTF-8 (the row and column of a bad byte), rows
    # of at most 64 KiB, quotes closed.
    text = read_csv_text(args.file, multiline=True, hint=",".join(PAYMENT_COLUMNS))
    db = open_database(settings, database_url(args, settings))
    try:
        r = import_payments(db, text, settings.billing, name=args.file)
    finally:
        db.dispose()
    if r.refused:
        err.print(
            f"error: {args.file} refused, nothing of it was recorded: "
            f"{len(r.refused):,} row(s) have a problem (the header is row 1)",
            markup=False,
        )
        for line in r.refused:
            err.print(f"  {line}", markup=False)
        err.print("hint: fix those rows and import the whole file again", markup=False)
        return 1
    out.print(
        f"{r.recorded:,} payment(s) recorded, {money(r.total_minor, settings.billing)}; "
        f"{r.duplicates:,} already recorded"
    )
    return 0


def cmd_billing_dunning(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import open_database
    from domain.billing.runs import business_day, run_dunning

    tz = ZoneInfo(settings.billing.timezone)
    today = business_day(datetime.now(UTC), settings.billing.timezone)
    if args.as_of and args.as_of > today:
        raise DomainError(
            f"{args.as_of:%Y-%m-%d} has not come yet in {tz.key} (today is {today:%Y-%m-%d})",
            hint="dunning judges what is overdue on a day that has begun; leave out --as-of",
        )
    if args.as_of:  # evaluated as the scheduled job would be that morning
        hour, minute = _cron_time(settings.scheduler.dunning_cron)
        now = datetime.combine(args.as_of, time(hour, minute), tz).astimezone(UTC)
    else:
        now = datetime.now(UTC)
    day = business_day(now, settings.billing.timezone)
    db = open_database(settings, database_url(args, settings))
    try:
        run = run_dunning(db, settings.billing.dunning, day, now=now)
    finally:
        db.dispose()
    for o in run.moved:
        out.print(o.describe(), markup=False)
    for o in run.failed:
        err.print(f"error: {o.describe()}", markup=False)
    failed = f"; {len(run.failed):,} could not move (see above)" if run.failed else ""
    out.print(f"{len(run.moved):,} account(s) moved on {day:%Y-%m-%d} ({tz.key}){failed}")
    return 1 if run.failed else 0


def _cron_time(cron: str) -> tuple[int, int]:
    """The hour and minute a daily cron line names (06:00 when it names several)."""
    minute, hour = cron.split()[:2]
    if minute.isdigit() and hour.isdigit():
        return int(hour), int(minute)
    return 6, 0


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
    bp = bls.add_parser(
        "payments", help="record a CSV file of payments, oldest invoice first; all rows or none"
    )
    bp.set_defaults(handler=cmd_billing_payments)
    bp.add_argument("file", help="CSV with reference,account,amount,received_at,method")
    bp.add_argument("--database", help="database URL (default: the configured one)")
    bd = bls.add_parser("dunning", help="move overdue accounts through the dunning steps")
    bd.set_defaults(handler=cmd_billing_dunning)
    bd.add_argument(
        "--as-of", type=as_of, help="the day to evaluate (default: today in billing.timezone)"
    )
    bd.add_argument("--database", help="database URL (default: the configured one)")
