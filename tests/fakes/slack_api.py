"""A local fake of the Slack Web API that speaks Slack's wire format.

It listens on 127.0.0.1, answers the methods Switchboard calls the way Slack does
(form or JSON bodies, `{"ok": ...}` JSON answers, 429 with Retry-After), takes
response_url posts and files_upload_v2's upload step, and records every call so a
test can assert what reached "Slack".
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    """Start with `with FakeSlack() as slack:`; point SLACK_API_URL at `slack.api_url`."""

    def __init__(self, *, team_id: str = "T0SWITCH", bot_user: str = "U0SWBOT") -> None:
        self.team_id = team_id
        self.bot_user = bot_user
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.usergroups: dict[str, list[str]] = {}
        self._failures: dict[str, list[tuple[int, int]]] = {}
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/response/{name}"

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- test helpers ----------------------------------------------------------------------

    def fail_next(
        self, method: str, status: int = 429, retry_after: int = 1, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with an error status."""
        with self._lock:
            self._failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until `count` calls of `method` (matching `where`) arrived."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [
                    c for c in self.calls if c.method == method and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(
                        f"waited {timeout}s for {count} x {method}; "
                        f"got {len(found)} (calls seen: {seen})"
                    )
                self._lock.wait(left)

    # -- the protocol ----------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel", "C0GENERAL")
        if method == "auth.test":
            return {
                "ok": True,
                "team_id": self.team_id,
                "user_id": self.bot_user,
                "bot_id": "B0SWBOT",
                "url": "https://switchboard-test.slack.com/",
            }
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") if method == "chat.update" else self._next_ts()
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": {"text": params.get("text", ""), "blocks": params.get("blocks")},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("views.publish", "views.open", "views.update"):
            return {"ok": True, "view": {"id": "V0VIEW", **(params.get("view") or {})}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._files):08d}"
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"{self.base_url}/upload/{file_id}",
            }
        if method == "files.completeUploadExternal":
            files = params.get("files") or []
            return {
                "ok": True,
                "files": [{"id": f["id"], "title": f.get("title", "")} for f in files],
            }
        if method == "usergroups.users.list":
            group = params.get("usergroup", "")
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{params.get('users', 'X')}"}}
        if method == "users.info":
            return {"ok": True, "user": {"id": params.get("user"), "name": params.get("user")}}
        return {"ok": False, "error": "unknown_method"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _send(
                self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None
            ) -> None:
                data = (json.dumps(body) if isinstance(body, dict) else body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                path = self.path.split("?", 1)[0]
                if path.startswith("/upload/"):
                    file_id = path.rsplit("/", 1)[1]
                    fake._record("upload", {"file_id": file_id, "bytes": len(raw)}, headers)
                    fake.uploads[file_id] = raw
                    self._send(200, "OK - uploaded")
                    return
                if path.startswith("/response/"):
                    body = json.loads(raw or b"{}")
                    fake._record("response_url", {**body, "_url": path}, headers)
                    self._send(200, "ok")
                    return
                if not path.startswith("/api/"):
                    self._send(404, {"ok": False, "error": "not_found"})
                    return
                method = path[len("/api/") :]
                params = _params(raw, headers.get("content-type", ""))
                failure = fake._failure(method)
                fake._record(method, params, headers)
                if failure is not None:
                    status, retry_after = failure
                    body = {"ok": False, "error": "ratelimited" if status == 429 else "fatal"}
                    extra = {"Retry-After": str(retry_after)} if status == 429 else {}
                    self._send(status, body, extra)
                    return
                if method != "auth.test" and not headers.get("authorization", "").startswith(
                    "Bearer "
                ):
                    self._send(200, {"ok": False, "error": "not_authed"})
                    return
                self._send(200, fake._answer(method, params))

        return Handler

    def _failure(self, method: str) -> tuple[int, int] | None:
        with self._lock:
            queue = self._failures.get(method)
            return queue.pop(0) if queue else None

    def _record(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self.calls.append(Call(method, params, headers))
            self._lock.notify_all()


def _params(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "application/json" in content_type:
        return dict(json.loads(raw))
    out: dict[str, Any] = {}
    for key, values in parse_qs(raw.decode(), keep_blank_values=True).items():
        value = values[-1]
        # Slack accepts JSON-encoded structures inside form fields.
        if key in ("blocks", "view", "files", "attachments") and value[:1] in "[{":
            out[key] = json.loads(value)
        else:
            out[key] = value
    return out
