"""FakeSlack: the fake workspace's parts wired together behind the one object tests talk to."""

from __future__ import annotations

import socket
from typing import Any

from tests.fakes.slack.app_methods import AppMethods
from tests.fakes.slack.chat_methods import ChatMethods
from tests.fakes.slack.conversation_methods import ConversationMethods
from tests.fakes.slack.directory import Directory
from tests.fakes.slack.envelopes import EnvelopeSender
from tests.fakes.slack.events import EventBuilder
from tests.fakes.slack.files import UPLOAD_ROUTE, FileUploads
from tests.fakes.slack.http_server import LocalHttpServer
from tests.fakes.slack.identity import AppIdentity
from tests.fakes.slack.messages import SlackMessage, UploadedFile
from tests.fakes.slack.records import Ack, ApiCall, ResponseUrlPost, SentEnvelope
from tests.fakes.slack.response_urls import RESPONSE_URL_ROUTE, ResponseUrls
from tests.fakes.slack.socket_mode import SocketModeServer
from tests.fakes.slack.streaming_methods import StreamingMethods
from tests.fakes.slack.user_methods import UserMethods
from tests.fakes.slack.web_api import WebApi
from tests.fakes.slack.workspace import Workspace


class FakeSlack:
    """A fake Slack workspace with one installed app; use as a context manager or call close()."""

    def __init__(self, *, streaming: bool = True, ping_interval: float = 0.5) -> None:
        """`streaming=False` plays a workspace without chat.*Stream; Slack pings sockets every few seconds,
        and the short default also lets the builtin client (blocked in recv up to 3 s) close quickly."""
        app = AppIdentity()
        self.streaming = streaming
        self.team_id, self.team_domain, self.app_id = app.team_id, app.team_domain, app.app_id
        self.bot_user_id, self.bot_id = app.bot_user_id, app.bot_id
        self.bot_token, self.app_token = app.bot_token, app.app_token
        self.signing_secret, self.verification_token = app.signing_secret, app.verification_token
        self._app = app
        self._workspace = workspace = Workspace(app)
        self._http = LocalHttpServer()
        self._socket_mode = SocketModeServer(workspace, ping_interval=ping_interval)
        self._streams = StreamingMethods(workspace)
        self._events = EventBuilder(workspace)
        self._response_urls = ResponseUrls(workspace, self._http.root)
        self._envelopes = EnvelopeSender(workspace, self._socket_mode, self._events, self._response_urls)
        uploads = FileUploads(workspace, self._http.root)
        self._users = UserMethods(workspace)
        # People and channels (users.info, conversations.info); tests add guests and outsiders to it.
        self.directory = Directory(app.team_id)
        methods = {
            **AppMethods(workspace).table(),
            **self._socket_mode.table(),
            **ChatMethods(workspace).table(),
            **self._streams.table(),
            **ConversationMethods(workspace).table(),
            **uploads.table(),
            **self._users.table(),
            **self.directory.table(),
        }
        self._web_api = WebApi(workspace, methods, streaming=streaming)
        # What the fake recorded, as lists that grow while the test runs.
        self.calls: list[ApiCall] = self._web_api.calls
        self.envelopes: list[SentEnvelope] = self._socket_mode.envelopes
        self.acks: list[Ack] = self._socket_mode.acks
        self.response_url_posts: list[ResponseUrlPost] = self._response_urls.posts
        # A test checks that close() ended every thread that served a connection.
        self._socket_threads = self._socket_mode.socket_threads
        self._http.start(
            {
                "/api/": self._web_api.answer,
                UPLOAD_ROUTE: uploads.receive_upload,
                RESPONSE_URL_ROUTE: self._response_urls.receive,
            }
        )
        self._socket_mode.start()

    # ----------------------------------------------------------------- addresses and lifecycle

    @property
    def http_root(self) -> str:
        return self._http.root

    @property
    def base_url(self) -> str:
        """The Web API root for WebClient(base_url=...)."""
        return f"{self.http_root}/api/"

    @property
    def socket_port(self) -> int:
        return self._socket_mode.port

    def close(self) -> None:
        """Stop both servers, drop open WebSocket connections and wait for the server threads."""
        self._socket_mode.shutdown()
        self._http.shutdown()
        self._http.join()
        self._socket_mode.join()

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ----------------------------------------------------------------- scripting the workspace

    def seed_thread(self, channel: str, thread_ts: str, messages: list[dict[str, Any]]) -> None:
        """Put existing messages (Slack message dicts; the first is the parent) into a thread's history."""
        self._workspace.seed_thread(channel, thread_ts, messages)

    def add_user(
        self, email: str, name: str, *, display_name: str | None = None, real_name: str | None = None
    ) -> str:
        """A workspace member users.lookupByEmail and users.list find; returns its user id."""
        return self._users.add_user(email, name, display_name=display_name, real_name=real_name)

    def fail_next(
        self,
        method: str,
        *,
        times: int = 1,
        status: int | None = None,
        retry_after: int = 1,
        error: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with a failure: by default HTTP 429 ratelimited
        with a Retry-After header; with `error` HTTP 200 {"ok": false, "error": error}; with 500 or 503
        a server error."""
        self._web_api.faults.fail_next(
            method, times=times, status=status, retry_after=retry_after, error=error
        )

    def expire_stream(self, channel: str, ts: str) -> None:
        """End a streamed message server-side, as Slack does after a few minutes."""
        self._streams.expire(channel, ts)

    # ----------------------------------------------------------------- inspection

    def messages(self, channel: str, thread_ts: str | None = None) -> list[SlackMessage]:
        """Messages the app posted (final state, deleted ones left out), in a channel or in one thread."""
        return self._workspace.messages(channel, thread_ts)

    def message(self, channel: str, ts: str) -> SlackMessage:
        """One message by its ts, deleted or not."""
        return self._workspace.message(channel, ts)

    def ephemeral_messages(self, channel: str, user: str | None = None) -> list[SlackMessage]:
        """Messages posted with chat.postEphemeral (or an ephemeral response_url answer)."""
        return self._workspace.ephemeral_messages(channel, user)

    def uploads(self, channel: str, thread_ts: str | None = None) -> list[UploadedFile]:
        """Files shared into a channel (or one thread of it) by files.completeUploadExternal."""
        return self._workspace.uploads(channel, thread_ts)

    def calls_to(self, method: str) -> list[ApiCall]:
        """Every call of `method` so far, failed ones included."""
        return self._web_api.calls_to(method)

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        """Block until `count` successful calls of `method` arrived; returns them."""
        return self._web_api.wait_for(method, count, timeout)

    def statuses(self, channel: str, thread_ts: str) -> list[str]:
        """Every status set with assistant.threads.setStatus in that thread, in order ("" clears it)."""
        return self._workspace.statuses_in(channel, thread_ts)

    def suggested_prompts(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """The prompts last set with assistant.threads.setSuggestedPrompts."""
        return self._workspace.suggested_prompts(channel, thread_ts)

    def home_view(self, user: str) -> dict[str, Any] | None:
        """The App Home view last published for a user."""
        return self._workspace.home_view(user)

    def response_url(
        self, channel: str, user: str, message_ts: str | None = None, thread_ts: str | None = None
    ) -> str:
        """A response_url this fake answers, as an interaction built by a test carries (the send_* builders make
        their own)."""
        return self._response_urls.new_url(channel, user, message_ts, thread_ts)

    def responses(self, channel: str | None = None) -> list[ResponseUrlPost]:
        """POSTs the app made to response_urls, optionally only those for one channel."""
        return self._response_urls.posts_for(channel)

    # ----------------------------------------------------------------- HTTP mode

    def signed_headers(
        self, body: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """Headers Slack signs an HTTP request with (v0 HMAC-SHA256 of "v0:{timestamp}:{body}")."""
        return self._app.signed_headers(body, timestamp=timestamp, secret=secret)

    # ----------------------------------------------------------------- event builders

    def app_mention(
        self, text: str, *, user: str, channel: str, ts: str | None = None, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """An app_mention event; the bot's mention is put in front of `text` unless it is already there."""
        return self._events.app_mention(text, user=user, channel=channel, ts=ts, thread_ts=thread_ts)

    def channel_message(
        self, text: str, *, user: str, channel: str, ts: str | None = None, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A message event in a public channel (channel_type "channel")."""
        return self._events.channel_message(text, user=user, channel=channel, ts=ts, thread_ts=thread_ts)

    def direct_message(
        self,
        text: str,
        *,
        user: str,
        channel: str | None = None,
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """A message event in the user's DM with the app (channel_type "im")."""
        return self._events.direct_message(text, user=user, channel=channel, ts=ts, thread_ts=thread_ts)

    def app_home_opened(self, user: str, tab: str = "messages", channel: str | None = None) -> dict[str, Any]:
        """An app_home_opened event; on the home tab it carries the view published for the user, if any."""
        return self._events.app_home_opened(user, tab, channel)

    def event_payload(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """The event_callback body Slack wraps an event in (sent as JSON in HTTP mode)."""
        return self._events.event_payload(event, event_id=event_id)

    # ----------------------------------------------------------------- Socket Mode

    @property
    def open_connections(self) -> int:
        return self._socket_mode.open_connections

    @property
    def connections_accepted(self) -> int:
        """Every Socket Mode connection ever accepted, reconnections included."""
        return self._socket_mode.connections_accepted

    def open_sockets(self) -> list[socket.socket]:
        """The TCP sockets under the open Socket Mode connections, for benchmarks that tune them."""
        return self._socket_mode.open_sockets()

    def wait_for_connections(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until at least `count` Socket Mode connections are open."""
        self._socket_mode.wait_for_connections(count, timeout)

    def send_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        connection: int | None = None,
    ) -> str:
        """Deliver an Events API envelope to one connection (round robin, or the index among open ones)."""
        return self._envelopes.send_event(
            event,
            event_id=event_id,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            connection=connection,
        )

    def broadcast_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> list[str]:
        """Deliver the same event (same event_id, new envelope ids) to every open connection."""
        return self._envelopes.broadcast_event(
            event, event_id=event_id, retry_attempt=retry_attempt, retry_reason=retry_reason
        )

    def send_slash_command(
        self, command: str, text: str = "", *, user: str, channel: str, connection: int | None = None
    ) -> str:
        """Deliver a slash command invocation (envelope type "slash_commands")."""
        return self._envelopes.send_slash_command(
            command, text, user=user, channel=channel, connection=connection
        )

    def send_block_action(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        channel: str,
        message_ts: str,
        thread_ts: str | None = None,
        connection: int | None = None,
    ) -> str:
        """Deliver a button click on a message (envelope type "interactive", payload type "block_actions")."""
        return self._envelopes.send_block_action(
            action_id,
            value,
            user=user,
            channel=channel,
            message_ts=message_ts,
            thread_ts=thread_ts,
            connection=connection,
        )

    def send_message_shortcut(
        self, callback_id: str, *, user: str, channel: str, message_ts: str, connection: int | None = None
    ) -> str:
        """Deliver a message shortcut used on the message at `message_ts` ("interactive", "message_action")."""
        return self._envelopes.send_message_shortcut(
            callback_id, user=user, channel=channel, message_ts=message_ts, connection=connection
        )

    def send_disconnect(self, connection: int | None = None, reason: str = "refresh_requested") -> None:
        """Ask a connection to reconnect, as Slack does before recycling a server ("warning" is the other)."""
        self._socket_mode.send_disconnect(connection, reason)

    def drop_connection(self, connection: int | None = None, *, graceful: bool = False) -> None:
        """Cut a connection: abruptly like a network failure, or with a close frame (1001) if graceful."""
        self._socket_mode.drop_connection(connection, graceful=graceful)

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        """Block until the app acknowledged that envelope."""
        return self._socket_mode.wait_for_ack(envelope_id, timeout)
