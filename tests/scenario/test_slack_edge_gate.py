"""/slack/events checks size, timestamp and signature before it parses: garbage is a
400, 401 or 413 (never a 500), and no request body ever reaches the logs."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import time
from urllib.parse import urlencode, urlparse

import pytest

from tests.scenario.conftest import USERS, Served, sign

#: A marker inside every hostile body: if it shows up in a log, a body was logged.
MARK = "ZZBODYMARKZZ"
#: No log line about a refused request needs to be longer than this.
LOG_LINE_LIMIT = 400


def _raw_post(served: Served, body: bytes, headers: dict[str, str], chunked: bool = False) -> int:
    """POST with http.client, so a chunked body or a server that stops reading is handled."""
    url = urlparse(served.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    try:
        if chunked:
            conn.putrequest("POST", "/slack/events")
            for name, value in {**headers, "Transfer-Encoding": "chunked"}.items():
                conn.putheader(name, value)
            conn.endheaders()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                # the server may answer and stop reading: its answer is read below
                for start in range(0, len(body), 65_536):
                    piece = body[start : start + 65_536]
                    conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                conn.send(b"0\r\n\r\n")
        else:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                conn.request("POST", "/slack/events", body=body, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def _logs_hold_no_body(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        message = record.getMessage()
        assert MARK not in message, message[:200]
        assert len(message) <= LOG_LINE_LIMIT, (record.name, message[:200])


def _deep(depth: int) -> bytes:
    return ("[" * depth + f'"{MARK}"' + "]" * depth).encode()


HUGE = json.dumps({"type": "event_callback", "pad": MARK * 900_000}).encode()  # ~10.8 MB

MALFORMED: dict[str, tuple[bytes, str]] = {
    "bad JSON": (f'{{"type": "{MARK}", '.encode(), "application/json"),
    "JSON array": (f'[1, 2, "{MARK}"]'.encode(), "application/json"),
    "deep nesting": (_deep(100_000), "application/json"),
    "deep object": (('{"a":' * 50_000 + f'"{MARK}"' + "}" * 50_000).encode(), "application/json"),
    "bad UTF-8": (b'{"type": "\xff\xfe' + MARK.encode() + b'"}', "application/json"),
    "form payload not JSON": (
        urlencode({"payload": "{not json " + MARK}).encode(),
        "application/x-www-form-urlencoded",
    ),
    "form payload a JSON array": (
        urlencode({"payload": json.dumps([MARK])}).encode(),
        "application/x-www-form-urlencoded",
    ),
    "huge": (HUGE, "application/json"),
}


@pytest.mark.parametrize("name", MALFORMED)
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_malformed_body_is_refused_cleanly_and_never_logged(
    served: Served, caplog: pytest.LogCaptureFixture, name: str, signed: bool
) -> None:
    caplog.set_level(logging.DEBUG)
    body, content_type = MALFORMED[name]
    headers = {"Content-Type": content_type, **(sign(body) if signed else {})}
    status = _raw_post(served, body, headers)
    if name == "huge":
        assert status == 413
    elif signed:
        assert status == 400
    else:
        assert status == 401
    _logs_hold_no_body(caplog)


BAD_HEADERS: dict[str, dict[str, str]] = {
    "no headers": {},
    "no signature": {"X-Slack-Request-Timestamp": str(int(time.time()))},
    "no timestamp": {"X-Slack-Signature": "v0=" + "0" * 64},
    "timestamp abc": {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
    "timestamp negative": {"X-Slack-Request-Timestamp": "-5", "X-Slack-Signature": "v0=00"},
    "timestamp huge": {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=00"},
    "signature not hex": {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=é"},
}


@pytest.mark.parametrize("name", BAD_HEADERS)
def test_a_request_without_a_good_signature_or_timestamp_is_401(
    served: Served, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps({"type": "event_callback", "x": MARK}).encode()
    answer = served.post(body, "application/json", BAD_HEADERS[name], signed=False)
    assert answer.status == 401
    assert b"hint" in answer.body
    _logs_hold_no_body(caplog)


def test_the_symptoms_from_the_issue(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # Unsigned [1,2] as JSON: refused for its missing signature, not a 500.
    assert served.post(b"[1,2]", "application/json", signed=False).status == 401
    # A timestamp of abc, and a correct signature over it: still 401.
    body = b'{"type": "event_callback"}'
    signed_abc = sign(body) | {"X-Slack-Request-Timestamp": "abc"}
    answer = served.post(body, "application/json", signed_abc, signed=False)
    assert answer.status == 401
    assert json.loads(answer.body)["error"] == "the request timestamp is not a number of seconds"
    # A stale timestamp, correctly signed: a replay, 401.
    stale = sign(body, timestamp=int(time.time()) - 3600)
    answer = served.post(body, "application/json", stale, signed=False)
    assert answer.status == 401
    assert "more than 5 minutes from now" in json.loads(answer.body)["error"]
    # Deep nesting, signed: a 400 naming the nesting.
    deep = _deep(100_000)
    answer = served.post(deep, "application/json")
    assert (answer.status, json.loads(answer.body)["error"]) == (
        400,
        "the request body is nested too deeply",
    )
    # 10 MB unsigned: refused by its Content-Length before it is read, and not logged.
    assert _raw_post(served, HUGE, {"Content-Type": "application/json"}) == 413
    _logs_hold_no_body(caplog)
    # serve still answers a real command afterwards.
    served.command("erin", "/ops whoami")
    (ok,) = served.slack.wait_for("response_url", where=lambda c: "Erin" in c.params["text"])
    assert ok.params["text"] == "You are Erin Bose"


def test_a_chunked_body_over_the_limit_is_413_without_a_content_length(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status = _raw_post(served, HUGE, {"Content-Type": "application/json", **sign(HUGE)}, True)
    assert status == 413
    _logs_hold_no_body(caplog)
    # A small chunked command is read whole and runs.
    body = urlencode(
        {
            "command": "/ops",
            "text": "whoami",
            "user_id": USERS["erin"],
            "channel_id": "C0NOC",
            "response_url": served.slack.response_url("chunked"),
            "trigger_id": "trig.chunked",
        }
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    assert _raw_post(served, body, headers, chunked=True) == 200
    (ok,) = served.slack.wait_for("response_url", where=lambda c: "Erin" in c.params["text"])
    assert ok.params["text"] == "You are Erin Bose"


def test_a_signed_request_no_listener_takes_is_logged_without_its_body(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps({"type": "mystery_kind", "secret_note": MARK}).encode()
    answer = served.post(body, "application/json")
    assert answer.status < 500
    assert any("Unhandled request" in r.getMessage() for r in caplog.records)
    _logs_hold_no_body(caplog)
