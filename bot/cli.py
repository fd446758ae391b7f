"""The `switchboard` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from rich.console import Console
from rich.table import Table

from domain.config import ConfigError, Settings, load_settings, resolve_database_url
from domain.db import Database, safe_url
from domain.errors import DomainError
from domain.money import money

if TYPE_CHECKING:
    from automation.lab.control import LabStatus
    from models.fraud.usage_csv import BadLines

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Handler = Callable[[argparse.Namespace, Settings], int]


class UsageError(Exception):
    """A command line the parser refuses; shown as one line with a hint."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _seed_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the seed must be 0 or more")
    return value


# -- commands ---------------------------------------------------------------------------


def cmd_config_check(args: argparse.Namespace, settings: Settings) -> int:
    out.print(f"OK: {settings.source}")
    out.print(f"  database  {safe_url(settings.database_url)}")
    out.print(
        f"  slack     {'Socket Mode' if settings.slack.socket_mode else 'HTTP'}, "
        f"API {settings.slack.api_url}"
    )
    out.print(f"  users     {', '.join(sorted(settings.users)) or '(none)'}")
    out.print(f"  digests   {', '.join(d.name for d in settings.digests) or '(none)'}")
    return 0


def cmd_config_reference(args: argparse.Namespace, settings: Settings) -> int:
    from bot.config_reference import reference

    print(reference(), end="")
    return 0


def _database_url(args: argparse.Namespace, settings: Settings) -> str:
    if getattr(args, "database", None):
        return resolve_database_url(args.database, settings.source.parent)
    return settings.database_url


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from domain.db import Database
    from domain.migrate import upgrade

    db = Database(_database_url(args, settings))
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

    db = Database(_database_url(args, settings))
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

    scale = scale_named(args.scale)
    db = Database(_database_url(args, settings))
    try:
        with out.status(f"seeding {scale.name} data into {db!r}") as status:
            report = seed(
                db,
                scale,
                seed=args.seed,
                as_of=args.as_of or datetime.now(UTC).date(),
                lab_base_port=settings.devices.lab.base_port,
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


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap
    from bot.console import repl
    from domain.demo.seed import is_empty, scale_named, seed

    sb = bootstrap(settings)
    try:
        if is_empty(sb.db):
            with out.status("seeding the demo data (first run only)"):
                report = seed(
                    sb.db,
                    scale_named("demo"),
                    seed=args.seed,
                    as_of=datetime.now(UTC).date(),
                    lab_base_port=settings.devices.lab.base_port,
                )
            out.print(f"Seeded {report.rows:,} rows in {report.seconds:.1f} s into {sb.db!r}")
            _bring_to_life(sb, out)
        else:
            out.print(f"Using the data already in {sb.db!r}")
        from automation.lab import control

        with out.status("starting the device lab"):
            lab = control.start_background(settings, sb.db)
        out.print(
            f"Device lab: {sum(up for _, up in lab.devices)} devices answer SSH on 127.0.0.1 "
            "(`switchboard lab status`, `switchboard lab stop`). "
            f"Users: {', '.join(sorted(settings.users))}; switch with "
            "`switchboard console --as NAME`."
        )
        return repl(sb, sb.access.user(args.user), out)
    finally:
        sb.close()


def _bring_to_life(sb: Any, console: Console) -> None:
    """After seeding: rate the usage, bill the months that are over, score fraud once."""
    from domain.billing.billrun import run_bill
    from domain.billing.rating import periods_to_rate, rate_usage
    from models.fraud import ModelMissing
    from skills.fraud import score_and_open

    now = datetime.now(UTC)
    with sb.db.read() as session:
        periods = periods_to_rate(session)
    for period in periods:
        with console.status(f"rating {period}"), sb.db.transaction() as session:
            rated = rate_usage(session, period)
        console.print(f"Rated {rated.rated:,} usage records of {period}")
        if period.next.first_day <= now.date():  # the month is over: bill it
            with console.status(f"bill run {period}"), sb.db.transaction() as session:
                bill = run_bill(session, period, sb.settings.billing)
            console.print(f"Billed {period}: {bill.invoices:,} invoices")
    try:
        cases = score_and_open(sb.db, sb.settings, now)
    except ModelMissing:
        console.print("No fraud model yet (`switchboard fraud train`); fraud scoring skipped")
    else:
        console.print(f"Fraud scoring opened {len(cases)} case(s) (`/fraud cases` as erin)")


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap
    from bot.console import repl

    sb = bootstrap(settings)
    try:
        return repl(sb, sb.access.user(args.user), out)
    finally:
        sb.close()


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from bot.bootstrap import bootstrap
    from bot.render.terminal import render

    sb = bootstrap(settings)
    try:
        reply = sb.router.handle(sb.access.user(args.user), args.text, source="chat")
    finally:
        sb.close()
    if args.json:
        print(json.dumps(reply.to_json(), ensure_ascii=False, indent=2))
    else:
        render(reply, out)
    return 0 if reply.ok else 1


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import open_database
    from domain.audit.services import verify_chain

    db = open_database(settings)
    try:
        with db.read() as session:
            check = verify_chain(session)
    finally:
        db.dispose()
    if check.intact:
        out.print(f"OK: {check.events:,} audit events, the chain is intact")
        return 0
    err.print(f"audit event {check.first_broken} is broken: {check.reason}")
    err.print("hint: restore the audit table from a backup; rows after it cannot be trusted")
    return 1


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    from bot.bootstrap import bootstrap
    from bot.server import build_service, server

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    host, port = settings.server.host, args.port or settings.server.port
    processes = settings.server.processes
    sb = bootstrap(settings)  # migrations run once, here, before any process serves
    if processes > 1:
        import os

        import uvicorn

        sb.close()
        os.environ["SWITCHBOARD_CONFIG"] = str(settings.source)
        out.print(f"Switchboard serving on http://{host}:{port} with {processes} processes")
        uvicorn.run(
            "bot.server:asgi_from_environment",
            factory=True,
            workers=processes,
            host=host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=int(settings.server.shutdown_grace_s) + 5,
        )
        return 0
    for ref, devices in sb.interrupted:
        err.print(
            f"{ref} was cut off by a restart and is marked interrupted; "
            f"check {', '.join(devices) or 'its devices'}"
        )
    try:
        service = build_service(sb)
        mode = (
            "Socket Mode"
            if settings.slack.socket_mode
            else f"HTTP at http://{host}:{port}/slack/events"
        )
        out.print(
            f"Switchboard serving Slack ({mode}); /healthz and /metrics on http://{host}:{port}"
        )
        server(service, host=host, port=port).run()
    finally:
        sb.close()
    return 0


def cmd_slack_manifest(args: argparse.Namespace, settings: Settings) -> int:
    import json

    import yaml

    from bot.bootstrap import load_skills
    from bot.slack.manifest import manifest

    data = manifest(load_skills(), url=args.url, socket_mode=settings.slack.socket_mode)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="")
    return 0


