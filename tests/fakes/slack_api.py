"""A local fake of the Slack Web API that speaks Slack's wire format, strictly.

It listens on 127.0.0.1, answers the methods Switchboard calls the way Slack does
(form or JSON bodies, `{"ok": ...}` JSON answers, 429 with Retry-After), takes
response_url posts and files_upload_v2's upload step, and records every call so a
test can assert what reached "Slack".

It refuses what real Slack refuses, with Slack's answers: Block Kit over Slack's limits
(`invalid_blocks` for messages, `invalid_arguments` for views, HTTP 400 `invalid_blocks`
from a response_url), missing arguments, unknown methods. A call Slack would have
refused fails the test when the fake is closed, unless the test said it expects one
(`expect_rejections()`): a message Slack drops is a message nobody sees.
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
from typing import Any, Literal
from urllib.parse import parse_qs


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    #: Slack's error code when it refused the call (None when it took it).
    error: str | None = None
    #: Slack's words on why, where it gives them (Block Kit errors, missing fields).
    detail: list[str] = field(default_factory=list)
    #: Refused because the test asked for it (`fail_next`), not for what was sent.
    injected: bool = False


class FakeSlack:
    """Start with `with FakeSlack() as slack:`; point SLACK_API_URL at `slack.api_url`."""

    def __init__(self, *, team_id: str = "T0SWITCH", bot_user: str = "U0SWBOT") -> None:
        self.team_id = team_id
        self.bot_user = bot_user
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.usergroups: dict[str, list[str]] = {}
        self._failures: dict[str, list[tuple[int, int, str | None, str | None]]] = {}
        self._rejections_expected = False
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.socket = SocketModeServer(self._record)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/response/{name}"

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        self.socket.start()
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.socket.stop()
        self._server.shutdown()
        self._server.server_close()
        refused = self.refused()
        if kind is None and refused and not self._rejections_expected:
            raise AssertionError(
                "Slack would have refused what Switchboard sent:\n"
                + "\n".join(_describe(c) for c in refused)
            )

    # -- test helpers ----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        error: str | None = None,
        text: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with an error status and `error`
        (by default "ratelimited" for a 429, else "fatal"). Slack refuses a call for good
        with status 200 and an error such as "not_in_channel". With `text`, only calls whose
        text contains it fail (one message among others)."""
        with self._lock:
            self._failures.setdefault(method, []).extend(
                [(status, retry_after, error, text)] * times
            )

    def expect_rejections(self) -> None:
        """This test sends what Slack refuses on purpose: do not fail it for that."""
        self._rejections_expected = True

    def refused(self) -> list[Call]:
        """Calls Slack refused for what they carried: malformed, over a limit, unknown.

        Not failures the test injected, nor answers about the workspace (a user group
        Slack does not have).
        """
        with self._lock:
            return [c for c in self.calls if c.error in MALFORMED and not c.injected]

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
                    refused = [
                        _describe(c) for c in self.calls if c.error in MALFORMED and not c.injected
                    ]
                    raise AssertionError(
                        f"waited {timeout}s for {count} x {method}; "
                        f"got {len(found)} (calls seen: {seen})"
                        + (f"; refused: {refused}" if refused else "")
                    )
                self._lock.wait(left)

    # -- the protocol ----------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        refusal = _refusal(method, params)
        if refusal is not None:
            return refusal
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
        return {"ok": False, "error": "unknown_method", "req_method": method}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _send(
                self,
                status: int,
                body: dict[str, Any] | str,
                headers: dict[str, str] | None = None,
                content_type: str = "application/json; charset=utf-8",
            ) -> None:
                data = (json.dumps(body) if isinstance(body, dict) else body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
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
                    self._send(200, "OK - uploaded", content_type="text/plain; charset=utf-8")
                    return
                if path.startswith("/response/"):
                    try:
                        body = dict(json.loads(raw or b"{}"))
                    except (ValueError, TypeError):
                        body = {}
                        refusal: tuple[str, list[str]] | None = ("invalid_payload", [])
                    else:
                        refusal = _response_url_refusal(body)
                    error, detail = refusal or (None, [])
                    fake._record("response_url", {**body, "_url": path}, headers, error, detail)
                    if error is not None:
                        # A response_url answers like an incoming webhook: the error code
                        # as plain text with HTTP 400, not Web API JSON.
                        self._send(400, error, content_type="text/plain; charset=utf-8")
                        return
                    self._send(200, "ok", content_type="text/plain; charset=utf-8")
                    return
                if not path.startswith("/api/"):
                    self._send(404, {"ok": False, "error": "not_found"})
                    return
                method = path[len("/api/") :]
                params = _params(raw, headers.get("content-type", ""))
                failure = fake._failure(method, params)
                if failure is not None:
                    status, retry_after, error = failure
                    error = error or ("ratelimited" if status == 429 else "fatal")
                    body = {"ok": False, "error": error}
                    extra = {"Retry-After": str(retry_after)} if status == 429 else {}
                    fake._record(method, params, headers, body["error"], injected=True)
                    self._send(status, body, extra)
                    return
                if method not in METHODS:
                    answer: dict[str, Any] = {
                        "ok": False,
                        "error": "unknown_method",
                        "req_method": method,
                    }
                elif method != "auth.test" and not headers.get("authorization", "").startswith(
                    "Bearer "
                ):
                    answer = {"ok": False, "error": "not_authed"}
                else:
                    answer = fake._answer(method, params)
                if answer.get("ok"):
                    fake._record(method, params, headers)
                else:
                    messages = answer.get("response_metadata", {}).get("messages", [])
                    detail = list(answer.get("errors", messages))
                    fake._record(method, params, headers, answer["error"], detail)
                self._send(200, answer)

        return Handler

    def _failure(self, method: str, params: dict[str, Any]) -> tuple[int, int, str | None] | None:
        with self._lock:
            queue = self._failures.get(method) or []
            for i, (status, retry_after, error, text) in enumerate(queue):
                if text is None or text in str(params.get("text", "")):
                    del queue[i]
                    return status, retry_after, error
            return None

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        headers: dict[str, str],
        error: str | None = None,
        detail: list[str] | None = None,
        *,
        injected: bool = False,
    ) -> None:
        call = Call(method, params, headers, error=error, detail=detail or [], injected=injected)
        with self._lock:
            self.calls.append(call)
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
        try:
            return dict(json.loads(raw))
        except (ValueError, TypeError):
            return {"_malformed": raw.decode(errors="replace")}
    out: dict[str, Any] = {}
    for key, values in parse_qs(raw.decode(), keep_blank_values=True).items():
        value = values[-1]
        # Slack accepts JSON-encoded structures inside form fields.
        if key in ("blocks", "view", "files", "attachments") and value[:1] in "[{":
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value  # refused below as Slack does, not a crash of the fake
        else:
            out[key] = value
    return out


