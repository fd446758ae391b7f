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
from pathlib import Path
from typing import Any

from bot import metrics
from bot.access import Caller, refusal
from domain.audit.choices import Outcome
from domain.audit.journal import PendingEvent, journal_beside
from domain.audit.services import (
    STORE_BUDGET_S,
    AuditUnwritten,
    keep_in_journal,
    redacted,
    store_events,
)
from domain.config import AuditSettings, ConfigError, default_config_path, load_settings
from domain.errors import (
    DatabaseUnavailable,
    DomainError,
    InvalidTransition,
    NotFound,
    PolicyViolation,
)
from domain.policy import ABOUT_THE_BOT, CHANGES
from skills.context import Context, Services
from skills.registry import ArgumentError, Command, Registry
from skills.reply import Reply

log = logging.getLogger(__name__)

MAX_TEXT = 4000

#: What the caller is told when a command's audit event cannot be stored in time.
NOT_RUN = "could not record this request in the audit trail, so nothing was done"
WITHHELD = "could not record this request in the audit trail, so its answer is not shown"
TRY_AGAIN = "the database is busy or away; try again in a moment"


@dataclass(frozen=True)
class Routed:
    reply: Reply
    outcome: Outcome
    command: str


@dataclass(frozen=True)
class _Ran:
    """What `_run` did: the reply and outcome, and how far the command got."""

    reply: Reply
    outcome: Outcome
    cmd: Command | None
    #: The skill was called (its answer may show data, or it changed something).
    ran: bool = False
    #: A change not run because its "requested" event could not be stored.
    not_run: bool = False


def default_journal(database_url: str) -> Path:
    """The database's audit journal beside the anchor file the default config file names
    (bootstrap passes the one of the settings it was given)."""
    path = default_config_path()
    try:
        settings = load_settings(path)
        anchor_file = settings.resolve_path(settings.audit.anchor_file)
    except ConfigError:  # the process reports its config; the default place still keeps
        anchor_file = path.parent / AuditSettings().anchor_file
    return journal_beside(anchor_file, database_url)


