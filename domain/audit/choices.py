"""Audit choices."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # access control or policy said no
    INVALID = "invalid"  # the input was wrong
    FAILED = "failed"  # the action was tried and did not work
    INTERRUPTED = "interrupted"
    #: A command that changes something, recorded before it runs (its outcome follows).
    REQUESTED = "requested"
