"""When the demo data happens: its today, the usage month and the bill cycles before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from domain.billing.rating import Period
from domain.demo.columns import DAY, epoch

#: Days of usage generated in full, ending on the as-of date.
USAGE_DAYS = 30
#: Bill cycles of invoices, payments and dunning before the usage month.
PAST_CYCLES = 2
#: A finished month's bill run starts this long after midnight on the 1st.
BILL_RUN_AFTER = timedelta(hours=2)
#: The data reads as of this long after midnight UTC on its as-of date: its "now".
NOW_AFTER = timedelta(hours=10)


def latest_as_of(now: datetime) -> date:
    """The latest as-of date whose data's now is not after `now`: seeded before 10:00 UTC,
    the data reads as of yesterday, so nothing in it lies in the future."""
    return (now.astimezone(UTC) - NOW_AFTER).date()


@dataclass(frozen=True)
class Timeline:
    as_of: date

    @property
    def now(self) -> int:
        """The data reads as of 10:00 UTC on the as-of date (epoch seconds)."""
        return epoch(self.as_of) + int(NOW_AFTER.total_seconds())

    @property
    def now_at(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    @property
    def window_start(self) -> int:
        """The first second of the usage generated in full."""
        return epoch(self.as_of) - USAGE_DAYS * DAY

    @property
    def usage_month(self) -> Period:
        """The month the usage starts in: left for `billing rate` and `billing run`."""
        return Period.of(datetime.fromtimestamp(self.window_start, UTC))

    @property
    def past_months(self) -> tuple[Period, ...]:
        """The bill cycles before the usage month, oldest first."""
        months = [self.usage_month]
        for _ in range(PAST_CYCLES):
            months.insert(0, Period.of(months[0].first_day - timedelta(days=1)))
        return tuple(months[:-1])

    @staticmethod
    def bill_run_at(month: Period) -> datetime:
        """When a past month's bill run ran, and so its invoices' issue time."""
        return month.end + BILL_RUN_AFTER
