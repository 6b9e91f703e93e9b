"""Socket Mode that acknowledges events as they arrive, on a socket that sends small frames without delay.

slack_sdk's built-in client hands each envelope to a worker pool that runs Bolt, and Bolt's answer is the
acknowledgement: under a burst, with answers in flight holding the GIL, acknowledgements queue behind the work
of the events before them. Slack wants them within 3 seconds and redelivers otherwise. An Events API
envelope's acknowledgement never carries a payload, so it is sent by the thread that reads the socket, the
moment the envelope is read; Bolt then handles the event as before. Slash commands and interactions keep
Bolt's acknowledgement, which may carry a response.
"""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

log = logging.getLogger(__name__)

_EVENTS_API = "events_api"


class AckOnReceiptClient(SocketModeClient):
    """The built-in client, acknowledging Events API envelopes when read, with TCP_NODELAY on every socket."""

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
            try:
                self.send_socket_mode_response(SocketModeResponse(envelope_id=envelope_id))
            except Exception:  # Not acknowledged: Slack redelivers, and the claim drops the duplicate.
                log.warning("could not acknowledge envelope %s", envelope_id, exc_info=True)
        super().enqueue_message(message)

    def close(self) -> None:
        # Envelopes read are acknowledged, so Slack will not redeliver them: stop reading, hand the ones still
        # queued to Bolt's workers, and only then close (which waits for those workers).
        self.auto_reconnect_enabled = False
        self.disconnect()
        while not self.message_queue.empty():
            self.process_message()  # type: ignore[no-untyped-call]
        super().close()


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
