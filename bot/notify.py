"""Alarm messages: one per alarm in its severity's channel, kept up to date in place.

The alarms themselves say what is behind (`revision` > `posted_revision`), so the
work survives restarts and is done by one replica at a time (a named database lock).
An alarm correlated under a device-down alarm gets no message of its own; more new
alarms in a minute than `alerts.storm_per_minute` are reported in one storm summary,
updated while the storm lasts.

A message Slack refused for good (the bot is not in the channel) is one warning and is
not asked again; one Slack failed to take (a 5xx or 429 after the client's retries) stays
behind and is sent at a later pass. It ends the pass when nothing in it got through (the
loop backs off); else it is tried after the others, so it never holds them up (`Sends`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.bootstrap import Switchboard
from bot.outbound import Outbound, Sends, refused_for_good
from bot.render.blockkit import to_message
from bot.worker import Loop
from domain.db import make_ref, utcnow
from domain.faults.choices import AlarmState, PerceivedSeverity
from domain.faults.models import Alarm, AlarmStorm
from domain.faults.queries import alarm_view, storm_summary
from domain.faults.services import (
    alarms_to_post,
    current_storm,
    join_storm,
    mark_storm_posted,
    record_posted,
    storm_member_changed,
    storms_to_post,
)
from skills.alarms import alarm_card, storm_card

log = logging.getLogger(__name__)

LOCK = "alarm-notifier"
#: How long a pass waits for the outbound queue to send one message.
SEND_TIMEOUT_S = 300
MINUTE = timedelta(minutes=1)


@dataclass
class _Work:
    """One alarm's pending message, decided while reading."""

    alarm_id: int
    revision: int
    action: str  # post | update | storm | skip
    channel: str | None = None
    ts: str | None = None
    severity: PerceivedSeverity = PerceivedSeverity.INDETERMINATE
    storm_id: int | None = None


def _key(w: _Work) -> str:
    """How the log names an alarm's message (its ref, as people know it)."""
    return f"alarm {make_ref(Alarm.ref_prefix, w.alarm_id)}"


def _storm_key(storm_id: int) -> str:
    return f"storm summary {make_ref(AlarmStorm.ref_prefix, storm_id)}"


@dataclass
class Pass:
    """What one pass did."""

    posted: int = 0
    updated: int = 0
    stormed: int = 0
    skipped: int = 0
    failed: int = 0
    storm: str | None = None


