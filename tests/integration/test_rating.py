"""Rating against hand-computed charges, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
import sqlalchemy as sa

from domain import bulk
from domain.billing import rating
from domain.billing.models import UsageRecord
from domain.billing.rating import BadPeriod, Period, periods_to_rate, rate_usage
from domain.catalog.choices import ProductLine, RatingUnit, Segment, Service, Zone
from domain.customers.choices import IdDocument, PaymentMethod, SubscriptionState
from domain.db import Database
from domain.errors import PolicyViolation
from domain.schema import (
    BillingAccount,
    Customer,
    Destination,
    ProductOffering,
    Subscription,
    Tariff,
)

OCT = Period(2026, 10)
MB = 1_048_576
_ids = count(1)


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


def billing_world(db: Database) -> Database:
    """The `world` plus a plan with allowances and tariffs, destinations, and lines.

    Offering 2 "Test 300": 300.00 a month, 50.00 one-off, 10 min / 2 SMS / 100 MB
    included, roaming +20%. Voice national 0.60/min, Gulf 12.00/min, premium 2.50/s;
    SMS national 1.00, rest of world 5.00; data 0.50/MB.
    Offering 3 "Second plan": voice national 0.01 a second, 1 min included.
    Account 2 holds line 2 (all October), 3 (activated 10 Oct) and 4 (terminated
    20 Oct); line 5 (offering 3) is on account 3.
    """
    from tests.world import populate_world

    populate_world(db)
    t = Tariff
    rows: list[object] = [
        ProductOffering(
            id=2,
            code="TEST-300",
            name="Test 300",
            segment=Segment.CONSUMER,
            product_line=ProductLine.MOBILE_POSTPAID,
            monthly_fee_minor=30000,
            one_off_fee_minor=5000,
            allowance_voice_min=10,
            allowance_sms=2,
            allowance_data_mb=100,
            roaming_surcharge_pct=20,
        ),
        ProductOffering(
            id=3,
            code="SECOND",
            name="Second plan",
            segment=Segment.CONSUMER,
            product_line=ProductLine.MOBILE_POSTPAID,
            monthly_fee_minor=0,
            allowance_voice_min=1,
        ),
        t(
            offering_id=2,
            service=Service.VOICE,
            zone=Zone.NATIONAL,
            unit=RatingUnit.MINUTE,
            rate_minor=60,
        ),
        t(
            offering_id=2,
            service=Service.VOICE,
            zone=Zone.INTL_A,
            unit=RatingUnit.MINUTE,
            rate_minor=1200,
        ),
        t(
            offering_id=2,
            service=Service.VOICE,
            zone=Zone.INTL_B,
            unit=RatingUnit.MINUTE,
            rate_minor=1500,
        ),
        t(
            offering_id=2,
            service=Service.VOICE,
            zone=Zone.INTL_C,
            unit=RatingUnit.MINUTE,
            rate_minor=3000,
        ),
        t(
            offering_id=2,
            service=Service.VOICE,
            zone=Zone.PREMIUM,
            unit=RatingUnit.SECOND,
            rate_minor=250,
        ),
        t(
            offering_id=2,
            service=Service.SMS,
            zone=Zone.NATIONAL,
            unit=RatingUnit.MESSAGE,
            rate_minor=100,
        ),
        t(
            offering_id=2,
            service=Service.SMS,
            zone=Zone.INTL_C,
            unit=RatingUnit.MESSAGE,
            rate_minor=500,
        ),
        t(
            offering_id=2,
            service=Service.DATA,
            zone=Zone.NATIONAL,
            unit=RatingUnit.MEGABYTE,
            rate_minor=50,
        ),
        t(
            offering_id=3,
            service=Service.VOICE,
            zone=Zone.NATIONAL,
            unit=RatingUnit.SECOND,
            rate_minor=1,
        ),
        Destination(prefix="91", country="IN", country_name="India", zone=Zone.NATIONAL),
        Destination(prefix="971", country="AE", country_name="UAE", zone=Zone.INTL_A),
        Destination(prefix="1", country="US", country_name="USA", zone=Zone.INTL_B),
        Destination(prefix="1876", country="JM", country_name="Jamaica", zone=Zone.INTL_C),
        Destination(prefix="8816", country="XS", country_name="Iridium", zone=Zone.PREMIUM),
    ]
    for cid in (2, 3):
        rows += [
            Customer(
                id=cid,
                name=f"Customer {cid}",
                segment=Segment.CONSUMER,
                id_document=IdDocument.AADHAAR,
                id_number=f"23456789012{cid}",
                email=f"c{cid}@example.in",
                phone=f"91980000000{cid}",
                address="1, Powai",
                city="Mumbai",
                region_id=1,
            ),
            BillingAccount(
                id=cid,
                account_number=f"BA10000000{cid}",
                customer_id=cid,
                credit_limit_minor=500000,
                payment_method=PaymentMethod.UPI,
            ),
        ]
    long_ago = datetime(2026, 1, 5, tzinfo=UTC)
    for sid, acc, off, activated, terminated in (
        (2, 2, 2, long_ago, None),
        (3, 2, 2, at(10, 10), None),
        (4, 2, 2, long_ago, at(20, 15)),
        (5, 3, 3, long_ago, None),
    ):
        rows.append(
            Subscription(
                id=sid,
                customer_id=acc,
                billing_account_id=acc,
                offering_id=off,
                msisdn=f"9198000000{sid:02d}",
                state=SubscriptionState.TERMINATED if terminated else SubscriptionState.ACTIVE,
                activated_at=activated,
                terminated_at=terminated,
            )
        )
    with db.transaction() as s:
        for row in rows:
            s.add(row)
            s.flush()
    return db


def usage(
    sub: int,
    when: datetime,
    service: str,
    *,
    direction: str = "out",
    to: str = "919812345678",
    country: str = "IN",
    seconds: int = 0,
    volume: int = 0,
    roaming: bool = False,
) -> UsageRecord:
    return UsageRecord(
        id=next(_ids) + 1000,
        subscription_id=sub,
        started_at=when,
        service=service,
        direction=direction,
        counterpart="" if service == "data" else to,
        counterpart_country="" if service == "data" else country,
        duration_s=seconds,
        volume_bytes=volume,
        cell_id="MUM-TWR-0001-1",
        imei="353328110000000",
        roaming=roaming,
    )


def october_usage() -> dict[str, UsageRecord]:
    """Line 2's October, with the charge each record must get written in its name."""
    return {
        # Allowance 10 min: 6 min covered, then 8 min of which 4 covered, then 2 min.
        "first 330s is 6 min, covered=0": usage(2, at(1), "voice", seconds=330),
        "crossing 421s=8min, 4 beyond=240": usage(2, at(2), "voice", seconds=421),
        "after 61s=2min=120": usage(2, at(3), "voice", seconds=61),
        "incoming at home=0": usage(2, at(2, 11), "voice", direction="in", seconds=600),
        "Gulf 90s=2min=2400": usage(2, at(4), "voice", to="971501234567", country="AE", seconds=90),
        "premium 7s per second=1750": usage(
            2, at(5), "voice", to="881612345678", country="XS", seconds=7
        ),
        "roaming out 61s=2min*60*1.2=144": usage(2, at(6), "voice", seconds=61, roaming=True),
        "roaming in 30s=1min*60*1.2=72": usage(
            2, at(6, 12), "voice", direction="in", seconds=30, roaming=True
        ),
        "sms 1 covered=0": usage(2, at(7), "sms"),
        "sms 2 covered=0": usage(2, at(7, 11), "sms"),
        "sms 3 beyond=100": usage(2, at(7, 12), "sms"),
        "sms by country fallback intl_c=500": usage(2, at(8), "sms", to="0000123", country="ZZ"),
        "sms incoming=0": usage(2, at(8, 11), "sms", direction="in"),
        "data 60MB covered=0": usage(2, at(9), "data", volume=60 * MB),
        "data 50.5MB, 10.5 beyond=525": usage(2, at(9, 11), "data", volume=50 * MB + MB // 2),
        "data roaming 3MB+1B=180": usage(2, at(9, 12), "data", volume=3 * MB + 1, roaming=True),
    }


def charge_of(name: str) -> int:
    return int(name.rsplit("=", 1)[1])


def rated(db: Database) -> dict[int, tuple[str, str | None, int | None]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, state, zone, charge_minor FROM usage_records")
        ).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def add(db: Database, records: list[UsageRecord]) -> None:
    with db.transaction() as s:
        s.add_all(records)


def rate(db: Database, period: Period = OCT):  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        return rate_usage(s, period)


def test_rating_matches_hand_computed_charges(db: Database) -> None:
    billing_world(db)
    records = october_usage()
    # Out of order on purpose: allowances follow started_at, not insertion.
    add(db, list(reversed(list(records.values()))))
    report = rate(db)
    got = rated(db)
    for name, record in records.items():
        state, _zone, charge = got[record.id]
        assert (state, charge) == ("rated", charge_of(name)), name
    assert report.records == report.rated == len(records)
    assert report.charge_minor == sum(charge_of(n) for n in records)
    assert report.no_tariff == 0 and report.already_billed == 0
    assert got[records["Gulf 90s=2min=2400"].id][1] == "intl_a"
    assert got[records["premium 7s per second=1750"].id][1] == "premium"
    assert got[records["data 60MB covered=0"].id][1] == "national"


def test_per_second_tariff_crosses_the_allowance_to_the_second(db: Database) -> None:
    billing_world(db)
    a = usage(5, at(1), "voice", seconds=50)
    b = usage(5, at(2), "voice", seconds=20)
    c = usage(5, at(3), "voice", seconds=61)
    add(db, [a, b, c])
    rate(db)
    got = rated(db)
    # 1 min included: 50 s covered, then 10 of 20 s, then all 61 s at 1 paisa a second.
    assert [got[r.id][2] for r in (a, b, c)] == [0, 10, 61]


def test_zone_by_longest_prefix_then_country(db: Database) -> None:
    billing_world(db)
    cases = {
        "intl_c": usage(2, at(1), "voice", to="18765551234", country="US", seconds=60),
        "intl_b": usage(2, at(2), "voice", to="12125551234", country="US", seconds=60),
        "intl_a": usage(2, at(3), "voice", to="00000", country="AE", seconds=60),
        "national": usage(2, at(4), "voice", to="9812345678", country="IN", seconds=60),
    }
    add(db, list(cases.values()))
    rate(db)
    got = rated(db)
    assert {zone: got[r.id][1] for zone, r in cases.items()} == {z: z for z in cases}
    assert got[cases["intl_c"].id][2] == 3000


def test_rerating_is_idempotent_and_never_touches_billed_records(db: Database) -> None:
    billing_world(db)
    records = october_usage()
    add(db, list(records.values()))
    first = rate(db)
    before = rated(db)
    again = rate(db)
    assert rated(db) == before
    assert (again.changed, again.charge_minor, again.rated) == (0, first.charge_minor, first.rated)
    # Bill one record by hand, then change the price: only the unbilled ones move.
    billed = records["Gulf 90s=2min=2400"]
    with db.transaction() as s:
        s.execute(
            sa.text("UPDATE usage_records SET state = 'billed' WHERE id = :i"), {"i": billed.id}
        )
        s.execute(sa.text("UPDATE tariffs SET rate_minor = 2000 WHERE zone = 'intl_a'"))
    late = usage(2, at(4, 12), "voice", to="971501234567", country="AE", seconds=60)
    add(db, [late])
    report = rate(db)
    got = rated(db)
    assert got[billed.id] == ("billed", "intl_a", 2400)
    assert got[late.id] == ("rated", "intl_a", 2000)
    assert (report.already_billed, report.changed) == (1, 1)


def test_a_priced_record_without_a_tariff_stays_received(db: Database) -> None:
    billing_world(db)
    gulf_sms = usage(2, at(1), "sms", to="971501234567", country="AE")
    add(db, [gulf_sms])
    report = rate(db)
    assert rated(db)[gulf_sms.id] == ("received", None, None)
    assert report.no_tariff == 1 and report.rated == 0


def test_periods_with_received_usage(db: Database) -> None:
    billing_world(db)
    add(db, [usage(2, at(1), "sms"), usage(2, at(1) + timedelta(days=40), "sms")])
    with db.read() as s:
        assert periods_to_rate(s) == [Period(2026, 10), Period(2026, 11)]
    rate(db, Period(2026, 11))
    with db.read() as s:
        assert periods_to_rate(s) == [Period(2026, 10)]


@pytest.mark.parametrize("text", ["2026-13", "202610", "October", "2026-1", ""])
def test_bad_period_is_one_line_with_a_hint(text: str) -> None:
    with pytest.raises(BadPeriod) as exc:
        Period.parse(text)
    assert "\n" not in str(exc.value) and "YYYY-MM" in exc.value.hint


def test_period_arithmetic() -> None:
    p = Period.parse("2026-12")
    assert (str(p), p.days, str(p.next), p.last_day.isoformat()) == (
        "2026-12",
        31,
        "2027-01",
        "2026-12-31",
    )
    assert Period.parse("2028-02").days == 29


def test_rating_read_by_the_reader_process_gives_the_same_charges(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Demo and larger months are read by a reader process (domain/bulk.py); the small
    # months above are read through the session's connection. Both must rate alike.
    monkeypatch.setattr(bulk, "READER_PROCESS_FROM_IDS", 0)
    test_rating_matches_hand_computed_charges(db)


def test_rerating_read_by_the_reader_process_is_idempotent(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "READER_PROCESS_FROM_IDS", 0)
    test_rerating_is_idempotent_and_never_touches_billed_records(db)


def test_rating_in_slices_gives_the_same_charges(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A month is priced a million records at a time; slices of three cut through
    # every subscription and allowance of the hand-computed month.
    monkeypatch.setattr(rating, "_SLICE", 3)
    test_rating_matches_hand_computed_charges(db)


def test_a_negative_rate_is_refused_before_anything_is_rated(db: Database) -> None:
    billing_world(db)
    add(db, list(october_usage().values()))
    with db.transaction() as s:
        s.execute(sa.text("UPDATE tariffs SET rate_minor = -5 WHERE offering_id = 2"))
    with pytest.raises(PolicyViolation) as exc:
        rate(db)
    assert "offering 2 has a negative rate" in str(exc.value)
    assert "adjustments" in exc.value.hint
    assert {state for state, _, _ in rated(db).values()} == {"received"}
