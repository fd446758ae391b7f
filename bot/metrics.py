"""Prometheus metrics served at GET /metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from domain.files import replace_text

if TYPE_CHECKING:
    from models.fraud.desk import ScoringRun

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = Counter(
    "switchboard_commands_total",
    "Commands handled, by command and outcome",
    ["command", "outcome"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "switchboard_command_seconds",
    "Time to run a command, by command",
    ["command"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "switchboard_queue_depth",
    "Commands accepted and not yet finished",
    registry=REGISTRY,
)
SLACK_DROPPED = Counter(
    "switchboard_slack_redeliveries_total",
    "Slack deliveries dropped as already handled",
    ["reason"],
    registry=REGISTRY,
)

ALARM_MESSAGES = Counter(
    "switchboard_alarm_messages_total",
    "Alarm messages sent to Slack, by kind (posted, updated, storm, failed)",
    ["kind"],
    registry=REGISTRY,
)
WEBHOOK_REFUSED = Counter(
    "switchboard_webhook_refused_total",
    "Alert and order webhook requests refused, by endpoint and status (429: rate limited)",
    ["endpoint", "status"],
    registry=REGISTRY,
)
BACKGROUND_FAILURES = Counter(
    "switchboard_background_failures_total",
    "Failed passes of serve's background loops, by loop and error class",
    ["loop", "error"],
    registry=REGISTRY,
)
BACKGROUND_UP = Gauge(
    "switchboard_background_up",
    "1 when a background loop's last pass worked, 0 while what it needs is away",
    ["loop"],
    registry=REGISTRY,
)
SLACK_REFUSED = Counter(
    "switchboard_slack_refused_total",
    "Requests to /slack/events refused before Bolt saw them, by status",
    ["status"],
    registry=REGISTRY,
)
AUDIT_UNWRITTEN = Counter(
    "switchboard_audit_unwritten_total",
    "Audit events that could not be stored in time, by command and what was done: "
    "refused (a change not run), withheld (a read's answer not shown), journaled "
    "(kept in the audit journal), lost (not even the journal took it)",
    ["command", "action"],
    registry=REGISTRY,
)

#: The scheduled fraud run's figures, kept beside the models: the run happens in a job
#: worker process, and /metrics is served by serve's own process, which reads them here.
FRAUD_RUNS_FILE = "fraud-runs.json"

#: (figure, metric, help) of the last scheduled fraud run, as gauges. Operational
#: figures only: /metrics is served without authentication, and the desk's business
#: figures (lines flagged, cases opened, held back, the daily cap) are for managers and
#: fraud analysts (domain/policy.py), who read them in the run's line and the channel.
FRAUD_LAST_RUN = (
    ("scored", "switchboard_fraud_run_lines_scored", "Lines the last fraud scoring run scored"),
    (
        "new_records",
        "switchboard_fraud_run_records_folded",
        "Usage records the last fraud scoring run folded in (the whole window when rebuilt)",
    ),
    ("seconds", "switchboard_fraud_run_seconds", "Seconds the last fraud scoring run took"),
    (
        "finished",
        "switchboard_fraud_run_finished_timestamp_seconds",
        "When the last fraud scoring run finished (Unix time)",
    ),
)
#: (figure, metric, help) summed over every scheduled fraud run, as counters.
FRAUD_TOTALS = (
    ("runs", "switchboard_fraud_runs_total", "Fraud scoring runs done"),
    (
        "new_records",
        "switchboard_fraud_records_folded_total",
        "Usage records folded in by fraud scoring runs",
    ),
)


def record_fraud_run(path: Path, run: ScoringRun, seconds: float, finished: float) -> None:
    """Keep a fraud scoring run's operational figures (and the running totals) for /metrics."""
    last = {
        "scored": run.scored,
        "new_records": run.new_records,
        "seconds": seconds,
        "finished": finished,
    }
    before = read_fraud_runs(path)
    totals = {key: 0 for key, _, _ in FRAUD_TOTALS} | (before or {}).get("totals", {})
    totals["runs"] += 1
    totals["new_records"] += last["new_records"]
    # Only the figures served: a file an older version wrote loses its business figures.
    totals = {key: totals[key] for key, _, _ in FRAUD_TOTALS}
    replace_text(path, json.dumps({"last": last, "totals": totals}))


def read_fraud_runs(path: Path) -> dict[str, dict[str, float]] | None:
    """The kept figures, or None before the first run (or when the file is unreadable)."""
    try:
        state = json.loads(path.read_text())
        return {"last": dict(state["last"]), "totals": dict(state["totals"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


class FraudRuns:
    """Serves the kept fraud run figures at each scrape; nothing before the first run."""

    def __init__(self) -> None:
        self.path: Path | None = None

    def collect(self) -> Iterator[Metric]:
        state = read_fraud_runs(self.path) if self.path is not None else None
        if state is None:
            return
        for key, name, text in FRAUD_LAST_RUN:
            if key in state["last"]:
                yield GaugeMetricFamily(name, text, value=state["last"][key])
        for key, name, text in FRAUD_TOTALS:
            if key in state["totals"]:
                yield CounterMetricFamily(name, text, value=state["totals"][key])


FRAUD_RUNS = FraudRuns()
REGISTRY.register(FRAUD_RUNS)


def watch_fraud_runs(path: Path) -> None:
    """Serve the fraud run figures kept at `path` (where this Switchboard's runs keep them)."""
    FRAUD_RUNS.path = path


def exposition() -> bytes:
    return generate_latest(REGISTRY)
