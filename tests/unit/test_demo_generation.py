"""The demo generator's parts, without a database: usage by month, plans, settings."""

from __future__ import annotations

import numpy as np

from domain.config import Settings
from domain.customers.choices import SubscriptionState
from domain.demo.billing_history import disputes_for
from domain.demo.columns import epoch
from domain.demo.generator import Generation
from domain.demo.reference import OFFERINGS
from domain.demo.timeline import Timeline
from tests.world import AS_OF, SMALL


def _generation(settings: Settings | None = None) -> Generation:
    return Generation(SMALL, 7, AS_OF, settings)


def _concat(chunks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def test_a_past_month_keeps_usage_abroad_and_none_while_a_line_is_quiet() -> None:
    gen = _generation()
    month = gen.timeline.past_months[1]
    start, end = epoch(month.start), epoch(month.end)
    loud = _concat(list(gen.usage.past_month(1, month, {})))
    quiet_line = int(loud["subscription_id"][0])
    span = (start + 5 * 86_400, start + 12 * 86_400)
    again = _generation()
    cols = _concat(list(again.usage.past_month(1, month, {quiet_line: [span]})))

    assert cols["state"].tolist() == ["received"] * cols["id"].size
    assert cols["id"].tolist() == list(range(1, cols["id"].size + 1))
    assert ((cols["started_at"] >= start) & (cols["started_at"] < end)).all()
    abroad = cols["roaming"] | ~np.isin(cols["counterpart_country"], ["IN", ""])
    assert abroad.all()
    mine = cols["started_at"][cols["subscription_id"] == quiet_line]
    assert not ((mine >= span[0]) & (mine < span[1])).any()
    # Only the quiet line's records inside its span are gone.
    assert cols["id"].size == loud["id"].size - int(
        (
            (loud["subscription_id"] == quiet_line)
            & (loud["started_at"] >= span[0])
            & (loud["started_at"] < span[1])
        ).sum()
    )
    # Nothing before a line's activation or after its end.
    subs = gen.tables["subscriptions"]
    activated = subs["activated_at"][cols["subscription_id"] - 1]
    terminated = subs["terminated_at"][cols["subscription_id"] - 1]
    assert (cols["started_at"] >= activated).all()
    assert ((terminated == np.iinfo(np.int64).min) | (cols["started_at"] < terminated)).all()


def test_the_usage_month_leaves_out_lines_quiet_in_it_and_ids_keep_counting() -> None:
    gen = _generation()
    past = _concat(list(gen.usage.past_month(0, gen.timeline.past_months[0], {})))
    first = _concat(list(_generation().usage.usage_month({})))
    quiet = int(first["subscription_id"][0])
    t = gen.timeline
    cols = _concat(list(gen.usage.usage_month({quiet: [(t.now - 86_400, t.now + 1)]})))
    assert quiet not in set(cols["subscription_id"].tolist())
    assert cols["id"][0] == past["id"][-1] + 1
    assert gen.usage.fraud_label_table()["subscription_id"]


def test_constants_come_from_the_settings() -> None:
    settings = Settings()
    settings = settings.model_copy(
        update={
            "billing": settings.billing.model_copy(update={"minor_digits": 3}),
            "orders": settings.orders.model_copy(update={"msisdn_prefix": "9190"}),
            "tickets": settings.tickets.model_copy(
                update={"sla_hours": {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0}}
            ),
        }
    )
    gen = _generation(settings)
    fees = gen.tables["product_offerings"]["monthly_fee_minor"]
    assert fees == [o.monthly_fee * 1000 for o in OFFERINGS]
    msisdns = gen.tables["subscriptions"]["msisdn"]
    assert not any(m.startswith("9190") for m in msisdns if m)
    tickets = gen.tables["tickets"]
    hours = (tickets["sla_due_at"] - tickets["created_at"]) / 3600
    assert (hours == tickets["severity"]).all()
    devices = gen.tables["devices"]
    lab_ports = [p for p, lab in zip(devices["mgmt_port"], devices["lab"], strict=True) if lab]
    assert lab_ports == [settings.devices.lab.base_port + i for i in range(SMALL.lab_devices)]


def test_the_billing_plan_holds_intentions_not_amounts() -> None:
    plan = _generation().billing_plan
    pay, disputes = plan.payments, plan.disputes
    assert len(plan.months) == 2
    assert ((pay.share > 0) & (pay.share <= 1)).all()
    # Those who pay in part do it once, for their first bill.
    assert (pay.cycle[pay.share < 1] == 0).all()
    assert disputes.account_id.size == disputes_for(SMALL.tickets)
    open_ = disputes.resolved_after_s < 0
    assert (disputes.cycle[open_] == len(plan.months) - 1).all()
    # Each account pays its bills in the order they came.
    run_at = [Timeline.bill_run_at(m).timestamp() for m in plan.months]
    when = np.array(run_at)[pay.cycle] + pay.after_s
    order = np.lexsort((pay.cycle, pay.account_id))
    same = pay.account_id[order][1:] == pay.account_id[order][:-1]
    assert (np.diff(when[order])[same] > 0).all()
    # A bill still disputed is not paid.
    held = set(
        zip(disputes.account_id[open_].tolist(), disputes.cycle[open_].tolist(), strict=True)
    )
    assert not held & set(zip(pay.account_id.tolist(), pay.cycle.tolist(), strict=True))


def test_lines_are_suspended_only_by_an_order_their_customers_ask_for() -> None:
    gen = _generation()
    subs = gen.tables["subscriptions"]
    asks = gen.billing_plan.suspensions
    # No line is loaded suspended: each is active until the replay's order suspends it.
    assert SubscriptionState.SUSPENDED.value not in set(subs["state"].tolist())
    held = np.flatnonzero(gen.usage.customers.sub_state == SubscriptionState.SUSPENDED.value)
    assert held.size > 0
    assert asks.subscription_id.tolist() == (held + 1).tolist()
    assert (subs["state"][held] == SubscriptionState.ACTIVE.value).all()
    # Asked after the last past cycle and the line's activation, before the usage window:
    # the past cycles keep the line's usage, the usage month has none of it.
    t = gen.timeline
    assert (asks.at >= epoch(t.usage_month.start)).all()
    assert (asks.at <= t.window_start).all()
    assert (asks.at > subs["activated_at"][held]).all()
    assert all(r.startswith("Customer's request: ") for r in asks.reason)
    assert len(asks.reason) == held.size
