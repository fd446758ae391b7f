"""Chart axes: counts in whole numbers, money in the currency's format."""

from __future__ import annotations

from datetime import date

import pytest

from domain.config import BillingSettings
from skills.charts import Panel, value_ticks

DAY = date(2026, 11, 1)


@pytest.mark.parametrize("top", [0, 1, 3, 7, 12, 99, 1234])
def test_counts_tick_at_whole_numbers_past_the_largest(top: int) -> None:
    ticks = value_ticks(Panel("alarms", {"raised": {DAY: top}}))
    values = [v for v, _ in ticks]
    assert all(isinstance(v, int) for v in values) and values[0] == 0
    assert values[-1] >= top and len(ticks) <= 6
    assert [t for _, t in ticks] == [f"{v:,}" for v in values]


def test_money_ticks_read_as_the_currency() -> None:
    panel = Panel("collected", {"collected": {DAY: 850_000_00}}, money=BillingSettings())
    labels = [t for _, t in value_ticks(panel)]
    assert labels[0] == "₹0" and labels[-1] == "₹1,000,000"
    assert "₹200,000" in labels
