"""Talking to the bot: `switchboard demo`, `serve`, `console` and `chat`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from bot.cli.base import Subcommands, add_command, err, out, seed_number
from domain.config import Settings


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap
    from bot.console import repl
    from domain.demo.seed import is_empty

    sb = bootstrap(settings)
    try:
        if is_empty(sb.db):
            seed_demo(sb, args.seed, datetime.now(UTC), out)
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


def seed_demo(sb: Any, seed_value: int, now: datetime, console: Console) -> None:
    """Seed the demo data as of the latest day whose data is all in the past at `now`
    (before 10:00 UTC that is yesterday), then bring it to life."""
    from domain.demo.seed import scale_named, seed
    from domain.demo.timeline import latest_as_of

    with console.status("seeding the demo data (first run only)"):
        report = seed(
            sb.db,
            scale_named("demo"),
            seed=seed_value,
            as_of=latest_as_of(now),
            settings=sb.settings,
            now=now,
        )
    console.print(f"Seeded {report.rows:,} rows in {report.seconds:.1f} s into {sb.db!r}")
    _bring_to_life(sb, console, now=now)


def _bring_to_life(sb: Any, console: Console, *, now: datetime | None = None) -> None:
    """After seeding: rate the usage, bill the months that are over, score fraud once.

    The same use-cases as `switchboard billing rate|run` and the scheduled scoring job,
    so the billing lock holds here too.
    """
    from domain.billing.runs import bill_period, periods_with_received_usage, rate_period
    from models.fraud.artifact import ModelMissing

    now = now or datetime.now(UTC)
    for period in periods_with_received_usage(sb.db):
        with console.status(f"rating {period}"):
            rated = rate_period(sb.db, period)
        console.print(f"Rated {rated.rated:,} usage records of {period}")
        if period.next.first_day <= now.date():  # the month is over: bill it
            with console.status(f"bill run {period}"):
                bill = bill_period(sb.db, period, sb.settings.billing, now=now)
            console.print(f"Billed {period}: {bill.invoices:,} invoices")
    try:
        run = sb.services.fraud.score_and_open(now)
    except ModelMissing as exc:
        console.print(f"Fraud scoring skipped: {exc}; {exc.hint}")
    else:
        # The run's own account, where every flagged line went (`/fraud cases` as erin lists them).
        console.print(f"Fraud scoring: {run.describe()} (`/fraud cases` as erin)")


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


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    from bot.bootstrap import bootstrap
    from bot.server import build_service, proxy_options, server

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    host, port = settings.server.host, args.port or settings.server.port
    processes = settings.server.processes
    sb = bootstrap(settings)  # migrations run once, here, before any process serves
    missing = sb.slack_missing
    if processes > 1:
        import os

        import uvicorn

        sb.close()
        os.environ["SWITCHBOARD_CONFIG"] = str(settings.source)
        if missing is not None:
            out.print(_without_slack(missing, host, port))
        out.print(f"Switchboard serving on http://{host}:{port} with {processes} processes")
        uvicorn.run(
            "bot.server:asgi_from_environment",
            factory=True,
            workers=processes,
            host=host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=int(settings.server.shutdown_grace_s) + 5,
            **proxy_options(settings.server),
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
            _without_slack(missing, host, port)
            if missing is not None
            else f"Switchboard serving Slack ({mode}); /healthz and /metrics on http://{host}:{port}"
        )
        server(service, host=host, port=port).run()
    finally:
        sb.close()
    return 0


def _without_slack(missing: str, host: str, port: int) -> str:
    return (
        f"Slack is not configured ({missing}): serving webhooks, /healthz and /metrics only, "
        f"on http://{host}:{port}"
    )


def register(sub: Subcommands) -> None:
    d = add_command(
        sub, "demo", cmd_demo, "seed the demo data if needed, start the lab, open the console"
    )
    d.add_argument("--seed", type=seed_number, default=42, help="random seed (default 42)")
    d.add_argument("--as", dest="user", default="root", help="console user (default root)")

    sv = add_command(
        sub, "serve", cmd_serve, "serve Slack, the alert webhooks, /healthz and /metrics"
    )
    sv.add_argument("--port", type=int, help="override server.port")

    c = add_command(sub, "console", cmd_console, "chat with the bot in the terminal")
    c.add_argument("--as", dest="user", required=True, help="act as this configured user")

    c = add_command(sub, "chat", cmd_chat, "send one command and print the reply")
    c.add_argument("--as", dest="user", required=True, help="act as this configured user")
    c.add_argument("text", help='the command, e.g. "/inventory show r1-mum"')
    c.add_argument("--json", action="store_true", help="print the reply as JSON")
