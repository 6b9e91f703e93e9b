"""Socket Mode that stores each event in the inbox, then acknowledges it, before Bolt runs it.

slack_sdk's built-in client hands each envelope to a worker pool that runs Bolt, and Bolt's answer is the
acknowledgement: under a burst, with answers in flight holding the GIL, acknowledgements queue behind the work
of the events before them. Slack wants them within 3 seconds and redelivers otherwise, and never again once
acknowledged: so an Events API envelope is acknowledged only once stored (a crash after the acknowledgement
then loses nothing). The thread that reads the socket queues each envelope; an intake thread takes all those
waiting, stores them in one transaction, acknowledges them in one write, and only then hands them to Bolt, in
the order read. Slash commands and interactions keep Bolt's acknowledgement, which may carry a response.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.request import BoltRequest
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.frame_header import FrameHeader

# slack_sdk's own frame encoder (masked, as a client must), also behind Connection.send; that sends one frame
# per call, and a burst's acknowledgements go in one write (see _take_in). It is private: it is pinned by
# tests/test_slack_inbox.py::test_the_private_frame_encoder_still_builds_a_masked_text_frame, which fails
# loudly on a slack_sdk that moves or changes it; then use Connection.send per acknowledgement instead.
from slack_sdk.socket_mode.builtin.internals import _build_data_frame_for_sending
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.observability.metrics import bot_metrics

log = logging.getLogger(__name__)

_EVENTS_API = "events_api"

StoreEnvelopes = Callable[[list[dict[str, Any]]], None]
Dispatched = Callable[[dict[str, Any], bool], None]


@dataclass(frozen=True)
class _Arrival:
    envelope_id: str
    envelope: dict[str, Any]
    raw: str
    read_at: float = field(default_factory=time.monotonic)


class AckOnReceiptClient(SocketModeClient):
    """The built-in client, storing then acknowledging Events API envelopes as read, with TCP_NODELAY."""

    def __init__(self, *, store_envelopes: StoreEnvelopes, **options: Any) -> None:
        super().__init__(**options)
        self._store_envelopes = store_envelopes
        self._arrivals: queue.SimpleQueue[_Arrival | None] = queue.SimpleQueue()
        self._intake = threading.Thread(target=self._take_in, name="slack-socket-intake", daemon=True)
        self._intake.start()

    def connect(self) -> None:
        # Called again on every reconnection, each time with a new socket.
        super().connect()
        session = self.current_session
        sock = session.sock if session is not None else None
        if sock is not None:
            # Acknowledgements are small frames sent back to back; with Nagle's algorithm each waits for the
            # server's ACK of the one before, up to 40 ms with delayed ACKs. slack_sdk sets this only behind a
            # proxy.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def enqueue_message(self, message: str) -> None:
        # Runs on the thread that reads the socket.
        arrival = _events_api_arrival(message)
        if arrival is None:
            super().enqueue_message(message)
            return
        self._arrivals.put(arrival)

    def close(self) -> None:
        # Envelopes read are stored and acknowledged, so Slack will not redeliver them: stop reading, let the
        # intake hand the ones still queued to Bolt's workers, and only then close (which waits for those).
        self.auto_reconnect_enabled = False
        self.disconnect()
        self._arrivals.put(None)
        self._intake.join(timeout=30)
        while not self.message_queue.empty():
            self.process_message()  # type: ignore[no-untyped-call]
        super().close()

    def _take_in(self) -> None:
        """Store, acknowledge and pass on the envelopes queued by the reading thread, all those waiting together.

        One transaction and one write per burst rather than per envelope: each write lets the other threads
        (answers being started) take the GIL, and getting it back can take the interpreter's switch interval.
        """
        while True:
            batch = [self._arrivals.get()]
            while not self._arrivals.empty():
                batch.append(self._arrivals.get())
            arrivals = [arrival for arrival in batch if arrival is not None]
            if arrivals:
                self._store_and_acknowledge(arrivals)
                for arrival in arrivals:
                    super().enqueue_message(arrival.raw)
            if None in batch:
                return  # Closed.

    def _store_and_acknowledge(self, arrivals: list[_Arrival]) -> None:
        metrics = bot_metrics()
        metrics.events_received.inc(len(arrivals))
        try:
            self._store_envelopes([arrival.envelope for arrival in arrivals])
        except Exception:
            # Not acknowledged: Slack redelivers them. They are still answered now if the store comes back.
            log.warning("could not store %d event(s); not acknowledged", len(arrivals), exc_info=True)
            return
        frames = b"".join(
            _build_data_frame_for_sending(
                json.dumps(SocketModeResponse(envelope_id=arrival.envelope_id).to_dict()),
                FrameHeader.OPCODE_TEXT,
            )
            for arrival in arrivals
        )
        if self._write(frames, len(arrivals)):
            metrics.events_acked.inc(len(arrivals))
            sent = time.monotonic()
            for arrival in arrivals:
                metrics.ack_latency.observe(sent - arrival.read_at)

    def _write(self, frames: bytes, count: int) -> bool:
        """Send the acknowledgements; False when the socket refused them."""
        session = self.current_session
        try:
            if session is None:
                raise ConnectionError("not connected")
            with session.sock_send_lock:
                if session.sock is None:
                    raise ConnectionError("the connection was closed")
                session.sock.sendall(frames)
        except OSError:  # Not acknowledged: Slack redelivers, and the inbox drops the duplicates.
            log.warning("could not acknowledge %d envelope(s)", count, exc_info=True)
            return False
        return True


class AckOnReceiptHandler(SocketModeHandler):
    """Bolt's Socket Mode adapter over AckOnReceiptClient: events are not acknowledged a second time.

    After Bolt ran an event, `dispatched(body, admitted)` says whether the entry gate let it through to a
    listener (an event it refused is then dropped from the inbox).
    """

    def __init__(
        self,
        app: App,
        *,
        app_token: str,
        receive_buffer_size: int,
        store_envelopes: StoreEnvelopes,
        dispatched: Dispatched,
        concurrency: int = 10,
    ) -> None:
        # Bolt's own __init__ would start a second, unused client (with its threads); set up ours instead.
        self.app = app
        self.app_token = app_token
        self._dispatched = dispatched
        self.client = AckOnReceiptClient(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            proxy=app.client.proxy,
            ping_interval=10,  # Bolt's default for this client.
            receive_buffer_size=receive_buffer_size,
            concurrency=concurrency,
            store_envelopes=store_envelopes,
        )
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: Any, req: SocketModeRequest) -> None:
        if req.type == _EVENTS_API:
            request = BoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req))
            self.app.dispatch(request)
            self._dispatched(req.payload, "entry" in request.context)
            return
        super().handle(client, req)


def dispatch_stored(app: App, body: dict[str, Any]) -> bool:
    """Run a stored Events API body through Bolt again (its process died first); True when the gate admitted it."""
    request = BoltRequest(mode="socket_mode", body=body)
    app.dispatch(request)
    return "entry" in request.context


def _events_api_arrival(message: str) -> _Arrival | None:
    if not message.startswith("{"):
        return None
    try:
        envelope = json.loads(message)
    except ValueError:
        return None
    if not isinstance(envelope, dict) or envelope.get("type") != _EVENTS_API:
        return None
    envelope_id = envelope.get("envelope_id")
    return _Arrival(envelope_id, envelope, message) if isinstance(envelope_id, str) else None
