"""Test doubles for both sides of Slack: a Web API server on loopback that records every call, and signed requests.

`FakeSlackApi` answers the Web API methods the adapter uses the way Slack does (ts values, DM channels, metadata
in conversations.history, files_upload_v2's three steps) and can answer 429 with Retry-After on demand.
`slack_request` builds what Slack would POST to the app: a body signed with the signing secret; `running` serves
the real Bolt app (what `--http` serves) on loopback against the fake.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

BOT_USER, BOT_ID, TEAM = "UBOT", "BBOT", "T0001"
FORM, JSON = "application/x-www-form-urlencoded", "application/json"
SIGNING_SECRET = "test-signing-secret"


@dataclass
class Call:
    """One request the fake received: the Web API method (or "upload", "response_url"), its arguments, when."""

    method: str
    args: dict[str, Any]
    at: float
    status: int = 200
    raw: bytes = b""


@dataclass
class Failure:
    """An HTTP error to answer instead of the method's result."""

    status: int
    retry_after: int | None = None
    error: str = "ratelimited"


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    time_zones: dict[str, str] = field(default_factory=dict)
    admins: set[str] = field(default_factory=set)          # users.info says is_admin
    outside: set[str] = field(default_factory=set)         # channels the app is not a member of
    roles: dict[str, str] = field(default_factory=dict)     # user -> "admin" | "owner"
    files: dict[str, dict[str, Any]] = field(default_factory=dict)   # file id -> its object, "_data": the bytes
    last_ts: float = 0.0


