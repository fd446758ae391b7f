"""`switchboard audit init|rotate-key|anchor|verify`: the audit trail's key and its checks."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.cli.base import Parser, Subcommands, add_command, err, out
from domain.config import Settings

if TYPE_CHECKING:
    from domain.audit.services import ChainCheck


def cmd_audit_init(args: argparse.Namespace, settings: Settings) -> int:
    from domain.audit.keys import KEY_ENV, KeySource, init_key_file

    source = KeySource.from_settings(settings)
    key = init_key_file(source.key_file)
    note = (
        f"; {KEY_ENV} is set and seals instead while it is" if source.environ().get(KEY_ENV) else ""
    )
    out.print(
        f"created audit key {key.id} in {source.key_file} (mode 0600){note}; "
        "keep a copy outside the database and its backups",
        markup=False,
    )
    return 0


def cmd_audit_rotate_key(args: argparse.Namespace, settings: Settings) -> int:
    from domain.audit.keys import KEY_ENV, KeySource, rotate_key_file

    source = KeySource.from_settings(settings)
    if source.environ().get(KEY_ENV):
        err.print(f"{KEY_ENV} is set, and it seals audit events, not the key file", markup=False)
        err.print(
            f"hint: append a new key to the variable ({KEY_ENV}=OLD,NEW; the last seals, "
            "all verify), then restart",
            markup=False,
        )
        return 1
    key = rotate_key_file(source.key_file)
    out.print(
        f"added audit key {key.id} to {source.key_file}: it seals from now on, "
        "the older keys still verify the events they sealed",
        markup=False,
    )
    return 0


def cmd_audit_anchor(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import open_database
    from domain.audit.keys import configure
    from domain.audit.services import anchor_chain

    configure(settings)
    path = settings.resolve_path(settings.audit.anchor_file)
    db = open_database(settings)
    try:
        run = anchor_chain(db, path)
    finally:
        db.dispose()
    if run.anchor is None:
        out.print("the audit trail is empty: nothing to anchor")
    elif run.result == "unchanged":
        out.print(
            f"audit event {run.anchor.event} is already anchored ({run.anchor.at}) in {path}",
            markup=False,
        )
    else:
        out.print(f"anchored audit event {run.anchor.event} in {path}", markup=False)
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import open_database
    from domain.audit import journal
    from domain.audit.keys import configure
    from domain.audit.services import verify_trail

    configure(settings)
    path = settings.resolve_path(settings.audit.anchor_file)
    db = open_database(settings)
    try:
        every = timedelta(minutes=settings.audit.anchor_every_minutes)
        check = verify_trail(db, path, every)
        kept = journal.journal_beside(path, db.url)
    finally:
        db.dispose()
    waiting = journal.count(kept)
    if waiting:  # events the database could not take in time, not yet in the chain
        out.print(
            f"{waiting:,} audit event(s) wait in the journal {kept}, not yet in the chain; "
            "the next audit write or `switchboard audit anchor` stores them",
            markup=False,
        )
    if check.intact:
        out.print(f"OK: {summary(check)}", markup=False)
        return 0
    for finding in check.findings:
        err.print(finding.describe(), markup=False)
    err.print(
        "hint: restore the audit table from a backup and compare; events from the first "
        "one named on cannot be trusted",
        markup=False,
    )
    return 1


def summary(check: ChainCheck) -> str:
    """An intact trail in one line: how many events, which keys, what is anchored."""
    text = f"{check.events:,} audit events, the chain is intact"
    if check.key_ids:
        text += f" (sealed with key {', '.join(check.key_ids)})"
    if check.unkeyed:
        text += f"; the first {check.unkeyed:,} predate audit keys, vouched for by the next"
    if check.anchored_through:
        text += f"; anchored through event {check.anchored_through} at {check.anchored_at}"
    if check.events and not check.anchored_through:
        text += "; none anchored yet (`switchboard audit anchor` writes one)"
    elif check.unanchored:
        text += f"; {check.unanchored:,} newer not anchored yet"
    return text


def register(sub: Subcommands) -> None:
    a = add_command(sub, "audit", lambda a, s: 0, "the audit trail")
    acts = a.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    acts.required = True
    acts.add_parser(
        "init", help="create the audit key file (refuses to overwrite one)"
    ).set_defaults(handler=cmd_audit_init)
    acts.add_parser(
        "rotate-key", help="add a new audit key; it seals from now on, all keys verify"
    ).set_defaults(handler=cmd_audit_rotate_key)
    acts.add_parser("anchor", help="write the chain head to the anchor file now").set_defaults(
        handler=cmd_audit_anchor
    )
    acts.add_parser(
        "verify", help="check every seal and the anchors; name the first broken event"
    ).set_defaults(handler=cmd_audit_verify)
