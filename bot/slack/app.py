"""The Slack front door: a Bolt app over the shared runtime, run in Socket Mode (default) or HTTP mode."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError

from agent.redaction import install_redaction
from agent.runtime import Runtime
from bot.alerts.configured import ConfiguredAlerts, alerts_enabled, load_configured_alerts
from bot.alerts.posting import SlackAlertNotifier
from bot.alerts.scheduler import AlertScheduler
from bot.alerts.thread_investigation import AlertThreadTurns
from bot.observability.inbox_gauges import watch_inbox
from bot.slack.answering import SlackAnswerer
from bot.slack.gate import AdmissionRule, EntryGate, from_a_person
from bot.slack.health import HealthServer
from bot.slack.http_intake import store_before_acknowledging
from bot.slack.identity import SlackIdentity
from bot.slack.listeners import register_listeners
from bot.slack.long_lived import freeze_long_lived_objects
from bot.slack.policy_admission import policy_admission
from bot.slack.pruning import StoreJanitor
from bot.slack.socket_mode import AckOnReceiptHandler, dispatch_stored
from bot.slack.web_client import build_web_client
from tools.errors import ConfigError

log = logging.getLogger(__name__)

# Listeners only enqueue, so Bolt's own pool stays small; claims and answers run on the answerer's pool.
_LISTENER_THREADS = 8
EVENTS_PATH = "/slack/events"
_SOCKET_RECEIVE_BUFFER_BYTES = 64 * 1024
# Slack redelivers an event for at most an hour or so: older claims and answered inbox rows only grow tables.
_RETENTION = timedelta(days=2)
_PRUNE_EVERY = timedelta(hours=1)
# Imported by the first answer otherwise (agent.llm defers it to keep CLI start-up fast): a server loads it
# before serving, so that its ~120,000 objects are frozen with the rest.
_SERVING_MODULES = ("anthropic",)


@dataclass
class SlackBot:
    """A Bolt app wired to the agent, and what it needs to shut down cleanly."""

    app: App
    answerer: SlackAnswerer
    runtime: Runtime
    alerts: ConfiguredAlerts
    _alert_scheduler: AlertScheduler | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)
    _stopped: threading.Event = field(default_factory=threading.Event)

    def start_socket_mode(self) -> SocketModeHandler:
        """Connect over Socket Mode without blocking; events flow until `stop()`."""
        settings = self.runtime.settings
        if settings.slack_app_token is None:
            raise ConfigError(
                "SLACK_APP_TOKEN is not set: create an app-level token with the connections:write scope "
                "(Basic Information → App-Level Tokens) and export SLACK_APP_TOKEN=xapp-..., "
                "or run `blueprintdata slack --http` with SLACK_SIGNING_SECRET."
            )
        handler = AckOnReceiptHandler(
            self.app,
            app_token=settings.slack_app_token.get_secret_value(),
            # An envelope is a few KiB; the 1 KiB default makes each one several reads on a busy process.
            receive_buffer_size=_SOCKET_RECEIVE_BUFFER_BYTES,
            store_envelopes=self.answerer.store_envelopes,
            dispatched=self.answerer.dispatched,
        )
        freeze_long_lived_objects(preload=_SERVING_MODULES)
        handler.connect()  # type: ignore[no-untyped-call]
        self._closers.insert(0, handler.close)
        return handler

    def start_http(self, port: int, host: str = "0.0.0.0") -> WSGIServer:
        """Serve the Events API at /slack/events (and /healthz) on a threaded WSGI server, in the background."""
        events = SlackRequestHandler(self.app, path=EVENTS_PATH)

        def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/healthz":
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"ok\n"]
            return events(environ, start_response)

        freeze_long_lived_objects(preload=_SERVING_MODULES)
        server = make_server(host, port, application, server_class=_ThreadingWSGIServer)
        threading.Thread(target=server.serve_forever, name="slack-http", daemon=True).start()
        self._closers.insert(0, server.shutdown)
        return server

    def serve_health(self, port: int, is_ready: Callable[[], bool]) -> HealthServer:
        health = HealthServer(port, is_ready).start()
        self._closers.append(health.close)
        return health

    def start_alerts(self) -> AlertScheduler | None:
        """Run the alerts on their schedules, when enabled (BLUEPRINTDATA_ALERTS_ENABLED)."""
        for problem in self.alerts.loaded.problems:
            log.warning("alert not loaded: %s", problem)
        if not alerts_enabled(self.runtime, self.alerts.loaded) or not self.alerts.loaded.alerts:
            return None
        self._alert_scheduler = self.alerts.scheduler()
        self._alert_scheduler.start()
        return self._alert_scheduler

    def run_until_signalled(self) -> None:
        """Block until SIGTERM or SIGINT, then stop gracefully."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._stopped.set())
        self._stopped.wait()
        self.stop()

    def stop(self) -> bool:
        """Stop taking events, let answers in flight finish (within the grace period), close connections."""
        self._stopped.set()
        if self._closers:
            # Close the event source first so no new question is accepted while we drain.
            self._closers[0]()
        if self._alert_scheduler is not None:
            self._alert_scheduler.shutdown(wait=True)
        grace = self.runtime.settings.slack_shutdown_grace_seconds
        finished = self.answerer.shutdown(grace)
        if not finished:
            log.warning("shutdown: answers still running after %.0f s were abandoned", grace)
        for close in self._closers[1:]:
            close()
        self._closers.clear()
        self.runtime.close()
        return finished


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of events on new connections overflowed it, and the
    # kernel dropped the handshakes past it (retried a second or more later, eating Slack's 3 s for the ack).
    request_queue_size = 1024


