"""The fake workspace's state: messages, files, statuses, prompts and App Home views, behind one lock."""

from __future__ import annotations

import copy
import threading
from typing import Any

from tests.fakes.slack.api_shapes import message_json
from tests.fakes.slack.argument_checks import SlackApiError
from tests.fakes.slack.identity import AppIdentity
from tests.fakes.slack.ids import TimestampClock, ts_key
from tests.fakes.slack.messages import SlackMessage, UploadedFile


class Workspace:
    """Everything the fake remembers about the workspace; every part of the fake holds `lock` to change it.

    `changed` is notified whenever something a test may wait for arrived (a call, a connection, an ack).
    """

    def __init__(self, app: AppIdentity) -> None:
        self.app = app
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.clock = TimestampClock()
        self.history: dict[tuple[str, str], SlackMessage] = {}
        self.ephemeral: list[SlackMessage] = []
        self.files: dict[str, UploadedFile] = {}
        self.statuses: dict[tuple[str, str], list[str]] = {}
        self.prompts: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        # DM channels opened with conversations.open (the first open is no no_op).
        self.opened_dms: set[str] = set()

    # ----------------------------------------------------------------- changing it (lock held)

    def post(
        self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None
    ) -> SlackMessage:
        """A message from the app, added to the channel's history."""
        message = self._bot_message(channel, text, blocks, thread_ts)
        self.history[(channel, message.ts)] = message
        return message

    def post_ephemeral(
        self, channel: str, user: str, text: str, blocks: list[dict[str, Any]], thread_ts: str | None
    ) -> SlackMessage:
        """A message from the app that only `user` sees; it stays out of the channel's history."""
        message = self._bot_message(channel, text, blocks, thread_ts, ephemeral_to=user)
        self.ephemeral.append(message)
        return message

    def find(self, channel: str, ts: Any) -> SlackMessage:
        """A message that is still there; message_not_found otherwise."""
        message = self.history.get((channel, str(ts or "")))
        if message is None or message.deleted:
            raise SlackApiError("message_not_found")
        return message

    def find_own(self, channel: str, ts: Any, error: str) -> SlackMessage:
        """A message the app posted; `error` for one posted by someone else."""
        message = self.find(channel, ts)
        if message.origin != "api":
            raise SlackApiError(error)
        return message

    def render(self, message: SlackMessage) -> dict[str, Any]:
        """A message as Slack's API shows it."""
        parent = self.history.get((message.channel, message.thread_ts)) if message.thread_ts else None
        return message_json(message, self.app, parent)

    def seed_thread(self, channel: str, thread_ts: str, messages: list[dict[str, Any]]) -> None:
        """Put existing messages (Slack message dicts; the first is the parent) into a thread's history."""
        known = {"ts", "text", "user", "blocks", "thread_ts", "bot_id", "type", "files"}
        with self.lock:
            for position, raw in enumerate(messages):
                ts = raw.get("ts") or (thread_ts if position == 0 else self.clock.next_ts())
                self.clock.observe(ts)
                extra = {key: value for key, value in raw.items() if key not in known}
                message = SlackMessage(
                    channel=channel,
                    ts=ts,
                    text=raw.get("text", ""),
                    user=raw.get("user", ""),
                    blocks=list(raw.get("blocks", [])),
                    thread_ts=thread_ts,
                    bot_id=raw.get("bot_id"),
                    origin="seed",
                    extra=extra,
                )
                self.history[(channel, ts)] = message

    def _bot_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None,
        ephemeral_to: str | None = None,
    ) -> SlackMessage:
        return SlackMessage(
            channel=channel,
            ts=self.clock.next_ts(),
            text=text,
            user=self.app.bot_user_id,
            blocks=blocks,
            thread_ts=thread_ts,
            bot_id=self.app.bot_id,
            ephemeral_to=ephemeral_to,
        )

    # ----------------------------------------------------------------- reading it (copies, for tests)

    def messages(self, channel: str, thread_ts: str | None = None) -> list[SlackMessage]:
        """Messages the app posted (final state, deleted ones left out), in a channel or in one thread."""
        with self.lock:
            found = [
                message
                for message in self.history.values()
                if message.channel == channel
                and message.origin == "api"
                and not message.deleted
                and (thread_ts is None or thread_ts in (message.thread_ts, message.ts))
            ]
            return copy.deepcopy(sorted(found, key=lambda message: ts_key(message.ts)))

    def message(self, channel: str, ts: str) -> SlackMessage:
        """One message by its ts, deleted or not (KeyError when there never was one)."""
        with self.lock:
            return copy.deepcopy(self.history[(channel, str(ts))])

    def ephemeral_messages(self, channel: str, user: str | None = None) -> list[SlackMessage]:
        """Messages posted with chat.postEphemeral (or an ephemeral response_url answer)."""
        with self.lock:
            return copy.deepcopy(
                [
                    message
                    for message in self.ephemeral
                    if message.channel == channel and user in (None, message.ephemeral_to)
                ]
            )

    def uploads(self, channel: str, thread_ts: str | None = None) -> list[UploadedFile]:
        """Files shared into a channel (or one thread of it) by files.completeUploadExternal."""
        with self.lock:
            return copy.deepcopy(
                [
                    upload
                    for upload in self.files.values()
                    if upload.channel == channel and (thread_ts is None or upload.thread_ts == thread_ts)
                ]
            )

    def statuses_in(self, channel: str, thread_ts: str) -> list[str]:
        """Every status set with assistant.threads.setStatus in that thread, in order ("" clears it)."""
        with self.lock:
            return list(self.statuses.get((channel, thread_ts), []))

    def suggested_prompts(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """The prompts last set with assistant.threads.setSuggestedPrompts."""
        with self.lock:
            return copy.deepcopy(self.prompts.get((channel, thread_ts), []))

    def home_view(self, user: str) -> dict[str, Any] | None:
        """The App Home view last published for a user."""
        with self.lock:
            view = self.home_views.get(user)
            return copy.deepcopy(view) if view else None