def _decode(value: Any) -> Any:
    """A form field that holds JSON (blocks, view, files) as the object it encodes."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class _Server(ThreadingHTTPServer):
    """One thread per request; a backlog large enough that a burst never waits for a 1 s SYN retransmit."""

    daemon_threads = True
    request_queue_size = 128


class FakeSlackApi:
    """A Slack Web API on 127.0.0.1 (a real HTTP server on a free port); use as a context manager."""

    def __init__(self) -> None:
        self.state = _State()
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    # ------------------------------------------------------------------ lifecycle and queries

    def __enter__(self) -> FakeSlackApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def root(self) -> str:
        """http://127.0.0.1:PORT/"""
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    @property
    def url(self) -> str:
        """The Web API base URL (what COACH_SLACK_API_URL would hold)."""
        return self.root + "api/"

    def calls(self, method: str | None = None) -> list[Call]:
        """Every successful call so far (of one method when given), oldest first."""
        with self.lock:
            return [c for c in self.state.calls if (method is None or c.method == method) and c.status == 200]

    def all_calls(self, method: str) -> list[Call]:
        """Every call of a method, refused ones (429) included."""
        with self.lock:
            return [c for c in self.state.calls if c.method == method]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The channel's messages as they stand now (updates applied), oldest first."""
        with self.lock:
            return [dict(m) for m in self.state.messages.get(channel, [])]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Poll until predicate() is truthy; its value, or AssertionError after timeout seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")

    def fail(self, method: str, status: int = 429, retry_after: int | None = 1, times: int = 1,
             error: str = "ratelimited") -> None:
        """Answer the next `times` calls of a method with an error: HTTP 429 with Retry-After by default, or
        Slack's `{"ok": false, "error": ...}` with status 200."""
        with self.lock:
            self.state.failures.setdefault(method, []).extend([Failure(status, retry_after, error)] * times)

    def set_role(self, user: str, role: str) -> None:
        """What users.info says about the user's role in the workspace: "admin" or "owner"."""
        with self.lock:
            self.state.roles[user] = role

    def add_file(self, data: bytes, name: str, mimetype: str, *, size: int | None = None,
                 duration_ms: int | None = None, subtype: str | None = None, hidden: bool = False) -> dict[str, Any]:
        """A file a user shared, as a message event carries it; its url_private_download serves the bytes to the bot
        token only (anyone else gets Slack's sign-in page). `hidden`: the event only says to call files.info."""
        with self.lock:
            file_id = f"F{len(self.state.files) + 1:04d}"
            url = f"{self.root}files-pri/{TEAM}-{file_id}/download/{name}"
            obj: dict[str, Any] = {"id": file_id, "name": name, "title": name, "mimetype": mimetype,
                                   "filetype": name.rsplit(".", 1)[-1], "size": len(data) if size is None else size,
                                   "url_private": url.replace("/download/", "/"), "url_private_download": url,
                                   "mode": "hosted", "is_external": False}
            if duration_ms is not None:
                obj["duration_ms"] = duration_ms
            if subtype:
                obj["subtype"] = subtype
            self.state.files[file_id] = dict(obj, _data=data)
        return {"id": file_id, "mode": "file_access", "file_access": "check_file_info"} if hidden else obj

    def downloads(self) -> list[Call]:
        """Every download of a shared file, with whether it carried the bot token."""
        return self.calls("download")

    def set_time_zone(self, user: str, tz: str) -> None:
        """What users.info says about the user's time zone."""
        with self.lock:
            self.state.time_zones[user] = tz

    # ------------------------------------------------------------------ the Web API

    def _next_ts(self) -> str:
        """A message ts like Slack's: seconds.micro, strictly increasing."""
        ts = max(time.time(), self.state.last_ts + 0.000001)
        self.state.last_ts = ts
        return f"{ts:.6f}"

    def respond(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """The result of one Web API method (called with the lock held)."""
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": TEAM, "user": "coach",
                    "team": "Test", "url": "https://test.slack.com/"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "")).split(",")[0]}}
        if method == "chat.postMessage":
            msg = {"ts": self._next_ts(), "text": args.get("text", ""), "blocks": args.get("blocks", []),
                   "thread_ts": args.get("thread_ts"), "metadata": args.get("metadata"), "bot_id": BOT_ID,
                   "user": BOT_USER}
            self.state.messages.setdefault(str(args.get("channel")), []).append(msg)
            return {"ok": True, "channel": args.get("channel"), "ts": msg["ts"], "message": msg}
        if method == "chat.update":
            for msg in self.state.messages.get(str(args.get("channel")), []):
                if msg["ts"] == args.get("ts"):
                    msg.update(text=args.get("text", ""), blocks=args.get("blocks", []), edited=True)
                    return {"ok": True, "channel": args.get("channel"), "ts": msg["ts"]}
            return {"ok": False, "error": "message_not_found"}
        if method == "conversations.replies":
            root = str(args.get("ts"))
            thread = [m for m in self.state.messages.get(str(args.get("channel")), [])
                      if m["ts"] == root or m.get("thread_ts") == root]
            return {"ok": True, "messages": thread, "has_more": False}
        if method == "conversations.history":
            oldest = float(args.get("oldest") or 0)
            found = [m for m in self.state.messages.get(str(args.get("channel")), []) if float(m["ts"]) > oldest]
            return {"ok": True, "messages": list(reversed(found)), "has_more": False}
        if method == "users.info":
            user = str(args.get("user"))
            role = self.state.roles.get(user)
            return {"ok": True, "user": {"id": user, "tz": self.state.time_zones.get(user, "UTC"),
                                         "is_admin": user in self.state.admins or role in ("admin", "owner"),
                                         "is_owner": role == "owner", "real_name": f"Real {user}"}}
        if method == "conversations.info":
            channel = str(args.get("channel"))
            return {"ok": True, "channel": {"id": channel, "is_member": channel not in self.state.outside}}
        if method == "files.info":
            stored = self.state.files.get(str(args.get("file")))
            if stored is None:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": {k: v for k, v in stored.items() if k != "_data"}}
        if method in ("views.open", "views.publish"):
            return {"ok": True, "view": {"id": "V1", **(args.get("view") or {})}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{len(self.state.calls)}"
            return {"ok": True, "upload_url": f"{self.root}upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files") or []
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        return {"ok": True}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Silence the request log."""

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                parsed = urlparse(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method, args = self._method_and_args(parsed, raw)
                with fake.lock:
                    failures = fake.state.failures.get(method) or []
                    failure = failures.pop(0) if failures else None
                    call = Call(method, args, time.monotonic(), failure.status if failure else 200, raw)
                    fake.state.calls.append(call)
                    if failure is None:
                        body = fake.respond(method, args) if parsed.path.startswith("/api/") else {"ok": True}
                    shared = fake.state.files.get(args.get("file_id", "")) if method == "download" else None
                if method == "download" and failure is None:
                    if shared is None or not args["authorized"]:   # Slack's sign-in page, with status 200
                        self._send(200, "<!DOCTYPE html><html><body>Sign in to Slack</body></html>",
                                   content_type="text/html; charset=utf-8")
                    else:
                        self._send(200, shared["_data"], content_type=shared["mimetype"])
                elif failure is not None:
                    self._send(failure.status, {"ok": False, "error": failure.error}, failure.retry_after)
                elif method == "upload":
                    self._send(200, f"OK - {len(raw)}")
                else:
                    self._send(200, body)

            def _method_and_args(self, parsed: Any, raw: bytes) -> tuple[str, dict[str, Any]]:
                path = parsed.path
                if path.startswith("/files-pri/"):
                    authorized = self.headers.get("Authorization") == "Bearer xoxb-test"
                    file_id = path.split("/")[2].split("-", 1)[-1]
                    return "download", {"file_id": file_id, "authorized": authorized}
                if path.startswith("/upload/"):
                    return "upload", {"file_id": path.rsplit("/", 1)[-1], "size": len(raw)}
                if path.startswith("/response/"):
                    # "_to": whose response_url it is (the path names the user), so tests can tell answers apart.
                    return "response_url", {**json.loads(raw or b"{}"), "_to": path.rsplit("/", 1)[-1]}
                args: dict[str, Any] = dict(parse_qsl(parsed.query))
                kind = self.headers.get("Content-Type", "")
                if raw and "json" in kind:
                    args.update(json.loads(raw))
                elif raw and "form" in kind:
                    args.update(parse_qsl(raw.decode()))
                return path.removeprefix("/api/"), {k: _decode(v) for k, v in args.items()}

            def _send(self, status: int, body: dict[str, Any] | str | bytes, retry_after: int | None = None,
                      content_type: str = "application/json; charset=utf-8") -> None:
                data = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) \
                    else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                if retry_after is not None:
                    self.send_header("Retry-After", str(retry_after))
                self.end_headers()
                self.wfile.write(data)

        return Handler


# ---------------------------------------------------------------------- what Slack sends to the app


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    """Slack's request signature: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Sent:
    """The app's answer to one request, and how long it took."""

    status: int
    body: str
    seconds: float


def slack_request(url: str, body: bytes, content_type: str, *, secret: str = SIGNING_SECRET,
                  timestamp: int | None = None, signature: str | None = None,
                  headers: dict[str, str] | None = None) -> Sent:
    """POST a signed request to the app, as Slack does; the status, the body and the time to answer."""
    ts = int(time.time()) if timestamp is None else timestamp
    all_headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(ts),
                   "X-Slack-Signature": signature or sign(body, ts, secret), **(headers or {})}
    request = urllib.request.Request(url, data=body, headers=all_headers, method="POST")
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Sent(response.status, response.read().decode(), time.monotonic() - start)
    except urllib.error.HTTPError as exc:
        return Sent(exc.code, exc.read().decode(), time.monotonic() - start)


