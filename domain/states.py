"""Lifecycles: which state may follow which, with a readable refusal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from domain.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)


class Lifecycle(Generic[S]):
    """The allowed moves between the states of one kind of entity."""

    def __init__(self, noun: str, moves: Mapping[S, Iterable[S]]) -> None:
        self.noun = noun
        # Kept in the order written, so hints read the way the lifecycle was declared.
        self.moves: dict[S, tuple[S, ...]] = {state: tuple(to) for state, to in moves.items()}
        # Every state must be listed, so a forgotten one is final by intent, not by accident.
        states = {s for s in moves} | {t for to in self.moves.values() for t in to}
        unlisted = states - set(self.moves)
        if unlisted:
            raise ValueError(f"{noun} lifecycle does not list {sorted(unlisted)}")

    def allowed(self, current: S) -> list[S]:
        """States that may follow `current`, in declaration order."""
        return list(self.moves[current])

    def is_final(self, state: S) -> bool:
        return not self.moves[state]

    def check(self, ref: str, current: S, target: S) -> None:
        """Raise InvalidTransition unless `current` may move to `target`."""
        if target in self.moves[current]:
            return
        if current == target:
            raise InvalidTransition(f"{self.noun} {ref} is already {current}")
        nxt = self.allowed(current)
        hint = (
            f"from {current} it can move to {', '.join(nxt)}"
            if nxt
            else f"{current} is final; nothing follows it"
        )
        raise InvalidTransition(
            f"{self.noun} {ref} is {current}; it cannot move to {target}", hint=hint
        )
