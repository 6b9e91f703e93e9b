"""Socket Mode that acknowledges events as they arrive, on a socket that sends small frames without delay.

slack_sdk's built-in client hands each envelope to a worker pool that runs Bolt, and Bolt's answer is the
acknowledgement: under a burst, with answers in flight holding the GIL, acknowledgements queue behind the work
of the events before them. Slack wants them within 3 seconds and redelivers otherwise. An Events API
envelope's acknowledgement never carries a payload, so it is queued by the thread that reads the socket the
moment the envelope is read, and written by a thread of its own, those of a burst together; Bolt then handles
the event as before. Slash commands and interactions keep Bolt's acknowledgement, which may carry a response.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.frame_header import FrameHeader

# slack_sdk's own frame encoder (masked, as a client must), also behind Connection.send; that sends one frame.
from slack_sdk.socket_mode.builtin.internals import _build_data_frame_for_sending
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

log = logging.getLogger(__name__)

_EVENTS_API = "events_api"


class AckOnReceiptClient(SocketModeClient):
    """The built-in client, acknowledging Events API envelopes when read, with TCP_NODELAY on every socket."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._acks: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        threading.Thread(target=self._send_acks, name="slack-socket-acks", daemon=True).start()

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
        # Runs on the thread that reads the socket, before the envelope is queued for Bolt.
        envelope_id = _events_api_envelope_id(message)
        if envelope_id is not None:
            self._acks.put(envelope_id)
        super().enqueue_message(message)

    def close(self) -> None:
        # Envelopes read are acknowledged, so Slack will not redeliver them: stop reading, hand the ones still
        # queued to Bolt's workers, and only then close (which waits for those workers).
        self.auto_reconnect_enabled = False
        self.disconnect()
        while not self.message_queue.empty():
            self.process_message()  # type: ignore[no-untyped-call]
        self._acks.put(None)
        super().close()

    def _send_acks(self) -> None:
        """Send the acknowledgements queued by the reading thread, all those waiting in one write.

        One write per burst rather than one per envelope: each write lets the other threads (answers being
        started) take the GIL, and getting it back can take the interpreter's switch interval, 5 ms.
        """
        while True:
            envelope_ids = [self._acks.get()]
            while not self._acks.empty():
                envelope_ids.append(self._acks.get())
            frames = b"".join(
                _build_data_frame_for_sending(
                    json.dumps(SocketModeResponse(envelope_id=envelope_id).to_dict()), FrameHeader.OPCODE_TEXT
                )
                for envelope_id in envelope_ids
                if envelope_id is not None
            )
            if frames:
                self._write(frames, len(envelope_ids))
            if None in envelope_ids:
                return  # Closed.

    def _write(self, frames: bytes, count: int) -> None:
        session = self.current_session
        try:
            if session is None:
                raise ConnectionError("not connected")
            with session.sock_send_lock:
                if session.sock is None:
                    raise ConnectionError("the connection was closed")
                session.sock.sendall(frames)
        except OSError:  # Not acknowledged: Slack redelivers, and the claim drops the duplicates.
            log.warning("could not acknowledge %d envelope(s)", count, exc_info=True)


class AckOnReceiptHandler(SocketModeHandler):
    """Bolt's Socket Mode adapter over AckOnReceiptClient: events are not acknowledged a second time."""

    def __init__(self, app: App, *, app_token: str, receive_buffer_size: int, concurrency: int = 10) -> None:
        # Bolt's own __init__ would start a second, unused client (with its threads); set up ours instead.
        self.app = app
        self.app_token = app_token
        self.client = AckOnReceiptClient(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            proxy=app.client.proxy,
            ping_interval=10,  # Bolt's default for this client.
            receive_buffer_size=receive_buffer_size,
            concurrency=concurrency,
        )
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: Any, req: SocketModeRequest) -> None:
        if req.type == _EVENTS_API:
            run_bolt_app(self.app, req)
            return
        super().handle(client, req)


def _events_api_envelope_id(message: str) -> str | None:
    if not message.startswith("{"):
        return None
    try:
        envelope = json.loads(message)
    except ValueError:
        return None
    if not isinstance(envelope, dict) or envelope.get("type") != _EVENTS_API:
        return None
    envelope_id = envelope.get("envelope_id")
    return envelope_id if isinstance(envelope_id, str) else None
