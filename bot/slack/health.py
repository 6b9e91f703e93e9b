"""A tiny HTTP endpoint for container and cluster probes (`GET /healthz`) and Prometheus (`GET /metrics`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.observability.metrics import BotMetrics, bot_metrics


class HealthServer:
    """/healthz answers 200 while `is_ready()` holds, 503 otherwise; /metrics the bot's metrics. A daemon thread."""

    def __init__(
        self,
        port: int,
        is_ready: Callable[[], bool],
        host: str = "0.0.0.0",
        *,
        metrics: BotMetrics | None = None,
    ) -> None:
        handler = _handler(is_ready, metrics or bot_metrics())
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(is_ready: Callable[[], bool], metrics: BotMetrics) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass  # Probes and scrapes every few seconds would drown the logs.

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/metrics":
                self._answer(200, metrics.exposition(), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ready = is_ready()
                self._answer(200 if ready else 503, b"ok\n" if ready else b"not ready\n", "text/plain")
            else:
                self.send_error(404)

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
