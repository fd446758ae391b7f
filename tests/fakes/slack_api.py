"""A local fake of the Slack Web API that speaks Slack's wire format.

It listens on 127.0.0.1, answers the methods Switchboard calls the way Slack does
(form or JSON bodies, `{"ok": ...}` JSON answers, 429 with Retry-After), takes
response_url posts and files_upload_v2's upload step, and records every call so a
test can assert what reached "Slack".
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import struct
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
        self.socket = SocketModeServer(self._record)

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
        self.socket.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.socket.stop()
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
            if method == "chat.update" and channel_id(channel) != channel:
                # Slack updates messages by channel id only, never by #name.
                return {"ok": False, "error": "channel_not_found"}
            ts = params.get("ts") if method == "chat.update" else self._next_ts()
            return {
                "ok": True,
                "channel": channel_id(channel),
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
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket.url}
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


def channel_id(channel: str) -> str:
    """The id Slack answers with for a channel given by #name (ids pass through)."""
    if not channel.startswith("#"):
        return channel
    return "C0" + "".join(c for c in channel.upper() if c.isalnum())[:9]


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


class SocketModeServer:
    """Slack's Socket Mode end: a WebSocket server on loopback that sends envelopes.

    Enough of RFC 6455 for slack_sdk's built-in client: the handshake, text frames,
    ping/pong and close. Acks the client sends back are recorded as "socket_ack" calls.
    """

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, record: Callable[[str, dict[str, Any], dict[str, str]], None]) -> None:
        import socket as _socket

        self._record = record
        self._listener = _socket.socket()
        self._listener.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self._conn: Any = None
        self._connected = threading.Event()
        self._send_lock = threading.Lock()
        self._stopped = False

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link"

    def start(self) -> None:
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def stop(self) -> None:
        self._stopped = True
        with contextlib.suppress(OSError):
            self._listener.close()
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()

    def wait_connected(self, timeout: float = 10.0) -> None:
        if not self._connected.wait(timeout):
            raise AssertionError("the Socket Mode client did not connect")

    def send(self, envelope: dict[str, Any]) -> None:
        """Send one envelope (events_api, slash_commands, interactive) to the client."""
        self.wait_connected()
        self._send_frame(0x1, json.dumps(envelope).encode())

    def _accept_loop(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: Any) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        key = ""
        for line in request.decode().split("\r\n"):
            if line.lower().startswith("sec-websocket-key:"):
                key = line.split(":", 1)[1].strip()
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        conn.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        self._conn = conn
        self._send_frame(0x1, json.dumps({"type": "hello", "num_connections": 1}).encode())
        self._connected.set()
        try:
            while True:
                opcode, payload = self._read_frame(conn)
                if opcode == 0x8:
                    return
                if opcode == 0x9:
                    self._send_frame(0xA, payload)
                elif opcode == 0x1:
                    self._record("socket_ack", json.loads(payload), {})
        except (OSError, ConnectionError):
            return

    def _read_frame(self, conn: Any) -> tuple[int, bytes]:
        def exactly(n: int) -> bytes:
            data = b""
            while len(data) < n:
                chunk = conn.recv(n - len(data))
                if not chunk:
                    raise ConnectionError("closed")
                data += chunk
            return data

        b0, b1 = exactly(2)
        length = b1 & 0x7F
        if length == 126:
            length = struct.unpack(">H", exactly(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", exactly(8))[0]
        mask = exactly(4) if b1 & 0x80 else b"\0\0\0\0"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(exactly(length)))
        return b0 & 0x0F, payload

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            header = struct.pack(">BB", 0x80 | opcode, n)
        elif n < 65536:
            header = struct.pack(">BBH", 0x80 | opcode, 126, n)
        else:
            header = struct.pack(">BBQ", 0x80 | opcode, 127, n)
        with self._send_lock:
            self._conn.sendall(header + payload)
