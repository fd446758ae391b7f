"""Synthetic usage records: shape, determinism, volume, and the behaviour signatures."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np
import pytest

from domain.catalog.choices import Zone
from domain.demo.reference import CIRCLES, DESTINATIONS, HANDSET_TACS, ROAMING_COUNTRIES
from domain.demo.usage import Subscribers, UsageBatch, generate_usage
from domain.fraud.choices import FraudKind

START = 1_727_740_800  # 2024-10-01 00:00 UTC
DAYS = 30
DAY = 86_400
HIGH_COST = {d.country for d in DESTINATIONS if d.high_cost}
PREFIX = {d.country: d.prefix for d in DESTINATIONS}
INTL_B = [d.country for d in DESTINATIONS if d.zone == Zone.INTL_B]
STR_COLUMNS = ("service", "direction", "counterpart", "counterpart_country", "cell_id", "imei")
INT_COLUMNS = ("subscription_id", "started_at", "duration_s", "volume_bytes")


def make_subscribers(
    n: int,
    seed: int = 0,
    new_share: float = 0.03,
) -> tuple[Subscribers, list[np.ndarray]]:
    r = np.random.default_rng([seed, 7])
    cells = [
        np.array([f"{c.code}-TWR-{t:04d}-{s}" for t in range(30) for s in range(3)])
        for c in CIRCLES
    ]
    tacs = np.array(HANDSET_TACS)[r.integers(0, len(HANDSET_TACS), n)]
    serials = np.array([f"{x:07d}" for x in r.integers(0, 10**7, n).tolist()], dtype="U7")
    msisdn = np.array([f"91{x}" for x in r.integers(6 * 10**9, 10**10, n).tolist()], dtype="U12")
    new = r.random(n) < new_share
    activated = np.where(new, r.integers(0, DAYS - 5, n), -r.integers(1, 1000, n))
    # Ids deliberately not in subscriber order: ties must sort by id, not position.
    ids = (r.permutation(n) * 7 + 100).astype(np.int64)
    subs = Subscribers(
        subscription_id=ids,
        msisdn=msisdn,
        imei=np.char.add(tacs, serials) if n else np.zeros(0, dtype="U15"),
        enterprise=r.random(n) < 0.12,
        region=r.integers(0, len(cells), n).astype(np.int64),
        activated_day=activated.astype(np.int64),
    )
    return subs, cells


@dataclass
class Run:
    subs: Subscribers
    batch: UsageBatch

    @property
    def c(self) -> dict[str, np.ndarray]:
        return self.batch.columns

    def pos(self) -> np.ndarray:
        """Subscriber position of each record."""
        order = np.argsort(self.subs.subscription_id)
        return order[np.searchsorted(self.subs.subscription_id[order], self.c["subscription_id"])]

    def labelled(self, kind: FraudKind) -> list[tuple[int, int]]:
        return [(s, since) for s, k, since in self.batch.labels if k == kind.value]

    def rows(self, sub: int, since: int | None = None, before: bool = False) -> np.ndarray:
        m = self.c["subscription_id"] == sub
        if since is not None:
            m &= (self.c["started_at"] < since) if before else (self.c["started_at"] >= since)
        return m

    def fraud_mask(self) -> np.ndarray:
        return np.isin(self.c["subscription_id"], [s for s, _, _ in self.batch.labels])


def run(
    n: int, seed: int = 1, records_per_subscriber: float = 110.0, fraud_share: float = 0.015
) -> Run:
    subs, cells = make_subscribers(n, seed=seed)
    batch = generate_usage(
        np.random.default_rng(seed),
        subs,
        cells,
        START,
        records_per_subscriber=records_per_subscriber,
        fraud_share=fraud_share,
    )
    return Run(subs, batch)


@pytest.fixture(scope="module")
def fraudy() -> Run:
    return run(3000, fraud_share=0.03)


@pytest.fixture(scope="module")
def clean() -> Run:
    return run(1500, seed=5, fraud_share=0.0)


def ist_hour(t: np.ndarray) -> np.ndarray:
    return ((t + 19_800) % DAY) // 3600


# -- shape -----------------------------------------------------------------------------------


def test_columns_lengths_and_dtypes(fraudy: Run) -> None:
    c = fraudy.c
    assert set(c) == {*STR_COLUMNS, *INT_COLUMNS, "roaming"}
    n = len(c["started_at"])
    assert all(len(v) == n for v in c.values())
    for name in INT_COLUMNS:
        assert c[name].dtype == np.int64, name
    assert c["roaming"].dtype == bool
    for name in STR_COLUMNS:
        assert c[name].dtype.kind in "UO", name
    assert set(np.unique(c["service"])) == {"voice", "sms", "data"}
    assert set(np.unique(c["direction"])) == {"out", "in"}
    assert fraudy.batch.final_imei.shape == fraudy.subs.imei.shape


def test_field_contents_per_service(fraudy: Run) -> None:
    c = fraudy.c
    data = c["service"] == "data"
    sms = c["service"] == "sms"
    voice = c["service"] == "voice"
    assert (c["direction"][data] == "out").all()
    assert (c["counterpart"][data] == "").all() and (c["counterpart_country"][data] == "").all()
    assert (c["volume_bytes"][data] > 0).all() and (c["volume_bytes"][~data] == 0).all()
    assert (c["duration_s"][voice] > 0).all() and (c["duration_s"][sms] == 0).all()
    assert (c["duration_s"][data] > 0).all()
    assert len(np.unique(c["counterpart"][data | sms | voice])) > 10_000


def test_numbers_cells_and_imeis_are_well_formed(fraudy: Run) -> None:
    c = fraudy.c
    talk = c["service"] != "data"
    cp, cc = c["counterpart"][talk], c["counterpart_country"][talk]
    assert set(np.unique(cc)) <= set(PREFIX)
    india = cc == "IN"
    assert all(re.fullmatch(r"91[6-9]\d{9}", x) for x in np.unique(cp[india]).tolist())
    for country in np.unique(cc[~india]).tolist():
        nums = np.unique(cp[cc == country]).tolist()
        assert all(x.isdigit() and x.startswith(PREFIX[country]) and len(x) <= 15 for x in nums)
    home = set(np.concatenate(make_subscribers(1)[1]).tolist())
    assert set(np.unique(c["cell_id"][~c["roaming"]]).tolist()) <= home
    roam_cells = np.unique(c["cell_id"][c["roaming"]]).tolist()
    mcc = dict(ROAMING_COUNTRIES)
    assert roam_cells
    for cell in roam_cells:
        cc_, mcc_, mnc, num = cell.split("-")
        assert mcc[cc_] == mcc_ and len(mnc) == 2 and num.isdigit(), cell
    for imei in np.unique(c["imei"]).tolist():
        assert len(imei) == 15 and imei.isdigit()


def test_empty_input() -> None:
    batch = run(0).batch
    assert all(len(v) == 0 for v in batch.columns.values()) and batch.labels == []


# -- determinism, volume, time -------------------------------------------------------------------


def test_deterministic_for_a_seed() -> None:
    subs, cells = make_subscribers(400)
    a = generate_usage(np.random.default_rng(42), subs, cells, START, fraud_share=0.05)
    b = generate_usage(np.random.default_rng(42), subs, cells, START, fraud_share=0.05)
    for name, col in a.columns.items():
        assert col.dtype == b.columns[name].dtype
        assert col.tobytes() == b.columns[name].tobytes(), name
    assert a.labels == b.labels
    assert a.final_imei.tobytes() == b.final_imei.tobytes()
    other = generate_usage(np.random.default_rng(43), subs, cells, START, fraud_share=0.05)
    assert len(other.columns["started_at"]) != len(a.columns["started_at"]) or not np.array_equal(
        other.columns["started_at"], a.columns["started_at"]
    )


@pytest.mark.parametrize(
    ("n", "per_sub", "share"),
    [(2000, 110.0, 0.015), (1000, 80.0, 0.03), (800, 20.0, 0.05), (500, 110.0, 0.0)],
)
def test_total_close_to_target(n: int, per_sub: float, share: float) -> None:
    batch = run(n, records_per_subscriber=per_sub, fraud_share=share).batch
    total = len(batch.columns["started_at"])
    assert 0.9 * n * per_sub <= total <= 1.1 * n * per_sub


def test_per_subscriber_volumes_spread(clean: Run) -> None:
    counts = np.bincount(clean.pos(), minlength=clean.subs.subscription_id.size)
    active = counts[clean.subs.activated_day < DAYS - 6]
    p10, p50, p90 = np.percentile(active, [10, 50, 90])
    assert p10 < 0.5 * p50 and p90 > 1.8 * p50


def test_times_in_window_after_activation_and_sorted(fraudy: Run) -> None:
    t, sid = fraudy.c["started_at"], fraudy.c["subscription_id"]
    assert t.min() >= START and t.max() < START + DAYS * DAY
    activation = START + fraudy.subs.activated_day[fraudy.pos()] * DAY
    assert (t >= activation).all()
    assert (np.diff(t) >= 0).all()
    ties = np.diff(t) == 0
    assert (np.diff(sid)[ties] >= 0).all()
    new = fraudy.subs.activated_day >= 0
    assert new.any()


def test_window_length_follows_days() -> None:
    subs, cells = make_subscribers(300)
    batch = generate_usage(
        np.random.default_rng(3), subs, cells, START, days=7, records_per_subscriber=30
    )
    t = batch.columns["started_at"]
    assert t.min() >= START and t.max() < START + 7 * DAY
    assert 0.9 * 300 * 30 <= t.size <= 1.1 * 300 * 30


# -- ordinary behaviour ---------------------------------------------------------------------------


def test_no_fraud_without_fraud_share(clean: Run) -> None:
    c = clean.c
    assert clean.batch.labels == []
    assert not np.isin(c["counterpart_country"], list(HIGH_COST)).any()
    # Only device upgrades change handsets: a new TAC, never swapped back.
    changed = np.flatnonzero(clean.batch.final_imei != clean.subs.imei)
    assert 0 < changed.size < 0.1 * clean.subs.imei.size
    old = clean.subs.imei[changed].astype("U8")
    new = clean.batch.final_imei[changed].astype("U8")
    assert (old != new).all()


def test_ordinary_lines_look_ordinary(clean: Run) -> None:
    c = clean.c
    voice = c["service"] == "voice"
    out = c["direction"] == "out"
    ratio = (voice & out).sum() / (voice & ~out).sum()
    assert 0.8 < ratio < 1.25
    pos = clean.pos()
    n = clean.subs.subscription_id.size
    vo = np.bincount(pos[voice & out], minlength=n)
    vi = np.bincount(pos[voice & ~out], minlength=n)
    busy = vo + vi >= 30
    assert 0.75 < np.median(vo[busy] / np.maximum(vi[busy], 1)) < 1.35
    day = (c["started_at"] - START) // DAY
    per_day = np.bincount(pos[voice & out] * DAYS + day[voice & out], minlength=n * DAYS)
    assert per_day.max() < 80  # nobody makes sim-box volumes
    sms_day = np.bincount(pos[c["service"] == "sms"] * DAYS + day[c["service"] == "sms"])
    assert sms_day.max() < 40  # and no SMS bursts
    # Mostly domestic; repeat contacts: far fewer distinct numbers than calls.
    talk = c["service"] != "data"
    assert (c["counterpart_country"][talk] == "IN").mean() > 0.9
    top = np.argmax(vo)
    mine = (pos == top) & talk
    assert np.unique(c["counterpart"][mine]).size < 0.8 * mine.sum()


def test_diurnal_pattern(clean: Run) -> None:
    c = clean.c
    voice = c["service"] == "voice"
    hours = np.bincount(ist_hour(c["started_at"][voice]), minlength=24) / voice.sum()
    night = hours[1:6].sum()
    assert night < 0.06
    assert hours[10:13].mean() > 4 * hours[1:6].mean()
    assert hours[18:22].mean() > 4 * hours[1:6].mean()


def test_home_cells_per_subscriber(clean: Run) -> None:
    home = ~clean.c["roaming"]
    pos = clean.pos()[home]
    cells = clean.c["cell_id"][home]
    pairs = np.unique(np.char.add(np.char.add(pos.astype("U8"), "/"), cells))
    per_sub = np.bincount(np.char.partition(pairs, "/")[:, 0].astype(np.int64))
    per_sub = per_sub[per_sub > 0]
    assert per_sub.max() <= 6
    assert np.median(per_sub) >= 2
    # Home cells are in the subscriber's region.
    region = clean.subs.region[clean.pos()[home]]
    codes = np.array([c.code for c in CIRCLES])[region]
    assert (np.char.partition(cells, "-")[:, 0] == codes).all()


def test_enterprise_lines_call_in_business_hours(clean: Run) -> None:
    c = clean.c
    ent = clean.subs.enterprise[clean.pos()]
    calls = (c["service"] == "voice") & (c["direction"] == "out")
    h = ist_hour(c["started_at"])
    business = (h >= 9) & (h < 19)
    assert business[calls & ent].mean() > 0.75
    assert business[calls & ent].mean() > business[calls & ~ent].mean() + 0.2
    weekday = ((c["started_at"] // DAY + 3) % 7) < 5
    assert weekday[calls & ent].mean() > 0.85
    intl_b = np.isin(c["counterpart_country"], INTL_B)
    assert intl_b[calls & ent].mean() > 0.02
    assert intl_b[calls & ent].mean() > 3 * intl_b[calls & ~ent].mean()
    # Many distinct counterparts per enterprise line.
    pos = clean.pos()
    ent_pos = np.unique(pos[calls & ent])[:20]
    distinct = [np.unique(c["counterpart"][calls & (pos == p)]).size for p in ent_pos]
    assert np.median(distinct) >= 30


def test_migrant_families_call_the_gulf(clean: Run) -> None:
    c = clean.c
    gulf = np.isin(c["counterpart_country"], ["AE", "SA", "QA", "KW", "OM"])
    calls = (c["service"] == "voice") & (c["direction"] == "out") & gulf
    pos = clean.pos()[calls]
    per_sub = np.bincount(pos)
    regular = np.flatnonzero(per_sub >= 15)
    assert regular.size >= 30
    for p in regular[:20]:
        _, counts = np.unique(c["counterpart"][calls][pos == p], return_counts=True)
        assert np.sort(counts)[-2:].sum() >= 0.9 * counts.sum()  # one or two numbers
    assert np.median(c["duration_s"][calls]) > 300


def test_travellers_roam_for_a_few_days_and_call_home(clean: Run) -> None:
    c = clean.c
    roam = c["roaming"]
    pos = clean.pos()
    travellers = np.unique(pos[roam])
    assert travellers.size >= 20
    for p in travellers[:30]:
        t = c["started_at"][roam & (pos == p)]
        assert t.max() - t.min() <= 8 * DAY
        assert len({x.split("-")[0] for x in c["cell_id"][roam & (pos == p)].tolist()}) == 1
    talk = roam & (c["service"] != "data")
    assert (c["counterpart_country"][talk] == "IN").mean() > 0.9
    assert (c["service"][roam] == "data").any()


def test_device_upgrades_switch_once(clean: Run) -> None:
    c = clean.c
    pos = clean.pos()
    changed = np.flatnonzero(clean.batch.final_imei != clean.subs.imei)
    for p in changed[:40]:
        mine = pos == p
        imeis = c["imei"][mine]
        switched = imeis == clean.batch.final_imei[p]
        assert set(imeis.tolist()) <= {clean.subs.imei[p], clean.batch.final_imei[p]}
        # Records are time-sorted: once on the new handset, never back.
        if switched.any():
            assert switched[np.argmax(switched) :].all()


# -- fraud ---------------------------------------------------------------------------------------


def test_labels_cover_all_kinds(fraudy: Run) -> None:
    labels = fraudy.batch.labels
    kinds = {k for _, k, _ in labels}
    assert kinds == {k.value for k in FraudKind}
    subs = [s for s, _, _ in labels]
    assert len(subs) == len(set(subs))
    assert 0.02 * 3000 <= len(labels) <= 0.04 * 3000
    ids = set(fraudy.subs.subscription_id.tolist())
    for s, _, since in labels:
        assert s in ids and START <= since < START + DAYS * DAY
    # Fraud lines have ordinary usage before `since` too (brand-new lines aside).
    for kind in FraudKind:
        if kind is FraudKind.SUBSCRIPTION_FRAUD:
            continue
        with_history = [
            fraudy.rows(s, since, before=True).sum() > 0 for s, since in fraudy.labelled(kind)
        ]
        assert np.mean(with_history) > 0.8, kind


def test_sim_box(fraudy: Run) -> None:
    c = fraudy.c
    boxes = fraudy.labelled(FraudKind.SIM_BOX)
    assert len(boxes) >= 3
    for s, since in boxes:
        after = fraudy.rows(s, since)
        svc, dirn = c["service"][after], c["direction"][after]
        assert set(svc.tolist()) == {"voice"}
        out = (dirn == "out").sum()
        assert out > 20 * max((dirn == "in").sum(), 1)
        active_days = (START + DAYS * DAY - since) / DAY
        assert out / active_days > 100
        assert np.unique(c["cell_id"][after]).size == 1
        assert np.unique(c["counterpart"][after]).size > 0.95 * after.sum()
        (imei,) = np.unique(c["imei"][after])
        sharing = np.unique(c["subscription_id"][c["imei"] == imei])
        assert sharing.size >= 3
        assert {int(x) for x in sharing} <= {b for b, _ in boxes}
        idx = np.flatnonzero(fraudy.subs.subscription_id == s)[0]
        assert fraudy.batch.final_imei[idx] == imei


def test_irsf(fraudy: Run) -> None:
    c = fraudy.c
    cases = fraudy.labelled(FraudKind.IRSF)
    assert cases
    night_share = []
    for s, since in cases:
        after = fraudy.rows(s, since)
        hc = after & np.isin(c["counterpart_country"], list(HIGH_COST))
        assert hc.sum() >= 10
        assert (c["service"][hc] == "voice").all() and (c["direction"][hc] == "out").all()
        d = c["duration_s"][hc]
        assert (d >= 600).all() and (d <= 3600).all()
        assert np.unique(c["counterpart_country"][hc]).size == 1
        nums = np.sort(c["counterpart"][hc].astype(np.int64))
        assert (np.diff(nums) == 1).mean() > 0.9  # one range, dialled in sequence
        h = ist_hour(c["started_at"][hc])
        night_share.append(((h >= 22) | (h < 6)).mean())
        assert not fraudy.rows(s, since, before=True)[
            np.isin(c["counterpart_country"], list(HIGH_COST))
        ].any()
    assert np.mean(night_share) > 0.6


def test_sms_pumping(fraudy: Run) -> None:
    c = fraudy.c
    cases = fraudy.labelled(FraudKind.SMS_PUMPING)
    assert cases
    for s, since in cases:
        after = fraudy.rows(s, since)
        sms = (
            after
            & (c["service"] == "sms")
            & (c["direction"] == "out")
            & (c["counterpart_country"] != "IN")
        )
        t = c["started_at"][sms]
        assert t.size >= 80
        # Hundreds within minutes: some 15-minute window holds 80+ messages.
        in_window = np.searchsorted(t, t + 900) - np.arange(t.size)
        assert in_window.max() >= 80
        # Each burst walks one range: sorted, nearly all numbers follow their predecessor.
        nums = np.sort(c["counterpart"][sms].astype(np.int64))
        assert (np.diff(nums) == 1).mean() > 0.9


def test_subscription_fraud(fraudy: Run) -> None:
    c = fraudy.c
    cases = fraudy.labelled(FraudKind.SUBSCRIPTION_FRAUD)
    assert cases
    for s, since in cases:
        idx = np.flatnonzero(fraudy.subs.subscription_id == s)[0]
        act = fraudy.subs.activated_day[idx]
        assert act >= 0
        activation = START + act * DAY
        assert since - activation < 2 * DAY  # bad from the first day
        mine = fraudy.rows(s)
        assert c["started_at"][mine].min() >= activation
        intl = mine & (c["direction"] == "out") & ~np.isin(c["counterpart_country"], ["IN", ""])
        assert intl.sum() >= 40
        first_day = intl & (c["started_at"] < since + DAY)
        assert first_day.sum() >= 5
        assert np.unique(c["counterpart"][intl]).size > 0.6 * intl.sum()  # many distinct numbers


def test_account_takeover(fraudy: Run) -> None:
    c = fraudy.c
    cases = fraudy.labelled(FraudKind.ACCOUNT_TAKEOVER)
    assert cases
    with_history = 0
    for s, since in cases:
        idx = np.flatnonzero(fraudy.subs.subscription_id == s)[0]
        before, after = fraudy.rows(s, since, before=True), fraudy.rows(s, since)
        assert after.sum() >= 10
        (new_imei,) = set(c["imei"][after].tolist())
        assert new_imei != fraudy.subs.imei[idx] and new_imei[:8] != fraudy.subs.imei[idx][:8]
        assert fraudy.batch.final_imei[idx] == new_imei
        home = np.array([x.code for x in CIRCLES])[fraudy.subs.region[idx]]
        assert home not in {x.split("-")[0] for x in c["cell_id"][after].tolist()}
        if not before.any():  # a very quiet line may have nothing before the swap
            continue
        with_history += 1
        assert set(c["imei"][before].tolist()) == {fraudy.subs.imei[idx]}
        cells_before = set(c["cell_id"][before].tolist())
        cells_after = set(c["cell_id"][after].tolist())
        assert not cells_before & cells_after
        assert {x.split("-")[0] for x in cells_before} != {x.split("-")[0] for x in cells_after}
        out_after = after & (c["direction"] == "out")
        assert out_after.sum() == after.sum()
        intl = ~np.isin(c["counterpart_country"][out_after], ["IN", ""])
        assert intl.mean() > 0.3
        per_day_after = out_after.sum() / max(
            np.unique((c["started_at"][after] - START) // DAY).size, 1
        )
        calls_before = before & (c["direction"] == "out") & (c["service"] == "voice")
        per_day_before = calls_before.sum() / max(
            np.unique((c["started_at"][before] - START) // DAY).size, 1
        )
        assert per_day_after > 2 * per_day_before
    assert with_history >= 0.8 * len(cases)


def test_roaming_fraud(fraudy: Run) -> None:
    c = fraudy.c
    cases = fraudy.labelled(FraudKind.ROAMING_FRAUD)
    assert cases
    for s, since in cases:
        after = fraudy.rows(s, since)
        roam_calls = after & c["roaming"] & (c["service"] == "voice") & (c["direction"] == "out")
        assert roam_calls.sum() >= 30
        cc = c["counterpart_country"][roam_calls]
        assert np.isin(cc, list(HIGH_COST)).mean() > 0.3
        assert (cc != "IN").mean() > 0.75
        assert not fraudy.rows(s, since, before=True)[c["roaming"]].any()


def test_fraud_share_scales_label_count() -> None:
    few = run(1000, seed=9, fraud_share=0.006).batch.labels
    many = run(1000, seed=9, fraud_share=0.06).batch.labels
    assert len(few) == 6 and len(many) == 60


def test_lines_with_traits_keep_their_habits_from_one_window_to_the_next() -> None:
    subs, cells = make_subscribers(800, seed=9)
    subs = dataclasses.replace(
        subs, traits=np.arange(1, subs.subscription_id.size + 1, dtype=np.uint64) * 7919
    )

    def gulf_calls(seed: int, start: int) -> dict[int, list[str]]:
        c = generate_usage(np.random.default_rng(seed), subs, cells, start, fraud_share=0.0).columns
        calls = (c["direction"] == "out") & np.isin(
            c["counterpart_country"], ["AE", "SA", "QA", "KW", "OM"]
        )
        out: dict[int, list[str]] = {}
        for sub, number in zip(
            c["subscription_id"][calls].tolist(), c["counterpart"][calls].tolist(), strict=True
        ):
            out.setdefault(sub, []).append(number)
        return out

    before = gulf_calls(1, START)
    after = gulf_calls(2, START + DAYS * DAY)
    # The families calling the Gulf most days call it as much the next month, and the
    # number they call most is the same.
    families = {s for s, calls in before.items() if len(calls) >= 15}
    assert len(families) >= 20
    for s in families:
        assert len(after.get(s, [])) >= len(before[s]) / 3
        assert max(set(before[s]), key=before[s].count) in set(after[s])
    # Without traits the same two windows draw other families.
    plain = dataclasses.replace(subs, traits=None)
    first = generate_usage(np.random.default_rng(1), plain, cells, START, fraud_share=0.0)
    second = generate_usage(np.random.default_rng(1), plain, cells, START, fraud_share=0.0)
    assert all(np.array_equal(first.columns[k], second.columns[k]) for k in first.columns)
