"""`switchboard audit verify`."""

from __future__ import annotations

import argparse

from bot.cli.base import Parser, Subcommands, add_command, err, out
from domain.config import Settings


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


def register(sub: Subcommands) -> None:
    a = add_command(sub, "audit", lambda a, s: 0, "the audit trail")
    acts = a.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    acts.required = True
    acts.add_parser(
        "verify", help="check the hash chain; name the first broken event"
    ).set_defaults(handler=cmd_audit_verify)