class Router:
    """Runs commands for callers; knows nothing of Slack or the terminal."""

    def __init__(
        self, registry: Registry, services: Services, *, journal: Path | None = None
    ) -> None:
        self.registry = registry
        self.services = services
        self.db = services.db
        #: Where audit events wait when the database cannot take them in time
        #: (domain/audit/journal.py); beside audit.anchor_file.
        self.journal = journal or default_journal(self.db.url)
        #: Seconds a command waits for its audit event to be stored.
        self.audit_budget = STORE_BUDGET_S

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
            done = self._run(caller, text, channel, source, progress)
        except DatabaseUnavailable as exc:
            done = _Ran(Reply.error(str(exc), exc.hint), Outcome.FAILED, None, ran=True)
        reply, outcome, cmd = done.reply, done.outcome, done.cmd
        name = cmd.name if cmd else label
        reply, outcome = self._audit(caller, name, text, channel, source, done, started)
        if thread and reply.thread is None:
            reply = replace(reply, thread=thread)
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
    ) -> _Ran:
        if len(text) > MAX_TEXT:
            return _Ran(
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
            return _Ran(
                Reply.error(
                    f"could not read that command: {str(exc).lower()}",
                    'close every quote: /ticket note T-12 "text with spaces"',
                ),
                Outcome.INVALID,
                None,
            )
        if not words:
            return _Ran(Reply.error("say a command", "try /ops help"), Outcome.INVALID, None)
        cmd, used = self.registry.find(words)
        if cmd is None:
            return _Ran(self._unknown(caller, words), Outcome.INVALID, None)
        if cmd.allows(caller.roles):
            # A command found in the index loads its skill now, and its roles are checked
            # again from the code itself: a stale index can never let anyone further.
            cmd = self.registry.load(cmd)
        if not cmd.allows(caller.roles):
            return _Ran(
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
            return _Ran(Reply.error(str(exc), f"usage: {exc.usage}"), Outcome.INVALID, cmd)
        ctx = Context(
            actor=caller.name,
            roles=caller.roles,
            services=self.services,
            channel=channel,
            source=source,
            clock=self.clock,
            **({"progress": progress} if progress else {}),
        )
        if _changes(cmd.name) and not self._requested(caller, cmd.name, text, channel, source):
            return _Ran(Reply.error(NOT_RUN, TRY_AGAIN), Outcome.FAILED, cmd, not_run=True)
        try:
            reply = cmd.fn(ctx, args)
        except PolicyViolation as exc:
            return _Ran(Reply.error(str(exc), exc.hint), Outcome.REFUSED, cmd, ran=True)
        except (NotFound, InvalidTransition) as exc:
            return _Ran(Reply.error(str(exc), exc.hint), Outcome.INVALID, cmd, ran=True)
        except DatabaseUnavailable as exc:
            return _Ran(Reply.error(str(exc), exc.hint), Outcome.FAILED, cmd, ran=True)
        except DomainError as exc:
            return _Ran(Reply.error(str(exc), exc.hint), Outcome.FAILED, cmd, ran=True)
        except Exception:
            ref = uuid.uuid4().hex[:8].upper()
            log.exception("command /%s failed (reference E-%s)", cmd.name, ref)
            return _Ran(
                Reply.error(
                    f"/{cmd.name} failed unexpectedly (reference E-{ref})",
                    "it has been logged; try again, or tell the Switchboard team",
                ),
                Outcome.FAILED,
                cmd,
                ran=True,
            )
        outcome = Outcome.OK if reply.ok else Outcome.FAILED
        return _Ran(self._theirs(reply, caller), outcome, cmd, ran=True)

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

    def _requested(self, caller: Caller, name: str, text: str, channel: str, source: str) -> bool:
        """Store the "requested" event of a change before it runs; False if it cannot be
        stored in time (the change must then not run)."""
        event = PendingEvent(
            actor=caller.name,
            command=name,
            outcome=Outcome.REQUESTED,
            at=self.clock(),
            roles=tuple(caller.role_names),
            channel=channel,
            via=source,
            arguments=text,
        )
        try:
            store_events(self.db, (event,), journal_file=self.journal, budget=self.audit_budget)
        except AuditUnwritten as exc:
            log.warning("/%s by %s not run: %s", name, caller.name, exc)
            return False
        return True

    def _audit(
        self,
        caller: Caller,
        name: str,
        text: str,
        channel: str,
        source: str,
        done: _Ran,
        started: float,
    ) -> tuple[Reply, Outcome]:
        """Store the command's event, and say what may be shown if it cannot be.

        A read's answer is shown only once its event is stored; a change that ran, and
        anything that showed nothing, has its event kept in the journal instead.
        """
        reply, outcome = done.reply, done.outcome
        event = PendingEvent(
            actor=caller.name,
            command=name,
            outcome=outcome,
            at=self.clock(),
            roles=tuple(caller.role_names),
            channel=channel,
            via=source,
            arguments=text,
            detail=reply.text if outcome != Outcome.OK else "",
            duration_ms=int((time.perf_counter() - started) * 1000),
        )
        try:
            if done.not_run:  # the database just failed this command's first event
                raise AuditUnwritten("its requested event could not be stored either")
            store_events(self.db, (event,), journal_file=self.journal, budget=self.audit_budget)
        except AuditUnwritten as exc:
            # An answer that shows nothing (a refusal, the database's own trouble) is
            # shown as it is, its event journaled; only data waits for its record.
            shows_data = outcome == Outcome.OK or bool(
                reply.sections or reply.tables or reply.files
            )
            withheld = done.ran and shows_data and not _changes(name) and name not in ABOUT_THE_BOT
            if done.not_run:
                action = "refused"
            elif withheld:
                action = "withheld"
                reply, outcome = Reply.error(WITHHELD, TRY_AGAIN), Outcome.FAILED
                event = replace(
                    event, outcome=outcome, detail=f"{WITHHELD} (the command ran: {exc})"
                )
            else:
                action = "journaled"
            metric = name if done.cmd else "(unknown)"
            try:
                keep_in_journal(self.journal, event)
            except OSError as lost:
                action = "lost" if action == "journaled" else action
                log.error(
                    "audit event of /%s by %s not stored (%s) nor journaled (%s: %s): %s",
                    name,
                    caller.name,
                    exc,
                    self.journal,
                    lost,
                    redacted(event).to_line().strip(),
                )
            metrics.AUDIT_UNWRITTEN.labels(metric, action).inc()
        return reply, outcome


def _changes(name: str) -> bool:
    """Whether a command must have its "requested" event stored before it runs."""
    return name in CHANGES
