"""What /slack/events checks before Bolt sees a byte: size, timestamp, signature, shape.

Slack signs the raw body (`v0:<timestamp>:<body>`, HMAC-SHA256 with the signing
secret), so the signature is checked on the bytes as received, before any decoding or
parsing: an unsigned request costs one hash and is never parsed or logged. Only a
signed body is decoded and parsed, and a body that is not a Slack payload (not UTF-8,
not JSON, a JSON array, nested past the parser's depth) is a 400. Every refusal is a
`webhooks.Rejected`, as the other webhooks answer.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from slack_bolt.request.internals import parse_body

from bot import metrics
from bot.webhooks import Rejected

log = logging.getLogger(__name__)

#: Slack refuses to replay requests older than this; so do we (its documented window).
MAX_AGE_S = 300


def describe(body: bytes) -> str:
    """How a body appears in logs: its size and a sha256 prefix, never its content."""
    return f"{len(body):,} bytes, sha256 {hashlib.sha256(body).hexdigest()[:12]}"


def refused(exc: Rejected, body: bytes) -> None:
    """Count a refusal in /metrics by status and log it by the body's size and hash."""
    metrics.SLACK_REFUSED.labels(str(exc.status)).inc()
    log.info("/slack/events refused (%d %s): %s", exc.status, exc, describe(body))


def declared_length(headers: Mapping[str, str], limit: int) -> None:
    """Refuse by Content-Length alone, before reading the body."""
    declared = headers.get("content-length")
    if declared is None:
        return
    if not declared.strip().isdigit():
        raise Rejected(400, "the Content-Length header is not a number")
    if int(declared) > limit:
        raise Rejected(
            413,
            f"the body is {int(declared):,} bytes; the limit is {limit:,}",
            "raise server.slack_max_body_bytes if Slack really sends more",
        )


async def read_capped(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """Read a body of at most `limit` bytes; a longer one (chunked, or lying) is a 413."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise Rejected(
                413,
                f"the body is over the limit of {limit:,} bytes",
                "raise server.slack_max_body_bytes if Slack really sends more",
            )
    return bytes(body)


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
    """Timestamp and signature of the raw bytes; raises Rejected(401)."""
    hint = "requests to /slack/events must be signed by Slack with the app's signing secret"
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not secret or not timestamp or not signature:
        raise Rejected(401, "the request is not signed by Slack", hint)
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise Rejected(401, "the request timestamp is not a number of seconds", hint)
    clock = time.time() if now is None else now
    if abs(clock - int(timestamp)) > MAX_AGE_S:
        raise Rejected(
            401,
            f"the request timestamp is more than {MAX_AGE_S // 60} minutes from now",
            "check the server's clock; Slack's replays of old requests are refused",
        )
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Rejected(401, "the request signature does not match", hint)


def payload(body: bytes, content_type: str | None) -> tuple[str, dict[str, Any]]:
    """The signed body as text and as the payload Bolt will see; raises Rejected(400)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "the request body is not UTF-8") from None
    kind = (content_type or "").split(";")[0].strip() or None
    try:
        parsed = parse_body(text, kind)
    except RecursionError:
        raise Rejected(400, "the request body is nested too deeply") from None
    except ValueError:
        raise Rejected(400, "the request body is not a Slack payload (bad JSON)") from None
    if not isinstance(parsed, dict):
        raise Rejected(400, "the request body is not a Slack payload (not a JSON object)")
    problem = shape(parsed)
    if problem:
        raise Rejected(400, f"the request body is not a Slack payload ({problem})")
    return text, parsed


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _user_id(payload: Mapping[str, Any]) -> bool:
    user = payload.get("user")
    return isinstance(user, dict) and _text(user.get("id"))


def shape(p: Mapping[str, Any]) -> str:
    """What a signed payload lacks that Bolt's middleware or our listeners read, in a few
    words; "" when it has the shape of a Slack payload. Slack always sends these fields;
    a payload without them is not from Slack, and Bolt would fail on it (a 500)."""
    if "command" in p:  # a slash command (a form)
        if not (_text(p["command"]) and p["command"].startswith("/")):
            return "a slash command without its command name"
        missing = [f for f in ("user_id", "channel_id") if not _text(p.get(f))]
        return f"a slash command without {' and '.join(missing)}" if missing else ""
    if "ssl_check" in p:
        return ""
    kind = p.get("type")
    if not _text(kind):
        return "no type"
    if kind == "url_verification":
        has = isinstance(p.get("challenge"), str)
        return "" if has else "a url_verification without a challenge"
    if kind == "event_callback":
        event = p.get("event")
        # Only the envelope is checked: Slack sends events without a user (a bot's
        # mention) and counts a 400 as a failed delivery; the listeners ignore those.
        if not (isinstance(event, dict) and _text(event.get("type"))):
            return "an event_callback without an event"
        # Present, they are strings (Bolt's middleware reads them; a number is a 500 there).
        wrong = [f for f in ("user", "channel", "ts") if f in event and not _text(event[f])]
        return f"an {event['type']} event whose {', '.join(wrong)} is not text" if wrong else ""
    if kind in ("block_actions", "view_submission", "view_closed", "shortcut", "message_action"):
        if not _user_id(p):
            return f"a {kind} without its user"
        if kind == "block_actions":
            actions = p.get("actions")
            if not (
                isinstance(actions, list)
                and actions
                and all(isinstance(a, dict) and _text(a.get("action_id")) for a in actions)
            ):
                return "a block_actions without its actions"
            if not _text(p.get("trigger_id")):
                return "a block_actions without its trigger_id"
            where = [p.get(f) for f in ("channel", "container") if p.get(f) is not None]
            if not all(isinstance(w, dict) for w in where):
                return "a block_actions whose channel is not an object"
            message = p.get("message")
            if message is not None and not (
                isinstance(message, dict) and isinstance(message.get("blocks", []), list)
            ):
                return "a block_actions whose message is not a message"
        if kind.startswith("view_") and not (
            isinstance(p.get("view"), dict) and _text(p["view"].get("callback_id"))
        ):
            return f"a {kind} without its view"
    return ""
