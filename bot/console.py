"""The console: chat with Switchboard in a terminal, as one of the configured users."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from bot.access import Caller
from bot.bootstrap import Switchboard
from bot.render.terminal import render

EXIT_WORDS = {"exit", "quit", ":q"}


def _history(path: Path) -> None:
    with contextlib.suppress(ImportError, OSError):
        import readline

        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            readline.read_history_file(path)
        readline.set_history_length(1000)
        import atexit

        atexit.register(readline.write_history_file, path)


def repl(
    sb: Switchboard, caller: Caller, console: Console, read: Callable[[str], str] = input
) -> int:
    """Read commands until exit or end of input; every reply rendered as in Slack."""
    _history(sb.settings.resolve_path("var/console_history"))
    for ref, devices in sb.interrupted:
        console.print(
            f"[bold red]{ref} was cut off by a restart and is marked interrupted; check "
            f"{', '.join(devices) or 'its devices'} (/config show {ref})[/]"
        )
    console.print(
        f"Switchboard console as [bold]{caller.name}[/bold] "
        f"({', '.join(caller.role_names) or 'no role'}). "
        "Type help for your commands, exit to leave."
    )
    while True:
        try:
            line = read(f"{caller.name}> ").strip()
        except EOFError:
            console.print()
            return 0
        except KeyboardInterrupt:
            console.print()
            continue
        if not line:
            continue
        if line.lower() in EXIT_WORDS:
            return 0
        if line.lower() == "help":
            line = "/ops help"
        render(sb.router.handle(caller, line, source="console"), console)
