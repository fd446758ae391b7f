"""`switchboard slack manifest`."""

from __future__ import annotations

import argparse

from bot.cli.base import Parser, Subcommands, add_command
from domain.config import Settings


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


def register(sub: Subcommands) -> None:
    sl = add_command(sub, "slack", lambda a, s: 0, "Slack app setup")
    sls = sl.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    sls.required = True
    m = sls.add_parser("manifest", help="print the Slack app manifest (YAML) from the commands")
    m.set_defaults(handler=cmd_slack_manifest)
    m.add_argument("--url", help="public base URL of `serve`, e.g. https://switchboard.example.com")
    m.add_argument("--json", action="store_true", help="JSON instead of YAML")
