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


CHANGE_LIFECYCLE = Lifecycle(
    "change",
    {
        ChangeState.PLANNED: [ChangeState.APPROVED, ChangeState.CANCELLED],
        ChangeState.APPROVED: [ChangeState.RUNNING, ChangeState.CANCELLED],
        ChangeState.RUNNING: [
            ChangeState.SUCCEEDED,
            ChangeState.FAILED,
            ChangeState.ROLLED_BACK,
            ChangeState.INTERRUPTED,
        ],
        ChangeState.SUCCEEDED: [ChangeState.ROLLED_BACK],
        ChangeState.FAILED: [ChangeState.ROLLED_BACK],
        ChangeState.INTERRUPTED: [ChangeState.ROLLED_BACK, ChangeState.FAILED],
        ChangeState.ROLLED_BACK: [],
        ChangeState.CANCELLED: [],
    },
)


class TargetState(StrEnum):
    PENDING = "pending"
    SKIPPED = "skipped"  # nothing to change on this device
    PUSHED = "pushed"
    VERIFIED = "verified"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    INTERRUPTED = "interrupted"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