def _lab_table(st: LabStatus) -> Table:
    table = Table(title=f"Device lab: {'running, pid ' + str(st.pid) if st.running else 'stopped'}")
    for col in ("device", "platform", "address", "answers"):
        table.add_column(col)
    for device, up in st.devices:
        table.add_row(
            device.hostname, device.platform, f"127.0.0.1:{device.port}", "yes" if up else "no"
        )
    return table


def cmd_lab(args: argparse.Namespace, settings: Settings) -> int:
    from automation.lab import control
    from bot.bootstrap import open_database

    if args.action == "stop":
        stopped = control.stop_background(settings)
        out.print("lab stopped" if stopped else "the lab was not running")
        return 0
    db = open_database(settings)
    try:
        if args.action == "run":
            control.run_foreground(settings, db)
            return 0
        if args.action == "start":
            with out.status("starting the device lab"):
                st = control.start_background(settings, db)
        else:
            st = control.status(settings, db)
    finally:
        db.dispose()
    out.print(_lab_table(st))
    if args.action == "status" and not all(up for _, up in st.devices):
        return 1
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bench import run_benchmarks

    return run_benchmarks(settings, scale=args.scale, only=args.only, out=out)


# -- fraud ------------------------------------------------------------------------------


def _report_bad(bad: BadLines) -> None:
    if bad.count:
        for line in bad.describe():
            err.print(f"skipped: {line}", markup=False)
        err.print(f"skipped {bad.count:,} bad lines in {bad.path} (see above)", markup=False)


