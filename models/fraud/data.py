"""Usage records and fraud labels from the database, as the CSV interchange's frames.

A subscriber is named by its MSISDN (or "subscription <id>" for a line without one).
Records are read in pages by primary key, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from domain.billing.models import UsageRecord
from domain.customers.models import Subscription
from domain.db import Database
from domain.fraud.choices import LabelSource
from domain.fraud.models import FraudCase, FraudLabel
from models.fraud.usage_csv import FRAME_SCHEMA

PAGE = 250_000
DAY = 86_400


def _epoch(value: datetime | str) -> int:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _subscriber(sub: Any) -> Any:
    """The name a line goes by in the interchange: its MSISDN, else "subscription <id>"."""
    return sa.func.coalesce(sub.msisdn, sa.literal("subscription ") + sa.cast(sub.id, sa.String))


def usage_from_db(
    db: Database,
    since: datetime | None = None,
    page: int = PAGE,
    subscription_ids: Collection[int] | None = None,
    until: datetime | None = None,
    *,
    after_id: int = 0,
    upto_id: int | None = None,
) -> Iterator[pl.DataFrame]:
    """Usage records (from `since` on, before `until`, of some lines, with
    after_id < id <= upto_id) as typed frames, a page at a time, in id order.

    Text and epoch seconds come converted by the database, not row by row in Python;
    the running fraud window (models/fraud/running.py) reads its new records here too.
    """
    u = UsageRecord.__table__.c
    s = Subscription.__table__.c
    text = sa.String()

    def plain(column: sa.ColumnElement[object]) -> sa.ColumnElement[str]:
        return sa.func.coalesce(sa.type_coerce(column, text), "")

    if db.engine.dialect.name == "sqlite":
        epoch = sa.cast(sa.func.strftime("%s", u.started_at), sa.BigInteger)
    else:
        epoch = sa.cast(sa.func.floor(sa.extract("epoch", u.started_at)), sa.BigInteger)
    last = after_id
    names = ("id", *FRAME_SCHEMA)
    schema = {"id": pl.Int64, **FRAME_SCHEMA, "roaming": pl.Int64}
    with db.engine.connect() as conn:
        while upto_id is None or last < upto_id:
            q = (
                sa.select(
                    u.id,
                    _subscriber(s).label("subscriber"),
                    epoch,
                    plain(u.service),
                    plain(u.direction),
                    plain(u.counterpart),
                    plain(u.counterpart_country),
                    u.duration_s,
                    u.volume_bytes,
                    plain(u.cell_id),
                    plain(u.imei),
                    sa.type_coerce(u.roaming, sa.Integer()),
                )
                .join(Subscription.__table__, s.id == u.subscription_id)
                .where(u.id > last)
                .order_by(u.id)
                .limit(page)
            )
            if upto_id is not None:
                q = q.where(u.id <= upto_id)
            if since is not None:
                q = q.where(u.started_at >= since)
            if until is not None:
                q = q.where(u.started_at < until)
            if subscription_ids is not None:
                q = q.where(u.subscription_id.in_(list(subscription_ids)))
            rows = conn.execute(q).all()
            if not rows:
                return
            last = rows[-1][0]
            frame = pl.DataFrame(
                dict(zip(names, zip(*rows, strict=True), strict=True)), schema=schema
            )
            yield frame.drop("id").with_columns(pl.col("roaming") != 0)
            if len(rows) < page:
                return


def labels_from_db(db: Database, window_days: int = 7) -> pl.DataFrame:
    """Fraud labels `subscriber,is_fraud,kind,since,decided,source`; the latest word wins.

    `decided` (epoch seconds) is when an analyst decided the case, null for the demo
    generator's seeded ground truth. For a decided case `since` is the start of the
    scoring window that raised it, `window_days` (the desk's `fraud.window_days`) before
    the case was opened: a confirmed case says the fraud was under way from there (the
    case holds no earlier evidence), a dismissed one that the usage from there to the
    decision is ordinary. A line with several labels keeps the last decided (seeded
    truth counts as earliest).
    """
    lab, sub = FraudLabel.__table__.c, Subscription.__table__.c
    case = FraudCase.__table__.c
    q = (
        sa.select(
            _subscriber(sub),
            lab.is_fraud,
            lab.kind,
            lab.since,
            case.opened_at,
            case.decided_at,
            lab.source,
        )
        .join(Subscription.__table__, sub.id == lab.subscription_id)
        .outerjoin(FraudCase.__table__, case.id == lab.case_id)
        .order_by(lab.id)
    )
    with db.engine.connect() as conn:
        rows = conn.execute(q).all()
    analyst = LabelSource.ANALYST.value
    decided: list[int | None] = []
    since: list[int] = []
    for _, _, _, lab_since, opened, decided_at, source in rows:
        if source != analyst:
            decided.append(None)
            since.append(_epoch(lab_since))
            continue
        # decide_case writes the decision time into `since`; the case has it too.
        at = _epoch(decided_at if decided_at is not None else lab_since)
        decided.append(at)
        began = (at if opened is None else _epoch(opened)) - window_days * DAY
        since.append(min(began, at))
    frame = pl.DataFrame(
        {
            "subscriber": [r[0] for r in rows],
            "is_fraud": [bool(r[1]) for r in rows],
            "kind": [r[2] or "" for r in rows],
            "since": since,
            "decided": decided,
            "source": [str(r[6]) for r in rows],
        },
        schema={
            "subscriber": pl.String,
            "is_fraud": pl.Boolean,
            "kind": pl.String,
            "since": pl.Int64,
            "decided": pl.Int64,
            "source": pl.String,
        },
    )
    order = pl.col("decided").fill_null(pl.col("since").min() - 1)
    return (
        frame.with_row_index("_row")
        .sort(order, "_row")
        .drop("_row")
        .unique("subscriber", keep="last", maintain_order=True)
    )
