"""What every JSON webhook checks first: the bearer token, the size, that it is JSON.

The alert webhooks and POST /orders share it; each answers a `Rejected` with its
status and a body of `error` (and `hint`). The edge checks in the order that costs us
the least: the token before a byte of the body is read (401), then the declared size
(413 by Content-Length), then a read capped at the limit (a chunked or lying body stops
being read once past it), then JSON. Bodies are never logged; a refusal is described by
the body's size and hash (`bot.slack.gate.describe`).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pydantic import SecretStr
from starlette.requests import ClientDisconnect


class Rejected(Exception):
    """A request refused before it reaches the domain, with the HTTP status to answer."""

    def __init__(self, status: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.hint = hint

    def body(self) -> dict[str, str]:
        return {"error": str(self), **({"hint": self.hint} if self.hint else {})}


def check_token(token: SecretStr | None, headers: Mapping[str, str], *, token_key: str) -> None:
    """The bearer token, compared in constant time; raises Rejected(401)."""
    expected = token.get_secret_value() if token else ""
    given = headers.get("authorization", "")
    if not expected or not hmac.compare_digest(
        given.encode("utf-8", "replace"), f"Bearer {expected}".encode()
    ):
        raise Rejected(401, f"a valid bearer token is needed ({token_key})", f"set {token_key}")


async def read_body(
    headers: Mapping[str, str], chunks: AsyncIterator[bytes], limit: int, *, limit_key: str
) -> bytes:
    """The body, refused (413) by Content-Length before reading or once past `limit` bytes."""
    # Imported here: the Slack gate builds on this module's Rejected.
    from bot.slack import gate

    try:
        gate.declared_length(headers, limit)
        return await gate.read_capped(chunks, limit)
    except Rejected as exc:
        if exc.status != 413:
            raise
        raise Rejected(413, str(exc), f"send less at a time, or raise {limit_key}") from None
    except ClientDisconnect:
        raise Rejected(400, "the sender went away before the whole body arrived") from None


def parse_json(body: bytes) -> Any:
    """The body as JSON; raises Rejected(400) naming where it stops being JSON, or
    Rejected(422) for a NUL character in a string, which no field takes (PostgreSQL's
    text cannot hold one)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Rejected(400, f"the body is not JSON ({str(exc).splitlines()[0][:120]})") from None
    # JSON can only carry a NUL escaped, so a body without the escape is spared the walk.
    if b"\\u0000" in body and _holds_nul(data):
        raise Rejected(
            422,
            "a string in the body holds a NUL character (\\u0000)",
            "remove control characters from the fields",
        )
    return data


def _holds_nul(data: Any) -> bool:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def check_request(
    token: SecretStr | None,
    max_body_bytes: int,
    headers: dict[str, str],
    body: bytes,
    *,
    token_key: str,
) -> Any:
    """Token (compared in constant time), size and JSON of a body already read."""
    check_token(token, headers, token_key=token_key)
    if len(body) > max_body_bytes:
        raise Rejected(413, f"the body is {len(body):,} bytes; the limit is {max_body_bytes:,}")
    return parse_json(body)
