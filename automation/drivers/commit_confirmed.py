"""IOS-XR and Junos over their CLI, with the device's own `commit confirmed`.

Both keep configuration lines in a candidate until `commit`. `commit()` here commits with
`commit confirmed` (IOS-XR counts seconds, 30 at least; Junos whole minutes): the change
runs at once and the device rolls it back by itself unless a plain `commit` confirms it
in time, so a push that cuts the management session off undoes itself. Rollbacks and
restores are plain commits (which also confirm a pending one, so the net effect is the
configuration before the change). A refused line or a failed commit leaves the candidate
discarded. Nothing needs saving: a commit is persistent on both.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence

from automation.drivers.base import ConfigRejected, Credentials, Target
from automation.drivers.cli import NetmikoDriver, one_line
from domain.inventory.choices import Platform

#: What Junos prints when it refuses a line.
JUNOS_ERROR_PATTERN = r"(syntax error|unknown command|missing argument|invalid value|error:)"


class CommitConfirmedDriver(NetmikoDriver):
    #: How long a commit waits for confirmation (Junos rounds up to whole minutes).
    CONFIRM_WITHIN_S = 120.0

    def __init__(
        self, target: Target, credentials: Credentials, confirm_within_s: float = CONFIRM_WITHIN_S
    ) -> None:
        super().__init__(target, credentials)
        self._junos = target.platform is Platform.JUNIPER_JUNOS
        if self._junos:
            self.error_pattern = JUNOS_ERROR_PATTERN
            self.confirm_within_s = 60.0 * max(1, math.ceil(confirm_within_s / 60))
        else:
            self.confirm_within_s = float(max(30, math.ceil(confirm_within_s)))

    def _configure(self, lines: Sequence[str], hold: bool) -> None:
        self._conn.send_config_set(
            list(lines),
            # An exclusive candidate: another user's uncommitted lines never ride along.
            config_mode_command="configure exclusive" if self._junos else "configure terminal",
            error_pattern=self.error_pattern,
            exit_config_mode=False,
        )
        # Netmiko's IOS-XR and Junos classes take `confirm`; its base class does not.
        commit: Callable[..., str] = self._conn.commit
        try:
            if hold and self.confirm_within_s is not None:
                delay = self.confirm_within_s // 60 if self._junos else self.confirm_within_s
                commit(confirm=True, confirm_delay=int(delay))
            else:
                commit()
        except ValueError as exc:  # Netmiko's word for a commit the device refused
            with contextlib.suppress(OSError, EOFError, ValueError):
                self._abandon_config_mode()
            raise ConfigRejected(
                f"{self.target.hostname} refused the commit: {one_line(exc)}"
            ) from None
        self._conn.exit_config_mode()

    def _confirm_commit(self) -> None:
        self._conn.commit()
        self._conn.exit_config_mode()

    def _abandon_config_mode(self) -> None:
        if self._junos:  # the exclusive candidate would be discarded on exit; say so anyway
            self._conn.send_command("rollback 0", expect_string=r"#")
        self._conn.exit_config_mode()  # IOS-XR answers "no" to "commit them before exiting?"
