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
    return text, parsed