def _fraud_data(args: argparse.Namespace, settings: Settings) -> tuple[Any, Any, str]:
    """(usage frame, labels, description) from the source the arguments name."""
    import polars as pl

    from models.fraud import (
        BadLines,
        labels_from_db,
        read_labels_csv,
        read_usage_csv,
        usage_from_db,
    )
    from models.fraud.synthetic import synthetic_usage

    if args.input:
        if not args.labels:
            raise DomainError(
                "--input needs --labels",
                hint="labels.csv: subscriber,kind,since per fraudulent line",
            )
        bad = BadLines(args.input)
        frames = list(read_usage_csv(args.input, bad))
        _report_bad(bad)
        if not frames:
            raise DomainError(f"{args.input} holds no usable records", hint="check the file")
        return pl.concat(frames), read_labels_csv(args.labels), f"{args.input} + {args.labels}"
    if args.from_db:
        from bot.bootstrap import open_database

        db = open_database(settings)
        try:
            frames = list(usage_from_db(db))
            labels = labels_from_db(db)
        finally:
            db.dispose()
        if not frames:
            raise DomainError(
                "the database holds no usage records", hint="seed it first: switchboard seed"
            )
        return pl.concat(frames), labels, f"database {db!r}"
    frame, labels = synthetic_usage(args.lines, args.seed)
    return frame, labels, f"synthetic demo usage, {args.lines:,} lines, seed {args.seed}"


def cmd_fraud_train(args: argparse.Namespace, settings: Settings) -> int:
    from models.fraud import has_model, save_model, train

    model_dir = settings.resolve_path(settings.fraud.model_dir)
    if args.if_missing and has_model(model_dir):
        out.print(f"a fraud model is already in {model_dir}; keeping it")
        return 0
    with out.status("reading the training data"):
        frame, labels, source = _fraud_data(args, settings)
    with out.status(f"training on {frame.height:,} records"):
        trained = train(
            frame, labels, threshold=settings.fraud.threshold, source=source, seed=args.seed
        )
        path = save_model(trained, model_dir)
    out.print(f"fraud model {trained.version} written to {path} (model card beside it)")
    for name, m in trained.metrics.items():
        out.print(f"{name}:")
        for line in m.lines_of_text():
            out.print(f"  {line}", markup=False)
    return 0


def cmd_fraud_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    import numpy as np

    from models.fraud import load_model
    from models.fraud.model import NORMAL
    from models.fraud.training import evaluate, feature_rows

    trained = load_model(settings.resolve_path(settings.fraud.model_dir))
    with out.status("reading the evaluation data"):
        frame, labels, source = _fraud_data(args, settings)
    if "is_fraud" in labels.columns:
        labels = labels.filter(labels["is_fraud"])
    X, kinds, subs = feature_rows(frame, labels, (args.window_days,))
    held_out = ~np.isin(subs, list(trained.train_subscribers))
    if not (kinds[held_out] != NORMAL).any():
        raise DomainError(
            "no held-out fraudulent line in this data",
            hint="evaluate on data the model was not trained on, with fraud labels",
        )
    m = evaluate(trained.model, X[held_out], kinds[held_out])
    window = f"last {args.window_days} days" if args.window_days else "whole window"
    out.print(
        f"fraud model {trained.version} on {source}: {int(held_out.sum()):,} held-out lines "
        f"(split by subscriber), {window}"
    )
    for line in m.lines_of_text():
        out.print(f"  {line}", markup=False)
    return 0


def cmd_fraud_score(args: argparse.Namespace, settings: Settings) -> int:
    import time

    import polars as pl

    from models.fraud import BadLines, load_model, read_usage_csv, score_frame

    trained = load_model(settings.resolve_path(settings.fraud.model_dir))
    bad = BadLines(args.input)
    started = time.perf_counter()
    scores = score_frame(trained, read_usage_csv(args.input, bad))
    _report_bad(bad)
    if scores.height == 0:
        raise DomainError(
            f"{args.input} holds no usable records",
            hint="see the skipped lines above" if bad.count else "the file has a header only",
        )
    table = scores.select(
        "subscriber",
        pl.col("score").round(4),
        pl.col("flagged").cast(pl.Int8),
        reasons=pl.col("reasons").list.join("; ").fill_null(""),
    )
    table.write_csv(args.output)
    flagged = int(scores["flagged"].sum())
    out.print(
        f"scored {scores.height:,} subscribers in {time.perf_counter() - started:.1f} s with "
        f"model {trained.version}: {flagged:,} flagged at {trained.model.threshold:.2f}; "
        f"wrote {args.output}"
    )
    for row in scores.filter(pl.col("flagged")).head(args.show).iter_rows(named=True):
        out.print(f"  {row['subscriber']}  {row['score']:.2f}  {row['kind']}", markup=False)
        out.print(f"    {row['reasons'][0]}", markup=False)
    return 0


