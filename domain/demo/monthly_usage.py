"""The seeded mobile lines' usage records, month by month, streamed in chunks of lines.

The usage month gets everything `domain.demo.usage` makes for a line: 30 days of calls,
SMS and data, injected fraud with its ground truth, handset changes. A line keeps its
habits from month to month (a Gulf family calls the same numbers every month). A past bill cycle
keeps only the records with a party abroad or made while roaming: national usage at
home is what the allowances cover, and storing it in full for every past month would
triple the records for nothing the bills show. No record falls while its line was
quiet (suspended, or after it ended).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from domain.billing.rating import HOME_COUNTRY, Period
from domain.customers.choices import SubscriptionState
from domain.demo.columns import DAY, FOREVER, NULL_TIME, Columns, epoch
from domain.demo.customers import Customers
from domain.demo.timeline import USAGE_DAYS, Timeline
from domain.demo.usage import Subscribers, generate_usage
from domain.fraud.choices import LabelSource

#: Subscription id -> the [from, to) epoch-second spans it made no usage in.
QuietSpans = Mapping[int, Sequence[tuple[int, int]]]


class SeededUsage:
    """Usage of the seeded lines; ids keep counting over every month streamed."""

    def __init__(
        self,
        seed: int,
        customers: Customers,
        tower_cells: list[list[str]],
        timeline: Timeline,
        *,
        records_per_month: int,
        lines_per_chunk: int,
    ) -> None:
        self.seed = seed
        self.customers = customers
        self.cells = [np.array(c) for c in tower_cells]
        self.timeline = timeline
        self.records_per_month = records_per_month
        self.lines_per_chunk = lines_per_chunk
        # One number per line for its habits, so every month shows the same person.
        self.traits = (
            np.random.default_rng([seed, 6])
            .integers(0, 2**63, customers.sub_state.size, dtype=np.int64)
            .astype(np.uint64)
        )
        self.next_id = 1
        #: Filled while the usage month is streamed.
        self.fraud_labels: list[tuple[int, str, int]] = []
        self.imei_changes: list[tuple[str, int]] = []

    def _mobile(self, state_ok: np.ndarray) -> np.ndarray:
        return np.flatnonzero(~self.customers.sub_fixed & state_ok)

    def _subscribers(self, part: np.ndarray, start: int) -> Subscribers:
        c = self.customers
        return Subscribers(
            subscription_id=(part + 1).astype(np.int64),
            msisdn=c.sub_msisdn[part],
            imei=c.sub_imei[part],
            enterprise=c.enterprise[c.sub_customer[part] - 1],
            region=c.sub_region[part].astype(np.int64),
            activated_day=((c.sub_activated[part] - start) // DAY).astype(np.int64),
            traits=self.traits[part],
        )

    def _numbered(self, cols: Columns) -> Columns:
        n = len(cols["subscription_id"])
        cols["id"] = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        cols["state"] = np.full(n, "received")
        return cols

    def past_month(self, index: int, month: Period, quiet: QuietSpans) -> Iterator[Columns]:
        """A past bill cycle's records with a party abroad or made abroad (received)."""
        c = self.customers
        start, end = epoch(month.start), epoch(month.end)
        live = (
            (c.sub_state != SubscriptionState.PENDING_ACTIVE.value)
            & (c.sub_activated != NULL_TIME)
            & (c.sub_activated < end)
            & ((c.sub_terminated == NULL_TIME) | (c.sub_terminated > start))
        )
        lines = self._mobile(live)
        typical = self._mobile(c.sub_state == SubscriptionState.ACTIVE.value).size
        per_line = self.records_per_month / max(1, typical) * month.days / USAGE_DAYS
        ended = {
            int(s) + 1: [(int(c.sub_terminated[s]), FOREVER)]
            for s in lines[c.sub_terminated[lines] != NULL_TIME]
        }
        for k, first in enumerate(range(0, lines.size, self.lines_per_chunk)):
            part = lines[first : first + self.lines_per_chunk]
            subscribers = self._subscribers(part, start)
            batch = generate_usage(
                np.random.default_rng([self.seed, 5, index, k]),
                subscribers,
                self.cells,
                start,
                days=month.days,
                records_per_subscriber=per_line,
                fraud_share=0.0,
            )
            cols = batch.columns
            keep = (cols["counterpart_country"] != HOME_COUNTRY) & (
                cols["counterpart_country"] != ""
            ) | cols["roaming"]
            keep &= ~_in_spans(cols["subscription_id"], cols["started_at"], quiet)
            keep &= ~_in_spans(cols["subscription_id"], cols["started_at"], ended)
            kept = {name: values[keep] for name, values in cols.items()}
            # Handsets change in the usage month; before it every line keeps its first.
            kept["imei"] = c.sub_imei[kept["subscription_id"] - 1]
            yield self._numbered(kept)

    def usage_month(self, quiet: QuietSpans) -> Iterator[Columns]:
        """The usage month's records (received) for the active lines not quiet in it."""
        c = self.customers
        t = self.timeline
        lines = self._mobile(c.sub_state == SubscriptionState.ACTIVE.value)
        # A line quiet at any time in the window has no usage in it at all, so no fraud
        # is injected into a line that could not have made it.
        silent = np.array(
            [
                s
                for s, spans in quiet.items()
                if any(a < t.now and b > t.window_start for a, b in spans)
            ],
            dtype=np.int64,
        )
        lines = lines[~np.isin(lines + 1, silent)]
        per_line = self.records_per_month / max(1, lines.size)
        for k, first in enumerate(range(0, lines.size, self.lines_per_chunk)):
            part = lines[first : first + self.lines_per_chunk]
            subscribers = self._subscribers(part, t.window_start)
            batch = generate_usage(
                np.random.default_rng([self.seed, 2, k]),
                subscribers,
                self.cells,
                t.window_start,
                days=USAGE_DAYS,
                records_per_subscriber=per_line,
            )
            self.fraud_labels.extend(batch.labels)
            changed = np.flatnonzero(batch.final_imei != subscribers.imei)
            self.imei_changes.extend(
                zip(batch.final_imei[changed].tolist(), (part[changed] + 1).tolist(), strict=True)
            )
            yield self._numbered(batch.columns)

    def fraud_label_table(self) -> Columns:
        """Ground truth, complete once the usage month has been streamed."""
        labels = sorted(self.fraud_labels)
        return {
            "id": list(range(1, len(labels) + 1)),
            "subscription_id": [s for s, _, _ in labels],
            "is_fraud": [True] * len(labels),
            "kind": [k for _, k, _ in labels],
            "source": [LabelSource.SEED.value] * len(labels),
            "since": [t for _, _, t in labels],
        }


def _in_spans(sub: np.ndarray, at: np.ndarray, spans: QuietSpans) -> np.ndarray:
    """Whether each record (subscription, epoch second) falls in one of its line's spans."""
    rows = sorted((s, a, b) for s, line in spans.items() for a, b in line)
    if not rows or sub.size == 0:
        return np.zeros(sub.size, dtype=bool)
    span_sub = np.array([r[0] for r in rows], dtype=np.int64)
    span_from = np.array([r[1] for r in rows], dtype=np.int64)
    span_to = np.array([r[2] for r in rows], dtype=np.int64)
    # One sortable key per (line, second): the line in the high bits.
    key = span_sub << 32 | span_from
    hit = np.searchsorted(key, sub.astype(np.int64) << 32 | at, side="right") - 1
    ok = hit >= 0
    hit = np.where(ok, hit, 0)
    return ok & (span_sub[hit] == sub) & (at < span_to[hit])
