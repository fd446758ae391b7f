"""The one way proactive messages leave: a queue that keeps Slack's pace.

Slack allows about one message a second per channel (chat.postMessage's special
rate limit); a digest to ten channels or a burst of alarm messages must not trip
it. Every proactive post, update and upload goes through `Outbound`: one worker
thread sends in order, waiting so that no channel gets more than one message per
`per_channel_s`, and the Web API client retries 429s after their Retry-After.
Callers get a Future with Slack's answer (the ts of a posted message).

Without a bot token (`serve` runs the webhooks without Slack) nothing is sent: every
Future fails with `SlackNotConfigured`, and each loop that tried is warned about once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.render.blockkit import Message
from domain.errors import DomainError

log = logging.getLogger(__name__)

#: Slack's answers that refuse a message for good: the channel, the message or what it
#: carries is the matter, so the same message would get the same answer. Anything else
#: (a 5xx or 429 after the client's retries, Slack's own failure, a revoked token or a
#: missing scope an operator can put right, a proxy's page) is a failure to take it.
SLACK_REFUSED = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_attachments",
        "too_many_attachments",
        "invalid_arguments",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "cannot_reply_to_message",
        "user_not_found",
        "user_not_visible",
        "user_disabled",
        "cannot_dm_bot",
        "messages_tab_disabled",
    }
)


def _error(exc: SlackApiError) -> str | None:
    """Slack's error code in its answer (None when the answer was not Web API JSON)."""
    return exc.response.get("error") if isinstance(exc.response.data, dict) else None


def refused_for_good(exc: SlackApiError) -> bool:
    """Whether Slack refused a message for good (see SLACK_REFUSED), as opposed to failing
    to take it. A loop marks a refused message done with one warning, and ends its pass on
    a failed one, which stays due: the loop backs off and asks again. (Slack says a
    `fatal_error` may have done part of the work, so a message can, rarely, show twice.)"""
    status = getattr(exc.response, "status_code", 200) or 200
    return status == 200 and _error(exc) in SLACK_REFUSED


class Sends:
    """One pass's messages, so that one message Slack keeps failing to take does not hold
    up the rest of its loop.

    A failure (see `refused_for_good`) before anything in the pass got through may mean
    Slack is failing: it ends the pass, the loop backs off and says so once. A failure
    after something got through is that message's own: it stays due and is skipped until
    the next pass, warned about once. Either way the message is tried after the others
    from then on (`last`), so a message that keeps failing never holds up the rest.
    `stuck` (key -> warned) is the loop's, kept across passes in memory.
    """

    def __init__(self, stuck: dict[str, bool], who: str) -> None:
        self.stuck = stuck
        self.who = who
        self.sent = 0
        #: Failed in this pass: not tried again until the next.
        self.failed: set[str] = set()

    def last(self, keys: list[str]) -> list[int]:
        """The order to send in: fresh messages first, the stuck ones after."""
        return sorted(range(len(keys)), key=lambda i: keys[i] in self.stuck)

    def ok(self, key: str) -> None:
        """`key` got through (or was refused for good: done either way)."""
        self.sent += 1
        self.stuck.pop(key, None)

    def failure(self, key: str, exc: SlackApiError) -> None:
        """Slack failed to take `key`: end the pass, or skip it until the next pass."""
        warned = self.stuck.get(key, False)
        self.stuck[key] = warned
        if not self.sent:
            raise exc
        self.failed.add(key)
        if not warned:
            self.stuck[key] = True
            log.warning(
                "%s: %s not sent, Slack failed to take it (%s) while it took others; "
                "tried again at the next pass",
                self.who,
                key,
                _error(exc),
            )


@dataclass
class _Item:
    channel: str
    send: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)


class SlackNotConfigured(DomainError):
    """A message was to leave for Slack, but this process has no bot token."""