def build_slack_bot(
    runtime: Runtime,
    *,
    client: WebClient | None = None,
    http_mode: bool = False,
    admission_rules: Sequence[AdmissionRule] = (),
) -> SlackBot:
    """Wire the Bolt app: our web client (with rate-limit retries), the entry gate, listeners, the answerer.

    `admission_rules` run in the entry gate after the built-in ones (see bot/slack/gate.py).
    """
    settings = runtime.settings
    install_redaction(settings)  # Before anything is logged or posted: no secret reaches Slack or the logs.
    client = client or build_web_client(settings)
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if http_mode and not signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it "
            "(Basic Information → App Credentials → Signing Secret)."
        )
    bot_user_id = _bot_user_id(client, settings.slack_api_url)
    app = App(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=http_mode,
        token_verification_enabled=False,  # auth.test was just called above.
        listener_executor=ThreadPoolExecutor(_LISTENER_THREADS, thread_name_prefix="slack-listener"),
        ignoring_self_events_enabled=True,
    )
    identity = SlackIdentity(client)
    gate = EntryGate(
        [from_a_person(bot_user_id), policy_admission(runtime, identity, client), *admission_rules], client
    )
    answerer = SlackAnswerer(runtime, client, bot_user_id=bot_user_id, identity=identity)
    app.use(gate.middleware)
    if http_mode:  # Stored before the HTTP 200 that acknowledges it (Socket Mode stores on receipt).
        app.use(store_before_acknowledging(answerer.store_envelopes))
    watch_inbox(answerer.inbox)
    janitor = StoreJanitor(runtime.sessions, answerer.inbox, retention=_RETENTION, every=_PRUNE_EVERY)
    janitor.prune()  # At start too: a bot restarted often would otherwise never reach the first period.
    alerts = load_configured_alerts(runtime, SlackAlertNotifier(client, runtime.sessions))
    answerer.thread_turns = AlertThreadTurns(alerts, client)  # A reply in an alert's thread investigates.
    register_listeners(app, answerer, alerts)
    # Unfinished questions of earlier processes are answered from here on (their leases expired).
    answerer.start(lambda body: dispatch_stored(app, body))
    bot = SlackBot(app=app, answerer=answerer, runtime=runtime, alerts=alerts)
    bot._closers.append(janitor.start().stop)
    return bot


def _bot_user_id(client: WebClient, api_url: str) -> str | None:
    """Who the bot is (auth.test); Slack out of reach at start is one clear line, not a traceback."""
    try:
        return str(client.auth_test().get("user_id") or "") or None
    except (OSError, SlackRequestError) as exc:  # URLError, timeouts and refused connections are OSErrors.
        reason = getattr(exc, "reason", None) or exc
        raise ConfigError(
            f"Cannot reach Slack at {api_url} ({reason}). Check the network, or BLUEPRINTDATA_SLACK_API_URL if you set it."
        ) from None
