"""Usage records and fraud labels from the database, as the CSV interchange's frames.

A subscriber is named by its MSISDN (or "subscription <id>" for a line without one).
Records are read in pages by primary key, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa

from domain.db import Database
from models.fraud.usage_csv import FRAME_SCHEMA

PAGE = 250_000


def _epoch(value: datetime | str) -> int:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def usage_from_db(
    db: Database,
    since: datetime | None = None,
    page: int = PAGE,
    subscription_ids: Collection[int] | None = None,
) -> Iterator[pl.DataFrame]:
    """Usage records (from `since` on, of some lines) as typed frames, a page at a time."""
    u = sa.table(
        "usage_records",
        *(
            sa.column(c)
            for c in (
                "id",
                "subscription_id",
                "started_at",
                "service",
                "direction",
                "counterpart",
                "counterpart_country",
                "duration_s",
                "volume_bytes",
                "cell_id",
                "imei",
                "roaming",
            )
        ),
    )
    s = sa.table("subscriptions", sa.column("id"), sa.column("msisdn"))
    name = sa.func.coalesce(s.c.msisdn, sa.literal("subscription ") + sa.cast(s.c.id, sa.String))
    last = 0
    with db.engine.connect() as conn:
        while True:
            q = (
                sa.select(
                    u.c.id,
                    name.label("subscriber"),
                    u.c.started_at,
                    u.c.service,
                    u.c.direction,
                    u.c.counterpart,
                    u.c.counterpart_country,
                    u.c.duration_s,
                    u.c.volume_bytes,
                    u.c.cell_id,
                    u.c.imei,
                    u.c.roaming,
                )
                .join(s, s.c.id == u.c.subscription_id)
                .where(u.c.id > last)
                .order_by(u.c.id)
                .limit(page)
            )
            if since is not None:
                q = q.where(u.c.started_at >= since.astimezone(UTC).replace(tzinfo=None))
            if subscription_ids is not None:
                q = q.where(u.c.subscription_id.in_(list(subscription_ids)))
            rows = conn.execute(q).all()
            if not rows:
                return
            last = rows[-1][0]
            cols = list(zip(*rows, strict=True))
            yield pl.DataFrame(
                {
                    "subscriber": cols[1],
                    "started_at": [_epoch(v) for v in cols[2]],
                    "service": cols[3],
                    "direction": cols[4],
                    "counterpart": [v or "" for v in cols[5]],
                    "counterpart_country": [v or "" for v in cols[6]],
                    "duration_s": cols[7],
                    "volume_bytes": cols[8],
                    "cell_id": [v or "" for v in cols[9]],
                    "imei": [v or "" for v in cols[10]],
                    "roaming": [bool(v) for v in cols[11]],
                },
                schema=FRAME_SCHEMA,
            )
            if len(rows) < page:
                return


def labels_from_db(db: Database) -> pl.DataFrame:
    """Fraud labels `subscriber,is_fraud,kind,since`; an analyst's latest word wins."""
    q = sa.text(
        "SELECT COALESCE(s.msisdn, 'subscription ' || CAST(s.id AS VARCHAR(20))), "
        "l.is_fraud, l.kind, l.since FROM fraud_labels l "
        "JOIN subscriptions s ON s.id = l.subscription_id ORDER BY l.since, l.id"
    )
    with db.engine.connect() as conn:
        rows = conn.execute(q).all()
    frame = pl.DataFrame(
        {
            "subscriber": [r[0] for r in rows],
            "is_fraud": [bool(r[1]) for r in rows],
            "kind": [r[2] or "" for r in rows],
            "since": [_epoch(r[3]) for r in rows],
        },
        schema={
            "subscriber": pl.String,
            "is_fraud": pl.Boolean,
            "kind": pl.String,
            "since": pl.Int64,
        },
    )
    return frame.unique("subscriber", keep="last", maintain_order=True)
