"""Every plain-words fact a fraud reason states says what its feature counts, no more:
hand-made lines with known usage, each FACTS entry's words checked against them."""

from __future__ import annotations

import polars as pl
import pytest

from models.fraud.features import FEATURES, FeatureBuilder
from models.fraud.model import FACTS
from models.fraud.usage_csv import FRAME_SCHEMA

DAY = 86_400
T0 = 1_790_812_800  # 2026-10-01 00:00 UTC, a Thursday
IST_NOON = T0 + 6 * 3600 + 1800  # 12:00 IST on day 0, on a ten-minute boundary
IST_2AM = T0 - 3 * 3600 - 1800 + DAY  # 02:00 IST on day 1 (Friday)
HIGH_COST = "LR"  # Liberia: an IRSF destination
WINDOW = (T0, T0 + 7 * DAY)


def _record(sub: str, t: int, service: str = "voice", direction: str = "out", **kw: object):
    row: dict[str, object] = {
        "subscriber": sub,
        "started_at": t,
        "service": service,
        "direction": direction,
        "counterpart": "" if service == "data" else "919800000001",
        "counterpart_country": "" if service == "data" else "IN",
        "duration_s": 60,
        "volume_bytes": 0,
        "cell_id": "MUM-1",
        "imei": f"3533281100{len(sub):05d}{sub[:1]}",
        "roaming": False,
    }
    row.update(kw)
    return row


def _usage() -> pl.DataFrame:
    rows = []
    # International SMS only, 172 of them on one Thursday, one every 30 s, to a range in
    # sequence; its handset shared with one other SIM.
    for k in range(172):
        rows.append(
            _record(
                "sms",
                IST_NOON + 30 * k,
                "sms",
                counterpart=f"{447_700_900_100 + k}",
                counterpart_country="GB",
                imei="350000000000001",
            )
        )
    rows.append(_record("sibling", IST_NOON, imei="350000000000001"))
    # Ten 5-minute calls to a high-cost country at night, four unanswered calls at noon,
    # all on Friday; two calls coming in on Saturday.
    for k in range(10):
        rows.append(
            _record(
                "caller",
                IST_2AM + 400 * k,
                counterpart=f"23177{k:06d}",
                counterpart_country=HIGH_COST,
                duration_s=300,
            )
        )
    for k in range(4):
        rows.append(_record("caller", IST_NOON + DAY + 60 * k, duration_s=0))
    for k in range(2):
        rows.append(_record("caller", IST_NOON + 2 * DAY + 60 * k, direction="in"))
    # Roaming from Monday: eleven calls home and three SMS to Britain.
    for k in range(11):
        rows.append(_record("roamer", IST_NOON + 4 * DAY + 60 * k, roaming=True))
    for k in range(3):
        rows.append(
            _record(
                "roamer",
                IST_NOON + 5 * DAY + 60 * k,
                "sms",
                counterpart=f"44770090{k:04d}",
                counterpart_country="GB",
                roaming=True,
            )
        )
    # Calls answered both ways on an old handset for three days, then a new handset on a
    # new cell calling Britain, with nothing coming in.
    for d in range(3):
        for k in range(2):
            t = IST_NOON + d * DAY + 900 * k
            rows.append(_record("swapper", t, cell_id="MUM-0", imei="350000000000010"))
            rows.append(
                _record("swapper", t + 300, "voice", "in", cell_id="MUM-0", imei="350000000000010")
            )
    for d in range(3, 7):
        for k in range(3):
            rows.append(
                _record(
                    "swapper",
                    IST_NOON + d * DAY + 900 * k,
                    counterpart=f"4420794600{k:02d}",
                    counterpart_country="GB",
                    cell_id="DEL-9",
                    imei="350000000000011",
                )
            )
    # Four calls on Saturday and twelve data sessions.
    for k in range(4):
        rows.append(_record("data", IST_NOON + 2 * DAY + 60 * k))
    for k in range(12):
        rows.append(_record("data", IST_NOON + 4 * DAY + 600 * k, "data", volume_bytes=10**7))
    return pl.DataFrame(rows, schema=FRAME_SCHEMA).sort("started_at")


