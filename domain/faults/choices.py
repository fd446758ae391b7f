"""Fault choices: alarms (TMF642) and trouble tickets (TMF621)."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import DomainError
from domain.states import Lifecycle


class PerceivedSeverity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INDETERMINATE = "indeterminate"
    CLEARED = "cleared"


class AlarmState(StrEnum):
    RAISED = "raised"
    UPDATED = "updated"
    CLEARED = "cleared"


class AckState(StrEnum):
    UNACKNOWLEDGED = "unacknowledged"
    ACKNOWLEDGED = "acknowledged"


class AlarmSource(StrEnum):
    ALERTMANAGER = "alertmanager"
    WEBHOOK = "webhook"
    DEVICE = "device"


ALARM_LIFECYCLE = Lifecycle(
    "alarm",
    {
        AlarmState.RAISED: [AlarmState.UPDATED, AlarmState.CLEARED],
        AlarmState.UPDATED: [AlarmState.UPDATED, AlarmState.CLEARED],
        # A cleared alarm that fires again is raised anew under the same fingerprint.
        AlarmState.CLEARED: [AlarmState.RAISED],
    },
)


class TicketStatus(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "inProgress"
    PENDING = "pending"
    HELD = "held"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


#: A ticket's severity: 1 is the most urgent.
TICKET_SEVERITIES = (1, 2, 3, 4)


def check_severity(severity: int) -> int:
    """A ticket severity, or one line saying the range (opening a ticket, /ticket list)."""
    if severity not in TICKET_SEVERITIES:
        raise DomainError(f"severity {severity} is not 1-4", hint="1 is the most urgent")
    return severity


OPEN_TICKET_STATUSES = frozenset(
    {TicketStatus.ACKNOWLEDGED, TicketStatus.IN_PROGRESS, TicketStatus.PENDING, TicketStatus.HELD}
)

TICKET_LIFECYCLE = Lifecycle(
    "ticket",
    {
        TicketStatus.ACKNOWLEDGED: [
            TicketStatus.IN_PROGRESS,
            TicketStatus.PENDING,
            TicketStatus.HELD,
            TicketStatus.RESOLVED,
            TicketStatus.CANCELLED,
            TicketStatus.REJECTED,
        ],
        TicketStatus.IN_PROGRESS: [
            TicketStatus.PENDING,
            TicketStatus.HELD,
            TicketStatus.RESOLVED,
            TicketStatus.CANCELLED,
        ],
        TicketStatus.PENDING: [
            TicketStatus.IN_PROGRESS,
            TicketStatus.HELD,
            TicketStatus.RESOLVED,
            TicketStatus.CANCELLED,
        ],
        TicketStatus.HELD: [TicketStatus.IN_PROGRESS, TicketStatus.PENDING, TicketStatus.CANCELLED],
        # A resolution the reporter rejects reopens the ticket.
        TicketStatus.RESOLVED: [TicketStatus.CLOSED, TicketStatus.IN_PROGRESS],
        TicketStatus.CLOSED: [],
        TicketStatus.CANCELLED: [],
        TicketStatus.REJECTED: [],
    },
)


class TicketKind(StrEnum):
    INCIDENT = "incident"
    SERVICE_REQUEST = "service_request"
    BILLING_DISPUTE = "billing_dispute"
    PROVISIONING = "provisioning"
    FRAUD = "fraud"


class TicketEventKind(StrEnum):
    CREATED = "created"
    NOTE = "note"
    STATUS = "status"
    ASSIGNED = "assigned"
    RESOLUTION = "resolution"