class AlarmNotifier(Loop):
    name = "alarm-notifier"

    def __init__(
        self,
        sb: Switchboard,
        outbound: Outbound,
        *,
        interval_s: float = 2.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__()
        self.sb = sb
        self.outbound = outbound
        self.interval_s = interval_s
        self.clock = clock
        self._posted: deque[datetime] = deque()  # new-alarm messages in the last minute
        #: Messages Slack failed to take while it took others (`Sends`).
        self._stuck: dict[str, bool] = {}
        self._sends = Sends(self._stuck, self.name)

    # -- one pass --------------------------------------------------------------------------

    def run_once(self) -> Pass | None:
        """Bring every alarm's message up to date; None when another replica is on it."""
        with self.sb.db.hold(LOCK) as held:
            if not held:
                return None
            done = Pass()
            self._sends = sends = Sends(self._stuck, self.name)
            while not self.stopping:
                work = [w for w in self._read() if _key(w) not in sends.failed]
                if not work:
                    break
                self._do([work[i] for i in sends.last([_key(w) for w in work])], done)
            with self.sb.db.read() as s:
                storms = storms_to_post(s)
            keys = [_storm_key(storm_id) for storm_id, _ in storms]
            for i in sends.last(keys):
                if self.stopping:
                    break
                self._post_storm(*storms[i], done)
            return done

    def _channel(self, severity: PerceivedSeverity) -> str:
        ch = self.sb.settings.channels
        if severity == PerceivedSeverity.CRITICAL:
            return ch.alarms_critical
        if severity == PerceivedSeverity.MAJOR:
            return ch.alarms_major
        return ch.alarms_minor

    def _read(self) -> list[_Work]:
        out = []
        with self.sb.db.read() as s:
            for a in alarms_to_post(s):
                out.append(self._decide(a))
        return out

    def _decide(self, a: Alarm) -> _Work:
        work = _Work(a.id, a.revision, "skip", severity=a.perceived_severity, storm_id=a.storm_id)
        if a.storm_id is not None:
            work.action = "storm"
        elif a.slack_ts:
            work.action = "update"
            work.channel, work.ts = a.slack_channel, a.slack_ts
        elif a.posted_revision == 0 and a.parent_id is None and a.state != AlarmState.CLEARED:
            work.action = "post"
            work.channel = self._channel(a.perceived_severity)
        # else: a symptom filed under its root cause, gone before anyone saw it, or an
        # alarm from before messages (seeded history) that has no message to update.
        return work

    def _do(self, work: list[_Work], done: Pass) -> None:
        """Post and update; a storm an alarm joins or changes in is marked behind."""
        now = self.clock()
        while self._posted and self._posted[0] <= now - MINUTE:
            self._posted.popleft()
        new = [w for w in work if w.action == "post"]
        limit = self.sb.settings.alerts.storm_per_minute
        with self.sb.db.read() as s:
            storm = current_storm(s, now)
        if new and (storm is not None or len(self._posted) + len(new) > limit):
            join_storm(self.sb.db, [(w.alarm_id, w.revision) for w in new], now)
            done.stormed += len(new)
            work = [w for w in work if w.action != "post"]
        for w in work:
            if self.stopping:
                break
            if w.action == "storm":
                assert w.storm_id is not None
                storm_member_changed(self.sb.db, w.alarm_id, w.revision, w.storm_id)
            elif w.action == "skip" or not w.channel:
                done.skipped += 1
                self._mark(w)
            else:
                self._send(w, done, now)

    def _send(self, w: _Work, done: Pass, now: datetime) -> None:
        assert w.channel
        # Drawn now, not when read: in a storm most alarms never get a card of their own.
        with self.sb.db.read() as s:
            view = alarm_view(s, w.alarm_id)
        message = to_message(alarm_card(view))
        try:
            if w.action == "update" and w.ts:
                self.outbound.update(w.channel, w.ts, message).result(timeout=SEND_TIMEOUT_S)
                done.updated += 1
                metrics.ALARM_MESSAGES.labels("updated").inc()
                self._sends.ok(_key(w))
                self._mark(w)
                return
            posted = self.outbound.post(w.channel, message).result(timeout=SEND_TIMEOUT_S)
        except SlackApiError as exc:
            if not refused_for_good(exc):
                # Slack failed to take it: it stays behind (Sends: the pass may end).
                self._sends.failure(_key(w), exc)
                return
            self._sends.ok(_key(w))
            # Slack said no for good (the bot is not in the channel, the message is
            # gone): say so and move on rather than ask again every pass.
            log.warning("alarm message for %s not sent: %s", w.alarm_id, exc.response.get("error"))
            done.failed += 1
            metrics.ALARM_MESSAGES.labels("failed").inc()
            self._mark(w)
            return
        self._sends.ok(_key(w))
        self._posted.append(now)
        done.posted += 1
        metrics.ALARM_MESSAGES.labels("posted").inc()
        self._mark(w, channel=posted.get("channel"), ts=posted.get("ts"))

    def _mark(self, w: _Work, *, channel: str | None = None, ts: str | None = None) -> None:
        record_posted(self.sb.db, w.alarm_id, w.revision, channel=channel, ts=ts)

    def _post_storm(self, storm_id: int, revision: int, done: Pass) -> None:
        with self.sb.db.read() as s:
            summary = storm_summary(s, storm_id)
        if summary is None:
            return
        storm = summary.storm
        critical = summary.severity.get(PerceivedSeverity.CRITICAL.value, 0)
        message = to_message(storm_card(summary))
        done.storm = storm.ref
        try:
            if storm.slack_ts and storm.slack_channel:
                self.outbound.update(storm.slack_channel, storm.slack_ts, message).result(
                    timeout=SEND_TIMEOUT_S
                )
                self._sends.ok(_storm_key(storm_id))
                mark_storm_posted(self.sb.db, storm_id, revision)
                return
            channel = self._channel(
                PerceivedSeverity.CRITICAL if critical else PerceivedSeverity.MAJOR
            )
            posted = self.outbound.post(channel, message).result(timeout=SEND_TIMEOUT_S)
        except SlackApiError as exc:
            if not refused_for_good(exc):  # still behind in the database (Sends)
                self._sends.failure(_storm_key(storm_id), exc)
                return
            self._sends.ok(_storm_key(storm_id))
            log.warning("storm summary %s not sent: %s", storm.ref, exc.response.get("error"))
            mark_storm_posted(self.sb.db, storm_id, revision)
            return
        self._sends.ok(_storm_key(storm_id))
        metrics.ALARM_MESSAGES.labels("storm").inc()
        mark_storm_posted(
            self.sb.db, storm_id, revision, channel=posted.get("channel"), ts=posted.get("ts")
        )
