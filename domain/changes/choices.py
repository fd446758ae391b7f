"""Change choices: configuration change requests and their per-device outcomes."""

from __future__ import annotations

from enum import StrEnum

from domain.states import Lifecycle


class ChangeState(StrEnum):
    PLANNED = "planned"
    APPROVED = "approved"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    CANCELLED = "cancelled"
    #: Cut off by a crash; found at the next start, its devices need checking.
    INTERRUPTED = "interrupted"
    #: Every device was read and already as intended: nothing was (or is) to be done.
    UNCHANGED = "unchanged"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


CHANGE_LIFECYCLE = Lifecycle(
    "change",
    {
        # A plan that could not read its devices is created FAILED, and one with nothing
        # to do UNCHANGED: neither can be applied.
        ChangeState.PLANNED: [ChangeState.APPROVED, ChangeState.CANCELLED],
        ChangeState.APPROVED: [ChangeState.RUNNING, ChangeState.CANCELLED],
        ChangeState.RUNNING: [
            ChangeState.SUCCEEDED,
            ChangeState.FAILED,
            ChangeState.ROLLED_BACK,
            ChangeState.INTERRUPTED,
            ChangeState.UNCHANGED,
        ],
        ChangeState.SUCCEEDED: [ChangeState.ROLLED_BACK],
        ChangeState.FAILED: [ChangeState.ROLLED_BACK],
        ChangeState.INTERRUPTED: [ChangeState.ROLLED_BACK, ChangeState.FAILED],
        ChangeState.ROLLED_BACK: [],
        ChangeState.CANCELLED: [],
        ChangeState.UNCHANGED: [],
    },
)


class TargetState(StrEnum):
    """Where one device of a change stands. A device ends in exactly one of: verified
    (changed, and a read of its running config shows every intended line), unchanged
    (a read showed it already as intended), failed (the device's or driver's words),
    unreachable, rolled back, or skipped (and why)."""

    PENDING = "pending"  # planned, with lines to push
    UNCHANGED = "unchanged"  # read, and already as intended
    SKIPPED = "skipped"  # not tried (the canary failed, ...); the detail says why
    PUSHED = "pushed"  # being pushed now
    VERIFIED = "verified"  # changed, and the post-check read every intended line back
    FAILED = "failed"
    UNREACHABLE = "unreachable"  # did not answer, or refused the login
    ROLLED_BACK = "rolled_back"
    INTERRUPTED = "interrupted"

    @property
    def label(self) -> str:
        """How a person reads it: in summaries, tables, /config show and history."""
        return _TARGET_LABELS.get(self, self.value.replace("_", " "))


_TARGET_LABELS = {
    TargetState.PENDING: "to change",
    TargetState.VERIFIED: "changed and verified",
    TargetState.PUSHED: "being pushed",
}


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
