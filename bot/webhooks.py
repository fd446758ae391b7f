"""What every JSON webhook checks first: the bearer token, the size, that it is JSON.

The alert webhooks and POST /orders share it; each answers a `Rejected` with its
status and a body of `error` (and `hint`).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from pydantic import SecretStr


class Rejected(Exception):
    """A request refused before it reaches the domain, with the HTTP status to answer."""

    def __init__(self, status: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.hint = hint

    def body(self) -> dict[str, str]:
        return {"error": str(self), **({"hint": self.hint} if self.hint else {})}


def check_request(
    token: SecretStr | None,
    max_body_bytes: int,
    headers: dict[str, str],
    body: bytes,
    *,
    token_key: str,
) -> Any:
    """Token (compared in constant time), size and JSON; raises Rejected."""
    expected = token.get_secret_value() if token else ""
    given = headers.get("authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        raise Rejected(401, f"a valid bearer token is needed ({token_key})", f"set {token_key}")
    if len(body) > max_body_bytes:
        raise Rejected(413, f"the body is {len(body):,} bytes; the limit is {max_body_bytes:,}")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Rejected(400, f"the body is not JSON ({str(exc).splitlines()[0][:120]})") from None
