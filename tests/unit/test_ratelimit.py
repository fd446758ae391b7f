"""Per-source token buckets: a burst, then the per-minute rate, whole-second waits,
one first refusal per episode, and a bounded number of remembered sources."""

from __future__ import annotations

import pytest

from bot.ratelimit import Throttled, TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate_and_whole_second_waits() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=12, burst=3, clock=clock)  # a token every 5 s
    assert [buckets.take("am1") for _ in range(3)] == [None, None, None]
    assert buckets.take("am1") == Throttled(retry_after_s=5, first=True)
    clock.now += 1.2
    assert buckets.take("am1") == Throttled(retry_after_s=4, first=False)  # 3.8 s, rounded up
    assert buckets.take("am2") is None  # another source has its own bucket
    clock.now += 3.8
    assert buckets.take("am1") is None
    assert buckets.take("am1") == Throttled(retry_after_s=5, first=True)  # a new episode
    clock.now += 3600  # idle for an hour: the bucket is full again, never fuller
    assert [buckets.take("am1") for _ in range(4)][-1] == Throttled(5, first=True)


def test_a_wait_under_a_second_is_one_second() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=600, burst=1, clock=clock)  # a token every 0.1 s
    assert buckets.take("x") is None
    assert buckets.take("x") == Throttled(retry_after_s=1, first=True)


def test_the_oldest_sources_are_forgotten_past_the_bound() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=1, burst=1, max_sources=2, clock=clock)
    assert buckets.take("a") is None
    assert buckets.take("b") is None
    assert buckets.take("a") is not None  # a is the most recent now
    assert buckets.take("c") is None  # b, the least recent, is forgotten
    assert buckets.take("a") is not None
    assert buckets.take("b") is None  # a full bucket again


@pytest.mark.parametrize(("per_minute", "burst"), [(0, 1), (1, 0)])
def test_a_bucket_needs_a_rate_and_a_burst(per_minute: int, burst: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        TokenBuckets(per_minute=per_minute, burst=burst)
