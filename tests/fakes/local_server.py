"""The HTTP server class the fakes listen with."""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer
from typing import Any


class LocalThreadingHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server with a listen backlog like a real service's.

    socketserver's default backlog is 5: when three bot processes' workers connected at once, the kernel's
    accept queue overflowed (`nstat` TcpExtListenOverflows: 132 in one run of the three-replica test), and it
    then dropped handshakes (a client waits a second or more to retry) or, for a SYN cookie it no longer
    accepted, reset a connection the client already counted as open: a model or Slack call failed that no
    real service would have failed.
    """

    request_queue_size = 1024
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-answer (a process a test killed) is the client's doing, not the fake's
        # fault: printing its traceback buried real failures in the output.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)
