"""The router: text -> command -> access check -> skill -> Reply, with one audit event."""

from __future__ import annotations

import difflib
import logging
import shlex
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot import metrics
from bot.access import Caller, refusal
from domain.audit.choices import Outcome
from domain.audit.services import audit
from domain.errors import (
    DatabaseUnavailable,
    DomainError,
    InvalidTransition,
    NotFound,
    PolicyViolation,
)
from skills.context import Context, Services
from skills.registry import ArgumentError, Command, Registry
from skills.reply import Reply

log = logging.getLogger(__name__)

MAX_TEXT = 4000


@dataclass(frozen=True)
class Routed:
    reply: Reply
    outcome: Outcome
    command: str


class Router:
    """Runs commands for callers; knows nothing of Slack or the terminal."""

    def __init__(self, registry: Registry, services: Services) -> None:
        self.registry = registry
        self.services = services
        self.db = services.db

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.services.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        """Set the time every service sees (tests pin it to the data's today)."""
        self.services.clock = clock

    def handle(self, caller: Caller, text: str, **options: Any) -> Reply:
        """route() for callers that need only the reply."""
        return self.route(caller, text, **options).reply

    def route(
        self,
        caller: Caller,
        text: str,
        *,
        channel: str = "",
        source: str = "console",
        thread: str | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> Routed:
        """Run one command for a caller; every outcome is audited and counted."""
        started = time.perf_counter()
        cmd: Command | None = None
        label = text.strip().lstrip("/").split(" ", 1)[0][:60] or "(empty)"
        try:
            reply, outcome, cmd = self._run(caller, text, channel, source, progress)
        except DatabaseUnavailable as exc:
            reply, outcome = Reply.error(str(exc), exc.hint), Outcome.FAILED
        if thread and reply.thread is None:
            reply = replace(reply, thread=thread)
        name = cmd.name if cmd else label
        self._audit(caller, name, text, channel, source, outcome, reply, started)
        # Unknown commands share one label, so typos cannot grow the metric without bound.
        metric = name if cmd else "(unknown)"
        metrics.COMMANDS.labels(metric, outcome.value).inc()
        metrics.LATENCY.labels(metric).observe(time.perf_counter() - started)
        return Routed(reply, outcome, name)

    def _run(
        self,
        caller: Caller,
        text: str,
        channel: str,
        source: str,
        progress: Callable[[str], None] | None,
    ) -> tuple[Reply, Outcome, Command | None]:
        if len(text) > MAX_TEXT:
            return (
                Reply.error(
                    f"that command is {len(text):,} characters; the limit is {MAX_TEXT:,}",
                    "shorten it, or attach long text as a file",
                ),
                Outcome.INVALID,
                None,
            )
        try:
            words = shlex.split(text.strip().lstrip("/"))
        except ValueError as exc:
            return (
                Reply.error(
                    f"could not read that command: {str(exc).lower()}",
                    'close every quote: /ticket note T-12 "text with spaces"',
                ),
                Outcome.INVALID,
                None,
            )
        if not words:
            return Reply.error("say a command", "try /ops help"), Outcome.INVALID, None
        cmd, used = self.registry.find(words)
        if cmd is None:
            return self._unknown(caller, words), Outcome.INVALID, None
        if cmd.allows(caller.roles):
            # A command found in the index loads its skill now, and its roles are checked
            # again from the code itself: a stale index can never let anyone further.
            cmd = self.registry.load(cmd)
        if not cmd.allows(caller.roles):
            return (
                Reply.error(
                    refusal(cmd.name, caller, cmd.roles),
                    "ask an admin to grant the role in config.yaml",
                ),
                Outcome.REFUSED,
                cmd,
            )
        try:
            args = cmd.parse(words[used:])
        except ArgumentError as exc:
            return Reply.error(str(exc), f"usage: {exc.usage}"), Outcome.INVALID, cmd
        ctx = Context(
            actor=caller.name,
            roles=caller.roles,
            services=self.services,
            channel=channel,
            source=source,
            clock=self.clock,
            **({"progress": progress} if progress else {}),
        )
        try:
            reply = cmd.fn(ctx, args)
        except PolicyViolation as exc:
            return Reply.error(str(exc), exc.hint), Outcome.REFUSED, cmd
        except (NotFound, InvalidTransition) as exc:
            return Reply.error(str(exc), exc.hint), Outcome.INVALID, cmd
        except DatabaseUnavailable:
            raise
        except DomainError as exc:
            return Reply.error(str(exc), exc.hint), Outcome.FAILED, cmd
        except Exception:
            ref = uuid.uuid4().hex[:8].upper()
            log.exception("command /%s failed (reference E-%s)", cmd.name, ref)
            return (
                Reply.error(
                    f"/{cmd.name} failed unexpectedly (reference E-{ref})",
                    "it has been logged; try again, or tell the Switchboard team",
                ),
                Outcome.FAILED,
                cmd,
            )
        return self._theirs(reply, caller), (Outcome.OK if reply.ok else Outcome.FAILED), cmd

    def _theirs(self, reply: Reply, caller: Caller) -> Reply:
        """A private reply offers only the buttons its reader may press (a public one
        keeps them for the channel; every click is checked again anyway)."""
        if not reply.ephemeral or not reply.buttons:
            return reply
        kept = tuple(
            b
            for b in reply.buttons
            if (found := self.registry.find(shlex.split(b.command.lstrip("/")))[0]) is None
            or found.allows(caller.roles)
        )
        return reply if len(kept) == len(reply.buttons) else replace(reply, buttons=kept)

    def _unknown(self, caller: Caller, words: list[str]) -> Reply:
        first = words[0].lower()
        group = [c for c in self.registry.under(first) if c.allows(caller.roles)]
        if group and len(words) == 1:
            lines = "\n".join(f"{c.usage}  {c.help}" for c in group)
            return Reply.error(f"`/{first}` needs a subcommand", f"one of:\n{lines}")
        typed = " ".join(words[:2]).lower()
        names = [c.name for c in self.registry.visible_to(caller.roles)]
        close = difflib.get_close_matches(typed, names, n=1, cutoff=0.6)
        hint = "/ops help lists what you can run"
        if close:
            hint = f"did you mean /{close[0]}? {hint}"
        shown = typed if group else first
        return Reply.error(f"unknown command /{shown}", hint)

    def _audit(
        self,
        caller: Caller,
        name: str,
        text: str,
        channel: str,
        source: str,
        outcome: Outcome,
        reply: Reply,
        started: float,
    ) -> None:
        detail = reply.text if outcome != Outcome.OK else ""
        try:
            audit(
                self.db,
                actor=caller.name,
                roles=caller.role_names,
                channel=channel,
                via=source,
                command=name,
                arguments=text,
                outcome=outcome,
                detail=detail,
                duration_ms=int((time.perf_counter() - started) * 1000),
                at=self.clock(),
            )
        except Exception:  # the audit must never turn an answer into a traceback
            log.exception("could not write the audit event for /%s by %s", name, caller.name)
