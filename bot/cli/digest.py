"""`switchboard digest preview`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from bot.cli.base import Parser, Subcommands, add_command, out
from domain.config import Settings
from domain.errors import DomainError


def cmd_digest_preview(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import bootstrap
    from bot.render.terminal import render
    from skills.digests import build_digest

    sb = bootstrap(settings)
    try:
        reply = build_digest(sb.services, args.name, datetime.now(UTC))
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


def register(sub: Subcommands) -> None:
    dg = add_command(sub, "digest", lambda a, s: 0, "scheduled digests")
    dgs = dg.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    dgs.required = True
    dp = dgs.add_parser("preview", help="print a digest as it would go out now")
    dp.set_defaults(handler=cmd_digest_preview)
    dp.add_argument("--name", required=True, help="the digest's name in config.yaml")
    dp.add_argument("--out", help="write its chart (PNG) to this file")
