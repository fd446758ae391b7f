"""Alert webhooks: `POST /alerts/alertmanager` (Alertmanager v4) and `POST /alerts`.

Both need `Authorization: Bearer <alerts.token>`. Answers: 202 with counts when the
batch is filed; 400 for a body that is not JSON; 422 naming the first missing or wrong
field (a time without a zone among them), and then nothing is filed; 401 without the
token; 413 over `alerts.max_body_bytes`.

A valid batch is filed in order, in chunks of a few hundred alerts, each chunk in its
own short transaction (domain/faults/intake.py), so a flood never holds the database
from other writers for long. Each chunk is all or none; if the database goes away the
earlier ones stay filed and the answer is 503 with Retry-After and a body saying how
many were ("filed 250 of 10,000 alerts; the rest were not: ..."); Alertmanager's retry
of the same batch files no alarm twice (alarms are one per fingerprint), counting the
filed ones as repeats.

Sender values that land in bounded columns: from Alertmanager (which drops a batch
answered 4xx) the alertname and summary are cut to fit with an ellipsis, as is a
ticket's title; a fingerprint over 128 characters, and in the generic format a name,
device, summary or description over its column, is 422 naming the field. Every other
string is at most 10,000 characters (422 naming the field), labels being stored as JSON.

Times are the receiver's: `startsAt`/`endsAt` more than a day ahead, or before the
device existed, are clamped and the alarm's `switchboard_time` label says what the
sender said; a ticket opened from an alert has its SLA clock start at receipt.

The generic format:

    {"alerts": [{"name": "LinkDown", "status": "firing", "severity": "major",
                 "device": "r1-mum", "summary": "Gi0/0/1 down", "description": "...",
                 "fingerprint": "optional, else derived from name and labels",
                 "labels": {"interface": "Gi0/0/1"}}]}
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from bot import webhooks
from bot.webhooks import Rejected
from domain.config import AlertSettings, TicketSettings
from domain.db import Database, utcnow
from domain.errors import DomainError
from domain.faults.choices import AlarmSource
from domain.faults.intake import (
    AlertEvent,
    IntakeResult,
    PartlyFiled,
    file_alerts,
    severity_of,
)

MAX_ALERTS = 10_000

#: Seconds a sender is asked to wait before it sends a batch again when the database is away.
RETRY_AFTER_S = 5


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=10_000)


class AmAlert(_Model):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    # A time without a zone means nothing certain: refused (422), never guessed.
    startsAt: AwareDatetime | None = None
    endsAt: AwareDatetime | None = None
    fingerprint: str = Field(min_length=1, max_length=128)


class AmPayload(_Model):
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    alerts: list[AmAlert] = Field(max_length=MAX_ALERTS)


class GenericAlert(_Model):
    name: str = Field(min_length=1, max_length=120)
    status: Literal["firing", "resolved"] = "firing"
    severity: str = "warning"
    device: str | None = Field(default=None, max_length=120)
    summary: str = Field(default="", max_length=400)
    description: str = Field(default="", max_length=4000)
    fingerprint: str | None = Field(default=None, max_length=128)
    labels: dict[str, str] = {}


class GenericPayload(_Model):
    alerts: list[GenericAlert] = Field(min_length=1, max_length=MAX_ALERTS)


def _fingerprint(name: str, labels: dict[str, str]) -> str:
    text = name + "".join(f"\x00{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def events_from_alertmanager(payload: AmPayload) -> list[AlertEvent]:
    out = []
    for a in payload.alerts:
        name = a.labels.get("alertname", "alert")
        out.append(
            AlertEvent(
                fingerprint=a.fingerprint,
                name=name,
                firing=a.status == "firing",
                severity=severity_of(a.labels.get("severity")),
                summary=a.annotations.get("summary") or a.annotations.get("description") or name,
                description=a.annotations.get("description", ""),
                labels=a.labels,
                source=AlarmSource.ALERTMANAGER,
                at=(a.startsAt if a.status == "firing" else a.endsAt),
            )
        )
    return out


def events_from_generic(payload: GenericPayload) -> list[AlertEvent]:
    out = []
    for a in payload.alerts:
        labels = {**a.labels, **({"device": a.device} if a.device else {})}
        out.append(
            AlertEvent(
                fingerprint=a.fingerprint or _fingerprint(a.name, labels),
                name=a.name,
                firing=a.status == "firing",
                severity=severity_of(a.severity),
                summary=a.summary or a.name,
                description=a.description,
                labels=labels,
            )
        )
    return out


def _problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    # A label key is part of the path and the sender's to choose: shown cut short.
    where = ".".join(_short(str(p)) for p in err["loc"]) or "body"
    return f"{where}: {err['msg']}"


def _short(part: str, most: int = 40) -> str:
    return part if len(part) <= most else part[: most - 1] + "\u2026"


def unfiled(exc: DomainError) -> dict[str, Any]:
    """The body of a 503: what went wrong, how many alerts were filed before it, what to do."""
    body: dict[str, Any] = {"error": str(exc), "hint": exc.hint or "send the batch again"}
    if isinstance(exc, PartlyFiled):
        body |= {"filed": exc.done, "of": exc.total, **exc.filed.counts()}
    return body


def check_request(settings: AlertSettings, headers: dict[str, str], body: bytes) -> Any:
    """Token, size and JSON; raises Rejected with the status to answer."""
    return webhooks.check_request(
        settings.token, settings.max_body_bytes, headers, body, token_key="alerts.token"
    )


def receive(
    db: Database,
    alerts: AlertSettings,
    tickets: TicketSettings,
    kind: str,
    data: Any,
    now: datetime | None = None,
) -> IntakeResult:
    """Validate a parsed body and file it; Rejected(422) names the first bad field."""
    try:
        if kind == "alertmanager":
            events = events_from_alertmanager(AmPayload.model_validate(data))
        else:
            events = events_from_generic(GenericPayload.model_validate(data))
    except ValidationError as exc:
        raise Rejected(422, _problem(exc)) from None
    return file_alerts(
        db,
        events,
        now=now or utcnow(),
        sla_hours=tickets.sla_hours,
        ticket_severities=alerts.open_ticket_severities,
        reporter="alertmanager" if kind == "alertmanager" else "webhook",
    )
