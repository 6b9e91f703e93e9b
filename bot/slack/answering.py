"""Accepting Slack questions into the durable inbox, and answering them from it: once, and in thread order.

Every process sharing the conversation database answers from the same inbox: a question accepted by one may
be answered by another, and one whose process died mid-answer is taken over when its lease runs out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from agent.errors import StoreError
from agent.events import AgentEvent
from agent.governance.asker import asking_as
from agent.loop import Turn
from agent.runtime import Runtime
from agent.sessions import InboxEntry, InboxItem, InboxKind, LeaseLost, SessionRecord
from bot.observability.metrics import bot_metrics
from bot.slack.asked_on_behalf import AskedOnBehalf
from bot.slack.audit_mirror import mirror_turn
from bot.slack.identity import SlackIdentity
from bot.slack.policy_admission import slack_asker
from bot.slack.posting import post_in_thread
from bot.slack.private_origin import session_asked_in
from bot.slack.questions import SlackQuestion, received_inbox_entry
from bot.slack.reply_recording import ReplyRecordingClient
from bot.slack.thread_context import with_thread_context
from bot.slack.thread_pool import LeasedWorkers
from bot.slack.thread_reply import SlackThreadReply

log = logging.getLogger(__name__)

# An item taken this many times without being finished fails every time (or its event never reaches a
# listener): it is given up rather than retried forever.
_MAX_ATTEMPTS = 5
# A reply this soon after its thread began, in a thread not (yet) known to be ours, may follow a mention that
# another process is still storing: it is looked at again after a short delay rather than dropped.
_YOUNG_THREAD_SECONDS = 30.0
_RECHECK_AFTER_SECONDS = 2.0

Replay = Callable[[dict[str, Any]], bool]


# The turn for a thread whose replies are answered their own way (an alert's thread: an investigation), else None.
ThreadTurns = Callable[[SessionRecord], Turn | None]


class SlackAnswerer:
    """Turns accepted questions into agent turns; listeners call `accept` and return at once."""

    def __init__(
        self,
        runtime: Runtime,
        client: WebClient,
        *,
        bot_user_id: str | None,
        use_streaming: bool = True,
        identity: SlackIdentity | None = None,
    ) -> None:
        settings = runtime.settings
        self._runtime = runtime
        self._client = client
        self._identity = identity or SlackIdentity(client)
        self._agent = runtime.agent()
        self._use_streaming = use_streaming
        self.bot_user_id = bot_user_id
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.inbox = runtime.sessions.inbox(
            owner=owner, lease=timedelta(seconds=settings.slack_inbox_lease_seconds)
        )
        self._workers = LeasedWorkers(
            settings.slack_workers,
            take=self.inbox.take,
            run=self._work,
            renew=self.inbox.renew,
            release=self.inbox.release,
            lost=self._lost_lease,
            renew_seconds=min(settings.slack_inbox_renew_seconds, settings.slack_inbox_lease_seconds / 3),
        )
        self._replay: Replay | None = None
        self.thread_turns: ThreadTurns | None = None
        # Answers running here, by lease key: set when another take of the item replaced this one.
        self._taken_over: dict[tuple[int, int], threading.Event] = {}
        self._started = False

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    @property
    def client(self) -> WebClient:
        return self._client

    def start(self, replay: Replay) -> None:
        """Start answering from the inbox, unfinished work of earlier processes included.

        `replay` runs a stored event body through the app again (for events whose process died before its
        listener decided), returning whether the entry gate admitted it.
        """
        self._replay = replay
        if not self._started:
            self._started = True
            self._workers.start()

    def store_envelopes(self, envelopes: list[dict[str, Any]]) -> None:
        """Store arriving Events API envelopes that may be questions (before they are acknowledged)."""
        entries = [entry for e in envelopes if (entry := received_inbox_entry(e, self.bot_user_id))]
        self.inbox.receive(entries)

    def dispatched(self, body: dict[str, Any], admitted: bool) -> None:
        """The app ran an event: one the entry gate refused is no question (its listener decides the rest)."""
        if admitted:
            return
        entry = received_inbox_entry({"payload": body}, self.bot_user_id)
        if entry is not None:
            self.inbox.drop(entry.message_key, only_if_mine=True)

    def is_bots_thread(self, question: SlackQuestion) -> bool:
        """Whether the bot converses in this thread (so replies need no mention), judged from the thread: a
        session, or a question stored there before this message, even one whose listener has not run yet."""
        if self.inbox.conversation_is_ours(question.session_key, before=question.message_ts):
            return True
        return self._runtime.sessions.find(question.session_key) is not None

    def accept(
        self, question: SlackQuestion, kind: InboxKind = "mention", *, message_key: str | None = None
    ) -> bool:
        """Store the question to answer and return at once; False for a message accepted before. `message_key`:
        the key it was stored under before it was posted (a question asked on someone's behalf)."""
        entry = question.inbox_entry(kind, message_key=message_key)
        # A worker of ours waits: lease the question to this process as it is accepted (one write), and hand
        # it over. Otherwise any worker of any process takes it from the inbox.
        try:
            accepted = (
                self.inbox.accept_and_take(entry)
                if self._workers.has_idle_worker()
                else self.inbox.accept(entry)
            )
        except StoreError as exc:
            # Not stored, so not acknowledged either: Slack delivers it again. Meanwhile the person hears why.
            post_in_thread(self._client, question.channel, question.thread_ts, text=exc.message, variants=[])
            return False
        if accepted is False:
            log.info("duplicate delivery of %s ignored", question.event_id or question.message_ts)
            bot_metrics().events_deduplicated.inc()
            return False
        if accepted is True:
            self._workers.wake()
        else:
            self._workers.offer(accepted)
        return True

    def ignore(self, question: SlackQuestion) -> None:
        """A reply in a thread not known to be ours: dropped, or looked at again shortly if the thread is young
        (its mention may have reached another process, not stored yet)."""
        if question.thread_age_seconds < _YOUNG_THREAD_SECONDS and self.inbox.defer(
            question.message_key, seconds=_RECHECK_AFTER_SECONDS
        ):
            return
        self.inbox.drop(question.message_key)

    def ask_on_behalf(
        self,
        *,
        request: dict[str, Any],
        team_id: str,
        channel: str,
        user: str,
        text: str,
        thread_ts: str | None = None,
    ) -> bool:
        """A question from a slash command or a button (`request`, the interaction's body): stored, then posted
        (as a new thread, or in `thread_ts`), then answered in its thread like a typed question (the same turn,
        governance and audit mirror). False when it was not this call's to ask (asked before, or in hand).
        """
        asked = AskedOnBehalf.of(
            request, team_id=team_id, channel=channel, user=user, text=text, thread_ts=thread_ts
        )
        try:
            return self.ask_once(
                asked.held_entry(request), lambda again: asked.post_once(self._client, again=again)
            )
        except StoreError as exc:  # Not stored, so not posted (or stored, and left to the inbox): say why.
            self._client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=exc.message)
            return False

    def ask_once(self, held: InboxEntry, post: Callable[[bool], SlackQuestion]) -> bool:
        """Ask a question the bot posts itself, once whatever dies when: `held` (what runs the request again) is
        stored as received before `post` posts anything, and becomes the posted question only after. `post`
        is told whether this is a try again (an earlier one may have posted before dying: it looks first).
        False when it was not this call's to ask (asked before, or in hand elsewhere). StoreError when the
        store failed (anything stored is left to the inbox); SlackApiError when Slack refused to post (the
        request is then dropped: not to be tried again).

        Should this process die before the question is accepted, the inbox runs the request again here or
        elsewhere, which posts what this try did not (see asked_on_behalf.py).
        """
        held_now = self.inbox.hold(held)
        if held_now is None:
            return False
        try:
            question = post(held_now == "again")
        except SlackApiError:
            self.inbox.drop(held.message_key, only_if_mine=True)  # Slack refused it: not to be tried again.
            raise
        if not self.inbox.place(question.inbox_entry("asked", message_key=held.message_key)):
            return False  # Taken over meanwhile: the take that replays it finds the post.
        return self.accept(question, "asked", message_key=held.message_key)

    def shutdown(self, grace_seconds: float) -> bool:
        """Stop taking questions; wait up to `grace_seconds` for answers in flight. True when all finished.

        Questions not yet taken stay in the inbox for another process, or this one once restarted.
        """
        return self._workers.shutdown(grace_seconds)

    def _work(self, item: InboxItem) -> None:
        if item.attempts > _MAX_ATTEMPTS:
            if item.status == "received":  # Never found to be a question.
                self.inbox.drop(item.entry.message_key, only_if_mine=True)
                return
            log.error("inbox item %s given up after %d attempts", item.entry.message_key, item.attempts - 1)
            self.inbox.finish(item)
            return
        if item.status == "received":
            self._replay_received(item)
            return
        question = SlackQuestion.from_inbox_payload(item.entry.payload)
        if item.attempts > 1 and item.started_at is not None:
            bot_metrics().leases_taken_over.inc()  # Another process began it and stopped renewing its lease.
        taken_over = self._taken_over[item.lease_key] = threading.Event()
        try:
            # Every write this answer makes to the store is refused once another take replaced this one: a
            # worker that stalled past its lease and wakes up must not add to a history its successor cleaned up.
            with self.inbox.fenced(item, on_lost=taken_over.set):
                last_reply = self._answer(question, item, taken_over)
        except LeaseLost:
            last_reply = None
        finally:
            del self._taken_over[item.lease_key]
        if taken_over.is_set() or not self.inbox.finish(item, reply_ref=last_reply):
            log.warning("lost the lease of %s while answering it: taken over", item.entry.message_key)

    def _lost_lease(self, item: InboxItem) -> None:
        taken_over = self._taken_over.get(item.lease_key)
        if taken_over is not None:
            taken_over.set()

    def _replay_received(self, item: InboxItem) -> None:
        """An event stored by a process that died before its listener decided: run it through the app again."""
        if self._replay is None or not self._replay(item.entry.payload["body"]):
            self.inbox.drop(item.entry.message_key, only_if_mine=True)
        # Admitted: its listener accepts or ignores it; if neither, the lease runs out and it is tried again.

    def _answer(self, question: SlackQuestion, item: InboxItem, taken_over: threading.Event) -> str | None:
        """Answer in the thread; the ts of the last message the answer posted, if any. `taken_over` is set when
        another take of the item replaced this one: from then on nothing more is posted."""
        sessions = self._runtime.sessions
        try:
            existing = sessions.find(question.session_key)
            session = existing or sessions.open(
                question.session_key,
                metadata={
                    "team": question.team_id,
                    "channel": question.channel,
                    "thread_ts": question.thread_ts,
                },
            )
        except StoreError as exc:  # The store is away: say so in the thread rather than go silent.
            post_in_thread(self._client, question.channel, question.thread_ts, text=exc.message, variants=[])
            return None
        if item.attempts > 1 and item.started_at is not None:
            # A process died answering this: the thread must end with one answer, and the history with one
            # copy of the question.
            self._remove_partial_answer(question, item)
            sessions.discard_turn(session.id, item.turn)
        posted: list[str] = []

        def posted_while_held(ts: str) -> None:
            # Checked after the post: a take never comes back once replaced, so a post confirmed here was made
            # while this take held the item, before any successor read the thread to clean it up. A post made
            # after that is this worker's to take back.
            if taken_over.is_set() or not self.inbox.holds(item):
                taken_over.set()
                self._delete_message(question.channel, ts)
                return
            posted.append(ts)

        client = ReplyRecordingClient(self._client, posted_while_held)
        reply = SlackThreadReply(client, question, session.id, use_streaming=self._use_streaming)

        def render(event: AgentEvent) -> None:
            # Taken over, by a take that replaces what this one posted: post nothing more.
            if not taken_over.is_set():
                reply(event)

        reply.working()
        text = question.text
        if existing is None and question.joins_existing_thread:
            text = with_thread_context(self._client, question, self.bot_user_id)
        turn: Turn = (self.thread_turns(session) if self.thread_turns else None) or self._agent
        with asking_as(slack_asker(self._identity, question, self._runtime)):
            outcome = turn.handle(session.id, text, render, author=f"<@{question.user}>", cancel=taken_over)
        if taken_over.is_set():
            return None
        mirror_turn(
            self._client,
            self._runtime.settings.slack_audit_channel,
            question,
            outcome,
            asked_privately_from=session_asked_in(session, question.user)
            if question.is_direct_message
            else None,
        )
        return max(posted, key=_ts_key, default=None)

    def _delete_message(self, channel: str, ts: str) -> None:
        try:
            self._client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as exc:
            log.warning("could not delete a partial answer: %s", exc.response.get("error"))

    def _remove_partial_answer(self, question: SlackQuestion, item: InboxItem) -> None:
        """Delete what an interrupted answer posted: the bot's messages in the thread after the question and
        after the last reply of the thread's earlier answers (all finished before this one began; later
        questions of the thread wait for this one, so nothing after is theirs). The new answer replaces them.

        Messages carrying files are kept: the earlier answer's table or chart may come after its last reply.
        The thread is read first and the lease checked after: if it is still held then, no later take had
        posted anything yet, so what was read holds no successor's answer (a take never comes back once
        replaced, so a stale worker stops here).
        """
        boundary = max(
            question.message_ts,
            self.inbox.last_reply_before(question.session_key, before=question.message_ts) or "0",
            key=_ts_key,
        )
        try:
            replies = self._client.conversations_replies(
                channel=question.channel, ts=question.thread_ts, oldest=boundary
            )
        except SlackApiError as exc:
            log.warning(
                "could not read the thread to replace a partial answer: %s", exc.response.get("error")
            )
            return
        if not self.inbox.holds(item):
            raise LeaseLost(f"{question.message_key} was taken over before its partial answer was removed")
        for message in replies.get("messages") or []:
            ts = str(message.get("ts") or "")
            ours = message.get("user") == self.bot_user_id and not message.get("files")
            if ours and _ts_key(ts) > _ts_key(boundary):
                self._delete_message(question.channel, ts)


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds or 0), int(micros or 0)