#: (line, feature, the fact's words for that line's usage above)
CASES = [
    ("sms", "intl_out_peak_day", "172 international calls and SMS on its busiest day"),
    ("sms", "intl_out_per_day", "25 international calls and SMS a day"),
    ("sms", "intl_sms_out", "172 outgoing SMS to international numbers"),
    ("sms", "sms_out_per_day", "25 outgoing SMS a day"),
    ("sms", "sms_out_peak_10min", "20 outgoing SMS within ten minutes"),
    ("sms", "sequential_pairs", "171 numbers called or texted in sequence"),
    (
        "sms",
        "distinct_out_share",
        "99% of outgoing calls and SMS to a number not reached before in the window",
    ),
    ("sms", "voice_out_per_day", "0 outgoing calls a day"),
    ("sms", "voice_in_per_out", "no incoming calls"),
    ("sms", "data_share", "no data sessions"),
    ("sms", "early_intl_share", "99% of its first three days' records international calls or SMS"),
    ("sms", "top_cell_share", "99% of its home-network records on one cell"),
    ("sms", "records_per_day", "25 usage records a day"),
    ("sms", "imei_shared_with", "IMEI shared with 1 other SIM"),
    ("caller", "voice_out_peak_day", "14 outgoing calls on its busiest day"),
    ("caller", "voice_in_per_out", "only 13% as many calls in as out"),
    ("caller", "premium_out", "10 outgoing calls and SMS to high-cost countries"),
    ("caller", "premium_minutes", "50 minutes of outgoing calls to high-cost countries"),
    ("caller", "intl_minutes_per_day", "7 minutes of outgoing international calls a day"),
    ("caller", "night_out_share", "67% of outgoing calls at night (00:00-06:00)"),
    ("caller", "mean_out_call_s", "outgoing calls last 3 minutes on average"),
    ("caller", "unanswered_out_share", "27% of outgoing calls unanswered"),
    ("caller", "weekend_in_share", "67% of incoming calls and SMS at the weekend"),
    ("roamer", "roaming_out_per_day", "2 outgoing calls and SMS a day while roaming"),
    ("roamer", "roaming_intl_out", "3 international calls and SMS while roaming"),
    ("roamer", "first_seen_day", "first seen 4 days into the window"),
    ("roamer", "weekend_out_share", "0% of outgoing calls and SMS at the weekend"),
    (
        "swapper",
        "new_handset_new_cells",
        "100% of its newest handset's records on cells its earlier handsets never used",
    ),
    (
        "swapper",
        "new_handset_intl_change",
        "4 more international calls and SMS a day since its newest handset",
    ),
    (
        "swapper",
        "new_handset_in_drop",
        "incoming calls' share of its calls 46 percentage points lower since its newest handset",
    ),
    ("swapper", "imei_shared_with", "its handset (IMEI) used by no other SIM"),
    ("data", "data_share", "75% of its records data sessions"),
    ("data", "weekend_out_share", "80% of outgoing calls and SMS at the weekend"),
    (
        "caller",
        "office_hours_out_share",
        "27% of outgoing calls and SMS on weekdays between 09:00 and 18:00",
    ),
    (
        "roamer",
        "office_hours_out_share",
        "93% of outgoing calls and SMS on weekdays between 09:00 and 18:00",
    ),
    (
        "data",
        "office_hours_out_share",
        "0% of outgoing calls and SMS on weekdays between 09:00 and 18:00",
    ),
]


@pytest.fixture(scope="module")
def values() -> dict[str, dict[str, float]]:
    f = FeatureBuilder(window=WINDOW).add_all([_usage()]).finish().frame()
    return {r["subscriber"]: r for r in f.iter_rows(named=True)}


def test_every_fact_is_checked_here() -> None:
    assert set(FACTS) <= set(FEATURES)
    assert {name for _, name, _ in CASES} == set(FACTS)


@pytest.mark.parametrize(("line", "feature", "words"), CASES, ids=[f"{c[1]}-{c[0]}" for c in CASES])
def test_fact_words_match_what_the_feature_counts(
    values: dict[str, dict[str, float]], line: str, feature: str, words: str
) -> None:
    assert FACTS[feature](values[line][feature]) == words  # type: ignore[operator]


def test_international_sms_are_not_called_calls(values: dict[str, dict[str, float]]) -> None:
    """The review's line: 172 international SMS and not one call."""
    sms = values["sms"]
    assert sms["voice_out_per_day"] == 0
    for name in FACTS:
        words = FACTS[name](sms[name])  # type: ignore[operator]
        if "international" in words and "calls" in words and sms[name] > 0:
            assert "calls and SMS" in words or "calls or SMS" in words, words


def test_office_hours_are_weekdays_09_to_18_local_time() -> None:
    """Outgoing calls and SMS at the edges of office hours (IST), on a Friday and a
    Saturday: 09:00 and 17:59 count, 08:59 and 18:00 do not, nor does the weekend;
    incoming calls never do."""
    friday = T0 + DAY - 19_800  # 00:00 IST on Friday 2026-10-02
    saturday = friday + DAY
    at = [(friday, 8 * 3600 + 3540, False), (friday, 9 * 3600, True)]
    at += [(friday, 17 * 3600 + 3540, True), (friday, 18 * 3600, False)]
    at += [(saturday, 12 * 3600, False)]
    rows = [
        _record("office", day + s, counterpart=f"9198000{k:05d}")
        for k, (day, s, _) in enumerate(at)
    ]
    rows.append(_record("office", friday + 12 * 3600, "sms"))
    rows.append(_record("office", friday + 12 * 3600, direction="in"))
    frame = pl.DataFrame(rows, schema=FRAME_SCHEMA).sort("started_at")
    f = FeatureBuilder(window=WINDOW).add_all([frame]).finish()
    inside = sum(1 for *_, counted in at if counted) + 1  # and the SMS
    outgoing = len(at) + 1
    assert f.column("office_hours_out_share")[0] == pytest.approx(inside / (outgoing + 1))
