"""`switchboard lab start|stop|status|run`: the simulated device lab."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.table import Table

from bot.cli.base import Parser, Subcommands, add_command, out
from domain.config import Settings

if TYPE_CHECKING:
    from automation.lab.control import LabStatus


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


def register(sub: Subcommands) -> None:
    lb = add_command(sub, "lab", cmd_lab, "the simulated device lab (SSH on 127.0.0.1)")
    lbs = lb.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    lbs.required = True
    for action, text in (
        ("start", "start the lab in the background and wait for it"),
        ("stop", "stop the lab"),
        ("status", "which lab devices answer (exit 1 if any does not)"),
        ("run", "run the lab in the foreground (what start launches)"),
    ):
        lbs.add_parser(action, help=text).set_defaults(handler=cmd_lab)
