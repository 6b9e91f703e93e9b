"""A local fake of Slack, spoken to by the real slack_sdk WebClient, SocketModeClient and Bolt App.

The Web API answers over HTTP at `base_url` with Slack's payload shapes, error names, status codes and
rate-limit answers; Socket Mode runs over a real WebSocket (hello, envelopes, acks). Every Web API call, sent
envelope and ack is recorded; failures are scripted with `fail_next`. Block validation follows Slack's
documented limits; the wording inside `errors` imitates Slack's ("... [json-pointer:/blocks/0/text/text]")
but is not guaranteed word for word.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import hmac
import json
import mimetypes
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection, serve

TS_EPOCH = 1_700_000_000
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_MARKDOWN_TEXT = 12_000
MAX_TABLE_ROWS = 100
MAX_TABLE_COLUMNS = 20
MAX_MESSAGE_TEXT = 40_000

# Form-encoded calls carry these arguments as JSON strings; JSON calls carry them as JSON values.
_JSON_ARGUMENTS = frozenset(
    {"blocks", "attachments", "metadata", "files", "prompts", "view", "chunks", "loading_messages"}
)
_STREAM_METHODS = frozenset({"chat.startStream", "chat.appendStream", "chat.stopStream"})
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


@dataclass(frozen=True)
class ApiCall:
    """One Web API call as the fake received it; failed calls are kept too, with ok False."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float  # time.monotonic() when it arrived
    ok: bool = True
    error: str | None = None
    status: int = 200
    injected: bool = False  # answered by a fail_next() script


@dataclass
class UploadedFile:
    """A file uploaded through files.getUploadURLExternal, the upload URL and files.completeUploadExternal."""

    file_id: str
    filename: str
    title: str
    content: bytes = b""
    declared_length: int = 0
    uploaded: bool = False
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    message_ts: str | None = None  # the message that shared it
    alt_txt: str | None = None
    snippet_type: str | None = None


@dataclass
class SlackMessage:
    """A message in the fake workspace, in its current state; earlier versions are in `edits`."""

    channel: str
    ts: str
    text: str
    user: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None
    origin: str = "api"  # "api" posted by the app, "event" built for a test event, "seed" from seed_thread
    files: list[UploadedFile] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(
        default_factory=list
    )  # earlier {"text", "blocks", "until"}, oldest first
    streaming: str | None = None  # "in_progress", "completed" or "expired" for chat.startStream messages
    chunks: list[dict[str, Any]] = field(default_factory=list)  # streamed task and plan updates
    metadata: dict[str, Any] | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    ephemeral_to: str | None = None
    deleted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SentEnvelope:
    """A Socket Mode envelope the fake sent to one connection."""

    envelope_id: str
    type: str
    envelope: dict[str, Any]
    connection: int  # the connection's number, counting every connection the fake accepted from 0
    sent_at: float


@dataclass(frozen=True)
class Ack:
    """An app's acknowledgement of an envelope, with the time it took."""

    envelope_id: str
    payload: dict[str, Any] | None
    latency_seconds: float
    connection: int


@dataclass(frozen=True)
class ResponseUrlPost:
    """A POST to a response_url the fake handed out with a slash command or a block action."""

    channel: str
    user: str
    body: dict[str, Any]
    at: float


@dataclass
class _Fault:
    status: int
    error: str
    retry_after: int | None
    remaining: int


@dataclass
class _SocketConnection:
    number: int
    ws: ServerConnection
    opened_at: float


@dataclass(frozen=True)
class _ResponseUrl:
    channel: str
    user: str
    message_ts: str | None
    thread_ts: str | None