def command_body(user: str, text: str, response_url: str, channel: str = "C_GENERAL") -> bytes:
    """A /interview slash command payload (form-encoded)."""
    return urlencode({"command": "/interview", "text": text, "user_id": user, "user_name": user.lower(),
                      "channel_id": channel, "team_id": TEAM, "trigger_id": f"trig-{time.time_ns()}",
                      "response_url": response_url, "api_app_id": "A1", "token": "legacy"}).encode()


def event_body(event: dict[str, Any], event_id: str) -> bytes:
    """An Events API envelope (JSON)."""
    return json.dumps({"type": "event_callback", "team_id": TEAM, "api_app_id": "A1", "event_id": event_id,
                       "event_time": int(time.time()), "event": event,
                       "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}).encode()


def dm_event(user: str, text: str, ts: str, thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    """A message event in the user's DM with the app."""
    event = {"type": "message", "channel": "D" + user, "channel_type": "im", "user": user, "text": text, "ts": ts,
             "event_ts": ts, **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def interaction_body(payload: dict[str, Any]) -> bytes:
    """An interactivity payload (button click, modal submission): form-encoded `payload=<json>`."""
    return urlencode({"payload": json.dumps(payload)}).encode()


# ---------------------------------------------------------------------- the real coach, with fast parts


TEST_DECKS = Path(__file__).resolve().parent / "data" / "decks"
CRITIQUE = {"strengths": ["You explained the core idea clearly."],
            "improvements": ["Say what happens at inference time."],
            "follow_up": "What changes at inference time?"}


def build_coach(db_path: Path, *, llm: Any = None, clock: Callable[[], datetime] | None = None,
                knowledge: Path | None = None, **options: Any) -> Any:
    """The real Coach on the mini deck (or the decks of `knowledge`): HashEmbedder, a scripted FakeLLM critique,
    SqlStore on a SQLite file, the clock at TEST_NOW unless given; `options` go to the Coach (access)."""
    from bot.core.bank import load_bank
    from bot.core.store.sql import SqlStore
    from bot.core.testing import FakeLLM, fake_coach, frozen_clock

    llm = llm if llm is not None else FakeLLM(respond=lambda prompt: json.dumps(CRITIQUE))
    return fake_coach(load_bank(knowledge or TEST_DECKS), SqlStore(f"sqlite:///{db_path}"), llm=llm,
                      clock=clock or frozen_clock, **options)


# ---------------------------------------------------------------------- the app under test


@dataclass
class Slack:
    """The app on a real port, the fake Web API it calls, and the coach behind it."""

    api: FakeSlackApi
    coach: Any
    url: str

    def command(self, user: str, text: str, channel: str = "C_GENERAL") -> Sent:
        return slack_request(self.url, command_body(user, text, self.api.root + f"response/{user}", channel), FORM)

    def event(self, event: dict[str, Any], event_id: str, retry: int | None = None) -> Sent:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return slack_request(self.url, event_body(event, event_id), JSON, headers=headers)

    def click(self, user: str, action_id: str, message: dict[str, Any], value: str | None = None) -> Sent:
        button = next((e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                       if e["action_id"] == action_id), {"value": value or ""})
        payload = {"type": "block_actions", "user": {"id": user, "team_id": TEAM}, "team": {"id": TEAM},
                   "api_app_id": "A1", "token": "legacy", "trigger_id": f"trigger-{time.time_ns()}",
                   "channel": {"id": "D" + user}, "message": message,
                   "container": {"type": "message", "message_ts": message["ts"], "channel_id": "D" + user},
                   "response_url": self.api.root + f"response/{user}",
                   "actions": [{"type": "button", "action_id": action_id, "block_id": "b",
                                "value": value if value is not None else button["value"], "action_ts": "1"}]}
        return slack_request(self.url, interaction_body(payload), FORM)

    def submit(self, user: str, text: str, private_metadata: str) -> Sent:
        payload = {"type": "view_submission", "user": {"id": user, "team_id": TEAM}, "team": {"id": TEAM},
                   "api_app_id": "A1", "token": "legacy", "trigger_id": "t",
                   "view": {"id": "V1", "type": "modal", "callback_id": "coach_answer_modal", "team_id": TEAM,
                            "private_metadata": private_metadata,
                            "state": {"values": {"answer": {"text": {"type": "plain_text_input", "value": text}}}}}}
        return slack_request(self.url, interaction_body(payload), FORM)

    def dm(self, user: str) -> list[dict[str, Any]]:
        return self.api.messages("D" + user)

    def wait_dm(self, user: str, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The first DM message that satisfies predicate, waiting for it."""
        return self.api.wait_for(lambda: next((m for m in self.dm(user) if predicate(m)), None), timeout)

    def question(self, user: str) -> dict[str, Any]:
        """The latest question message (the one with an Answer button)."""
        return self.wait_dm(user, lambda m: "coach_answer" in json.dumps(m["blocks"]))


@contextmanager
def running(tmp_path: Path, *, llm: Any = None, workers: int = 32, admins: frozenset[str] = frozenset(),
            **options: Any) -> Iterator[Slack]:
    """The app served by `http_server` (what --http uses) on a free loopback port; `options` go to build_coach;
    `admins`: Slack user ids the operator lists as managers (COACH_SLACK_MANAGERS)."""
    from bot.core.access import Access
    from bot.slack_app import build_app, http_server, web_client

    with FakeSlackApi() as api:
        if admins:
            options["access"] = Access(managers=frozenset(f"slack:{a}" for a in admins))
        coach = build_coach(tmp_path / "coach.db", llm=llm, **options)
        app, _ = build_app(coach, web_client("xoxb-test", api.url), signing_secret=SIGNING_SECRET,
                           stream_interval=0.2, workers=workers)
        server = http_server(app, 0, host="127.0.0.1")
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield Slack(api, coach, f"http://127.0.0.1:{server.server_port}/slack/events")
        finally:
            server.shutdown()
            server.server_close()


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    """Wait until a served app listens on the port; AssertionError with its output if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app exited: {process.communicate()[0][-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the app did not listen in time")
