"""Arista EOS over its CLI, through configuration sessions with a commit timer.

A change goes into a named session (`configure session switchboard-…`), so nothing of it
runs until it is committed, and a refused line leaves the device as it was. `commit()`
commits the session with `commit timer`: the change runs at once, and EOS puts the
running config back by itself when the timer runs out, unless `confirm()` (`configure
session NAME commit`) came first. A push that cuts the management session off therefore
undoes itself. The startup config is saved only at confirm, so it never holds a change
that could still revert.

`rollback()` before confirm aborts the session (EOS reverts it at once); rollbacks and
restores are committed at once, without a timer, and saved.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Sequence

from automation.drivers.base import ConfigRejected, Credentials, Target
from automation.drivers.cli import NetmikoDriver


class EosSessionDriver(NetmikoDriver):
    #: The commit timer: long enough for the post-check, short enough that a change that
    #: cut the device off is back within a couple of minutes.
    CONFIRM_WITHIN_S = 120.0

    def __init__(
        self, target: Target, credentials: Credentials, confirm_within_s: float = CONFIRM_WITHIN_S
    ) -> None:
        super().__init__(target, credentials)
        self.confirm_within_s = confirm_within_s
        self._session: str | None = None  # the session being filled, or pending confirmation

    def _configure(self, lines: Sequence[str], hold: bool) -> None:
        self._session = f"switchboard-{secrets.token_hex(4)}"
        self._conn.send_config_set(
            list(lines),
            config_mode_command=f"configure session {self._session}",
            error_pattern=self.error_pattern,
        )
        timer = f" timer {_hms(self.confirm_within_s)}" if hold and self.confirm_within_s else ""
        try:
            self._eos(f"configure session {self._session} commit{timer}")
        except ConfigRejected:
            self._conn.send_command(f"configure session {self._session} abort")
            self._session = None
            raise
        if not timer:
            self._conn.save_config()
            self._session = None

    def _confirm_commit(self) -> None:
        self._eos(f"configure session {self._session} commit")
        self._conn.save_config()
        self._session = None

    def _abandon_config_mode(self) -> None:
        # Still inside the session: `abort` drops it, and with it every line sent so far.
        self._conn.send_command("abort", expect_string=rf"{re.escape(self._conn.base_prompt)}#")
        self._session = None

    def rollback(self) -> None:
        if not self._awaiting_confirm:
            super().rollback()
            return
        with self._device_errors():
            self._eos(f"configure session {self._session} abort")
        self._session, self._applied, self._awaiting_confirm = None, None, False

    def send_lines(self, lines: Sequence[str]) -> None:
        # A restore while our commit is pending: first let EOS put back what it replaced.
        if self._awaiting_confirm:
            self.rollback()
        super().send_lines(lines)

    def _eos(self, command: str) -> None:
        """Run a session command; what EOS prints is an error (`% …`) or nothing."""
        output = str(self._conn.send_command(command))
        refused = next((ln for ln in output.splitlines() if ln.startswith("%")), None)
        if refused is not None:
            raise ConfigRejected(f"{self.target.hostname} refused `{command}`: {refused}")


def _hms(seconds: float) -> str:
    whole = max(1, math.ceil(seconds))
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"
