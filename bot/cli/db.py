"""`switchboard seed` and `switchboard db upgrade|current`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from rich.table import Table

from bot.cli.base import Parser, Subcommands, add_command, as_of, database_url, out, seed_number
from domain.config import Settings


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from domain.db import Database
    from domain.migrate import upgrade

    db = Database(database_url(args, settings))
    try:
        before, after = upgrade(db)
    finally:
        db.dispose()
    if before == after:
        out.print(f"{db!r} is up to date (revision {after})")
    else:
        out.print(f"{db!r} upgraded from {before or 'empty'} to {after}")
    return 0


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    from domain.db import Database
    from domain.migrate import current_revision, head_revision

    db = Database(database_url(args, settings))
    try:
        current = current_revision(db)
    finally:
        db.dispose()
    head = head_revision()
    state = "up to date" if current == head else f"behind (head is {head})"
    out.print(f"{db!r}: revision {current or 'none'}, {state}")
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from domain.db import Database
    from domain.demo.seed import scale_named, seed
    from domain.demo.timeline import latest_as_of

    scale = scale_named(args.scale)
    db = Database(database_url(args, settings))
    try:
        with out.status(f"seeding {scale.name} data into {db!r}") as status:
            report = seed(
                db,
                scale,
                seed=args.seed,
                as_of=args.as_of or latest_as_of(datetime.now(UTC)),
                settings=settings,
                reset=args.reset,
                progress=lambda t, n: status.update(f"seeding {t}: {n:,} rows"),
            )
    finally:
        db.dispose()
    table = Table(
        title=f"Seeded {db!r}: scale {report.scale}, seed {report.seed}, as of {report.as_of}"
    )
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in report.counts.items():
        table.add_row(name, f"{count:,}")
    out.print(table)
    out.print(
        f"{report.rows:,} rows in {report.seconds:.1f} s "
        f"({report.rows / max(report.load_s, 1e-9):,.0f} rows/s loading; "
        f"generation {report.generate_s:.1f} s)"
    )
    return 0


def register(sub: Subcommands) -> None:
    s = add_command(sub, "seed", cmd_seed, "fill the database with generated demo data")
    s.add_argument("--scale", default="demo", help="demo (default) or large")
    s.add_argument("--seed", type=seed_number, default=42, help="random seed (default 42)")
    s.add_argument("--database", help="database URL (default: the configured one)")
    s.add_argument(
        "--as-of",
        type=as_of,
        help="the data's 'today' (default: the latest whose 10:00 UTC has come)",
    )
    s.add_argument("--reset", action="store_true", help="replace data already there")

    db = add_command(sub, "db", lambda a, s: 0, "database schema")
    dbs = db.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    dbs.required = True
    u = dbs.add_parser("upgrade", help="apply migrations up to the newest")
    u.set_defaults(handler=cmd_db_upgrade)
    u.add_argument("--database", help="database URL (default: the configured one)")
    cur = dbs.add_parser("current", help="show the schema revision")
    cur.set_defaults(handler=cmd_db_current)
    cur.add_argument("--database", help="database URL (default: the configured one)")
