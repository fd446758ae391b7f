"""Prometheus metrics served at GET /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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


def exposition() -> bytes:
    return generate_latest(REGISTRY)
