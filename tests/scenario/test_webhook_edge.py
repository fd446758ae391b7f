"""The alert and order webhooks through a running `serve`, on SQLite and PostgreSQL:
the token is checked before the body is read, an oversized body is refused by its
Content-Length or once a chunked read passes the limit, no body reaches the logs, and
a sender past its alert rate gets 429 with Retry-After while other senders go on."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import logging
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from domain.config import PROJECT_ROOT
from domain.faults.models import Alarm
from domain.orders.models import ProductOrder
from tests.conftest import _need_postgres, _pg_database, _pg_url
from tests.scenario.conftest import ALERTS_TOKEN, Served, _serve

ORDERS_TOKEN = "orders-edge-token"
#: In every body these tests send: if it shows up in a log line, a body was logged.
MARK = "ZZWEBHOOKBODYZZ"
ALERT_LIMIT = 1_048_576  # alerts.max_body_bytes in the shipped config.yaml
ORDER_LIMIT = 65_536  # orders.max_body_bytes's default


@pytest.fixture(params=["sqlite", "postgresql"])
def edge(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_template: str
) -> Iterator[Served]:
    """`serve` whose alert senders may make 60 requests a minute, 2 at once, behind a
    proxy on this host (127.0.0.1 is a trusted proxy: its X-Forwarded-For names the sender)."""
    config = _limited_config(tmp_path, trusted_proxies="[127.0.0.1]")
    env = {"SWITCHBOARD_ORDERS_TOKEN": ORDERS_TOKEN}
    if request.param == "sqlite":
        yield from _serve(tmp_path, sqlite_template, config, **env)
        return
    _need_postgres()
    with _pg_database(template=pg_template) as name:
        yield from _serve(tmp_path, None, config, database_url=_pg_url(name), **env)


def _limited_config(tmp_path: Path, *, trusted_proxies: str | None) -> Path:
    """The shipped config with a low alert rate limit, and server.trusted_proxies if given."""
    shipped = (PROJECT_ROOT / "config.yaml").read_text()
    assert "  message_interval_s: 2\n" in shipped and "  workers: 4\n" in shipped
    text = shipped.replace(
        "  message_interval_s: 2\n",
        "  message_interval_s: 2\n  rate_limit_per_minute: 60\n  rate_limit_burst: 2\n",
    )
    if trusted_proxies is not None:
        text = text.replace(
            "  workers: 4\n", f"  workers: 4\n  trusted_proxies: {trusted_proxies}\n"
        )
    config = tmp_path / "config.yaml"
    config.write_text(text)
    return config


@pytest.fixture
def edge_direct(tmp_path: Path, sqlite_template: Path) -> Iterator[Served]:
    """`serve` with the same alert rate limit and no trusted proxy (the default)."""
    config = _limited_config(tmp_path, trusted_proxies=None)
    yield from _serve(tmp_path, sqlite_template, config)


def _count(served: Served, model: type) -> int:
    with served.sb.db.read() as s:
        return int(s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def _alert(name: str) -> bytes:
    return json.dumps(
        {"alerts": [{"name": name, "severity": "minor", "device": "r1-mum", "summary": MARK}]}
    ).encode()


def _send(
    served: Served,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    *,
    send_body: bool = True,
    chunked: bool = False,
) -> tuple[int, http.client.HTTPMessage, bytes, float]:
    """POST with http.client: headers only, a chunked body, or a whole one; the answer."""
    url = urlparse(served.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    if send_body and not chunked:
        headers = {"Content-Length": str(len(body)), **headers}
    started = time.perf_counter()
    try:
        conn.putrequest("POST", path)
        for name, value in {
            **headers,
            **({"Transfer-Encoding": "chunked"} if chunked else {}),
        }.items():
            conn.putheader(name, value)
        conn.endheaders()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            # the server may answer and stop reading: its answer is read below
            if chunked:
                for start in range(0, len(body), 65_536):
                    piece = body[start : start + 65_536]
                    conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                conn.send(b"0\r\n\r\n")
            elif send_body:
                conn.send(body)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read(), time.perf_counter() - started
    finally:
        conn.close()


def _logs_hold_no_body(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        message = record.getMessage()
        assert MARK not in message, message[:200]
        assert len(message) <= 400, (record.name, message[:200])


@pytest.mark.parametrize(
    ("path", "token"),
    [("/alerts", ALERTS_TOKEN), ("/alerts/alertmanager", ALERTS_TOKEN), ("/orders", ORDERS_TOKEN)],
)
def test_without_the_token_the_body_is_never_read(edge: Served, path: str, token: str) -> None:
    # The request promises 5 MB and sends none: the answer comes anyway, so nothing waited
    # for the body.
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
        status, _, answer, seconds = _send(
            edge,
            path,
            {"Content-Type": "application/json", "Content-Length": "5000000", **headers},
            send_body=False,
        )
        assert status == 401, answer
        assert json.loads(answer)["error"].startswith("a valid bearer token is needed")
        assert seconds < 5


@pytest.mark.parametrize(
    ("path", "token", "limit", "setting"),
    [
        ("/alerts", ALERTS_TOKEN, ALERT_LIMIT, "alerts.max_body_bytes"),
        ("/alerts/alertmanager", ALERTS_TOKEN, ALERT_LIMIT, "alerts.max_body_bytes"),
        ("/orders", ORDERS_TOKEN, ORDER_LIMIT, "orders.max_body_bytes"),
    ],
)
def test_an_oversized_body_is_refused_by_its_length_or_once_past_the_limit(
    edge: Served, caplog: pytest.LogCaptureFixture, path: str, token: str, limit: int, setting: str
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    # Each request as from a sender of its own, so the alert rate limit stays out of it.
    senders = iter(f"10.0.0.{n}" for n in range(1, 10))
    alarms, orders = _count(edge, Alarm), _count(edge, ProductOrder)

    # Declared too long: refused from the header, before a byte is sent.
    status, _, answer, seconds = _send(
        edge,
        path,
        {**headers, "Content-Length": str(limit + 1), "X-Forwarded-For": next(senders)},
        send_body=False,
    )
    assert status == 413, answer
    refusal = json.loads(answer)
    assert refusal["error"] == f"the body is {limit + 1:,} bytes; the limit is {limit:,}"
    assert setting in refusal["hint"]
    assert seconds < 5

    # Chunked (no length declared) and ten times the limit: cut off once past it.
    huge = json.dumps({"alerts": [], "pad": MARK * (10 * limit // len(MARK))}).encode()
    status, _, answer, _ = _send(
        edge, path, {**headers, "X-Forwarded-For": next(senders)}, huge, chunked=True
    )
    assert status == 413, answer
    assert json.loads(answer)["error"] == f"the body is over the limit of {limit:,} bytes"

    # A body exactly at the limit is read (and is then judged as JSON, not by size).
    at_limit = b" " * (limit - 2) + b"[]"
    status, _, answer, _ = _send(
        edge, path, {**headers, "X-Forwarded-For": next(senders)}, at_limit, chunked=True
    )
    assert status == 422, answer

    assert (_count(edge, Alarm), _count(edge, ProductOrder)) == (alarms, orders)
    _logs_hold_no_body(caplog)
    refused = [r.getMessage() for r in caplog.records if "refused (413" in r.getMessage()]
    assert len(refused) == 2 and all(line.endswith(": body not read whole") for line in refused)


def _metric(served: Served, endpoint: str, status: int) -> float:
    with urllib.request.urlopen(served.url + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    pattern = (
        r'^switchboard_webhook_refused_total\{endpoint="'
        + re.escape(endpoint)
        + r'",status="'
        + str(status)
        + r'"\} ([0-9.e+]+)$'
    )
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_a_sender_past_its_rate_gets_429_with_retry_after_and_others_go_on(
    edge: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    token = {"Content-Type": "application/json", "Authorization": f"Bearer {ALERTS_TOKEN}"}
    before = _metric(edge, "/alerts", 429), _metric(edge, "/alerts/alertmanager", 429)
    alarms = _count(edge, Alarm)

    # The burst of two goes through; the third in the same second is refused unread.
    for n in range(2):
        status, _, answer, _ = _send(edge, "/alerts", token, _alert(f"Burst{n}"))
        assert status == 202, answer
    status, headers, answer, _ = _send(edge, "/alerts", token, _alert("Third"))
    assert status == 429, answer
    assert headers["Retry-After"] == "1"  # 60 a minute: a token a second, in whole seconds
    refusal = json.loads(answer)
    assert refusal["error"] == "too many alert requests from 127.0.0.1; try again in 1 s"
    assert "alerts.rate_limit_per_minute" in refusal["hint"]
    # Both alert webhooks share a sender's bucket: they file through the same intake.
    status, headers, _, _ = _send(edge, "/alerts/alertmanager", token, b"{}")
    assert status == 429 and headers["Retry-After"] == "1"
    assert _count(edge, Alarm) == alarms + 2

    # Another sender (as a proxy on this host names it) has its own bucket.
    status, _, answer, _ = _send(
        edge, "/alerts", {**token, "X-Forwarded-For": "10.20.30.40"}, _alert("Other")
    )
    assert status == 202, answer

    # Counted in /metrics; logged once for the episode, not once per refusal.
    after = _metric(edge, "/alerts", 429), _metric(edge, "/alerts/alertmanager", 429)
    assert (after[0] - before[0], after[1] - before[1]) == (1.0, 1.0)
    warned = [r for r in caplog.records if "answering 429" in r.getMessage()]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert "127.0.0.1" in warned[0].getMessage()

    # After Retry-After the sender is heard again, and the whole batch is filed.
    time.sleep(1.05)
    status, _, answer, _ = _send(edge, "/alerts", token, _alert("Later"))
    assert status == 202, answer
    assert json.loads(answer)["new"] == 1
    assert _count(edge, Alarm) == alarms + 4
    _logs_hold_no_body(caplog)


def test_a_refused_order_is_counted_and_logged_without_its_body(
    edge: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    before = _metric(edge, "/orders", 400)
    body = b'{"customer": "' + MARK.encode()  # not JSON
    status, _, answer, _ = _send(
        edge,
        "/orders",
        {"Content-Type": "application/json", "Authorization": f"Bearer {ORDERS_TOKEN}"},
        body,
    )
    assert status == 400 and json.loads(answer)["error"].startswith("the body is not JSON")
    assert _metric(edge, "/orders", 400) == before + 1
    lines = [r.getMessage() for r in caplog.records if "/orders refused (400" in r.getMessage()]
    assert lines == [
        f"/orders refused (400 {json.loads(answer)['error']}): {len(body)} bytes, sha256 "
        + hashlib.sha256(body).hexdigest()[:12]
    ]
    _logs_hold_no_body(caplog)


@pytest.mark.parametrize(
    ("path", "token", "body"),
    [
        ("/alerts", ALERTS_TOKEN, {"alerts": [{"name": "LinkDown", "summary": "Gi0/0/1\u0000"}]}),
        ("/orders", ORDERS_TOKEN, {"customer": "BA100000001", "offering": "POST-399\u0000"}),
    ],
)
def test_a_nul_character_is_refused_in_one_line(
    edge: Served, path: str, token: str, body: dict[str, object]
) -> None:
    # PostgreSQL's text cannot hold a NUL: the fuzz found it a 500 there.
    alarms, orders = _count(edge, Alarm), _count(edge, ProductOrder)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    status, _, answer, _ = _send(edge, path, headers, json.dumps(body).encode())
    assert status == 422, answer
    assert json.loads(answer) == {
        "error": "a string in the body holds a NUL character (\\u0000)",
        "hint": "remove control characters from the fields",
    }
    assert (_count(edge, Alarm), _count(edge, ProductOrder)) == (alarms, orders)


def test_x_forwarded_for_from_a_client_not_a_trusted_proxy_does_not_pick_its_bucket(
    edge_direct: Served,
) -> None:
    # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: a local
    # sender naming a new address per request would get a fresh bucket each time.
    token = {"Content-Type": "application/json", "Authorization": f"Bearer {ALERTS_TOKEN}"}
    alarms = _count(edge_direct, Alarm)
    for n in range(2):
        spoofed = {**token, "X-Forwarded-For": f"10.66.0.{n + 1}"}
        status, _, answer, _ = _send(edge_direct, "/alerts", spoofed, _alert(f"Spoof{n}"))
        assert status == 202, answer
    status, headers, answer, _ = _send(
        edge_direct, "/alerts", {**token, "X-Forwarded-For": "10.66.0.3"}, _alert("Spoof2")
    )
    assert status == 429, answer
    assert headers["Retry-After"] == "1"
    # The sender is the peer, as it connected: the header changed nothing.
    assert json.loads(answer)["error"] == "too many alert requests from 127.0.0.1; try again in 1 s"
    assert _count(edge_direct, Alarm) == alarms + 2


def test_behind_a_trusted_proxy_each_forwarded_sender_has_its_own_bucket(edge: Served) -> None:
    token = {"Content-Type": "application/json", "Authorization": f"Bearer {ALERTS_TOKEN}"}
    for sender in ("10.1.0.1", "10.1.0.2"):
        forwarded = {**token, "X-Forwarded-For": sender}
        for n in range(2):
            status, _, answer, _ = _send(edge, "/alerts", forwarded, _alert(f"Fw{sender}{n}"))
            assert status == 202, answer
        status, _, answer, _ = _send(edge, "/alerts", forwarded, _alert("FwOver"))
        assert status == 429, answer
        assert json.loads(answer)["error"].startswith(f"too many alert requests from {sender};")
    # The proxy's own requests (no header) are a third sender, its bucket untouched.
    status, _, answer, _ = _send(edge, "/alerts", token, _alert("FwProxy"))
    assert status == 202, answer
