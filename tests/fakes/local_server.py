"""The HTTP server class the fakes listen with."""

from __future__ import annotations

from http.server import ThreadingHTTPServer


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
