"""The fake's HTTP server on 127.0.0.1: requests handed to routes by path prefix (/api/, /upload/, ...)."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.local_server import LocalThreadingHTTPServer


@dataclass(frozen=True)
class HttpRequest:
    """A request to the fake; a route sees `path` without the route's prefix."""

    path: str
    query: str
    content_type: str
    authorization: str
    body: bytes


@dataclass(frozen=True)
class HttpAnswer:
    """What a route answers."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, status: int, text: str) -> HttpAnswer:
        return cls(status, text.encode(), "text/plain; charset=utf-8")

    @classmethod
    def json(cls, status: int, payload: dict[str, Any], headers: dict[str, str]) -> HttpAnswer:
        return cls(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)


Route = Callable[[HttpRequest], HttpAnswer]


class LocalHttpServer:
    """A threading HTTP server on a free port of 127.0.0.1; GET and POST both go to the routes."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self._server = LocalThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-slack-http",
            daemon=True,
        )

    @property
    def root(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, routes: dict[str, Route]) -> None:
        """Serve `routes` (path prefix to route) from now on."""
        self.routes = routes
        self._thread.start()

    def shutdown(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    def join(self) -> None:
        self._thread.join(timeout=5)

    def answer(self, request: HttpRequest) -> HttpAnswer:
        """The answer of the route whose prefix the path starts with; 404 when none does."""
        for prefix, route in self.routes.items():
            if request.path.startswith(prefix):
                return route(dataclasses.replace(request, path=request.path.removeprefix(prefix)))
        return HttpAnswer.text(404, "not found")


def _handler_for(server: LocalHttpServer) -> type[BaseHTTPRequestHandler]:
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
            request = HttpRequest(
                path=url.path,
                query=url.query,
                content_type=self.headers.get("content-type") or "",
                authorization=self.headers.get("authorization") or "",
                body=self.rfile.read(length) if length else b"",
            )
            answer = server.answer(request)
            self.send_response(answer.status)
            self.send_header("content-type", answer.content_type)
            self.send_header("content-length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

    return Handler