def cmd_fraud_export(args: argparse.Namespace, settings: Settings) -> int:
    from models.fraud import write_labels_csv, write_usage_csv
    from models.fraud.synthetic import synthetic_usage

    if args.synthetic:
        frame, labels = synthetic_usage(args.lines, args.seed)
        records = write_usage_csv([frame], args.usage)
        source = f"synthetic demo usage (seed {args.seed})"
    else:
        from bot.bootstrap import open_database
        from models.fraud import labels_from_db, usage_from_db

        db = open_database(settings)
        try:
            records = write_usage_csv(usage_from_db(db), args.usage)
            labels = labels_from_db(db)
        finally:
            db.dispose()
        labels = labels.filter(labels["is_fraud"])
        source = f"database {db!r}"
    n = write_labels_csv(labels, args.labels)
    out.print(f"wrote {records:,} usage records to {args.usage} and {n:,} labels to {args.labels}")
    out.print(f"  from {source}")
    return 0


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
    db = open_database(settings, _database_url(args, settings))
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
    db = open_database(settings, _database_url(args, settings))
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
    db = open_database(settings, _database_url(args, settings))
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
    db = open_database(settings, _database_url(args, settings))
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


def cmd_digest_preview(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap
    from bot.render.terminal import render
    from skills.digests import build_digest

    sb = bootstrap(settings)
    try:
        reply = build_digest(sb.db, settings, args.name, datetime.now(UTC))
    finally:
        sb.close()
    render(reply, out)
    if args.out and reply.files:
        try:
            Path(args.out).write_bytes(reply.files[0].content)
        except OSError as exc:
            raise DomainError(
                f"cannot write {args.out}: {exc.strerror}",
                hint="name a file in a folder you can write",
            ) from None
        out.print(f"chart written to {args.out}")
    return 0


# -- parser -------------------------------------------------------------------------------


def build_parser() -> Parser:
    p = Parser(prog="switchboard", description="Chat-driven operations for OSS/BSS.")
    p.add_argument("--config", help="config file (default: $SWITCHBOARD_CONFIG or config.yaml)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    def add(name: str, handler: Handler, help_: str) -> Parser:
        cp: Parser = sub.add_parser(name, help=help_, description=help_)
        cp.set_defaults(handler=handler)
        return cp

    d = add("demo", cmd_demo, "seed the demo data if needed, start the lab, open the console")
    d.add_argument("--seed", type=_seed_number, default=42, help="random seed (default 42)")
    d.add_argument("--as", dest="user", default="root", help="console user (default root)")

    sv = add("serve", cmd_serve, "serve Slack, the alert webhooks, /healthz and /metrics")
    sv.add_argument("--port", type=int, help="override server.port")

    c = add("console", cmd_console, "chat with the bot in the terminal")
    c.add_argument("--as", dest="user", required=True, help="act as this configured user")

    c = add("chat", cmd_chat, "send one command and print the reply")
    c.add_argument("--as", dest="user", required=True, help="act as this configured user")
    c.add_argument("text", help='the command, e.g. "/inventory show r1-mum"')
    c.add_argument("--json", action="store_true", help="print the reply as JSON")

    s = add("seed", cmd_seed, "fill the database with generated demo data")
    s.add_argument("--scale", default="demo", help="demo (default) or large")
    s.add_argument("--seed", type=_seed_number, default=42, help="random seed (default 42)")
    s.add_argument("--database", help="database URL (default: the configured one)")
    s.add_argument("--as-of", type=_as_of, help="the data's 'today' (default: today, UTC)")
    s.add_argument("--reset", action="store_true", help="replace data already there")

    db = add("db", lambda a, s: 0, "database schema")
    dbs = db.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    dbs.required = True
    u = dbs.add_parser("upgrade", help="apply migrations up to the newest")
    u.set_defaults(handler=cmd_db_upgrade)
    u.add_argument("--database", help="database URL (default: the configured one)")
    cur = dbs.add_parser("current", help="show the schema revision")
    cur.set_defaults(handler=cmd_db_current)
    cur.add_argument("--database", help="database URL (default: the configured one)")

    cfg = add("config", lambda a, s: 0, "configuration")
    cfgs = cfg.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    cfgs.required = True
    cfgs.add_parser("check", help="validate the config file").set_defaults(handler=cmd_config_check)
    cfgs.add_parser(
        "reference", help="print every config key with its type, default and meaning"
    ).set_defaults(handler=cmd_config_reference)

    fr = add("fraud", lambda a, s: 0, "the fraud model: train, evaluate, score, export")
    frs = fr.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    frs.required = True

    def data_source(sp: Parser) -> None:
        sp.add_argument("--input", help="usage CSV (the interchange in DESIGN.md)")
        sp.add_argument("--labels", help="labels CSV: subscriber,kind,since")
        sp.add_argument("--from-db", action="store_true", help="usage and labels from the database")
        sp.add_argument(
            "--synthetic",
            action="store_true",
            help="freshly generated demo usage (the default without --input or --from-db)",
        )
        sp.add_argument("--lines", type=int, default=12_000, help="synthetic lines (default 12000)")
        sp.add_argument("--seed", type=_seed_number, default=42, help="random seed (default 42)")

    t = frs.add_parser("train", help="train the model; write the artifact and model card")
    t.set_defaults(handler=cmd_fraud_train)
    data_source(t)
    t.add_argument("--if-missing", action="store_true", help="do nothing if a model exists")
    e = frs.add_parser("evaluate", help="PR-AUC, ROC-AUC, precision, recall on held-out lines")
    e.set_defaults(handler=cmd_fraud_evaluate)
    data_source(e)
    e.add_argument(
        "--window-days", type=int, default=0, help="score the last N days only (default: all)"
    )
    sc = frs.add_parser("score", help="score a usage CSV; write subscriber,score,flagged,reasons")
    sc.set_defaults(handler=cmd_fraud_score)
    sc.add_argument("--input", required=True, help="usage CSV")
    sc.add_argument("--output", required=True, help="scores CSV to write")
    sc.add_argument("--show", type=int, default=10, help="flagged lines to print (default 10)")
    ex = frs.add_parser("export", help="write usage and fraud labels as CSV")
    ex.set_defaults(handler=cmd_fraud_export)
    ex.add_argument("--usage", required=True, help="usage CSV to write")
    ex.add_argument("--labels", required=True, help="labels CSV to write")
    ex.add_argument("--synthetic", action="store_true", help="generated data, not the database")
    ex.add_argument("--lines", type=int, default=12_000, help="synthetic lines (default 12000)")
    ex.add_argument("--seed", type=_seed_number, default=42, help="random seed (default 42)")

    dg = add("digest", lambda a, s: 0, "scheduled digests")
    dgs = dg.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    dgs.required = True
    dp = dgs.add_parser("preview", help="print a digest as it would go out now")
    dp.set_defaults(handler=cmd_digest_preview)
    dp.add_argument("--name", required=True, help="the digest's name in config.yaml")
    dp.add_argument("--out", help="write its chart (PNG) to this file")

    bl = add("billing", lambda a, s: 0, "rating and bill runs")
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
    bd.add_argument("--as-of", type=_as_of, help="the day to evaluate (default: today, UTC)")
    bd.add_argument("--database", help="database URL (default: the configured one)")

    lb = add("lab", cmd_lab, "the simulated device lab (SSH on 127.0.0.1)")
    lbs = lb.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    lbs.required = True
    for action, text in (
        ("start", "start the lab in the background and wait for it"),
        ("stop", "stop the lab"),
        ("status", "which lab devices answer (exit 1 if any does not)"),
        ("run", "run the lab in the foreground (what start launches)"),
    ):
        lbs.add_parser(action, help=text).set_defaults(handler=cmd_lab)

    sl = add("slack", lambda a, s: 0, "Slack app setup")
    sls = sl.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    sls.required = True
    m = sls.add_parser("manifest", help="print the Slack app manifest (YAML) from the commands")
    m.set_defaults(handler=cmd_slack_manifest)
    m.add_argument("--url", help="public base URL of `serve`, e.g. https://switchboard.example.com")
    m.add_argument("--json", action="store_true", help="JSON instead of YAML")

    a = add("audit", lambda a, s: 0, "the audit trail")
    acts = a.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    acts.required = True
    acts.add_parser(
        "verify", help="check the hash chain; name the first broken event"
    ).set_defaults(handler=cmd_audit_verify)

    b = add("bench", cmd_bench, "run the benchmarks under tests/bench and print one table")
    b.add_argument("--scale", default="demo", choices=("demo", "large"))
    b.add_argument("--only", help="run only benchmarks whose name contains this")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        settings = load_settings(args.config)
        code: int = args.handler(args, settings)
        return code
    except UsageError as exc:
        err.print(f"{exc.prog}: {exc}")
        err.print(f"hint: see `{exc.prog} --help`")
        return 1
    except ConfigError as exc:
        for line in exc.problems:
            err.print(line, markup=False)
        err.print(f"hint: {exc.hint}", markup=False)
        return 1
    except DomainError as exc:
        err.print(f"error: {exc}", markup=False)
        if exc.hint:
            err.print(f"hint: {exc.hint}", markup=False)
        return 1
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
