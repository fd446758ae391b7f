"""What every command family shares: the parser that refuses in one line, the consoles,
argument types and the configured-or-given database URL."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import NoReturn, TypeAlias

from bot.render.terminal import console_for
from domain.config import Settings, resolve_database_url

# A pipe or a file gets full-width tables (bot/render/terminal.py), never an ellipsis.
out = console_for()
err = console_for(stderr=True)

Handler = Callable[[argparse.Namespace, Settings], int]


class UsageError(Exception):
    """A command line the parser refuses; shown as one line with a hint."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


#: What `add_subparsers` returns; each command family's `register` adds to it.
Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"


def add_command(sub: Subcommands, name: str, handler: Handler, help_: str) -> Parser:
    """A top-level command whose help is also its description."""
    cp: Parser = sub.add_parser(name, help=help_, description=help_)
    cp.set_defaults(handler=handler)
    return cp


def as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def seed_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the seed must be 0 or more")
    return value


def database_url(args: argparse.Namespace, settings: Settings) -> str:
    if getattr(args, "database", None):
        return resolve_database_url(args.database, settings.source.parent)
    return settings.database_url
