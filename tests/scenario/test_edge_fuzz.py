"""Garbage into every endpoint of one running `serve`, on SQLite and PostgreSQL.

Hypothesis sends random bytes, random JSON and random form bodies, shaped like each
endpoint's payloads or not, signed (/slack/events: a fresh timestamp and the signing
secret; the webhooks: the right bearer token) and not, under the right Content-Type and
random ones, into /slack/events, /alerts, /alerts/alertmanager and /orders. Whatever
comes in: no 5xx; the alarm, ticket and order counts change only on a 2xx, and a 2xx
for an alert batch has filed every alarm of it; no log record is longer than 2 KB or
carries a body.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from domain.config import PROJECT_ROOT
from domain.faults.models import Alarm, Ticket
from domain.orders.models import ProductOrder
from tests.conftest import _need_postgres, _pg_database, _pg_url
from tests.scenario.conftest import ALERTS_TOKEN, USERS, Served, _serve
from tests.world import populate_world

ORDERS_TOKEN = "orders-fuzz-token"
#: Put into many bodies: if it shows up in a log record, a body was logged.
MARK = "ZZFUZZMARKZZ"
#: No log record needs to be longer than this.
LOG_LIMIT = 2048
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_unique = itertools.count(1)
FORMAT = logging.Formatter("%(levelname)s %(name)s %(message)s")


class Records(logging.Handler):
    """Every log record serve writes (INFO and up, as `switchboard serve` logs) while the
    module runs, for the size and no-body checks."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Fuzzed:
    """The running serve, its log records, and what every answer must hold to."""

    def __init__(self, served: Served, logs: Records) -> None:
        self.served = served
        self.logs = logs
        self.seen = 0
        self.statuses: dict[str, set[int]] = {}

    def __repr__(self) -> str:  # Hypothesis prints it with every failing example
        return f"Fuzzed({self.served.url})"

    def counts(self) -> tuple[int, int, int]:
        with self.served.sb.db.read() as s:
            return tuple(  # type: ignore[return-value]
                int(s.execute(sa.select(sa.func.count()).select_from(m)).scalar_one())
                for m in (Alarm, Ticket, ProductOrder)
            )

    def send(
        self, path: str, body: bytes, content_type: str, signed: bool, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """Post and check what holds for every answer; returns the status and body."""
        before = self.counts()
        answer = self.served.post(body, content_type, headers, signed=signed, path=path)
        after = self.counts()
        self.statuses.setdefault(path, set()).add(answer.status)
        assert answer.status < 500, (path, answer.status, answer.body[:300], body[:300])
        if not 200 <= answer.status < 300:
            assert after == before, (path, answer.status, answer.body[:300], body[:300])
        self.check_logs(body)
        return answer.status, answer.body

    def check_logs(self, body: bytes) -> None:
        text = body.decode("utf-8", "replace")
        for record in self.logs.records[self.seen :]:
            message = FORMAT.format(record)  # with its traceback, if it has one
            assert len(message) <= LOG_LIMIT, (record.name, message[:300])
            assert MARK not in message, (record.name, message[:300])
            if len(text) >= 32:
                assert text not in message, (record.name, message[:300])
        self.seen = len(self.logs.records)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    pg_template: str,
) -> Iterator[Fuzzed]:
    """One `serve` for the module, alert senders unthrottled, over a small world."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    shipped = (PROJECT_ROOT / "config.yaml").read_text()
    assert "  message_interval_s: 2\n" in shipped
    config = tmp_path / "config.yaml"
    config.write_text(
        shipped.replace(
            "  message_interval_s: 2\n",
            "  message_interval_s: 2\n"
            "  rate_limit_per_minute: 1000000\n  rate_limit_burst: 1000000\n",
        )
    )
    env = {"SWITCHBOARD_ORDERS_TOKEN": ORDERS_TOKEN}
    logs = Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(logs)
    root.setLevel(logging.INFO)
    try:
        if request.param == "sqlite":
            for served in _serve(tmp_path, sqlite_template, config, **env):
                populate_world(served.sb.db)
                yield Fuzzed(served, logs)
            return
        _need_postgres()
        with _pg_database(template=pg_template) as name:
            for served in _serve(tmp_path, None, config, database_url=_pg_url(name), **env):
                populate_world(served.sb.db)
                yield Fuzzed(served, logs)
    finally:
        root.removeHandler(logs)
        root.setLevel(level)


# --- what is sent -------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.just(MARK)
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=20), inner, max_size=5)
    ),
    max_leaves=25,
)


def _with_mark(data: bytes, where: int) -> bytes:
    cut = where % (len(data) + 1)
    return data[:cut] + MARK.encode() + data[cut:]


random_bytes = st.builds(_with_mark, st.binary(max_size=1500), st.integers(0, 10_000)) | st.binary(
    max_size=300
)
random_json = json_values.map(lambda v: json.dumps(v).encode())
deep_json = st.integers(1, 5000).map(lambda n: ("[" * n + '"' + MARK + '"' + "]" * n).encode())


def _form(fields: dict[str, Any]) -> bytes:
    return urlencode(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    ).encode()


random_form = st.dictionaries(
    st.text(max_size=20), st.text(max_size=60) | json_values, max_size=6
).map(_form)
content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-8",
        "text/plain",
        "multipart/form-data; boundary=xyz",
        "",
    ]
) | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)

# Slack-shaped: slash commands, interactivity payloads and events with random parts.
slack_user = st.sampled_from([*USERS.values(), "U0NOBODY"]) | st.text(max_size=12)
slack_form = st.fixed_dictionaries(
    {},
    optional={
        "command": st.sampled_from(["/ticket", "/customer", "/alarm", "/order"])
        | st.text(max_size=12),
        "text": st.text(max_size=60),
        "user_id": slack_user,
        "team_id": st.just("T0SWITCH"),
        "channel_id": st.just("C0FUZZ"),
        "trigger_id": st.text(max_size=20),
        "response_url": st.text(max_size=40),
        "payload": json_values
        | st.fixed_dictionaries(
            {"type": st.sampled_from(["block_actions", "view_submission", "shortcut"])},
            optional={
                "user": st.fixed_dictionaries({"id": slack_user}) | json_values,
                "actions": st.lists(json_values, max_size=3),
                "view": json_values,
                "response_url": st.text(max_size=30),
            },
        ),
    },
).map(_form)
slack_json = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["event_callback", "url_verification", "app_rate_limited"])
        | st.text(max_size=12)
    },
    optional={
        "challenge": st.text(max_size=30),
        "event_id": st.text(max_size=20),
        "team_id": st.just("T0SWITCH"),
        "event": json_values
        | st.fixed_dictionaries(
            {"type": st.sampled_from(["app_home_opened", "app_mention", "message"])},
            optional={
                "user": slack_user,
                "text": st.text(max_size=40),
                "channel": st.text(max_size=12),
            },
        ),
    },
).map(lambda v: json.dumps(v).encode())

# Alert-shaped: mostly valid batches, with random fields now and then.
_severity = st.sampled_from(["critical", "major", "minor", "warning", "info"]) | st.text(
    max_size=10
)
_times = st.sampled_from(
    [
        "2026-11-30T10:00:00Z",
        "2026-11-30T10:00:00+05:30",
        "2026-11-30T10:00:00",  # no time zone
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "not a time",
    ]
) | st.datetimes().map(lambda d: d.isoformat())
_labels = st.dictionaries(
    st.sampled_from(["alertname", "severity", "device", "instance", "interface"])
    | st.text(max_size=15),
    st.sampled_from(["r1-mum", "critical", "LinkDown", "Gi0/0/1"]) | st.text(max_size=30),
    max_size=5,
)


@dataclass
class Batch:
    """An alert body and, when every alert of it should become a new alarm, how many."""

    body: bytes
    new_alarms: int | None


@st.composite
def generic_batches(draw: st.DrawFn) -> Batch:
    n = draw(st.integers(1, 20))
    run = next(_unique)
    alerts = [
        {
            "name": f"Fuzz{run}x{i}",
            "severity": draw(_severity),
            "device": draw(st.sampled_from(["r1-mum", "r9-nowhere", None])),
            "summary": draw(st.text(max_size=60) | st.just(MARK)),
            "labels": draw(_labels.filter(lambda d: all(isinstance(v, str) for v in d.values()))),
        }
        for i in range(n)
    ]
    whole = all(a["severity"] in ("critical", "major", "minor", "warning", "info") for a in alerts)
    for a in alerts:
        if a["device"] is None:
            del a["device"]
    if draw(st.booleans()):  # a random field somewhere: the batch may be refused
        alerts[draw(st.integers(0, n - 1))][draw(st.text(max_size=10))] = draw(json_values)
        whole = False
    return Batch(json.dumps({"alerts": alerts}).encode(), n if whole else None)


@st.composite
def alertmanager_batches(draw: st.DrawFn) -> Batch:
    n = draw(st.integers(1, 20))
    run = next(_unique)
    alerts = []
    for i in range(n):
        labels = {
            **draw(_labels),
            "alertname": f"Fuzz{run}x{i}",
            "device": draw(st.sampled_from(["r1-mum", "r9-nowhere"])),
        }
        alert: dict[str, Any] = {
            "status": draw(st.sampled_from(["firing", "resolved"])),
            "labels": labels,
            "annotations": {"summary": draw(st.text(max_size=60) | st.just(MARK))},
            "startsAt": draw(_times),
            "endsAt": draw(st.just("0001-01-01T00:00:00Z") | _times),
            "fingerprint": f"{run:08x}{i:08x}",
        }
        alerts.append(alert)
    body = {
        "version": draw(st.just("4") | st.text(max_size=3)),
        "status": "firing",
        "receiver": "switchboard",
        "groupKey": draw(st.text(max_size=20)),
        "externalURL": "http://127.0.0.1:9093",
        "alerts": alerts,
    }
    return Batch(json.dumps(body).encode(), None)


@st.composite
def orders(draw: st.DrawFn) -> bytes:
    fields = draw(
        st.fixed_dictionaries(
            {"customer": st.sampled_from(["BA100000001", "BA999"]) | st.text(max_size=20)},
            optional={
                "offering": st.sampled_from(["POST-399", "FIBRE-100"]) | st.text(max_size=12),
                "requested_by": st.sampled_from(["carol", "dave", "api", "mallory"])
                | st.text(max_size=12),
                "note": st.text(max_size=80) | st.just(MARK),
                "external_id": st.text(max_size=20),
                "site": st.text(max_size=10),
                "port": st.text(max_size=10),
            },
        )
    )
    return json.dumps(fields).encode()


def _bodies(shaped: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(shaped, random_bytes, random_json, deep_json, random_form)


def _auth(token: str) -> st.SearchStrategy[dict[str, str]]:
    return st.sampled_from(
        [
            {"Authorization": f"Bearer {token}"},
            {"Authorization": f"Bearer {token}"},
            {"Authorization": f"Bearer {token}"},
            {"Authorization": "Bearer wrong"},
            {},
        ]
    )


# --- the tests ----------------------------------------------------------------------


@FUZZ
# Signed bodies the fuzz found answered 500 (by Bolt's middleware and the command listener).
@example(
    body=b'{"type": "event_callback", "event": null}',
    content_type="application/json",
    right_type=False,
    signed=True,
)
@example(
    body=b"command=%2Fticket",
    content_type="application/x-www-form-urlencoded",
    right_type=False,
    signed=True,
)
@example(
    body=_form({"payload": {"type": "block_actions", "actions": []}}),
    content_type="application/x-www-form-urlencoded",
    right_type=False,
    signed=True,
)
@given(
    body=_bodies(slack_form | slack_json),
    content_type=content_types,
    right_type=st.booleans(),
    signed=st.booleans(),
)
def test_slack_events(
    fuzzed: Fuzzed, body: bytes, content_type: str, right_type: bool, signed: bool
) -> None:
    if right_type:
        content_type = (
            "application/json" if body[:1] in (b"{", b"[") else "application/x-www-form-urlencoded"
        )
    fuzzed.send("/slack/events", body, content_type, signed, {})


@pytest.mark.parametrize("path", ["/alerts", "/alerts/alertmanager"])
def test_alert_webhooks(fuzzed: Fuzzed, path: str) -> None:
    shaped = generic_batches() if path == "/alerts" else alertmanager_batches()

    @FUZZ
    @given(
        sent=shaped | _bodies(st.nothing()).map(lambda b: Batch(b, None)),
        content_type=content_types | st.just("application/json"),
        auth=_auth(ALERTS_TOKEN),
    )
    def one(sent: Batch, content_type: str, auth: dict[str, str]) -> None:
        before = fuzzed.counts()[0]
        status, answer = fuzzed.send(path, sent.body, content_type, False, auth)
        if 200 <= status < 300:
            filed = json.loads(answer)
            assert fuzzed.counts()[0] - before == filed["new"], filed
            if sent.new_alarms is not None:  # every alert of the batch is a new alarm
                assert filed["new"] == sent.new_alarms, filed

    one()
    # The fuzz reached the intake: some batches were filed and some refused as invalid.
    assert {202, 422} <= fuzzed.statuses[path], fuzzed.statuses[path]


@FUZZ
@given(
    body=_bodies(orders()),
    content_type=content_types | st.just("application/json"),
    auth=_auth(ORDERS_TOKEN),
    key=st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
)
def test_orders(
    fuzzed: Fuzzed, body: bytes, content_type: str, auth: dict[str, str], key: str | None
) -> None:
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    before = fuzzed.counts()[2]
    status, _ = fuzzed.send("/orders", body, content_type, False, headers)
    made = fuzzed.counts()[2] - before
    assert made == (1 if status in (201, 202) else 0), (status, body[:300])