#: The Web API methods the fake answers; any other is `unknown_method`, as on Slack.
METHODS = frozenset(
    {
        "auth.test",
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "views.open",
        "views.update",
        "views.publish",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
        "usergroups.users.list",
        "apps.connections.open",
        "conversations.open",
        "users.info",
    }
)

#: Slack's answers to a request that is wrong in itself, whatever the workspace holds.
MALFORMED = frozenset(
    {
        "channel_not_found",
        "invalid_arguments",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_json",
        "invalid_payload",
        "no_text",
        "not_authed",
        "unknown_method",
        "user_not_found",
        "users_list_not_supplied",
    }
)

_MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update")
_REQUIRED = {
    "chat.update": ("ts",),
    "chat.postEphemeral": ("user",),
    "views.open": ("trigger_id", "view"),
    "views.update": ("view",),
    "views.publish": ("user_id", "view"),
    "files.getUploadURLExternal": ("filename", "length"),
    "files.completeUploadExternal": ("files",),
}


def _invalid_arguments(messages: list[str]) -> dict[str, Any]:
    return {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": [f"[ERROR] {m}" for m in messages]},
    }


def _refusal(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """Slack's answer when it refuses the call for what it carries; None when it takes it."""
    if "_malformed" in params:
        return {"ok": False, "error": "invalid_json"}
    if method in _MESSAGE_METHODS and not params.get("channel"):
        return {"ok": False, "error": "channel_not_found"}
    missing = [name for name in _REQUIRED.get(method, ()) if params.get(name) in (None, "", [])]
    if method == "views.update" and not (params.get("view_id") or params.get("external_id")):
        missing.append("view_id")
    if missing:
        return _invalid_arguments([f"missing required field: {name}" for name in missing])
    if method == "conversations.open" and not (params.get("users") or params.get("channel")):
        return {"ok": False, "error": "users_list_not_supplied"}
    if method == "users.info" and not params.get("user"):
        return {"ok": False, "error": "user_not_found"}
    if method in _MESSAGE_METHODS:
        blocks = params.get("blocks")
        if blocks is not None and not isinstance(blocks, list):
            return {"ok": False, "error": "invalid_blocks_format"}
        if not (params.get("text") or blocks or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        errors = block_kit_errors(blocks) if blocks else []
        if errors:
            return {
                "ok": False,
                "error": "invalid_blocks",
                "errors": errors,
                "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
            }
    if method.startswith("views."):
        errors = view_errors(params["view"])
        if errors:
            # Views are checked as arguments: Slack says invalid_arguments, not invalid_blocks.
            return _invalid_arguments(
                ["failed to match all allowed schemas [json-pointer:/view]", *errors]
            )
    if method == "files.completeUploadExternal":
        files = params["files"]
        if not isinstance(files, list) or not all(
            isinstance(f, dict) and f.get("id") for f in files
        ):
            return _invalid_arguments(["each file needs an id [json-pointer:/files]"])
    return None


def _response_url_refusal(body: dict[str, Any]) -> tuple[str, list[str]] | None:
    """What a response_url answers (with HTTP 400) when it refuses a reply; None to take it."""
    if body.get("delete_original"):
        return None
    blocks = body.get("blocks")
    if blocks is not None and not isinstance(blocks, list):
        return "invalid_blocks_format", []
    if not (body.get("text") or blocks or body.get("attachments")):
        return "no_text", []
    errors = block_kit_errors(blocks) if blocks else []
    return ("invalid_blocks", errors) if errors else None


def _describe(call: Call) -> str:
    why = "; ".join(call.detail[:5]) + (
        f" (+{len(call.detail) - 5} more)" if len(call.detail) > 5 else ""
    )
    return f"{call.method}: {call.error}" + (f" ({why})" if why else "")


# -- Block Kit, as strictly as Slack checks it -------------------------------------------------

#: Slack's limits (docs.slack.dev, Block Kit reference); real Slack refuses a message over
#: any of them with `invalid_blocks`, and a view with `invalid_arguments`.
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100  # modals and App Home
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
TEXT_OBJECT = 3000
VIEW_TITLE = 24  # title, submit and close of a modal
PRIVATE_METADATA = 3000
ID_LENGTH = 255  # action_id, block_id, callback_id, external_id
URL_LENGTH = 3000
INPUT_LABEL = 2000
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30

#: Block types Slack knows; `input` only in modals and App Home.
BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
#: Interactive elements (in actions blocks, section accessories, input blocks).
ELEMENT_TYPES = frozenset(
    {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "email_text_input",
        "file_input",
        "image",
        "multi_channels_select",
        "multi_conversations_select",
        "multi_external_select",
        "multi_static_select",
        "multi_users_select",
        "number_input",
        "overflow",
        "plain_text_input",
        "radio_buttons",
        "rich_text_input",
        "channels_select",
        "conversations_select",
        "external_select",
        "static_select",
        "users_select",
        "timepicker",
        "url_text_input",
        "workflow_button",
    }
)
Surface = Literal["message", "modal", "home"]


class _Checker:
    """Collects what Slack would say, each message ending in its JSON pointer as Slack's do."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def string(
        self, value: Any, pointer: str, limit: int, *, required: bool = True, min_len: int = 0
    ) -> None:
        if value is None:
            if required:
                self.fail("missing required field", pointer)
            return
        if not isinstance(value, str):
            self.fail("expected string", pointer)
        elif len(value) < min_len:
            self.fail(f"must be more than {min_len - 1} characters", pointer)
        elif len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)

    def text(
        self, obj: Any, pointer: str, limit: int, *, plain: bool = False, required: bool = True
    ) -> None:
        """A text object: plain_text or mrkdwn, 1 to `limit` characters."""
        if obj is None:
            if required:
                self.fail("missing required field", pointer)
            return
        if not isinstance(obj, dict):
            self.fail("expected object", pointer)
            return
        allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self.fail(f"must be one of {', '.join(allowed)}", f"{pointer}/type")
        self.string(obj.get("text"), f"{pointer}/text", limit, min_len=1)

    def items(self, value: Any, pointer: str, limit: int, *, required: bool = True) -> list[Any]:
        if value is None:
            if required:
                self.fail("missing required field", pointer)
            return []
        if not isinstance(value, list):
            self.fail("expected array", pointer)
            return []
        if required and not value:
            self.fail("must provide at least 1 item", pointer)
        if len(value) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        return value

    def blocks(self, blocks: Any, pointer: str, surface: Surface) -> None:
        limit = MESSAGE_BLOCKS if surface == "message" else VIEW_BLOCKS
        block_ids: set[str] = set()
        for i, block in enumerate(self.items(blocks, pointer, limit, required=False)):
            where = f"{pointer}/{i}"
            if not isinstance(block, dict):
                self.fail("expected object", where)
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.string(block_id, f"{where}/block_id", ID_LENGTH, min_len=1)
                if block_id in block_ids:
                    self.fail(f"duplicate block_id: {block_id}", f"{where}/block_id")
                block_ids.add(block_id)
            self.block(block, where, surface)

    def block(self, block: dict[str, Any], where: str, surface: Surface) -> None:
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.fail(f"unsupported type: {kind}", f"{where}/type")
            return
        if kind == "section":
            if block.get("text") is None and block.get("fields") is None:
                self.fail("must provide either text or fields", where)
            self.text(block.get("text"), f"{where}/text", SECTION_TEXT, required=False)
            fields = self.items(
                block.get("fields"), f"{where}/fields", SECTION_FIELDS, required=False
            )
            for j, item in enumerate(fields):
                self.text(item, f"{where}/fields/{j}", FIELD_TEXT)
            if block.get("accessory") is not None:
                self.element(block["accessory"], f"{where}/accessory")
        elif kind == "header":
            self.text(block.get("text"), f"{where}/text", HEADER_TEXT, plain=True)
        elif kind == "actions":
            elements = self.items(block.get("elements"), f"{where}/elements", ACTIONS_ELEMENTS)
            action_ids: set[str] = set()
            for j, element in enumerate(elements):
                self.element(element, f"{where}/elements/{j}")
                action_id = element.get("action_id") if isinstance(element, dict) else None
                if isinstance(action_id, str):
                    if action_id in action_ids:
                        self.fail(f"duplicate action_id: {action_id}", f"{where}/elements/{j}")
                    action_ids.add(action_id)
        elif kind == "context":
            elements = self.items(block.get("elements"), f"{where}/elements", CONTEXT_ELEMENTS)
            for j, element in enumerate(elements):
                at = f"{where}/elements/{j}"
                if isinstance(element, dict) and element.get("type") == "image":
                    self.string(element.get("alt_text"), f"{at}/alt_text", FIELD_TEXT, min_len=1)
                else:
                    self.text(element, at, TEXT_OBJECT)
        elif kind == "image":
            self.string(block.get("alt_text"), f"{where}/alt_text", FIELD_TEXT, min_len=1)
            if block.get("slack_file") is None:
                self.string(block.get("image_url"), f"{where}/image_url", URL_LENGTH, min_len=1)
            self.text(block.get("title"), f"{where}/title", FIELD_TEXT, plain=True, required=False)
        elif kind == "input":
            if surface == "message":
                self.fail("input blocks are only allowed in modals and App Home", where)
            self.text(block.get("label"), f"{where}/label", INPUT_LABEL, plain=True)
            self.text(block.get("hint"), f"{where}/hint", INPUT_LABEL, plain=True, required=False)
            if block.get("element") is None:
                self.fail("missing required field", f"{where}/element")
            else:
                self.element(block["element"], f"{where}/element")

    def element(self, element: Any, where: str) -> None:
        if not isinstance(element, dict):
            self.fail("expected object", where)
            return
        kind = element.get("type")
        if kind not in ELEMENT_TYPES:
            self.fail(f"unsupported type: {kind}", f"{where}/type")
            return
        self.string(
            element.get("action_id"), f"{where}/action_id", ID_LENGTH, required=False, min_len=1
        )
        if kind == "button":
            self.text(element.get("text"), f"{where}/text", BUTTON_TEXT, plain=True)
            self.string(element.get("value"), f"{where}/value", BUTTON_VALUE, required=False)
            self.string(element.get("url"), f"{where}/url", URL_LENGTH, required=False)
            if element.get("style") not in (None, "primary", "danger"):
                self.fail("must be one of primary, danger", f"{where}/style")
        confirm = element.get("confirm")
        if confirm is not None:
            at = f"{where}/confirm"
            if not isinstance(confirm, dict):
                self.fail("expected object", at)
                return
            self.text(confirm.get("title"), f"{at}/title", CONFIRM_TITLE, plain=True)
            self.text(confirm.get("text"), f"{at}/text", CONFIRM_TEXT)
            self.text(confirm.get("confirm"), f"{at}/confirm", CONFIRM_BUTTON, plain=True)
            self.text(confirm.get("deny"), f"{at}/deny", CONFIRM_BUTTON, plain=True)


def block_kit_errors(blocks: Any, surface: Surface = "message") -> list[str]:
    """What real Slack says is wrong with these blocks; empty when it would take them."""
    check = _Checker()
    check.blocks(blocks, "/blocks", surface)
    return check.errors


def view_errors(view: Any) -> list[str]:
    """What real Slack says is wrong with a modal or App Home view; empty when it is fine."""
    check = _Checker()
    if not isinstance(view, dict):
        check.fail("expected object", "/view")
        return check.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        check.fail("must be one of modal, home", "/view/type")
        return check.errors
    if kind == "modal":
        check.text(view.get("title"), "/view/title", VIEW_TITLE, plain=True)
    else:
        check.text(view.get("title"), "/view/title", VIEW_TITLE, plain=True, required=False)
    for key in ("submit", "close"):
        check.text(view.get(key), f"/view/{key}", VIEW_TITLE, plain=True, required=False)
    check.string(
        view.get("private_metadata"), "/view/private_metadata", PRIVATE_METADATA, required=False
    )
    for key in ("callback_id", "external_id"):
        check.string(view.get(key), f"/view/{key}", ID_LENGTH, required=False)
    blocks = view.get("blocks")
    if blocks is None:
        check.fail("missing required field", "/view/blocks")
    check.blocks(blocks, "/view/blocks", kind)
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if kind == "modal" and has_input and view.get("submit") is None:
        check.fail("must provide submit when the view has input blocks", "/view/submit")
    return check.errors


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
