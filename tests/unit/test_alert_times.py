"""Times in alerts are the receiver's: what a sender says is believed only within bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.faults.intake import receiver_time
from domain.inventory.models import Device

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CREATED = datetime(2025, 1, 1, tzinfo=UTC)


def device() -> Device:
    return Device(hostname="r1-mum", created_at=CREATED)


def test_no_time_is_the_receipt_time() -> None:
    assert receiver_time(None, now=NOW, device=device()) == (NOW, "")


def test_a_believable_time_is_kept_in_utc() -> None:
    ist = datetime(2026, 11, 20, 14, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert receiver_time(ist, now=NOW, device=device()) == (
        NOW - timedelta(minutes=30),
        "",
    )
    # A slow clock within a day ahead is believed.
    ahead = NOW + timedelta(hours=23)
    assert receiver_time(ahead, now=NOW, device=None) == (ahead, "")


@pytest.mark.parametrize(
    "said",
    [
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),  # UTC: year 10000
        NOW + timedelta(days=1, seconds=1),
    ],
)
def test_more_than_a_day_ahead_is_clamped_to_receipt_and_flagged(said: datetime) -> None:
    at, note = receiver_time(said, now=NOW, device=device())
    assert at == NOW
    assert note == f"clamped to receipt: sender said {said.isoformat()}"


def test_before_the_device_existed_is_clamped_to_its_creation() -> None:
    said = datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=5)))  # UTC: year 0
    at, note = receiver_time(said, now=NOW, device=device())
    assert at == CREATED
    assert note == "clamped to the device's creation: sender said 0001-01-01T00:00:00+05:00"


def test_a_zero_time_about_no_known_device_is_the_receipt_time() -> None:
    said = datetime(1, 1, 1, tzinfo=UTC)  # Alertmanager's "no time"
    assert receiver_time(said, now=NOW, device=None) == (
        NOW,
        "clamped to receipt: sender said 0001-01-01T00:00:00+00:00",
    )


def test_a_time_without_a_zone_is_not_guessed() -> None:
    at, note = receiver_time(datetime(2026, 11, 20, 8, 0), now=NOW, device=device())
    assert at == NOW
    assert note == "clamped to receipt: sender said 2026-11-20T08:00:00 (no time zone)"
