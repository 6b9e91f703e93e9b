"""A local fake of Anthropic's Messages API, spoken to by the real `anthropic` SDK over HTTP.

Replies are scripted in order (`enqueue`) or computed (`respond_with`); every request is recorded. Streaming
follows the real server-sent event sequence; errors use the API's JSON shape and status codes; prompt caching
is emulated by remembering the prefixes marked with cache_control.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.fakes.local_server import LocalThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a message (content blocks, stop reason) or an API error."""

    content: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = "end_turn"
    status: int = 200
    error_type: str | None = None
    error_message: str = ""
    retry_after: float | None = None
    output_tokens: int | None = None
    # Streaming only: after this many server-sent events the connection drops without the last chunk, as when
    # a proxy or the network cuts a long response (httpx raises RemoteProtocolError in the client).
    cut_after_events: int | None = None
    # Streaming only: after this many events the API sends an `error` event of this type and ends the stream,
    # as it does when it is overloaded mid-answer.
    error_event_after: int | None = None
    error_event_type: str = "overloaded_error"


def text_reply(text: str) -> Reply:
    return Reply(content=[{"type": "text", "text": text}])


def tool_use_reply(
    name: str, input: dict[str, Any], *, text: str | None = None, tool_use_id: str | None = None
) -> Reply:
    return tool_uses_reply([(name, input)], text=text, ids=[tool_use_id] if tool_use_id else None)


def tool_uses_reply(
    calls: list[tuple[str, dict[str, Any]]], *, text: str | None = None, ids: list[str] | None = None
) -> Reply:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    for position, (name, arguments) in enumerate(calls):
        call_id = ids[position] if ids else f"toolu_{uuid.uuid4().hex[:20]}"
        blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": arguments})
    return Reply(content=blocks, stop_reason="tool_use")


def cut_stream_reply(text: str, *, after_events: int = 4) -> Reply:
    """A text answer whose stream is cut after `after_events` events (message_start, ping, block start, ...)."""
    return Reply(content=[{"type": "text", "text": text}], cut_after_events=after_events)


def overloaded_mid_stream_reply(text: str, *, after_events: int = 4) -> Reply:
    """A text answer whose stream ends with an overloaded_error event after `after_events` events."""
    return Reply(content=[{"type": "text", "text": text}], error_event_after=after_events)


