"""Per-source token buckets for the webhooks: a flood from one sender is answered 429.

Each source (the client's address) has a bucket of `burst` tokens that refills at
`per_minute` tokens a minute; a request takes one token or is refused with the whole
seconds until the next one. Sources are kept in least-recently-used order and the
oldest are forgotten past `max_sources`, so a scan from many addresses cannot grow
memory; a forgotten source starts again with a full bucket.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Throttled:
    """A refused request: when to come back, and whether the source was just cut off."""

    retry_after_s: int
    #: The first refusal since the source last got through (log it once, not per request).
    first: bool


class TokenBuckets:
    """Token buckets keyed by source; `take` spends one token or says how long to wait."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        max_sources: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1 or burst < 1 or max_sources < 1:
            raise ValueError("per_minute, burst and max_sources must be at least 1")
        self.rate_per_s = per_minute / 60.0
        self.burst = float(burst)
        self.max_sources = max_sources
        self._clock = clock
        # source -> (tokens left, when counted, refused since it last got through)
        self._buckets: OrderedDict[str, tuple[float, float, bool]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, source: str) -> Throttled | None:
        """Spend a token of `source`'s bucket: None if it had one, else a Throttled."""
        with self._lock:
            now = self._clock()
            tokens, since, refused = self._buckets.pop(source, (self.burst, now, False))
            tokens = min(self.burst, tokens + (now - since) * self.rate_per_s)
            if tokens >= 1.0:
                self._keep(source, (tokens - 1.0, now, False))
                return None
            self._keep(source, (tokens, now, True))
            wait = (1.0 - tokens) / self.rate_per_s
            return Throttled(retry_after_s=max(1, math.ceil(wait)), first=not refused)

    def _keep(self, source: str, bucket: tuple[float, float, bool]) -> None:
        self._buckets[source] = bucket
        while len(self._buckets) > self.max_sources:
            self._buckets.popitem(last=False)
