"""Scenario fixtures: `serve` running on loopback, a fake Slack Web API, signed requests."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import itertools
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlparse

import pytest

from bot.bootstrap import Switchboard, bootstrap
from bot.server import Service, build_service, server
from domain.config import PROJECT_ROOT, load_settings
from tests.fakes.slack_api import Call, FakeSlack

if TYPE_CHECKING:
    from automation.lab.lab import Lab

SECRET = "test-signing-secret"
ALERTS_TOKEN = "alerts-test-token"
USERS = {
    "alice": "U0DEMOALICE",
    "bob": "U0DEMOBOB",
    "carol": "U0DEMOCAROL",
    "dave": "U0DEMODAVE",
    "erin": "U0DEMOERIN",
    "root": "U0DEMOROOT",
}
_ids = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sign(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Answer:
    status: int
    body: bytes
    seconds: float


@dataclass
class Served:
    url: str
    slack: FakeSlack
    sb: Switchboard
    service: Service

    def post(
        self,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        signed: bool = True,
        path: str = "/slack/events",
    ) -> Answer:
        all_headers = {
            "Content-Type": content_type,
            **(sign(body) if signed else {}),
            **(headers or {}),
        }
        where = urlparse(self.url)
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        started = time.perf_counter()
        try:
            # A server may answer (413, 401) and stop reading before the body is sent
            # whole, as it should: its answer is still read.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                conn.request("POST", path, body=body, headers=all_headers)
            resp = conn.getresponse()
            return Answer(resp.status, resp.read(), time.perf_counter() - started)
        finally:
            conn.close()

    def command(
        self,
        user: str,
        text: str,
        *,
        channel: str = "C0NOC",
        trigger_id: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> tuple[Answer, str]:
        """Send `/cmd rest` as a slash command; returns the answer and its response_url."""
        name, _, rest = text.partition(" ")
        n = next(_ids)
        response_url = self.slack.response_url(f"cmd{n}")
        form = {
            "token": "x",
            "team_id": "T0SWITCH",
            "channel_id": channel,
            "user_id": USERS.get(user, user),
            "command": name,
            "text": rest,
            "response_url": response_url,
            "trigger_id": trigger_id or f"trig.{n}",
        }
        body = urlencode({**form, **extra}).encode()
        return self.post(body, "application/x-www-form-urlencoded", headers), response_url

    def ask(self, user: str, text: str, channel: str = "C0NOC") -> Call:
        """Send a slash command and wait for its answer, private or in the channel."""

        def answers() -> list[Call]:
            return [
                c
                for c in self.slack.calls
                if c.method == "response_url"
                or (c.method == "chat.postMessage" and c.params["channel"] == channel)
            ]

        before = len(answers())
        answer, _ = self.command(user, text, channel=channel)
        assert answer.status == 200
        deadline = time.monotonic() + 30
        while len(answers()) <= before:
            assert time.monotonic() < deadline, f"no answer to {text}"
            time.sleep(0.02)
        return answers()[before]

    def interactive(
        self, payload: dict[str, Any], headers: dict[str, str] | None = None, **kw: Any
    ) -> Answer:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded", headers, **kw)

    def click(
        self,
        user: str,
        button: dict[str, Any],
        message: dict[str, Any],
        *,
        channel: str = "C0NOC",
        action_ts: str | None = None,
    ) -> tuple[Answer, str]:
        n = next(_ids)
        response_url = self.slack.response_url(f"act{n}")
        payload = {
            "type": "block_actions",
            "user": {"id": USERS.get(user, user)},
            "trigger_id": f"trig.a{n}",
            "team": {"id": "T0SWITCH"},
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel},
            "channel": {"id": channel},
            "message": message,
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "value": button["value"],
                    "action_ts": action_ts or f"1700.{n:06d}",
                }
            ],
        }
        return self.interactive(payload), response_url

    def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0SWITCH",
                "event_id": event_id or f"Ev{next(_ids):06d}",
                "event": event,
            }
        ).encode()
        return self.post(body, "application/json", headers)


def _serve(
    tmp_path: Path,
    template: Path | None,
    config: Path = PROJECT_ROOT / "config.yaml",
    database_url: str | None = None,
    **extra_env: str,
) -> Iterator[Served]:
    if database_url is None:
        assert template is not None
        path = tmp_path / "served.db"
        shutil.copy(template, path)
        database_url = f"sqlite:///{path}"
    with FakeSlack() as slack:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "SWITCHBOARD_DATABASE_URL": database_url,
            "SWITCHBOARD_ALERTS_TOKEN": ALERTS_TOKEN,
            **extra_env,
        }
        settings = load_settings(config, env=env)
        sb = bootstrap(settings)
        service = build_service(sb)
        # Bind first and hand uvicorn the socket: no window for another process to take it.
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        srv = server(service, host="127.0.0.1", port=port)
        thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not srv.started:
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not start")
            time.sleep(0.02)
        yield Served(f"http://127.0.0.1:{port}", slack, sb, service)
        srv.should_exit = True
        thread.join(timeout=30)
        sb.close()


@pytest.fixture
def served(tmp_path: Path, sqlite_template: Path) -> Iterator[Served]:
    """`serve` taking Slack over HTTP."""
    yield from _serve(tmp_path, sqlite_template)


@pytest.fixture
def served_socket(tmp_path: Path, sqlite_template: Path) -> Iterator[Served]:
    """`serve` in Socket Mode, connected to the fake's WebSocket."""
    yield from _serve(tmp_path, sqlite_template, SLACK_APP_TOKEN="xapp-1-test-token")


@pytest.fixture
def served_groups(tmp_path: Path, sqlite_template: Path) -> Iterator[Served]:
    """`serve` with the Slack user group S0NOC granted the engineer role."""
    text = (PROJECT_ROOT / "config.yaml").read_text()
    config = tmp_path / "config.yaml"
    config.write_text(text.replace("  groups: {}", "  groups: {S0NOC: [engineer]}"))
    yield from _serve(tmp_path, sqlite_template, config)


def seeded_lab(folder: Path, seed_number: int) -> Iterator[tuple[Path, Lab]]:
    """A SMALL seeded database and its device lab over SSH (for a module's fixture)."""
    from automation.lab.lab import Lab, lab_devices
    from domain.db import Database
    from domain.demo.seed import seed
    from tests.conftest import free_ports
    from tests.world import AS_OF, SMALL

    path = folder / "seeded.db"
    db = Database(f"sqlite:///{path}")
    seed(db, SMALL, seed=seed_number, as_of=AS_OF, lab_base_port=free_ports(SMALL.lab_devices)[0])
    with Lab(lab_devices(db), username="netops", password="lab-pw") as lab:
        db.dispose()
        yield path, lab


def serve_with_lab(tmp_path: Path, seeded: Path) -> Iterator[Served]:
    """`serve` on a copy of a seeded database, with the lab's device login."""
    yield from _serve(
        tmp_path, seeded, SWITCHBOARD_DEVICE_USER="netops", SWITCHBOARD_DEVICE_PASSWORD="lab-pw"
    )


def words(call: Call) -> str:
    """Everything a message says: its text and its blocks."""
    return call.params.get("text", "") + json.dumps(call.params.get("blocks") or [])
