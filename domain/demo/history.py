"""Operations history: alarms, tickets with their events, past changes, and orders.

Everything happens inside the usage window, up to the data's now; open work is left open.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from domain.catalog.choices import Segment
from domain.changes.choices import ChangeState, Risk, TargetState
from domain.demo import reference as ref
from domain.demo.columns import DAY, NULL, NULL_ID, NULL_TIME, Columns, unique_numbers
from domain.demo.customers import Customers
from domain.demo.timeline import USAGE_DAYS, Timeline
from domain.faults.choices import (
    OPEN_TICKET_STATUSES,
    AckState,
    AlarmSource,
    AlarmState,
    PerceivedSeverity,
    TicketEventKind,
    TicketKind,
    TicketStatus,
)
from domain.orders.choices import OrderAction, OrderState


def build_history(
    rng: np.random.Generator,
    timeline: Timeline,
    devices: Columns,
    customers: Customers,
    *,
    alarms: int,
    tickets: int,
    changes: int,
    orders: int,
    sla_hours: Mapping[int, float],
    minor_per_major: int,
    access_ports: Mapping[int, list[str]] | None = None,
) -> dict[str, Columns]:
    """The tables of the operations history, in load order."""
    alarm_rows = _alarms(rng, timeline, devices, alarms)
    ticket_rows, events = _tickets(rng, timeline, devices, customers.lines.size, tickets, sla_hours)
    change_requests, targets = _changes(rng, timeline, devices, changes)
    return {
        "alarms": alarm_rows,
        "tickets": ticket_rows,
        "ticket_events": events,
        "change_requests": change_requests,
        "change_targets": targets,
        "product_orders": _orders(
            rng, timeline, customers, orders, minor_per_major, devices, access_ports or {}
        ),
    }


def _alarms(rng: np.random.Generator, timeline: Timeline, dev: Columns, n: int) -> Columns:
    n_dev = len(dev["id"])
    # Alarm history over the usage window: mostly cleared, some still raised.
    alarm_types = (
        ("DeviceUnreachable", PerceivedSeverity.CRITICAL, True),
        ("LinkDown", PerceivedSeverity.MAJOR, True),
        ("BGPSessionDown", PerceivedSeverity.MAJOR, True),
        ("HighCPU", PerceivedSeverity.MINOR, False),
        ("MemoryHigh", PerceivedSeverity.WARNING, False),
        ("OpticalPowerLow", PerceivedSeverity.MINOR, False),
        ("InterfaceErrors", PerceivedSeverity.WARNING, False),
        ("PowerSupplyFailure", PerceivedSeverity.MAJOR, False),
        ("FanFailure", PerceivedSeverity.MINOR, False),
        ("HighTemperature", PerceivedSeverity.MAJOR, False),
    )
    kind = rng.choice(
        len(alarm_types), n, p=[0.08, 0.22, 0.08, 0.14, 0.1, 0.1, 0.12, 0.04, 0.06, 0.06]
    )
    device = rng.integers(1, n_dev + 1, n)
    raised = timeline.window_start + rng.integers(0, USAGE_DAYS * DAY, n)
    duration = (rng.lognormal(7.5, 1.3, n)).astype(np.int64) + 60  # median ~30 min
    cleared = raised + duration
    still_open = (cleared > timeline.now) | (rng.random(n) < 0.12)
    cleared = np.where(still_open, NULL_TIME, cleared)
    state = np.where(
        still_open,
        np.where(rng.random(n) < 0.5, AlarmState.RAISED.value, AlarmState.UPDATED.value),
        AlarmState.CLEARED.value,
    )
    acked = rng.random(n) < np.where(still_open, 0.3, 0.85)
    severity = np.array([t[1].value for t in alarm_types])[kind]
    hosts = np.array(dev["hostname"])[device - 1]
    types = np.array([t[0] for t in alarm_types])[kind]
    users = np.array(["alice", "bob"])
    fingerprints = np.array([f"{x:016x}" for x in unique_numbers(rng, n, 1 << 60, (1 << 63) - 1)])
    return {
        "id": np.arange(1, n + 1),
        "fingerprint": fingerprints,
        "source": np.where(
            rng.random(n) < 0.8, AlarmSource.ALERTMANAGER.value, AlarmSource.WEBHOOK.value
        ),
        "alarm_type": types,
        "perceived_severity": severity,
        "state": state,
        "ack_state": np.where(acked, AckState.ACKNOWLEDGED.value, AckState.UNACKNOWLEDGED.value),
        "acked_by": np.where(acked, users[rng.integers(0, 2, n)].astype(object), NULL),
        "acked_at": np.where(acked, raised + rng.integers(60, 1800, n), NULL_TIME),
        "device_id": device,
        "summary": np.char.add(np.char.add(types, " on "), hosts),
        "description": np.full(n, ""),
        "labels": [
            f'{{"alertname": "{t}", "instance": "{h}"}}'
            for t, h in zip(types.tolist(), hosts.tolist(), strict=True)
        ],
        "service_affecting": np.array([t[2] for t in alarm_types])[kind],
        "raised_at": raised,
        "updated_at": np.where(still_open, raised + rng.integers(0, 3600, n), cleared),
        "cleared_at": cleared,
        "repeat_count": 1 + rng.poisson(1.5, n),
        # History: nothing of it is news to post.
        "revision": np.ones(n, dtype=np.int64),
        "posted_revision": np.ones(n, dtype=np.int64),
    }


def _tickets(
    rng: np.random.Generator,
    timeline: Timeline,
    dev: Columns,
    n_customers: int,
    nt: int,
    sla_hours: Mapping[int, float],
) -> tuple[Columns, Columns]:
    n_dev = len(dev["id"])
    statuses = np.array(
        [
            s.value
            for s in (
                TicketStatus.ACKNOWLEDGED,
                TicketStatus.IN_PROGRESS,
                TicketStatus.PENDING,
                TicketStatus.HELD,
                TicketStatus.RESOLVED,
                TicketStatus.CLOSED,
                TicketStatus.CANCELLED,
            )
        ]
    )
    status = statuses[rng.choice(len(statuses), nt, p=[0.08, 0.12, 0.05, 0.03, 0.12, 0.55, 0.05])]
    severity_t = rng.choice([1, 2, 3, 4], nt, p=[0.05, 0.2, 0.5, 0.25])
    created = timeline.now - rng.integers(600, USAGE_DAYS * DAY, nt)
    sla = created + np.array([int(sla_hours[int(s)] * 3600) for s in severity_t])
    open_ = np.isin(status, [s.value for s in OPEN_TICKET_STATUSES])
    resolved_at = np.where(
        open_ | (status == TicketStatus.CANCELLED.value),
        NULL_TIME,
        created + (rng.lognormal(9.5, 1.0, nt)).astype(np.int64),
    )
    resolved_at = np.where(
        resolved_at != NULL_TIME, np.minimum(resolved_at, timeline.now - 60), NULL_TIME
    )
    is_network = rng.random(nt) < 0.7
    # Billing disputes are not drawn here: the bill cycles open them on real invoices.
    kinds = np.where(is_network, TicketKind.INCIDENT.value, TicketKind.SERVICE_REQUEST.value)
    t_dev = rng.integers(1, n_dev + 1, nt)
    t_cust = rng.integers(1, n_customers + 1, nt)
    titles_net = np.array(
        [
            "Link flapping",
            "Device unreachable",
            "High packet loss",
            "Customer circuit down",
            "BGP neighbour down",
            "Power alarm at site",
        ]
    )
    titles_cust = np.array(
        [
            "Request for a duplicate SIM",
            "No data since morning",
            "Call drops at home",
            "Request to change plan",
            "Roaming not working",
            "Change of billing address",
        ]
    )
    title = np.where(
        is_network,
        titles_net[rng.integers(0, len(titles_net), nt)],
        titles_cust[rng.integers(0, len(titles_cust), nt)],
    )
    engineers = np.array(["alice", "bob", "carol"])
    assignee = np.where(
        status == TicketStatus.ACKNOWLEDGED.value,
        NULL,
        engineers[rng.integers(0, 3, nt)].astype(object),
    )
    tickets = {
        "id": np.arange(1, nt + 1),
        "kind": kinds,
        "title": title,
        "description": np.full(nt, ""),
        "severity": severity_t,
        "status": status,
        "reporter": np.where(is_network, "noc-bot", "carol"),
        "assignee": assignee,
        "device_id": np.where(is_network, t_dev, NULL_ID),
        "customer_id": np.where(is_network, NULL_ID, t_cust),
        "subscription_id": np.full(nt, NULL_ID),
        "invoice_id": np.full(nt, NULL_ID),
        "sla_due_at": sla,
        "resolution": np.where(
            resolved_at != NULL_TIME, "Fixed and verified with the customer", NULL
        ),
        "created_at": created,
        "updated_at": np.where(resolved_at != NULL_TIME, resolved_at, created + 600),
        "resolved_at": resolved_at,
    }
    ev: dict[str, list[Any]] = {
        k: [] for k in ("ticket_id", "at", "actor", "kind", "text", "from_status", "to_status")
    }
    for i in range(nt):
        ev["ticket_id"].append(i + 1)
        ev["at"].append(int(created[i]))
        ev["actor"].append("noc-bot" if is_network[i] else "carol")
        ev["kind"].append(TicketEventKind.CREATED.value)
        ev["text"].append(str(title[i]))
        ev["from_status"].append(None)
        ev["to_status"].append(TicketStatus.ACKNOWLEDGED.value)
        if status[i] != TicketStatus.ACKNOWLEDGED.value:
            ev["ticket_id"].append(i + 1)
            ev["at"].append(int(created[i]) + 600)
            ev["actor"].append(str(assignee[i] or "noc-bot"))
            ev["kind"].append(TicketEventKind.STATUS.value)
            ev["text"].append("")
            ev["from_status"].append(TicketStatus.ACKNOWLEDGED.value)
            ev["to_status"].append(str(status[i]))
    ev["id"] = list(range(1, len(ev["ticket_id"]) + 1))
    return tickets, ev


def _changes(
    rng: np.random.Generator, timeline: Timeline, dev: Columns, n: int
) -> tuple[Columns, Columns]:
    candidates = [
        i + 1
        for i, (lab, role) in enumerate(zip(dev["lab"], dev["role"], strict=True))
        if not lab and role in ("access", "aggregation")
    ]
    cr: dict[str, list[Any]] = {
        k: []
        for k in (
            "id",
            "template",
            "params",
            "targets",
            "state",
            "risk",
            "needs_second_approval",
            "requested_by",
            "approved_by",
            "summary",
            "created_at",
            "approved_at",
            "started_at",
            "finished_at",
        )
    }
    tg: dict[str, list[Any]] = {
        k: []
        for k in (
            "change_id",
            "device_id",
            "state",
            "canary",
            "diff",
            "rollback",
            "error",
            "started_at",
            "finished_at",
        )
    }
    templates = (
        ("ntp", '{"servers": ["10.0.0.1", "10.0.0.2"]}', "ntp server 10.0.0.{k}"),
        ("syslog", '{"host": "10.0.1.10"}', "logging host 10.0.1.10"),
        ("banner", '{"text": "Authorised access only"}', "banner motd ^Authorised^"),
    )
    for c in range(1, n + 1):
        t = templates[int(rng.integers(0, len(templates)))]
        r = rng.random()
        state = (
            ChangeState.SUCCEEDED
            if r < 0.7
            else ChangeState.FAILED
            if r < 0.8
            else ChangeState.ROLLED_BACK
            if r < 0.9
            else ChangeState.CANCELLED
        )
        created = timeline.now - int(rng.integers(1, USAGE_DAYS)) * DAY
        n_targets = int(rng.integers(1, 6))
        targets = rng.choice(candidates, size=min(n_targets, len(candidates)), replace=False)
        ran = state != ChangeState.CANCELLED
        requester, approver = ("alice", "bob") if c % 2 else ("bob", "alice")
        cr["id"].append(c)
        cr["template"].append(t[0])
        cr["params"].append(t[1])
        cr["targets"].append(" ".join(dev["hostname"][d - 1] for d in targets))
        cr["state"].append(state.value)
        cr["risk"].append(Risk.LOW.value)
        cr["needs_second_approval"].append(False)
        cr["requested_by"].append(requester)
        cr["approved_by"].append(approver if ran else None)
        cr["summary"].append(f"{len(targets)} device(s): {state.value}")
        cr["created_at"].append(created)
        cr["approved_at"].append(created + 900 if ran else NULL_TIME)
        cr["started_at"].append(created + 1200 if ran else NULL_TIME)
        cr["finished_at"].append(created + 1500 if ran else NULL_TIME)
        for k, d in enumerate(targets):
            tstate = {
                ChangeState.SUCCEEDED: TargetState.VERIFIED,
                ChangeState.FAILED: TargetState.FAILED if k == 0 else TargetState.ROLLED_BACK,
                ChangeState.ROLLED_BACK: TargetState.ROLLED_BACK,
                ChangeState.CANCELLED: TargetState.PENDING,
            }[state]
            line = t[2].format(k=k + 1)
            tg["change_id"].append(c)
            tg["device_id"].append(int(d))
            tg["state"].append(tstate.value)
            tg["canary"].append(k == 0)
            tg["diff"].append(f"+ {line}")
            tg["rollback"].append(f"no {line}")
            tg["error"].append(
                "post-check failed: line missing from running config"
                if tstate == TargetState.FAILED
                else None
            )
            tg["started_at"].append(created + 1200 if ran else NULL_TIME)
            tg["finished_at"].append(created + 1500 if ran else NULL_TIME)
    tg["id"] = list(range(1, len(tg["change_id"]) + 1))
    return cr, tg


def _orders(
    rng: np.random.Generator,
    timeline: Timeline,
    customers: Customers,
    n: int,
    minor_per_major: int,
    devices: Columns,
    access_ports: Mapping[int, list[str]],
) -> Columns:
    """Past and open orders. A completed order is the one that made its customer's first
    line (its offering, and for a fixed line its device, port and a VLAN); an open order
    for a fixed line waits on a free port of a lab access device, so approving it
    provisions over SSH. The lower half of each lab access device's customer ports stays
    free for new orders (/inventory interfaces site:X free); when the upper halves are
    taken, further open orders are for a mobile offering of the customer's segment."""
    states = list(OrderState)
    # Every state appears; the rest are mostly completed.
    state = np.array(
        [s.value for s in states]
        + [
            states[i].value
            for i in rng.choice(
                len(states), n - len(states), p=[0.05, 0.12, 0.08, 0.5, 0.06, 0.07, 0.07, 0.05]
            )
        ]
    )
    rng.shuffle(state)
    cust = rng.integers(1, customers.lines.size + 1, n)
    enterprise = customers.enterprise[cust - 1]
    offers = ref.OFFERINGS
    cons = [i for i, o in enumerate(offers) if o.segment == Segment.CONSUMER]
    biz = [i for i, o in enumerate(offers) if o.segment == Segment.ENTERPRISE]
    offer = np.where(
        enterprise,
        np.array(biz)[rng.integers(0, len(biz), n)],
        np.array(cons)[rng.integers(0, len(cons), n)],
    )
    created = timeline.now - rng.integers(600, 20 * DAY, n)
    decided = np.isin(state, ["inProgress", "completed", "failed", "rejected"])
    requesters = np.array(["carol", "alice", "bob"])
    subs_of: dict[int, int] = {}
    for sid, cid in enumerate(customers.sub_customer, start=1):
        subs_of.setdefault(int(cid), sid)
    completed = state == "completed"
    sub_link = np.array(
        [
            subs_of.get(int(c), NULL_ID) if done else NULL_ID
            for c, done in zip(cust, completed, strict=True)
        ]
    )
    subs = customers.tables["subscriptions"]
    completed_fixed = completed & (sub_link != NULL_ID)
    offer = np.where(completed_fixed, customers.sub_offer[np.maximum(sub_link, 1) - 1], offer)
    place = _order_places(offer, state, sub_link, subs, devices, access_ports, enterprise)
    offer = place["offer"]
    fee = np.array([o.monthly_fee * minor_per_major for o in offers])[offer]
    one_off = np.array([o.one_off_fee * minor_per_major for o in offers])[offer]
    return {
        "id": np.arange(1, n + 1),
        "action": np.full(n, OrderAction.ADD.value),
        "state": state,
        "customer_id": cust,
        "offering_id": offer + 1,
        "subscription_id": sub_link,
        "site_id": place["site_id"],
        "device_id": place["device_id"],
        "port": place["port"],
        "vlan": place["vlan"],
        "one_off_minor": one_off,
        "monthly_minor": fee,
        "requested_by": requesters[rng.integers(0, 3, n)],
        "decided_by": np.where(decided, "dave", NULL),
        "decided_at": np.where(decided, created + 3600, NULL_TIME),
        "decision_note": np.where(state == "rejected", "Credit check failed", NULL),
        "change_request_id": np.full(n, NULL_ID),
        "failure_reason": np.where(
            state == "failed", "provisioning failed: access port did not come up", NULL
        ),
        "created_at": created,
        "updated_at": created + 3600,
        "completed_at": np.where(completed, created + 7200, NULL_TIME),
        # History: whatever was approved was taken up by provisioning back then,
        # so serve's order worker never starts it again.
        "fulfilment_started_at": np.where(
            np.isin(state, ["inProgress", "completed", "failed"]),
            created + 3700,
            NULL_TIME,
        ),
    }


