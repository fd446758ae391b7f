"""The `switchboard` command line.

One module per command family, each adding its commands with `register(subparsers)`;
here the top-level parser is built from them and every error a user can cause becomes
one line with a hint. Heavy libraries load inside the commands that use them.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.cli import audit, bench, billing, chat, config, db, digest, fraud, lab, slack
from bot.cli.base import Parser, UsageError, err
from domain.config import ConfigError, load_settings
from domain.errors import DomainError

#: In the order `switchboard --help` lists them.
FAMILIES = (chat, db, config, fraud, digest, billing, lab, slack, audit, bench)


def build_parser() -> Parser:
    p = Parser(prog="switchboard", description="Chat-driven operations for OSS/BSS.")
    p.add_argument("--config", help="config file (default: $SWITCHBOARD_CONFIG or config.yaml)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for family in FAMILIES:
        family.register(sub)
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
