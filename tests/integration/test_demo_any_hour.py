"""`make demo` works at any hour: seeded at 03:55 UTC the demo once dated payments at
08:28 the same day and refused them as "not come yet". Seeding now takes the latest day
whose data is all in the past, so at every hour, in an operator zone east or west of
UTC, nothing seeded lies in the future and the demo starts (rated, billed).

Every hour runs `make demo`'s seeding on the small test scale (the times come from the
seed's timeline, not from how many rows there are); each database seeds the whole demo
once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from rich.console import Console

from bot.bootstrap import bootstrap
from bot.cli.chat import seed_demo
from domain.config import PROJECT_ROOT, load_settings
from domain.db import Database, UtcDateTime
from domain.demo.generator import SCALES
from domain.demo.seed import seed
from domain.demo.timeline import Timeline, latest_as_of
from domain.errors import DomainError
from domain.schema import metadata
from tests.world import SMALL

DAY = date(2026, 12, 2)
#: Times meant to lie ahead of when they were written down.
AHEAD = {"tickets.sla_due_at"}


def at(hour: int, minute: int) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC)


def latest_times(db: Database) -> dict[str, datetime]:
    """The latest value of every timestamp column the seed fills."""
    found: dict[str, datetime] = {}
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, UtcDateTime | sa.DateTime):
                    continue
                latest = conn.execute(sa.select(sa.func.max(column))).scalar_one()
                if latest is not None:
                    found[f"{table.name}.{column.name}"] = latest
    return found


def zone_config(tmp_path: Path, zone: str) -> Path:
    """The shipped config in `zone`, with a model folder of its own (no model in it)."""
    config = tmp_path / "config.yaml"
    config.write_text(
        (PROJECT_ROOT / "config.yaml")
        .read_text()
        .replace("timezone: Asia/Kolkata", f"timezone: {zone}")
        .replace("model_dir: var/models/fraud", f"model_dir: {tmp_path / 'models'}")
    )
    return config


#: Every hour that matters in the shipped zone (+05:30) and west of UTC (-10:00).
HOURS = [
    *(("Asia/Kolkata", h, m) for h, m in [(0, 1), (3, 55), (12, 0), (23, 59)]),
    ("Pacific/Honolulu", 0, 1),
    ("Pacific/Honolulu", 12, 0),
]


@pytest.mark.parametrize("zone,hour,minute", HOURS)
def test_every_hour_takes_a_day_whose_data_has_all_come(zone: str, hour: int, minute: int) -> None:
    now = at(hour, minute)
    day = latest_as_of(now.astimezone(ZoneInfo(zone)))
    assert day == (DAY if hour >= 10 else date(2026, 12, 1))
    assert Timeline(day).now_at <= now


def starts_with_nothing_from_the_future(
    db: Database, tmp_path: Path, zone: str, hour: int, minute: int
) -> None:
    """`make demo`'s seeding at `hour`:`minute` UTC with the operator in `zone`: it seeds,
    rates and bills, finds no fraud model, and leaves no time after now."""
    now = at(hour, minute)
    settings = load_settings(zone_config(tmp_path, zone), env={"SWITCHBOARD_DATABASE_URL": db.url})
    assert settings.billing.timezone == zone
    sb = bootstrap(settings)
    console = Console(record=True, width=200)
    try:
        seed_demo(sb, 42, now, console)
    finally:
        sb.close()
    said = console.export_text()
    assert "Seeded " in said and "Rated " in said and "Billed " in said, said
    assert "Fraud scoring skipped: no fraud model in" in said, said
    future = {
        name: latest
        for name, latest in latest_times(db).items()
        if latest > now and name not in AHEAD
    }
    assert future == {}
    # The data reads as of the latest day whose 10:00 UTC has come.
    with db.engine.connect() as conn:
        last_payment = conn.execute(sa.text("SELECT MAX(received_at) FROM payments")).scalar_one()
    assert last_payment is not None
    expected = DAY if hour >= 10 else date(2026, 12, 1)
    assert latest_as_of(now) == expected
    assert Timeline(expected).now_at <= now


#: Each hour on SQLite, and on PostgreSQL the hour that failed in the shipped zone (before
#: the data's 10:00 UTC), where the whole demo below runs after it.
SMALL_RUNS = [*(("sqlite", *h) for h in HOURS), ("postgresql", "Asia/Kolkata", 3, 55)]


@pytest.mark.parametrize("db,zone,hour,minute", SMALL_RUNS, indirect=["db"])
def test_the_demo_seeds_and_starts_at_any_hour(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    zone: str,
    hour: int,
    minute: int,
) -> None:
    # `make demo` as it runs, on the small scale: the same timeline, far fewer rows.
    monkeypatch.setitem(SCALES, "demo", SMALL)
    starts_with_nothing_from_the_future(db, tmp_path, zone, hour, minute)


#: The whole demo, once on each database: at the hour that failed in the shipped zone, and
#: after the data's 10:00 UTC west of UTC.
WHOLE = [("sqlite", "Asia/Kolkata", 3, 55), ("postgresql", "Pacific/Honolulu", 12, 0)]


@pytest.mark.parametrize("db,zone,hour,minute", WHOLE, indirect=["db"])
def test_the_whole_demo_seeds_and_starts(
    db: Database, tmp_path: Path, zone: str, hour: int, minute: int
) -> None:
    starts_with_nothing_from_the_future(db, tmp_path, zone, hour, minute)


def test_the_latest_as_of_day_at_the_edges() -> None:
    assert latest_as_of(at(9, 59)) == date(2026, 12, 1)
    assert latest_as_of(at(10, 0)) == DAY
    assert Timeline(latest_as_of(at(10, 0))).now_at == at(10, 0)
    # Read in any zone, the same instant gives the same day.
    kolkata = at(3, 55).astimezone(ZoneInfo("Asia/Kolkata"))
    assert latest_as_of(kolkata) == date(2026, 12, 1)


def test_data_from_the_future_is_refused_in_one_line(db: Database) -> None:
    with pytest.raises(DomainError) as refused:
        seed(db, SCALES["demo"], seed=42, as_of=DAY, now=at(3, 55))
    assert str(refused.value) == (
        "data as of 2026-12-02 reads as of 2026-12-02 10:00 UTC, which has not come yet"
        " (now is 2026-12-02 03:55 UTC)"
    )
    assert refused.value.hint == "seed as of 2026-12-01 or earlier"