def _order_places(
    offer: np.ndarray,
    state: np.ndarray,
    sub_link: np.ndarray,
    subs: Columns,
    devices: Columns,
    access_ports: Mapping[int, list[str]],
    enterprise: np.ndarray,
) -> dict[str, np.ndarray]:
    """Where each order's fixed line is: its line's port (completed), a lab access port
    (open), none (mobile, or a fixed order that ended without a line)."""
    n = offer.size
    fixed_offer = np.array([o.product_line.fixed for o in ref.OFFERINGS])
    site_id = np.full(n, NULL_ID, dtype=np.int64)
    device_id = np.full(n, NULL_ID, dtype=np.int64)
    port = np.full(n, None, dtype=object)
    vlan = np.full(n, None, dtype=object)
    offer = offer.copy()
    lab_access = [
        d
        for d in sorted(access_ports)
        if devices["lab"][d - 1] and devices["status"][d - 1] == "active"
    ]
    # Upper half of each lab access device's customer ports, highest first, round robin.
    free = [
        (d, p)
        for k in range(max((len(access_ports[d]) for d in lab_access), default=0))
        for d in lab_access
        if k < len(access_ports[d]) // 2
        for p in [access_ports[d][len(access_ports[d]) - 1 - k]]
    ]
    next_vlan: dict[int, int] = {}
    mobile = {
        seg: next(
            i for i, o in enumerate(ref.OFFERINGS) if o.segment == seg and not o.product_line.fixed
        )
        for seg in (Segment.CONSUMER, Segment.ENTERPRISE)
    }
    open_states = {
        s.value
        for s in (
            OrderState.ACKNOWLEDGED,
            OrderState.PENDING,
            OrderState.HELD,
            OrderState.IN_PROGRESS,
        )
    }
    for i in np.flatnonzero(fixed_offer[offer]):
        d = NULL_ID
        if state[i] == OrderState.COMPLETED.value and sub_link[i] != NULL_ID:
            j = sub_link[i] - 1
            d, where = int(subs["device_id"][j]), subs["port"][j]
            site_id[i] = subs["site_id"][j]
        elif state[i] in open_states:
            if not free:
                offer[i] = mobile[Segment.ENTERPRISE if enterprise[i] else Segment.CONSUMER]
                continue
            d, where = free.pop(0)
            site_id[i] = devices["site_id"][d - 1]
        if d == NULL_ID:
            continue
        device_id[i], port[i] = d, where
        if state[i] == OrderState.COMPLETED.value:
            # The line it made holds the VLAN it was given.
            held = int(subs["vlan"][sub_link[i] - 1])
            vlan[i] = None if held == NULL_ID else held
            continue
        vlan[i] = next_vlan.get(d, 2000)
        next_vlan[d] = int(vlan[i]) + 1
    return {"offer": offer, "site_id": site_id, "device_id": device_id, "port": port, "vlan": vlan}
