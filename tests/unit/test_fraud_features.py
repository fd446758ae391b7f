"""Fraud features on hand-made usage: each signature shows, each look-alike does not."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pytest

from models.fraud.features import FeatureBuilder, compute_features
from models.fraud.synthetic import synthetic_usage
from models.fraud.usage_csv import FRAME_SCHEMA

DAY = 86_400
T0 = 1_790_812_800  # 2026-10-01 00:00 UTC
IST_NOON = T0 + 6 * 3600 + 1800  # 12:00 IST
IST_2AM = T0 - 3 * 3600 - 1800 + DAY  # 02:00 IST on day 1


@dataclass
class Usage:
    """Records for a few made-up lines; every line gets a quiet background first."""

    rows: list[dict[str, object]] = field(default_factory=list)

    def add(
        self,
        sub: str,
        t: int,
        service: str = "voice",
        direction: str = "out",
        cp: str = "919800000001",
        country: str = "IN",
        duration: int = 60,
        volume: int = 0,
        cell: str = "MUM-1",
        imei: str | None = None,
        roaming: bool = False,
    ) -> None:
        self.rows.append(
            {
                "subscriber": sub,
                "started_at": t,
                "service": service,
                "direction": direction,
                "counterpart": "" if service == "data" else cp,
                "counterpart_country": "" if service == "data" else country,
                "duration_s": duration,
                "volume_bytes": volume,
                "cell_id": cell,
                "imei": imei or f"35332811{abs(hash(sub)) % 10**7:07d}",
                "roaming": roaming,
            }
        )

    def ordinary(self, sub: str, days: int = 14, imei: str | None = None) -> None:
        """A few calls in and out to a contact book, an SMS, data; two cells."""
        for d in range(days):
            t = IST_NOON + d * DAY
            for k in range(3):
                self.add(
                    sub,
                    t + k * 900,
                    cp=f"9198{k * 7919 + 1000:08d}",
                    cell=f"MUM-{k % 2}",
                    imei=imei,
                )
                self.add(
                    sub,
                    t + k * 900 + 300,
                    direction="in",
                    cp=f"9198{k * 7919 + 1000:08d}",
                    imei=imei,
                )
            self.add(sub, t + 4000, "sms", cp="919855512345", imei=imei)
            self.add(sub, t + 5000, "data", duration=600, volume=20_000_000, imei=imei)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows, schema=FRAME_SCHEMA).sort("started_at")


def features(u: Usage) -> dict[str, dict[str, float]]:
    f = compute_features(u.frame()).frame()
    return {r["subscriber"]: r for r in f.iter_rows(named=True)}


@pytest.fixture
def usage() -> Usage:
    u = Usage()
    u.ordinary("normal")
    return u


# -- signatures -----------------------------------------------------------------------------


def test_sim_box(usage: Usage) -> None:
    gateway = "867692040000001"
    for s in range(4):
        sub = f"sim{s}"
        for d in range(3):
            for k in range(150):
                usage.add(
                    sub,
                    IST_NOON + d * DAY + k * 200,
                    cp=f"91{7_000_000_000 + s * 10**6 + d * 1000 + k * 37}",
                    cell="DEL-7",
                    imei=gateway,
                )
    f = features(usage)
    sim, normal = f["sim0"], f["normal"]
    assert sim["voice_out_peak_day"] == 150
    assert sim["voice_in_per_out"] == 0
    assert sim["imei_shared_with"] == 3 and normal["imei_shared_with"] == 0
    assert sim["cells"] == 1 and sim["top_cell_share"] > 0.99
    assert sim["distinct_out_share"] > 0.99 > normal["distinct_out_share"]
    assert sim["data_share"] == 0 and sim["sms_out_per_day"] == 0


def test_business_line_calls_a_lot_but_is_answered_and_has_no_shared_handset(usage: Usage) -> None:
    for d in range(10):
        for k in range(40):
            usage.add(
                "biz", IST_NOON + d * DAY + k * 400, cp=f"9198100{k % 60:05d}", cell=f"MUM-{k % 4}"
            )
            usage.add(
                "biz", IST_NOON + d * DAY + k * 400 + 100, direction="in", cp=f"9198100{k:05d}"
            )
    f = features(usage)["biz"]
    assert f["voice_out_peak_day"] == 40
    assert f["voice_in_per_out"] > 0.9
    assert f["imei_shared_with"] == 0
    assert f["cells"] >= 4


def test_irsf(usage: Usage) -> None:
    usage.ordinary("victim")
    for k in range(40):
        usage.add(
            "victim",
            IST_2AM + 7 * DAY + k * 300,
            cp=f"5322{1_000_101 + k}",
            country="CU",
            duration=1800,
        )
    f = features(usage)
    v, n = f["victim"], f["normal"]
    assert v["premium_out"] == 40 and n["premium_out"] == 0
    assert v["premium_minutes"] == 40 * 30
    assert v["sequential_pairs"] == 39 and n["sequential_pairs"] == 0
    assert v["night_out_share"] > 0.4 > n["night_out_share"]


def test_migrant_family_calls_the_gulf_daily_without_looking_like_irsf(usage: Usage) -> None:
    usage.ordinary("family")
    for d in range(14):
        usage.add(
            "family", IST_NOON + d * DAY + 7000, cp="971501234567", country="AE", duration=900
        )
        usage.add(
            "family", IST_NOON + d * DAY + 9000, direction="in", cp="971501234567", country="AE"
        )
    f = features(usage)["family"]
    assert f["intl_out_per_day"] >= 1
    assert f["premium_out"] == 0
    assert f["sequential_pairs"] == 0
    assert f["top_counterpart_share"] > 0.15
    assert f["intl_distinct"] == 1


def test_sms_pumping(usage: Usage) -> None:
    usage.ordinary("pump")
    for k in range(200):
        usage.add(
            "pump", IST_NOON + 5 * DAY + k * 3, "sms", cp=f"234{8_030_000_101 + k}", country="NG"
        )
    f = features(usage)
    assert f["pump"]["sms_out_peak_10min"] == 200
    assert f["pump"]["intl_sms_out"] == 200
    assert f["pump"]["sequential_pairs"] == 199
    assert f["normal"]["sms_out_peak_10min"] <= 1


def test_subscription_fraud_is_a_new_line_calling_abroad_from_the_start(usage: Usage) -> None:
    for d in range(8, 14):
        for k in range(30):
            usage.add(
                "newbie",
                IST_NOON + d * DAY + k * 600,
                cp=f"44{7_700_000_000 + d * 997 + k * 13}",
                country="GB",
                duration=900,
            )
    f = features(usage)
    assert f["newbie"]["first_seen_day"] >= 7 and f["normal"]["first_seen_day"] < 1
    assert f["newbie"]["early_intl_share"] > 0.9 and f["normal"]["early_intl_share"] == 0
    assert f["newbie"]["intl_out_peak_day"] == 30


def test_account_takeover_against_a_device_upgrade(usage: Usage) -> None:
    usage.ordinary("owner", days=7, imei="353328110000011")
    usage.ordinary("upgrader", days=7, imei="353328110000022")
    for d in range(7, 14):
        # The upgrade: a new handset, same cells, same habits.
        for k in range(3):
            usage.add(
                "upgrader",
                IST_NOON + d * DAY + k * 900,
                cp=f"9198{k * 7919 + 1000:08d}",
                cell=f"MUM-{k % 2}",
                imei="358753110000099",
            )
            usage.add(
                "upgrader",
                IST_NOON + d * DAY + k * 900 + 300,
                direction="in",
                imei="358753110000099",
            )
        # The takeover: a new handset elsewhere, calls abroad, nothing comes in.
        for k in range(20):
            usage.add(
                "owner",
                IST_NOON + d * DAY + k * 600,
                cp=f"252{61_000_000 + d * 100 + k * 7}",
                country="SO",
                cell="KOL-3",
                imei="867692049999999",
                duration=400,
            )
    f = features(usage)
    ato, upg = f["owner"], f["upgrader"]
    assert ato["imeis"] == upg["imeis"] == 2
    assert ato["new_handset_new_cells"] == 1.0 and upg["new_handset_new_cells"] == 0.0
    assert ato["new_handset_intl_change"] > 10 and upg["new_handset_intl_change"] == 0
    assert ato["new_handset_in_drop"] > 0.3 and upg["new_handset_in_drop"] < 0.1


def test_roaming_fraud_against_a_traveller(usage: Usage) -> None:
    usage.ordinary("traveller")
    usage.ordinary("roamer")
    for d in range(3, 7):
        for k in range(3):  # calls home while abroad
            usage.add(
                "traveller",
                IST_NOON + d * DAY + 20_000 + k * 900,
                cp="919800000001",
                cell="AE-424-02-31877",
                roaming=True,
            )
        for k in range(60):
            usage.add(
                "roamer",
                IST_NOON + d * DAY + 20_000 + k * 500,
                cp=f"53{52_000_000 + d * 97 + k * 11}",
                country="CU",
                cell="GB-234-01-10000",
                roaming=True,
                duration=900,
            )
    f = features(usage)
    assert f["traveller"]["roaming_share"] > 0 and f["traveller"]["roaming_intl_out"] == 0
    assert f["roamer"]["roaming_intl_out"] == 240
    assert f["roamer"]["premium_out"] == 240


def test_heavy_data_and_night_worker_stay_ordinary(usage: Usage) -> None:
    usage.ordinary("data")
    for d in range(14):
        for k in range(12):
            usage.add(
                "data", IST_NOON + d * DAY + k * 1000, "data", duration=1200, volume=150_000_000
            )
            usage.add("night", IST_2AM + d * DAY + k * 600, cp=f"9198{(k % 5) * 7919 + 1000:08d}")
            usage.add(
                "night",
                IST_2AM + d * DAY + k * 600 + 60,
                direction="in",
                cp=f"9198{(k % 5) * 7919 + 1000:08d}",
            )
    f = features(usage)
    assert f["data"]["data_mb_per_day"] > 1000
    for sub in ("data", "night"):
        assert f[sub]["premium_out"] == f[sub]["intl_out_per_day"] == 0
        assert f[sub]["imei_shared_with"] == 0
    assert f["night"]["night_out_share"] > 0.9 and f["night"]["voice_in_per_out"] > 0.9


# -- chunks ---------------------------------------------------------------------------------


def _chunks(frame: pl.DataFrame, size: int, shuffle: bool) -> Iterator[pl.DataFrame]:
    if shuffle:
        frame = frame.sample(fraction=1.0, shuffle=True, seed=3)
    for start in range(0, frame.height, size):
        yield frame.slice(start, size)


@pytest.mark.parametrize("size,shuffle", [(997, False), (5_000, True)])
def test_chunked_features_equal_one_pass(size: int, shuffle: bool) -> None:
    frame, _ = synthetic_usage(400, seed=3, fraud_share=0.05, records_per_subscriber=40)
    whole = compute_features(frame)
    parts = FeatureBuilder()
    for chunk in _chunks(frame, size, shuffle):
        parts.add(chunk)
    chunked = parts.finish()
    assert (whole.subscribers == chunked.subscribers).all()
    np.testing.assert_allclose(chunked.matrix, whole.matrix, rtol=1e-9, atol=1e-9)


def test_compaction_keeps_features_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    import models.fraud.features as features_module

    frame, _ = synthetic_usage(200, seed=4, fraud_share=0.05, records_per_subscriber=30)
    whole = compute_features(frame)
    monkeypatch.setattr(features_module, "COMPACT_ROWS", 500)  # merge after every chunk
    chunked = FeatureBuilder().add_all(_chunks(frame, 700, False)).finish()
    np.testing.assert_allclose(chunked.matrix, whole.matrix, rtol=1e-9, atol=1e-9)


# -- unanswered calls and the weekday rhythm ------------------------------------------------

IST = 19_800


def _local(day: int, hour: float) -> int:
    """Epoch seconds of `hour` local (IST) time on day `day` of the window (0 = Thu 1 Oct)."""
    return T0 + day * DAY + int(hour * 3600) - IST


def test_unanswered_and_weekend_shares_by_hand() -> None:
    u = Usage()
    # Outgoing: two of five calls unanswered (0 s). Weekends go by the local day, so the
    # call at Saturday 00:30 IST (Friday in UTC) is a weekend one.
    u.add("caller", _local(0, 12), duration=60)  # Thursday
    u.add("caller", _local(0, 12.2), duration=0)  # Thursday
    u.add("caller", _local(1, 23), duration=30)  # Friday 23:00 IST
    u.add("caller", _local(2, 0.5), duration=0)  # Saturday 00:30 IST, Friday 19:00 UTC
    u.add("caller", _local(3, 15), duration=45)  # Sunday
    u.add("caller", _local(2, 12), "sms")  # Saturday
    # Incoming: an unanswered call in is not an unanswered call out; one of four on a
    # local weekend (both Monday ones are Sunday in UTC).
    u.add("caller", _local(1, 12), direction="in", duration=0)  # Friday
    u.add("caller", _local(3, 20), direction="in")  # Sunday
    u.add("caller", _local(4, 0.5), direction="in")  # Monday 00:30 IST, Sunday 19:00 UTC
    u.add("caller", _local(4, 1), "sms", direction="in")  # Monday 01:00 IST
    u.add("caller", _local(5, 12), "data", volume=1_000)
    f = features(u)["caller"]
    assert f["unanswered_out_share"] == pytest.approx(2 / (5 + 1))
    assert f["weekend_out_share"] == pytest.approx(3 / (6 + 1))
    assert f["weekend_in_share"] == pytest.approx(1 / (4 + 1))


def test_a_line_without_calls_has_no_unanswered_share(usage: Usage) -> None:
    usage.add("modem", _local(2, 12), "data", volume=5_000)
    f = features(usage)
    assert f["modem"]["unanswered_out_share"] == 0.0
    assert f["modem"]["weekend_out_share"] == 0.0
    assert f["normal"]["unanswered_out_share"] == 0.0  # every call of it lasts 60 s
