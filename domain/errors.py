"""Errors a chat user can cause. Each has a one-line message and a hint."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the user can act on: `str(err)` is the message, `hint` what to try."""

    hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    """The thing named does not exist."""


class InvalidTransition(DomainError):
    """The entity's state does not allow the move asked for."""


class PolicyViolation(DomainError):
    """A rule forbids the action (same person approving, over a limit, in a freeze)."""


class Conflict(DomainError):
    """Someone else changed the same thing at the same moment."""


class DatabaseUnavailable(DomainError):
    """The database cannot be reached or used."""
