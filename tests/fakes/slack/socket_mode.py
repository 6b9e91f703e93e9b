"""Socket Mode over a real WebSocket: tickets from apps.connections.open, hello, envelopes out, acks back."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection, serve

from tests.fakes.slack.records import Ack, SentEnvelope
from tests.fakes.slack.web_api import WebApiMethod
from tests.fakes.slack.workspace import Workspace


@dataclass
class _Connection:
    number: int
    ws: ServerConnection
    opened_at: float


class SocketModeServer:
    """The WebSocket server the app connects to; every envelope sent and every ack received is recorded."""

    def __init__(self, workspace: Workspace, *, ping_interval: float) -> None:
        self.workspace = workspace
        self.envelopes: list[SentEnvelope] = []
        self.acks: list[Ack] = []
        self.socket_threads: list[threading.Thread] = []
        self._tickets: set[str] = set()
        self._connections: list[_Connection] = []
        self._connections_accepted = 0
        self._round_robin = 0
        self._sent_by_id: dict[str, SentEnvelope] = {}
        # The builtin Socket Mode client never answers a close frame, so closing handshakes time out fast.
        self._ws = serve(
            self._serve,
            "127.0.0.1",
            0,
            process_request=self._check_ticket,
            close_timeout=0.5,
            ping_interval=ping_interval,
        )
        self._thread = threading.Thread(target=self._ws.serve_forever, name="fake-slack-socket", daemon=True)

    def table(self) -> dict[str, WebApiMethod]:
        return {"apps.connections.open": self.open_connection}

    def open_connection(self, _: dict[str, Any]) -> dict[str, Any]:
        """apps.connections.open: a WebSocket URL with a ticket the server will accept."""
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        app_id = self.workspace.app.app_id
        return {"url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={app_id}"}

    # ----------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        return int(self._ws.socket.getsockname()[1])

    def start(self) -> None:
        self._thread.start()

    def shutdown(self) -> None:
        """Stop accepting connections and drop the open ones."""
        with self.workspace.lock:
            connections = list(self._connections)
        self._ws.shutdown()
        for connection in connections:
            connection.ws.close_socket()

    def join(self) -> None:
        """Wait for the server thread and the threads that served each connection."""
        self._thread.join(timeout=5)
        with self.workspace.lock:
            threads = list(self.socket_threads)
        for thread in threads:
            thread.join(timeout=5)

    # ----------------------------------------------------------------- connections

    @property
    def open_connections(self) -> int:
        with self.workspace.lock:
            return len(self._connections)

    @property
    def connections_accepted(self) -> int:
        """Every Socket Mode connection ever accepted, reconnections included."""
        with self.workspace.lock:
            return self._connections_accepted

    def open_sockets(self) -> list[socket.socket]:
        """The TCP sockets under the open connections, oldest first."""
        with self.workspace.lock:
            return [connection.ws.socket for connection in self._connections]

    def wait_for_connections(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until at least `count` Socket Mode connections are open."""
        with self.workspace.changed:
            if not self.workspace.changed.wait_for(lambda: len(self._connections) >= count, timeout=timeout):
                raise AssertionError(
                    f"waited {timeout}s for {count} Socket Mode connection(s); {len(self._connections)} open"
                )

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

    # ----------------------------------------------------------------- envelopes and acks

    def deliver(self, envelope: dict[str, Any], connection: int | None) -> str:
        """Send an envelope to one connection (round robin, or the index among open ones); its id."""
        target = self._target(connection)
        sent = SentEnvelope(
            envelope["envelope_id"], envelope["type"], envelope, target.number, time.monotonic()
        )
        with self.workspace.lock:  # recorded before sending so that an early ack finds it
            self.envelopes.append(sent)
            self._sent_by_id[sent.envelope_id] = sent
        target.ws.send(json.dumps(envelope))
        return sent.envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        """Block until the app acknowledged that envelope."""

        def found() -> Ack | None:
            return next((ack for ack in self.acks if ack.envelope_id == envelope_id), None)

        with self.workspace.changed:
            if self.workspace.changed.wait_for(lambda: found() is not None, timeout=timeout):
                ack = found()
                assert ack is not None
                return ack
            acked = [ack.envelope_id for ack in self.acks]
        raise AssertionError(f"no ack for envelope {envelope_id} within {timeout}s; acked: {acked}")

    # ----------------------------------------------------------------- serving a connection

    def _target(self, connection: int | None) -> _Connection:
        with self.workspace.lock:
            if not self._connections:
                raise AssertionError("no Socket Mode connection is open; call wait_for_connections() first")
            if connection is None:
                target = self._connections[self._round_robin % len(self._connections)]
                self._round_robin += 1
                return target
            return self._connections[connection]

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        ticket = parse_qs(urlsplit(request.path).query).get("ticket", [""])[0]
        with self.workspace.lock:
            known = ticket in self._tickets
        return None if known else connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")

    def _serve(self, ws: ServerConnection) -> None:
        with self.workspace.lock:
            self.socket_threads.append(threading.current_thread())
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
                "connection_info": {"app_id": self.workspace.app.app_id},
            }
        connection = _Connection(number, ws, time.monotonic())
        try:
            ws.send(json.dumps(hello))
            with self.workspace.changed:
                self._connections.append(connection)
                self.workspace.changed.notify_all()
            for raw in ws:
                self._receive_from_app(connection, raw)
        except ConnectionClosed:
            pass
        finally:
            with self.workspace.changed:
                if connection in self._connections:
                    self._connections.remove(connection)
                self.workspace.changed.notify_all()

    def _receive_from_app(self, connection: _Connection, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if not isinstance(message, dict) or not message.get("envelope_id"):
            return
        now = time.monotonic()
        with self.workspace.changed:
            sent = self._sent_by_id.get(message["envelope_id"])
            latency = now - sent.sent_at if sent else float("nan")
            self.acks.append(Ack(message["envelope_id"], message.get("payload"), latency, connection.number))
            self.workspace.changed.notify_all()