def error_reply(status: int, error_type: str, message: str, *, retry_after: float | None = 0.01) -> Reply:
    return Reply(status=status, error_type=error_type, error_message=message, retry_after=retry_after)


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the fake received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def streamed(self) -> bool:
        return bool(self.body.get("stream"))

    def last_user_text(self) -> str:
        for message in reversed(self.body.get("messages", [])):
            if message["role"] == "user":
                content = message["content"]
                if isinstance(content, str):
                    return content
                texts = [b.get("text", "") for b in content if b.get("type") == "text"]
                if texts:
                    return texts[-1]
        return ""

    def tool_results(self) -> list[dict[str, Any]]:
        last = self.body["messages"][-1]
        return [b for b in last["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]


class FakeAnthropic:
    """The fake server; use as a context manager or call close()."""

    def __init__(self, *, latency_seconds: float = 0.0) -> None:
        self.requests: list[RecordedRequest] = []
        self.latency_seconds = latency_seconds
        self._queue: deque[Reply] = deque()
        self._responder: Callable[[dict[str, Any]], Reply] | None = None
        self._lock = threading.Lock()
        self._cached_prefixes: set[str] = set()
        self._server = LocalThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def respond_with(self, responder: Callable[[dict[str, Any]], Reply]) -> None:
        self._responder = responder

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAnthropic:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self._responder is not None:
            return self._responder(body)
        return error_reply(
            500, "api_error", "FakeAnthropic: the test script ran out of replies", retry_after=None
        )

    def _usage(self, body: dict[str, Any], output_tokens: int) -> dict[str, int]:
        """Input tokens from the body's size; cached tokens for prefixes seen with cache_control before."""
        messages = body.get("messages", [])
        prefix_parts = [body.get("system"), body.get("tools")]
        cache_read = 0
        cache_write = 0
        total = len(json.dumps(body)) // 4
        for position in range(len(messages) + 1):
            prefix = json.dumps([*prefix_parts, _without_cache_marks(messages[:position])], sort_keys=True)
            key = hashlib.sha256(prefix.encode()).hexdigest()
            if key in self._cached_prefixes:
                cache_read = len(prefix) // 4
        marked_at = _last_marked_position(messages)
        if marked_at is not None:
            prefix = json.dumps(
                [*prefix_parts, _without_cache_marks(messages[: marked_at + 1])], sort_keys=True
            )
            key = hashlib.sha256(prefix.encode()).hexdigest()
            if key not in self._cached_prefixes:
                self._cached_prefixes.add(key)
                cache_write = max(0, len(prefix) // 4 - cache_read)
        return {
            "input_tokens": max(1, total - cache_read - cache_write),
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
        }


def _without_cache_marks(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_cache_marks(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_without_cache_marks(v) for v in value]
    return value


def _last_marked_position(messages: list[dict[str, Any]]) -> int | None:
    for position in range(len(messages) - 1, -1, -1):
        content = messages[position].get("content")
        if isinstance(content, list) and any(isinstance(b, dict) and "cache_control" in b for b in content):
            return position
    return None


def _handler_for(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # A response is written as headers, then body: on a connection kept open, Nagle's algorithm held the
        # body until the client acknowledged the headers, which it delays by 40 ms. Servers send at once.
        disable_nagle_algorithm = True

        def log_message(self, *_: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            request = RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            with fake._lock:
                fake.requests.append(request)
            if fake.latency_seconds:
                time.sleep(fake.latency_seconds)
            if not self.path.startswith("/v1/messages"):
                self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
                return
            reply = fake._next_reply(body)
            if reply.error_type:
                headers = {}
                if reply.retry_after is not None:
                    headers["retry-after-ms"] = str(int(reply.retry_after * 1000))
                    headers["retry-after"] = str(max(1, int(reply.retry_after)))
                error = {"type": "error", "error": {"type": reply.error_type, "message": reply.error_message}}
                self._json(reply.status, error, headers)
                return
            output_tokens = reply.output_tokens or max(1, len(json.dumps(reply.content)) // 4)
            with fake._lock:
                usage = fake._usage(body, output_tokens)
            message = {
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "type": "message",
                "role": "assistant",
                "model": body.get("model", "claude-test"),
                "content": reply.content,
                "stop_reason": reply.stop_reason,
                "stop_sequence": None,
                "usage": usage,
            }
            if body.get("stream"):
                self._stream(message, reply)
            else:
                self._json(200, message)

        def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", f"req_{uuid.uuid4().hex[:12]}")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, message: dict[str, Any], reply: Reply) -> None:
            # Chunked, as the real API sends it: a dropped connection is then a visible protocol error, where
            # a body delimited by closing the connection would read as complete. A whole stream leaves the
            # connection open for the next request, as the real API does (a new connection and a new thread of
            # this server for every model call cost the process under test a tenth of its CPU in a burst).
            cut = reply.cut_after_events is not None
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("transfer-encoding", "chunked")
            if cut:
                self.send_header("connection", "close")
            self.end_headers()
            # The events are ready at once (the latency was spent before): sent in one write, as separate
            # chunks. One write per event made this server's thread queue for the GIL of the process under
            # test a dozen times per answer.
            frames: list[bytes] = []
            for sent, (name, payload) in enumerate(_stream_events(message)):
                if reply.cut_after_events is not None and sent >= reply.cut_after_events:
                    break
                if reply.error_event_after is not None and sent >= reply.error_event_after:
                    error = {"type": reply.error_event_type, "message": "Overloaded"}
                    frames += [_chunk("error", {"type": "error", "error": error}), b"0\r\n\r\n"]
                    break
                frames.append(_chunk(name, payload))
            else:
                frames.append(b"0\r\n\r\n")
            self.wfile.write(b"".join(frames))
            self.close_connection = cut

    return Handler


def _chunk(name: str, payload: dict[str, Any]) -> bytes:
    """One server-sent event as one chunk of a chunked body."""
    data = f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(data), data)


def _chunks(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _stream_events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The real event order: message_start, per block start/deltas/stop, message_delta, message_stop."""
    usage = message["usage"]
    start_usage = {**usage, "output_tokens": 1}
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {**message, "content": [], "stop_reason": None, "usage": start_usage},
        },
    )
    yield "ping", {"type": "ping"}
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
            for piece in _chunks(block["text"], 12):
                delta = {"type": "text_delta", "text": piece}
                yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        else:
            start = {**block, "input": {}}
            yield (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
            for piece in _chunks(json.dumps(block["input"]), 9):
                delta = {"type": "input_json_delta", "partial_json": piece}
                yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    yield (
        "message_delta",
        {"type": "message_delta", "delta": delta, "usage": {"output_tokens": usage["output_tokens"]}},
    )
    yield "message_stop", {"type": "message_stop"}


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """A started fake Messages API, closed after the test."""
    with FakeAnthropic() as fake:
        yield fake