class _AttemptsUnsaid(logging.Filter):
    """Drops the Web API client's lines about each attempt the queue's sends fail to make.

    The error reaches whoever sent the message (its Future), and the loop that sent it
    says so once per outage (bot/worker.py); lines per attempt would repeat it every pass.
    A retry after a 429 is still logged by the client.
    """

    SAID = (
        "Failed to send a request to Slack API server",
        "A retry handler found: ConnectionErrorRetryHandler",
        "Going to retry the same request",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD or not record.getMessage().startswith(self.SAID)


#: The queue's sending thread.
THREAD = "outbound"
_ATTEMPTS_UNSAID = _AttemptsUnsaid()


class Outbound:
    def __init__(
        self, client: WebClient, *, per_channel_s: float = 1.0, missing: str | None = None
    ) -> None:
        self.client = client
        client.logger.addFilter(_ATTEMPTS_UNSAID)  # added once, however many queues
        self.per_channel_s = per_channel_s
        #: Why nothing can be sent ("SLACK_BOT_TOKEN unset"); None when Slack is configured.
        self.missing = missing
        self._warned: set[str] = set()
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._last: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, name=THREAD, daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def _ensure_started(self) -> None:
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True

    def stop(self, timeout: float = 10.0) -> None:
        if self._started:
            self._queue.put(None)
            self._thread.join(timeout)

    # -- what callers use --------------------------------------------------------------

    def post(self, channel: str, message: Message, thread: str | None = None) -> Future[Any]:
        """Post a message; the Future gives Slack's answer (its "channel" and "ts")."""
        return self._put(
            channel,
            lambda: self.client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread
            ),
        )

    def update(self, channel: str, ts: str, message: Message) -> Future[Any]:
        return self._put(
            channel,
            lambda: self.client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=message.blocks
            ),
        )

    def upload(self, channel: str, message: Message, thread: str | None = None) -> Future[Any]:
        """Upload a message's files (charts, CSVs) to a channel."""
        return self._put(
            channel,
            lambda: self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread,
                file_uploads=[
                    {"content": f.content, "filename": f.filename, "title": f.title or f.filename}
                    for f in message.files
                ],
            ),
        )

    def direct(self, user_id: str, message: Message) -> Future[Any]:
        """A direct message to a person (their DM channel is opened first)."""

        def send() -> Any:
            dm = self.client.conversations_open(users=user_id)["channel"]["id"]
            answer = self.client.chat_postMessage(
                channel=dm, text=message.text, blocks=message.blocks
            )
            if message.files:
                self.client.files_upload_v2(
                    channel=dm,
                    file_uploads=[
                        {"content": f.content, "filename": f.filename, "title": f.title}
                        for f in message.files
                    ],
                )
            return answer

        return self._put(f"dm:{user_id}", send)

    # -- the worker ----------------------------------------------------------------------

    def _put(self, channel: str, send: Callable[[], Any]) -> Future[Any]:
        if self.missing is not None:
            return self._skip()
        self._ensure_started()
        item = _Item(channel, send)
        self._queue.put(item)
        return item.future

    def _skip(self) -> Future[Any]:
        """A Future that says Slack is not configured; one warning per loop that asks."""
        error = SlackNotConfigured(
            f"Slack is not configured ({self.missing}): the message was not sent",
            hint="export SLACK_BOT_TOKEN=xoxb-... and restart serve",
        )
        who = threading.current_thread().name
        with self._lock:
            first = who not in self._warned
            self._warned.add(who)
        if first:
            log.warning(
                "%s: Slack is not configured (%s); its Slack messages are skipped",
                who,
                self.missing,
            )
        future: Future[Any] = Future()
        future.set_exception(error)
        return future

    def _run(self) -> None:
        pending: list[_Item] = []
        while True:
            # Take in everything queued; then send the oldest item whose channel may
            # speak, so a channel that must wait does not hold up the others.
            wait = self._next_ready(pending) if pending else None
            try:
                item = self._queue.get(timeout=wait) if wait != 0 else self._queue.get_nowait()
            except queue.Empty:
                self._send_one(pending)
                continue
            if item is None:
                return
            pending.append(item)

    def _send_one(self, pending: list[_Item]) -> None:
        now = time.monotonic()
        for item in pending:
            if self._last.get(item.channel, 0.0) + self.per_channel_s <= now:
                break
        else:
            return
        pending.remove(item)
        try:
            result = item.send()
        except Exception as exc:  # Slack said no (after its retries): tell the caller
            item.future.set_exception(exc)
        else:
            item.future.set_result(result)
        finally:
            self._last[item.channel] = time.monotonic()

    def _next_ready(self, pending: list[_Item]) -> float:
        """Seconds until some pending channel may speak (0: one may now)."""
        now = time.monotonic()
        return max(
            0.0,
            min(self._last.get(p.channel, 0.0) + self.per_channel_s - now for p in pending),
        )
