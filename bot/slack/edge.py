"""The Slack edge: who is calling, the bounded worker pool, exactly-once, and delivery.

Listeners (bot/slack/listeners/) ack at once and hand the work to `SlackEdge.submit`;
the skill runs in the pool and its Reply goes back through `deliver`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot import metrics
from bot.access import Caller
from bot.bootstrap import Switchboard
from bot.render.blockkit import Message, to_message
from domain.audit.services import claim_delivery
from domain.config import SlackSettings
from domain.errors import DatabaseUnavailable
from skills.reply import Reply

log = logging.getLogger(__name__)

#: How long Slack user-group memberships are trusted before they are asked again.
GROUP_TTL_S = 300.0
#: How soon a membership that could not be read is asked again (meanwhile: no members).
GROUP_RETRY_S = 30.0


def web_client(slack: SlackSettings) -> WebClient:
    """A Web API client on the configured base URL that honours 429 Retry-After."""
    token = slack.bot_token.get_secret_value() if slack.bot_token else None
    return WebClient(
        token=token,
        base_url=slack.api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def delivery_key(body: dict[str, Any]) -> str | None:
    """The id Slack keeps across redeliveries of one request, where it has one."""
    kind = body.get("type")
    if kind == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if kind == "block_actions" and body.get("actions"):
        return f"action:{body['actions'][0].get('action_ts', '')}:{body.get('user', {}).get('id')}"
    if kind == "view_submission" and body.get("view"):
        return f"view:{body['view'].get('id')}:{body['view'].get('hash', '')}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    return None


class SlackEdge:
    def __init__(self, sb: Switchboard, client: WebClient) -> None:
        self.sb = sb
        self.client = client
        workers = sb.settings.server.workers
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="skill")
        # A bounded backlog: beyond it, say we are busy rather than queue without end.
        self._slots = threading.BoundedSemaphore(sb.settings.server.queue_limit)
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._groups_lock = threading.Lock()
        self._in_flight = 0
        self._idle = threading.Condition()

    # -- who -------------------------------------------------------------------------------

    def caller(self, user_id: str) -> Caller:
        return self.sb.access.slack_user(user_id, self._group_ids(user_id))

    def _group_ids(self, user_id: str) -> list[str]:
        groups = []
        for group in self.sb.access.mapped_groups:
            with self._groups_lock:
                cached = self._groups.get(group)
            if cached is None or cached[0] < time.monotonic():
                ttl = GROUP_TTL_S
                try:
                    users: list[str] = self.client.usergroups_users_list(usergroup=group).get(
                        "users", []
                    )
                except SlackApiError as exc:
                    # Nobody gets the group's roles while it cannot be read, and it is
                    # asked again soon, not after the whole TTL.
                    log.warning("cannot read Slack user group %s: %s", group, exc)
                    users, ttl = [], GROUP_RETRY_S
                cached = (time.monotonic() + ttl, frozenset(users))
                with self._groups_lock:
                    self._groups[group] = cached
            if user_id in cached[1]:
                groups.append(group)
        return groups

    # -- exactly once --------------------------------------------------------------------

    def first_delivery(self, key: str) -> bool:
        """Claim a delivery in the shared ledger; False when any replica already did."""
        return claim_delivery(self.sb.db, key)

    # -- the pool ----------------------------------------------------------------------------

    def submit(self, job: Callable[[], None], body: dict[str, Any]) -> bool:
        """Run `job` in the worker pool, once per Slack delivery (`body` names it).

        Returns False, queueing nothing, when the backlog is full.
        """
        if not self._slots.acquire(blocking=False):
            return False
        with self._idle:
            self._in_flight += 1
        metrics.QUEUE_DEPTH.inc()
        key = delivery_key(body)

        def run() -> None:
            try:
                try:
                    seen = key is not None and not self.first_delivery(key)
                except DatabaseUnavailable:
                    # No ledger without the database; nothing can change without it either,
                    # so run the job: the caller gets the database's trouble in one line.
                    seen = False
                if seen:
                    metrics.SLACK_DROPPED.labels("seen").inc()
                    log.info("delivery %s was already handled; dropped", key)
                    return
                job()
            except Exception:
                log.exception("a Slack job failed")
            finally:
                metrics.QUEUE_DEPTH.dec()
                self._slots.release()
                with self._idle:
                    self._in_flight -= 1
                    self._idle.notify_all()

        self.pool.submit(run)
        return True

    def drain(self, timeout: float) -> int:
        """Wait for in-flight jobs; returns how many were still running at the deadline."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight and time.monotonic() < deadline:
                self._idle.wait(deadline - time.monotonic())
            left = self._in_flight
        self.pool.shutdown(wait=left == 0, cancel_futures=True)
        return left

    # -- delivery ----------------------------------------------------------------------------

    def deliver(
        self, reply: Reply, *, channel: str, user: str, respond: Callable[..., Any] | None = None
    ) -> str | None:
        """Send a Reply where it belongs; returns the message ts of a public post.

        Without a channel (a click on the App Home tab has neither a channel nor a
        response_url) the reply is a direct message to `user`, private as an ephemeral is.
        """
        message = to_message(reply)
        ts: str | None = None
        if not channel:
            channel = self.client.conversations_open(users=user)["channel"]["id"]
            message.ephemeral, message.thread, respond = False, None, None
        if message.ephemeral:
            if respond is not None:
                respond(
                    text=message.text,
                    blocks=message.blocks,
                    response_type="ephemeral",
                    replace_original=False,
                )
            else:
                self.client.chat_postEphemeral(
                    channel=channel,
                    user=user,
                    text=message.text,
                    blocks=message.blocks,
                    thread_ts=message.thread,
                )
        else:
            posted = self.client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks, thread_ts=message.thread
            )
            ts = posted.get("ts")
        self._upload(message, channel=channel, user=user, thread=ts or message.thread)
        return ts

    def _upload(self, message: Message, *, channel: str, user: str, thread: str | None) -> None:
        if not message.files:
            return
        # Files cannot be ephemeral: a private reply's files go to the caller's DM.
        target = channel
        if message.ephemeral:
            target = self.client.conversations_open(users=user)["channel"]["id"]
            thread = None
        self.client.files_upload_v2(
            channel=target,
            thread_ts=thread,
            file_uploads=[
                {"content": f.content, "filename": f.filename, "title": f.title or f.filename}
                for f in message.files
            ],
        )

    def progress(self, channel: str) -> Callable[[str], None]:
        """A progress reporter: the first report posts a message, later ones update it."""
        state: dict[str, str] = {}
        lock = threading.Lock()

        def report(text: str) -> None:
            with lock:
                if "ts" not in state:
                    state["ts"] = self.client.chat_postMessage(
                        channel=channel, text=f":hourglass: {text}"
                    )["ts"]
                else:
                    self.client.chat_update(
                        channel=channel, ts=state["ts"], text=f":hourglass: {text}"
                    )

        return report
