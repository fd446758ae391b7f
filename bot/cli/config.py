"""`switchboard config check|reference|roles`."""

from __future__ import annotations

import argparse

from bot.cli.base import Parser, Subcommands, add_command, out
from domain.config import Settings
from domain.db import safe_url


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


def cmd_config_roles(args: argparse.Namespace, settings: Settings) -> int:
    from domain.policy import table_markdown

    print(table_markdown())
    return 0


def register(sub: Subcommands) -> None:
    cfg = add_command(sub, "config", lambda a, s: 0, "configuration")
    cfgs = cfg.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    cfgs.required = True
    cfgs.add_parser("check", help="validate the config file").set_defaults(handler=cmd_config_check)
    cfgs.add_parser(
        "reference", help="print every config key with its type, default and meaning"
    ).set_defaults(handler=cmd_config_reference)
    cfgs.add_parser(
        "roles",
        help="print the policy table: who may run each command, read each digest "
        "section and work each kind of ticket",
    ).set_defaults(handler=cmd_config_roles)