class _SlackError(Exception):
    """A Web API error answered as HTTP 200 {"ok": false, "error": ...}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _missing(*names: str) -> _SlackError:
    messages = [f"[ERROR] missing required field: {name}" for name in names]
    return _SlackError("invalid_arguments", response_metadata={"messages": messages})


def _slack_id(prefix: str, length: int = 10) -> str:
    return prefix + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds or 0), int((micros or "0").ljust(6, "0")[:6])


class FakeSlack:
    """A fake Slack workspace with one installed app; use as a context manager or call close()."""

    def __init__(self, *, streaming: bool = True, ping_interval: float = 0.5) -> None:
        """`streaming=False` plays a workspace without chat.*Stream; Slack pings sockets every few seconds,
        and the short default also lets the builtin client (blocked in recv up to 3 s) close quickly."""
        self.streaming = streaming
        self.team_id = "T0FAKE0001"
        self.team_domain = "fake-workspace"
        self.app_id = "A0FAKE0001"
        self.bot_user_id = "U0FAKEBOT1"
        self.bot_id = "B0FAKEBOT1"
        self.bot_token = f"xoxb-1-{secrets.token_hex(12)}"
        self.app_token = f"xapp-1-{self.app_id}-{secrets.token_hex(12)}"
        self.signing_secret = secrets.token_hex(16)
        self.verification_token = secrets.token_hex(12)
        self.calls: list[ApiCall] = []
        self.envelopes: list[SentEnvelope] = []
        self.acks: list[Ack] = []
        self.response_url_posts: list[ResponseUrlPost] = []
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ts_counter = 0
        self._history: dict[tuple[str, str], SlackMessage] = {}
        self._ephemeral: list[SlackMessage] = []
        self._files: dict[str, UploadedFile] = {}
        self._statuses: dict[tuple[str, str], list[str]] = {}
        self._prompts: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self._home_views: dict[str, dict[str, Any]] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._tickets: set[str] = set()
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._connections: list[_SocketConnection] = []
        self._connections_accepted = 0
        self._round_robin = 0
        self._sent_by_id: dict[str, SentEnvelope] = {}
        self._socket_threads: list[threading.Thread] = []
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.startStream": self._chat_start_stream,
            "chat.appendStream": self._chat_append_stream,
            "chat.stopStream": self._chat_stop_stream,
            "assistant.threads.setStatus": self._set_status,
            "assistant.threads.setSuggestedPrompts": self._set_suggested_prompts,
            "conversations.replies": self._conversations_replies,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "views.publish": self._views_publish,
        }
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _http_handler_for(self))
        self._http.daemon_threads = True
        self._http_thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-slack-http",
            daemon=True,
        )
        # The builtin Socket Mode client never answers a close frame, so closing handshakes time out fast.
        self._ws = serve(
            self._serve_socket,
            "127.0.0.1",
            0,
            process_request=self._check_ticket,
            close_timeout=0.5,
            ping_interval=ping_interval,
        )
        self._ws_thread = threading.Thread(
            target=self._ws.serve_forever, name="fake-slack-socket", daemon=True
        )
        self._http_thread.start()
        self._ws_thread.start()

    # ----------------------------------------------------------------- addresses and lifecycle

    @property
    def http_root(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """The Web API root for WebClient(base_url=...)."""
        return f"{self.http_root}/api/"

    @property
    def socket_port(self) -> int:
        return int(self._ws.socket.getsockname()[1])

    def close(self) -> None:
        """Stop both servers, drop open WebSocket connections and wait for the server threads."""
        with self._lock:
            connections = list(self._connections)
        self._ws.shutdown()
        for connection in connections:
            connection.ws.close_socket()
        self._http.shutdown()
        self._http.server_close()
        self._ws_thread.join(timeout=5)
        self._http_thread.join(timeout=5)
        with self._lock:
            threads = list(self._socket_threads)
        for thread in threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ----------------------------------------------------------------- scripting the workspace

    def seed_thread(self, channel: str, thread_ts: str, messages: list[dict[str, Any]]) -> None:
        """Put existing messages (Slack message dicts; the first is the parent) into a thread's history."""
        known = {"ts", "text", "user", "blocks", "thread_ts", "bot_id", "type", "files"}
        with self._lock:
            for position, raw in enumerate(messages):
                ts = raw.get("ts") or (thread_ts if position == 0 else self._next_ts())
                self._observe_ts(ts)
                extra = {key: value for key, value in raw.items() if key not in known}
                message = SlackMessage(
                    channel=channel,
                    ts=ts,
                    text=raw.get("text", ""),
                    user=raw.get("user", ""),
                    blocks=list(raw.get("blocks", [])),
                    thread_ts=thread_ts,
                    bot_id=raw.get("bot_id"),
                    origin="seed",
                    extra=extra,
                )
                self._history[(channel, ts)] = message

    def fail_next(
        self,
        method: str,
        *,
        times: int = 1,
        status: int | None = None,
        retry_after: int = 1,
        error: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with a failure.

        By default HTTP 429 {"ok": false, "error": "ratelimited"} with a Retry-After header; with `error`
        HTTP 200 {"ok": false, "error": error}; with status 500 or 503 a server error.
        """
        answer_status = status if status is not None else (200 if error else 429)
        if error is None:
            error = {429: "ratelimited", 503: "service_unavailable"}.get(answer_status, "internal_error")
        fault = _Fault(answer_status, error, retry_after if answer_status == 429 else None, times)
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def expire_stream(self, channel: str, ts: str) -> None:
        """End a streamed message server-side, as Slack does after a few minutes."""
        with self._lock:
            self._find(channel, ts).streaming = "expired"

    # ----------------------------------------------------------------- inspection

    def messages(self, channel: str, thread_ts: str | None = None) -> list[SlackMessage]:
        """Messages the app posted (final state, deleted ones left out), in a channel or in one thread."""
        with self._lock:
            found = [
                message
                for message in self._history.values()
                if message.channel == channel
                and message.origin == "api"
                and not message.deleted
                and (thread_ts is None or thread_ts in (message.thread_ts, message.ts))
            ]
            return copy.deepcopy(sorted(found, key=lambda message: _ts_key(message.ts)))

    def message(self, channel: str, ts: str) -> SlackMessage:
        """One message by its ts, deleted or not."""
        with self._lock:
            return copy.deepcopy(self._find(channel, ts))

    def ephemeral_messages(self, channel: str, user: str | None = None) -> list[SlackMessage]:
        """Messages posted with chat.postEphemeral (or an ephemeral response_url answer)."""
        with self._lock:
            return copy.deepcopy(
                [
                    message
                    for message in self._ephemeral
                    if message.channel == channel and user in (None, message.ephemeral_to)
                ]
            )

    def uploads(self, channel: str, thread_ts: str | None = None) -> list[UploadedFile]:
        """Files shared into a channel (or one thread of it) by files.completeUploadExternal."""
        with self._lock:
            return copy.deepcopy(
                [
                    upload
                    for upload in self._files.values()
                    if upload.channel == channel and (thread_ts is None or upload.thread_ts == thread_ts)
                ]
            )

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        """Block until `count` successful calls of `method` arrived; returns them."""

        def successful() -> list[ApiCall]:
            return [call for call in self.calls if call.method == method and call.ok]

        with self._changed:
            if self._changed.wait_for(lambda: len(successful()) >= count, timeout=timeout):
                return successful()
            seen = [f"{call.method} ok={call.ok} error={call.error}" for call in self.calls]
        raise AssertionError(f"waited {timeout}s for {count} successful {method} call(s); calls seen: {seen}")

    def statuses(self, channel: str, thread_ts: str) -> list[str]:
        """Every status set with assistant.threads.setStatus in that thread, in order ("" clears it)."""
        with self._lock:
            return list(self._statuses.get((channel, thread_ts), []))

    def suggested_prompts(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """The prompts last set with assistant.threads.setSuggestedPrompts."""
        with self._lock:
            return copy.deepcopy(self._prompts.get((channel, thread_ts), []))

    def home_view(self, user: str) -> dict[str, Any] | None:
        """The App Home view last published for a user."""
        with self._lock:
            view = self._home_views.get(user)
            return copy.deepcopy(view) if view else None

    def responses(self, channel: str | None = None) -> list[ResponseUrlPost]:
        """POSTs the app made to response_urls, optionally only those for one channel."""
        with self._lock:
            return [post for post in self.response_url_posts if channel in (None, post.channel)]

    # ----------------------------------------------------------------- HTTP mode

    def signed_headers(
        self, body: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """Headers Slack signs an HTTP request with (v0 HMAC-SHA256 of "v0:{timestamp}:{body}")."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        key = (secret if secret is not None else self.signing_secret).encode()
        digest = hmac.new(key, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}

    # ----------------------------------------------------------------- event builders

    def app_mention(
        self, text: str, *, user: str, channel: str, ts: str | None = None, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """An app_mention event; the bot's mention is put in front of `text` unless it is already there."""
        mention = f"<@{self.bot_user_id}>"
        full_text = text if mention in text else f"{mention} {text}"
        return self._user_message("app_mention", full_text, user, channel, ts, thread_ts, channel_type=None)

    def channel_message(
        self, text: str, *, user: str, channel: str, ts: str | None = None, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A message event in a public channel (channel_type "channel")."""
        return self._user_message("message", text, user, channel, ts, thread_ts, channel_type="channel")

    def direct_message(
        self,
        text: str,
        *,
        user: str,
        channel: str | None = None,
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """A message event in the user's DM with the app (channel_type "im")."""
        return self._user_message(
            "message", text, user, channel or self._dm_channel(user), ts, thread_ts, channel_type="im"
        )

    def app_home_opened(self, user: str, tab: str = "messages", channel: str | None = None) -> dict[str, Any]:
        """An app_home_opened event; on the home tab it carries the view published for the user, if any."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": channel or self._dm_channel(user),
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        view = self.home_view(user)
        if tab == "home" and view:
            event["view"] = view
        return event

    def event_payload(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """The event_callback body Slack wraps an event in (sent as JSON in HTTP mode)."""
        context = {
            "et": event.get("type"),
            "tid": self.team_id,
            "aid": self.app_id,
            "cid": event.get("channel"),
        }
        encoded = base64.urlsafe_b64encode(json.dumps(context).encode()).decode().rstrip("=")
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or _slack_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{encoded}",
        }

    # ----------------------------------------------------------------- Socket Mode

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._connections)

    @property
    def connections_accepted(self) -> int:
        """Every Socket Mode connection ever accepted, reconnections included."""
        with self._lock:
            return self._connections_accepted

    def wait_for_connections(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until at least `count` Socket Mode connections are open."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._connections) >= count, timeout=timeout):
                raise AssertionError(
                    f"waited {timeout}s for {count} Socket Mode connection(s); {len(self._connections)} open"
                )

    def send_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        connection: int | None = None,
    ) -> str:
        """Deliver an Events API envelope to one connection (round robin, or the index among open ones)."""
        return self._deliver(self._events_envelope(event, event_id, retry_attempt, retry_reason), connection)

    def broadcast_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> list[str]:
        """Deliver the same event (same event_id, new envelope ids) to every open connection."""
        event_id = event_id or _slack_id("Ev")
        return [
            self._deliver(self._events_envelope(event, event_id, retry_attempt, retry_reason), index)
            for index in range(self.open_connections)
        ]

    def send_slash_command(
        self, command: str, text: str = "", *, user: str, channel: str, connection: int | None = None
    ) -> str:
        """Deliver a slash command invocation (envelope type "slash_commands")."""
        payload = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self._new_response_url(channel, user, None, None),
            "trigger_id": self._trigger_id(),
        }
        envelope = {
            "envelope_id": str(uuid.uuid4()),
            "payload": payload,
            "type": "slash_commands",
            "accepts_response_payload": True,
        }
        return self._deliver(envelope, connection)

    def send_block_action(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        channel: str,
        message_ts: str,
        thread_ts: str | None = None,
        connection: int | None = None,
    ) -> str:
        """Deliver a button click on a message (envelope type "interactive", payload type "block_actions")."""
        with self._lock:
            stored = self._history.get((channel, message_ts))
            message = self._render(stored) if stored else {"type": "message", "ts": message_ts, "text": ""}
            blocks = stored.blocks if stored else []
        block_id, button_text = _find_button(blocks, action_id)
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        }
        if thread_ts:
            container["thread_ts"] = thread_ts
        action_ts = f"{time.time():.6f}"
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team_id},
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "container": container,
            "trigger_id": self._trigger_id(),
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": "general"},
            "message": message,
            "state": {"values": {}},
            "response_url": self._new_response_url(channel, user, message_ts, thread_ts),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": button_text,
                    "value": value,
                    "type": "button",
                    "action_ts": action_ts,
                }
            ],
        }
        envelope = {
            "envelope_id": str(uuid.uuid4()),
            "payload": payload,
            "type": "interactive",
            "accepts_response_payload": False,
        }
        return self._deliver(envelope, connection)

    def send_disconnect(self, connection: int | None = None, reason: str = "refresh_requested") -> None:
        """Ask a connection to reconnect, as Slack does before recycling a server ("warning" is the other)."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake-1"}}
        self._target(connection).ws.send(json.dumps(message))

    def drop_connection(self, connection: int | None = None, *, graceful: bool = False) -> None:
        """Cut a connection: abruptly like a network failure, or with a close frame (1001) if graceful."""
        target = self._target(connection)
        if not graceful:
            target.ws.close_socket()
            return
        # close() waits for the client's close frame, which the builtin client never sends.
        closing = threading.Thread(target=target.ws.close, args=(1001, "going away"), daemon=True)
        closing.start()

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        """Block until the app acknowledged that envelope."""

        def found() -> Ack | None:
            return next((ack for ack in self.acks if ack.envelope_id == envelope_id), None)

        with self._changed:
            if self._changed.wait_for(lambda: found() is not None, timeout=timeout):
                ack = found()
                assert ack is not None
                return ack
            acked = [ack.envelope_id for ack in self.acks]
        raise AssertionError(f"no ack for envelope {envelope_id} within {timeout}s; acked: {acked}")

    # ----------------------------------------------------------------- Socket Mode internals

    def _events_envelope(
        self, event: dict[str, Any], event_id: str | None, retry_attempt: int, retry_reason: str
    ) -> dict[str, Any]:
        return {
            "envelope_id": str(uuid.uuid4()),
            "payload": self.event_payload(event, event_id=event_id),
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }

    def _target(self, connection: int | None) -> _SocketConnection:
        with self._lock:
            if not self._connections:
                raise AssertionError("no Socket Mode connection is open; call wait_for_connections() first")
            if connection is None:
                target = self._connections[self._round_robin % len(self._connections)]
                self._round_robin += 1
                return target
            return self._connections[connection]

    def _deliver(self, envelope: dict[str, Any], connection: int | None) -> str:
        target = self._target(connection)
        sent = SentEnvelope(
            envelope["envelope_id"], envelope["type"], envelope, target.number, time.monotonic()
        )
        with self._lock:  # recorded before sending so that an early ack finds it
            self.envelopes.append(sent)
            self._sent_by_id[sent.envelope_id] = sent
        target.ws.send(json.dumps(envelope))
        return sent.envelope_id

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        ticket = parse_qs(urlsplit(request.path).query).get("ticket", [""])[0]
        with self._lock:
            known = ticket in self._tickets
        return None if known else connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")

    def _serve_socket(self, ws: ServerConnection) -> None:
        with self._lock:
            self._socket_threads.append(threading.current_thread())
            number = self._connections_accepted
            self._connections_accepted += 1
            hello = {
                "type": "hello",
                "num_connections": len(self._connections) + 1,
                "debug_info": {
                    "host": "applink-fake-1",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        connection = _SocketConnection(number, ws, time.monotonic())
        try:
            ws.send(json.dumps(hello))
            with self._changed:
                self._connections.append(connection)
                self._changed.notify_all()
            for raw in ws:
                self._receive_from_app(connection, raw)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                if connection in self._connections:
                    self._connections.remove(connection)
                self._changed.notify_all()

    def _receive_from_app(self, connection: _SocketConnection, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if not isinstance(message, dict) or not message.get("envelope_id"):
            return
        now = time.monotonic()
        with self._changed:
            sent = self._sent_by_id.get(message["envelope_id"])
            latency = now - sent.sent_at if sent else float("nan")
            self.acks.append(Ack(message["envelope_id"], message.get("payload"), latency, connection.number))
            self._changed.notify_all()

    def _new_response_url(
        self, channel: str, user: str, message_ts: str | None, thread_ts: str | None
    ) -> str:
        key = secrets.token_hex(8)
        with self._lock:
            self._response_urls[key] = _ResponseUrl(channel, user, message_ts, thread_ts)
        return f"{self.http_root}/response_url/{key}"

    def _trigger_id(self) -> str:
        return f"{secrets.randbelow(10**13)}.{secrets.randbelow(10**13)}.{secrets.token_hex(16)}"

    # ----------------------------------------------------------------- HTTP entry points

    def _web_api(
        self, method: str, query: str, content_type: str, authorization: str, body: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        at = time.monotonic()
        try:
            args = _read_arguments(query, content_type, body)
        except ValueError:
            args = {}
            self._record(ApiCall(method, args, None, at, ok=False, error="invalid_json"))
            return 200, {"ok": False, "error": "invalid_json"}, {}
        token = authorization.removeprefix("Bearer ").strip() or args.pop("token", None)
        args.pop("token", None)
        fault = self._take_fault(method)
        if fault is not None:
            self._record(
                ApiCall(
                    method, args, token, at, ok=False, error=fault.error, status=fault.status, injected=True
                )
            )
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return fault.status, {"ok": False, "error": fault.error}, headers
        try:
            result = {"ok": True, **self._dispatch(method, args, token)}
        except _SlackError as failure:
            result = {"ok": False, "error": failure.error, **failure.extra}
        self._record(ApiCall(method, args, token, at, ok=result["ok"], error=result.get("error")))
        return 200, result, {}

    def _dispatch(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        handler = self._methods.get(method)
        if handler is None or (method in _STREAM_METHODS and not self.streaming):
            raise _SlackError("unknown_method", req_method=method)
        if not token:
            raise _SlackError("not_authed")
        if token not in (self.bot_token, self.app_token):
            raise _SlackError("invalid_auth")
        wanted = self.app_token if method in _APP_TOKEN_METHODS else self.bot_token
        if token != wanted and method != "auth.test":
            raise _SlackError("not_allowed_token_type")
        with self._lock:
            return handler(args)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            return fault

    def _record(self, call: ApiCall) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _receive_upload(self, file_id: str, content_type: str, body: bytes) -> tuple[int, str]:
        with self._lock:
            upload = self._files.get(file_id)
            if upload is None:
                return 404, "file not found"
            upload.content = _uploaded_bytes(content_type, body)
            upload.uploaded = True
        return 200, f"OK - {len(upload.content)}"

    def _receive_response(self, key: str, body: bytes) -> tuple[int, str]:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return 400, "invalid_payload"
        with self._changed:
            target = self._response_urls.get(key)
            if target is None:
                return 404, "expired_url"
            self.response_url_posts.append(
                ResponseUrlPost(target.channel, target.user, payload, time.monotonic())
            )
            self._apply_response(target, payload)
            self._changed.notify_all()
        return 200, "ok"

    def _apply_response(self, target: _ResponseUrl, payload: dict[str, Any]) -> None:
        original = self._history.get((target.channel, target.message_ts or ""))
        if payload.get("delete_original") and original:
            original.deleted = True
        elif payload.get("replace_original") and original:
            original.edits.append(
                {"text": original.text, "blocks": original.blocks, "until": self._next_ts()}
            )
            original.text, original.blocks = payload.get("text", ""), payload.get("blocks", [])
        elif payload.get("response_type") == "in_channel":
            thread_ts = payload.get("thread_ts") or target.thread_ts
            self._post(target.channel, payload.get("text", ""), payload.get("blocks", []), thread_ts)
        else:
            ephemeral = SlackMessage(
                channel=target.channel,
                ts=self._next_ts(),
                text=payload.get("text", ""),
                user=self.bot_user_id,
                blocks=payload.get("blocks", []),
                thread_ts=target.thread_ts,
                bot_id=self.bot_id,
                ephemeral_to=target.user,
            )
            self._ephemeral.append(ephemeral)

    # ----------------------------------------------------------------- Web API methods (lock held)

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Fake Workspace",
            "user": "blueprintdata",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, _: dict[str, Any]) -> dict[str, Any]:
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        return {"url": f"ws://127.0.0.1:{self.socket_port}/link/?ticket={ticket}&app_id={self.app_id}"}

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = _channel(args)
        text, blocks = _validated_content(args)
        message = self._post(channel, text, blocks, args.get("thread_ts") or None)
        message.metadata = args.get("metadata") or None
        return {"channel": channel, "ts": message.ts, "message": self._render(message)}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._find_own(_channel(args), args.get("ts"), "cant_update_message")
        if not args.get("text") and "blocks" not in args and not args.get("markdown_text"):
            raise _SlackError("no_text")
        # Slack keeps the text or the blocks that an update leaves out.
        merged = {"text": message.text, "blocks": message.blocks, **args}
        if args.get("markdown_text"):
            merged["text"] = args["markdown_text"]
        text, blocks = _validated_content(merged)
        message.edits.append({"text": message.text, "blocks": message.blocks, "until": self._next_ts()})
        message.text, message.blocks = text, blocks
        return {"channel": message.channel, "ts": message.ts, "text": text, "message": self._render(message)}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._find_own(_channel(args), args.get("ts"), "cant_delete_message")
        message.deleted = True
        return {"channel": message.channel, "ts": message.ts}

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = _channel(args)
        if not args.get("user"):
            raise _missing("user")
        text, blocks = _validated_content(args)
        message = SlackMessage(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            user=self.bot_user_id,
            blocks=blocks,
            thread_ts=args.get("thread_ts") or None,
            bot_id=self.bot_id,
            ephemeral_to=args["user"],
        )
        self._ephemeral.append(message)
        return {"message_ts": message.ts}

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = _channel(args)
        message = self._find(channel, args.get("message_ts"))
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{message.ts.replace('.', '')}"
        if message.thread_ts and message.thread_ts != message.ts:
            link += f"?thread_ts={message.thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _chat_start_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = _channel(args)
        if not args.get("thread_ts"):
            raise _missing("thread_ts")
        message = self._post(channel, "", [], args["thread_ts"])
        message.streaming = "in_progress"
        self._append_to_stream(message, args)
        return {"channel": channel, "ts": message.ts}

    def _chat_append_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming_message(args)
        self._append_to_stream(message, args)
        return {"channel": message.channel, "ts": message.ts}

    def _chat_stop_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming_message(args)
        blocks = args.get("blocks") or []
        if not isinstance(blocks, list):
            raise _SlackError("invalid_blocks_format")
        _check_blocks(blocks)
        self._append_to_stream(message, args)
        message.blocks = message.blocks + blocks
        message.metadata = args.get("metadata") or message.metadata
        message.streaming = "completed"
        return {"channel": message.channel, "ts": message.ts, "message": self._render(message)}

    def _set_status(self, args: dict[str, Any]) -> dict[str, Any]:
        missing = [name for name in ("channel_id", "thread_ts") if not args.get(name)]
        if missing or "status" not in args:
            raise _missing(*(missing or ["status"]))
        self._statuses.setdefault((args["channel_id"], args["thread_ts"]), []).append(str(args["status"]))
        return {}

    def _set_suggested_prompts(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel_id") or not isinstance(args.get("prompts"), list):
            raise _missing("channel_id" if not args.get("channel_id") else "prompts")
        self._prompts[(args["channel_id"], args.get("thread_ts") or None)] = list(args["prompts"])
        return {}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = _channel(args)
        if not args.get("ts"):
            raise _missing("ts")
        thread = [
            message
            for message in self._history.values()
            if message.channel == channel
            and not message.deleted
            and args["ts"] in (message.ts, message.thread_ts)
        ]
        if not thread:
            raise _SlackError("thread_not_found")
        thread.sort(key=lambda message: _ts_key(message.ts))
        rendered = [self._render(message) for message in thread]
        replies = [message for message in thread if message.ts != args["ts"]]
        if rendered[0]["ts"] == args["ts"] and replies:
            rendered[0]["reply_count"] = len(replies)
            rendered[0]["reply_users"] = sorted({message.user for message in replies})
            rendered[0]["latest_reply"] = replies[-1].ts
        return {"messages": rendered, "has_more": False}

    def _get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        missing = [name for name in ("filename", "length") if not args.get(name)]
        if missing:
            raise _missing(*missing)
        file_id = _slack_id("F")
        self._files[file_id] = UploadedFile(
            file_id=file_id,
            filename=str(args["filename"]),
            title=str(args["filename"]),
            declared_length=int(args["length"]),
            alt_txt=args.get("alt_txt"),
            snippet_type=args.get("snippet_type"),
        )
        return {"upload_url": f"{self.http_root}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise _missing("files")
        uploads = []
        for entry in entries:
            upload = self._files.get(entry.get("id", "")) if isinstance(entry, dict) else None
            if upload is None or not upload.uploaded:
                raise _SlackError("file_not_found")
            uploads.append((upload, entry))
        channel = args.get("channel_id") or (args.get("channels") or "").split(",")[0] or None
        thread_ts = args.get("thread_ts") or None
        for upload, entry in uploads:
            upload.title = entry.get("title") or upload.filename
            upload.channel, upload.thread_ts = channel, thread_ts
            upload.initial_comment = args.get("initial_comment")
        if channel:
            # Slack shares the files as one message whose text is the initial comment.
            message = self._post(channel, args.get("initial_comment") or "", [], thread_ts)
            message.files = [upload for upload, _ in uploads]
            for upload, _ in uploads:
                upload.message_ts = message.ts
        return {"files": [self._file_object(upload) for upload, _ in uploads]}

    def _reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._find(_channel(args), args.get("timestamp"))
        users = message.reactions.setdefault(str(args.get("name", "")), [])
        if self.bot_user_id in users:
            raise _SlackError("already_reacted")
        users.append(self.bot_user_id)
        return {}

    def _reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._find(_channel(args), args.get("timestamp"))
        users = message.reactions.get(str(args.get("name", "")), [])
        if self.bot_user_id not in users:
            raise _SlackError("no_reaction")
        users.remove(self.bot_user_id)
        return {}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not args.get("user_id") or not isinstance(view, dict):
            raise _missing("user_id" if not args.get("user_id") else "view")
        if view.get("type") != "home":
            raise _SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] view type must be home"]}
            )
        view_id = _slack_id("V")
        published = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "home",
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": secrets.token_hex(8),
            "title": view.get("title", {"type": "plain_text", "text": "View Title"}),
            "root_view_id": view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "bot_id": self.bot_id,
        }
        self._home_views[args["user_id"]] = published
        return {"view": published}

    # ----------------------------------------------------------------- message store helpers (lock held)

    def _next_ts(self) -> str:
        with self._lock:
            self._ts_counter += 1
            micros = self._ts_counter * 100
        return f"{TS_EPOCH + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _observe_ts(self, ts: str) -> None:
        """Keep generated timestamps after any timestamp a test chose."""
        seconds, micros = _ts_key(ts)
        offset = (seconds - TS_EPOCH) * 1_000_000 + micros
        with self._lock:
            self._ts_counter = max(self._ts_counter, offset // 100)

    def _post(
        self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None
    ) -> SlackMessage:
        message = SlackMessage(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            user=self.bot_user_id,
            blocks=blocks,
            thread_ts=thread_ts,
            bot_id=self.bot_id,
        )
        self._history[(channel, message.ts)] = message
        return message

    def _find(self, channel: str, ts: Any) -> SlackMessage:
        message = self._history.get((channel, str(ts or "")))
        if message is None or message.deleted:
            raise _SlackError("message_not_found")
        return message

    def _find_own(self, channel: str, ts: Any, error: str) -> SlackMessage:
        message = self._find(channel, ts)
        if message.origin != "api":
            raise _SlackError(error)
        return message

    def _streaming_message(self, args: dict[str, Any]) -> SlackMessage:
        message = self._find(_channel(args), args.get("ts"))
        if message.streaming != "in_progress":
            raise _SlackError("message_not_in_streaming_state")
        return message

    def _append_to_stream(self, message: SlackMessage, args: dict[str, Any]) -> None:
        pieces = [args["markdown_text"]] if args.get("markdown_text") else []
        for chunk in args.get("chunks") or []:
            if chunk.get("type") == "markdown_text":
                pieces.append(chunk.get("text", ""))
            else:
                message.chunks.append(chunk)
        if any(len(piece) > MAX_MARKDOWN_TEXT for piece in pieces):
            raise _SlackError("msg_too_long")
        message.text += "".join(pieces)

    def _user_message(
        self,
        event_type: str,
        text: str,
        user: str,
        channel: str,
        ts: str | None,
        thread_ts: str | None,
        *,
        channel_type: str | None,
    ) -> dict[str, Any]:
        """A user's message as an event; it also enters the channel's history, as on Slack."""
        if ts:
            self._observe_ts(ts)
        ts = ts or self._next_ts()
        event: dict[str, Any] = {
            "user": user,
            "type": event_type,
            "ts": ts,
            "client_msg_id": str(uuid.uuid4()),
            "text": text,
            "team": self.team_id,
        }
        with self._lock:
            if thread_ts:
                event["thread_ts"] = thread_ts
                parent = self._history.get((channel, thread_ts))
                if parent:
                    event["parent_user_id"] = parent.user
            blocks = _rich_text_blocks(text)
            event.update({"blocks": blocks, "channel": channel, "event_ts": ts})
            if channel_type:
                event["channel_type"] = channel_type
            self._history.setdefault(
                (channel, ts),
                SlackMessage(
                    channel=channel,
                    ts=ts,
                    text=text,
                    user=user,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    origin="event",
                ),
            )
        return event

    def _dm_channel(self, user: str) -> str:
        return f"D{hashlib.sha256(user.encode()).hexdigest()[:9].upper()}"

    def _render(self, message: SlackMessage) -> dict[str, Any]:
        """A message as Slack's API shows it."""
        rendered: dict[str, Any] = {
            "type": "message",
            "text": message.text,
            "user": message.user,
            "ts": message.ts,
        }
        if message.bot_id:
            rendered.update({"bot_id": message.bot_id, "app_id": self.app_id})
        rendered["team"] = self.team_id
        if message.blocks:
            rendered["blocks"] = message.blocks
        if message.thread_ts:
            rendered["thread_ts"] = message.thread_ts
            parent = self._history.get((message.channel, message.thread_ts))
            if parent and parent.ts != message.ts:
                rendered["parent_user_id"] = parent.user
        if message.files:
            rendered["files"] = [self._file_object(upload) for upload in message.files]
            rendered["upload"] = False
        if message.edits:
            rendered["edited"] = {"user": message.user, "ts": message.edits[-1]["until"]}
        if message.metadata:
            rendered["metadata"] = message.metadata
        if message.reactions:
            rendered["reactions"] = [
                {"name": name, "users": users, "count": len(users)}
                for name, users in message.reactions.items()
                if users
            ]
        rendered.update(message.extra)
        return rendered

    def _file_object(self, upload: UploadedFile) -> dict[str, Any]:
        filetype = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else "binary"
        created = int(time.time())
        shares: dict[str, Any] = {}
        if upload.channel:
            share = (
                {"ts": upload.message_ts, "thread_ts": upload.thread_ts}
                if upload.thread_ts
                else {"ts": upload.message_ts}
            )
            shares = {"public": {upload.channel: [share]}}
        return {
            "id": upload.file_id,
            "created": created,
            "timestamp": created,
            "name": upload.filename,
            "title": upload.title,
            "mimetype": mimetypes.guess_type(upload.filename)[0] or "application/octet-stream",
            "filetype": filetype,
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "size": len(upload.content),
            "mode": "hosted",
            "is_external": False,
            "is_public": bool(upload.channel),
            "url_private": f"https://files.slack.com/files-pri/{self.team_id}-{upload.file_id}/{upload.filename}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/{upload.file_id}",
            "channels": [upload.channel] if upload.channel else [],
            "shares": shares,
        }


# --------------------------------------------------------------------- arguments and validation


def _read_arguments(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Arguments from the query string and a form, multipart or JSON body; JSON-valued ones decoded."""
    args: dict[str, Any] = {
        key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()
    }
    if "json" in content_type:
        decoded = json.loads(body or b"{}")
        if not isinstance(decoded, dict):
            raise ValueError("a JSON body must be an object")
        args.update(decoded)
        return args
    if "multipart/form-data" in content_type:
        for part in _multipart_parts(content_type, body):
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                args[name] = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    elif body:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        args.update({key: values[-1] for key, values in form.items()})
    for key in _JSON_ARGUMENTS & args.keys():
        if isinstance(args[key], str) and args[key]:
            # Undecodable values stay strings; validation answers invalid_blocks_format and the like.
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args


def _multipart_parts(content_type: str, body: bytes) -> list[Any]:
    message = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    return [part for part in message.walk() if not part.is_multipart()]


def _uploaded_bytes(content_type: str, body: bytes) -> bytes:
    """The file's bytes: slack_sdk posts them raw; browsers and other clients post multipart forms."""
    if "multipart/form-data" not in content_type:
        return body
    for part in _multipart_parts(content_type, body):
        if part.get_filename() is not None or part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    return b""


def _channel(args: dict[str, Any]) -> str:
    channel = args.get("channel") or args.get("channel_id")
    if not channel or not isinstance(channel, str):
        raise _SlackError("channel_not_found")
    return channel


def _validated_content(args: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    text = str(args.get("text") or args.get("markdown_text") or "")
    blocks = args.get("blocks")
    if blocks in (None, ""):
        blocks = []
    if not isinstance(blocks, list):
        raise _SlackError("invalid_blocks_format")
    if not text and not blocks and not args.get("attachments"):
        raise _SlackError("no_text")
    if len(text) > MAX_MESSAGE_TEXT:
        raise _SlackError("msg_too_long")
    _check_blocks(blocks)
    return text, blocks


def _check_blocks(blocks: list[Any]) -> None:
    errors = block_errors(blocks)
    if errors:
        messages = [f"[ERROR] {error}" for error in errors]
        raise _SlackError("invalid_blocks", errors=errors, response_metadata={"messages": messages})


def block_errors(blocks: list[Any]) -> list[str]:
    """What Slack would reject in a message's blocks, in Slack's style; empty when they are valid."""
    errors: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    markdown_total = 0
    tables = 0
    for index, block in enumerate(blocks):
        where = f"/blocks/{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type [json-pointer:{where}]")
            continue
        kind = block["type"]
        if kind == "section":
            errors.extend(_section_errors(block, where))
        elif kind == "header":
            errors.extend(_text_object_errors(block.get("text"), f"{where}/text", MAX_HEADER_TEXT))
        elif kind == "markdown":
            text = block.get("text")
            if not isinstance(text, str) or not text:
                errors.append(f"must be more than 0 characters [json-pointer:{where}/text]")
                continue
            markdown_total += len(text)
            if len(text) > MAX_MARKDOWN_TEXT:
                errors.append(
                    f"must be less than {MAX_MARKDOWN_TEXT + 1} characters [json-pointer:{where}/text]"
                )
        elif kind == "table":
            tables += 1
            if tables > 1:
                errors.append(f"only one table block is allowed per message [json-pointer:{where}]")
            errors.extend(_table_errors(block, where))
    if markdown_total > MAX_MARKDOWN_TEXT and not any("/text]" in error for error in errors):
        errors.append(
            f"the markdown blocks of a message must total less than {MAX_MARKDOWN_TEXT + 1} characters "
            "[json-pointer:/blocks]"
        )
    return errors


def _text_object_errors(text: Any, where: str, limit: int) -> list[str]:
    if not isinstance(text, dict) or text.get("type") not in ("plain_text", "mrkdwn"):
        return [f"must provide an object with type plain_text or mrkdwn [json-pointer:{where}]"]
    value = text.get("text")
    if not isinstance(value, str) or not value:
        return [f"must be more than 0 characters [json-pointer:{where}/text]"]
    if len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{where}/text]"]
    return []


def _section_errors(block: dict[str, Any], where: str) -> list[str]:
    fields = block.get("fields")
    if "text" not in block and not fields:
        return [f"must provide either text or fields [json-pointer:{where}]"]
    errors = _text_object_errors(block["text"], f"{where}/text", MAX_SECTION_TEXT) if "text" in block else []
    if isinstance(fields, list):
        if len(fields) > 10:
            errors.append(f"no more than 10 items allowed [json-pointer:{where}/fields]")
        for position, item in enumerate(fields):
            errors.extend(_text_object_errors(item, f"{where}/fields/{position}", MAX_SECTION_FIELD_TEXT))
    return errors


def _table_errors(block: dict[str, Any], where: str) -> list[str]:
    rows = block.get("rows")
    if not isinstance(rows, list) or not rows:
        return [f"must contain at least 1 item [json-pointer:{where}/rows]"]
    errors: list[str] = []
    if len(rows) > MAX_TABLE_ROWS:
        errors.append(f"no more than {MAX_TABLE_ROWS} items allowed [json-pointer:{where}/rows]")
    width: int | None = None
    for row_index, row in enumerate(rows):
        row_where = f"{where}/rows/{row_index}"
        if not isinstance(row, list) or not row:
            errors.append(f"must contain at least 1 item [json-pointer:{row_where}]")
            continue
        if len(row) > MAX_TABLE_COLUMNS:
            errors.append(f"no more than {MAX_TABLE_COLUMNS} items allowed [json-pointer:{row_where}]")
        if width is None:
            width = len(row)
        elif len(row) != width:
            errors.append(f"all rows must have the same number of cells [json-pointer:{row_where}]")
        for cell_index, cell in enumerate(row):
            errors.extend(_cell_errors(cell, f"{row_where}/{cell_index}"))
    settings = block.get("column_settings")
    if settings is not None:
        if not isinstance(settings, list) or len(settings) > MAX_TABLE_COLUMNS:
            errors.append(
                f"no more than {MAX_TABLE_COLUMNS} items allowed [json-pointer:{where}/column_settings]"
            )
        else:
            for position, setting in enumerate(settings):
                align = setting.get("align", "left") if isinstance(setting, dict) else "left"
                if setting is not None and (
                    not isinstance(setting, dict) or align not in ("left", "center", "right")
                ):
                    errors.append(f"invalid column setting [json-pointer:{where}/column_settings/{position}]")
    return errors


def _cell_errors(cell: Any, where: str) -> list[str]:
    kind = cell.get("type") if isinstance(cell, dict) else None
    if kind == "raw_text":
        text = cell.get("text")
        return (
            []
            if isinstance(text, str) and text
            else [f"must be more than 0 characters [json-pointer:{where}/text]"]
        )
    if kind == "raw_number":
        return (
            []
            if isinstance(cell.get("value", cell.get("text")), int | float | str)
            else [f"missing required field: value [json-pointer:{where}]"]
        )
    if kind == "rich_text":
        elements = cell.get("elements")
        return (
            []
            if isinstance(elements, list) and elements
            else [f"must contain at least 1 item [json-pointer:{where}/elements]"]
        )
    return [f"cell type must be raw_text, raw_number or rich_text [json-pointer:{where}/type]"]


def _rich_text_blocks(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack adds to a user's message, with mentions as user elements."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _MENTION.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    block_id = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(5))
    return [
        {
            "type": "rich_text",
            "block_id": block_id,
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def _find_button(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    """The block_id and text of the button with that action_id in a message, as a click reports them."""
    for block in blocks:
        candidates = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                text = element.get("text") or {"type": "plain_text", "text": action_id, "emoji": True}
                return str(block.get("block_id") or _slack_id("", 5)), text
    return _slack_id("", 5), {"type": "plain_text", "text": action_id, "emoji": True}


# --------------------------------------------------------------------- HTTP server


def _http_handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            return

        def do_GET(self) -> None:
            self._route()

        def do_POST(self) -> None:
            self._route()

        def _route(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            content_type = self.headers.get("content-type") or ""
            if url.path.startswith("/api/"):
                authorization = self.headers.get("authorization") or ""
                status, payload, headers = fake._web_api(
                    url.path.removeprefix("/api/"), url.query, content_type, authorization, body
                )
                self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)
            elif url.path.startswith("/upload/"):
                status, text = fake._receive_upload(url.path.removeprefix("/upload/"), content_type, body)
                self._send(status, text.encode(), "text/plain; charset=utf-8")
            elif url.path.startswith("/response_url/"):
                status, text = fake._receive_response(url.path.removeprefix("/response_url/"), body)
                self._send(status, text.encode(), "text/plain; charset=utf-8")
            else:
                self._send(404, b"not found", "text/plain; charset=utf-8")

        def _send(
            self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started fake Slack workspace (Web API and Socket Mode), closed after the test."""
    with FakeSlack() as fake:
        yield fake
