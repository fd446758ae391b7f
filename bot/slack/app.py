"""The Bolt app: only built here; listeners live in bot/slack/listeners/, grouped by kind."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot import metrics
from bot.slack.edge import SlackEdge
from bot.slack.listeners import actions, commands, events, views
from domain.errors import DomainError

log = logging.getLogger(__name__)


def build_app(edge: SlackEdge) -> App:
    slack = edge.sb.settings.slack
    if slack.bot_token is None:
        raise DomainError("slack.bot_token is not set", hint="export SLACK_BOT_TOKEN=xoxb-...")
    if slack.signing_secret is None and not slack.socket_mode:
        raise DomainError(
            "slack.signing_secret is not set; Slack requests cannot be verified",
            hint="export SLACK_SIGNING_SECRET=... (from the app's Basic Information page)",
        )
    app = App(
        client=edge.client,
        signing_secret=slack.signing_secret.get_secret_value() if slack.signing_secret else "",
        token_verification_enabled=False,
        request_verification_enabled=not slack.socket_mode,
        # Listeners ack and return at once (the work goes to the edge's pool), so Bolt
        # may run them in the request's own thread.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        logger=_bolt_logger(),
    )
    app.use(_exactly_once(edge))
    for kind in (commands, actions, views, events):
        kind.register(app, edge)
    return app


class _NoBodies(logging.Filter):
    """Bolt writes request bodies into some messages; keep the message, drop the body."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cut = message.find(" (")
        if cut > 0 and ("body" in message or "Unhandled request" in message):
            record.msg, record.args = message[:cut] + " (body not logged)", ()
        return True


def _bolt_logger() -> logging.Logger:
    """Bolt's logger, filtered so that no request body reaches the logs."""
    bolt_log = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _NoBodies) for f in bolt_log.filters):
        bolt_log.addFilter(_NoBodies())
    return bolt_log


def _exactly_once(edge: SlackEdge) -> Callable[..., BoltResponse | None]:
    """Drop Slack's redeliveries at once; the ledger check happens in `SlackEdge.submit`.

    Redeliveries are acked without work. Every delivery's id is claimed in the shared
    ledger before its job runs (off the ack path), so a copy that reaches this or
    another replica without the retry header still runs once.
    """

    def middleware(req: BoltRequest, next: Callable[[], None]) -> Any:
        retry = (req.headers.get("x-slack-retry-num") or ["0"])[0]
        if retry.isdigit() and int(retry) > 0:
            metrics.SLACK_DROPPED.labels("retry").inc()
            return BoltResponse(status=200, body="")
        next()
        return None

    return middleware
