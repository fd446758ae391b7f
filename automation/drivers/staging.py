"""How a CLI driver stages, commits and rolls back a change, whatever carries its lines.

The plan comes from hier_config (`automation.diffing.plan`) against the running config;
committing sends its remediation, rolling back sends its inverse. A driver supplies
`target`, `running_config()` and `_send(lines)` (Netmiko over SSH, or the in-memory
devices of the tests), so the logic a change relies on exists once.
"""

from __future__ import annotations

from collections.abc import Sequence

from automation.diffing import ConfigPlan, plan
from automation.drivers.base import Target


class StagedCLIChanges:
    target: Target
    _plan: ConfigPlan | None = None
    _applied: ConfigPlan | None = None

    def running_config(self) -> str:
        raise NotImplementedError

    def _send(self, lines: Sequence[str]) -> None:
        raise NotImplementedError

    def load_candidate(self, lines: Sequence[str]) -> None:
        self._plan = plan(self.target.platform, self.running_config(), "\n".join(lines))

    def diff(self) -> str:
        return self._plan.diff if self._plan and not self._plan.empty else ""

    @property
    def staged(self) -> ConfigPlan | None:
        return self._plan

    def commit(self) -> None:
        if self._plan is None or self._plan.empty:
            return
        self._send(self._plan.remediation)
        self._applied, self._plan = self._plan, None

    def confirm(self) -> None:
        """CLI changes are saved at commit; nothing waits for confirmation."""

    def rollback(self) -> None:
        if self._applied is None:
            return
        self._send(self._applied.rollback)
        self._applied = None

    def send_lines(self, lines: Sequence[str]) -> None:
        """Send configuration lines as they are (a restore from a backup)."""
        self._send(tuple(lines))

    def discard(self) -> None:
        self._plan = None
