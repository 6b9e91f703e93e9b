"""Accepting Slack questions: queued at once, then claimed once, mapped to a session and answered on our pool."""

from __future__ import annotations

import logging
from datetime import timedelta

from slack_sdk import WebClient

from agent.errors import StoreError
from agent.governance.asker import asking_as
from agent.runtime import Runtime
from agent.sessions import SessionKey
from agent.unicode_text import valid_unicode
from bot.slack import messages
from bot.slack.audit_mirror import mirror_turn
from bot.slack.identity import SlackIdentity
from bot.slack.policy_admission import slack_asker
from bot.slack.posting import post_in_thread
from bot.slack.questions import SlackQuestion
from bot.slack.rendering.untrusted import plain_untrusted
from bot.slack.thread_context import with_thread_context
from bot.slack.thread_pool import ThreadOrderedPool
from bot.slack.thread_reply import SlackThreadReply

log = logging.getLogger(__name__)

# A claim this old that never finished belongs to a process that died mid-answer: a redelivery of the event
# (without an acknowledgement Slack retries at once, then about 1 and 5 minutes later) is answered then. Longer
# than any answer takes, so an answer still running is not repeated.
UNFINISHED_CLAIM_EXPIRY = timedelta(minutes=5)


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
        self._runtime = runtime
        self._client = client
        self._agent = runtime.agent()
        self._pool = ThreadOrderedPool(runtime.settings.slack_workers)
        self._use_streaming = use_streaming
        self.bot_user_id = bot_user_id
        self._identity = identity or SlackIdentity(client)

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    @property
    def client(self) -> WebClient:
        return self._client

    def has_session(self, session_key: SessionKey) -> bool:
        """Whether the bot already converses in this thread (so replies need no mention)."""
        # A question still waiting for a worker has no session yet, but its thread is the bot's.
        if self._pool.has_work(session_key):
            return True
        return self._runtime.sessions.find(session_key) is not None

    def accept(self, question: SlackQuestion) -> bool:
        """Queue an answer and return at once; True when queued (a duplicate delivery is dropped later).

        Listeners call this, so it touches no database: claiming the event and finding its session run on the
        answer pool, in the thread's order, and a burst of events is acknowledged without waiting on them.
        """
        if not self._pool.submit(question.session_key, lambda: self._claim_and_answer(question)):
            post_in_thread(
                self._client, question.channel, question.thread_ts, text=messages.SHUTTING_DOWN, variants=[]
            )
            return False
        return True

    def ask_on_behalf(self, *, team_id: str, channel: str, user: str, text: str) -> bool:
        """A question from a slash command or a button: posted as a new thread, then answered in it."""
        response = self._client.chat_postMessage(
            channel=channel,
            text=messages.ASKED_ON_BEHALF.format(user=user, text=plain_untrusted(valid_unicode(text))),
            unfurl_links=False,
        )
        ts = str(response["ts"])
        question = SlackQuestion(
            event_id=None,
            team_id=team_id,
            channel=str(response.get("channel") or channel),
            thread_ts=ts,
            message_ts=ts,
            user=user,
            text=text,
            is_direct_message=channel.startswith("D"),
        )
        return self.accept(question)

    def shutdown(self, grace_seconds: float) -> bool:
        """Stop taking questions; wait up to `grace_seconds` for answers in flight. True when all finished."""
        return self._pool.shutdown(grace_seconds)

    def _claim_and_answer(self, question: SlackQuestion) -> None:
        """Answer unless another delivery of the same message was taken; mark the claim finished after."""
        # Exactly once across redeliveries, restarts and processes: the database's unique key decides. The key
        # is the message, not the event: the same message also arrives as two event types (message and
        # app_mention), and Slack's retries of an event carry the same message.
        claim = f"slack-message:{question.team_id}:{question.channel}:{question.message_ts}"
        sessions = self._runtime.sessions
        try:
            if not sessions.claim(claim, unfinished_after=UNFINISHED_CLAIM_EXPIRY):
                log.info("duplicate delivery of %s ignored", question.event_id or question.message_ts)
                return
            existing = sessions.find(question.session_key)
            session = existing or sessions.open(
                question.session_key,
                metadata={
                    "team": question.team_id,
                    "channel": question.channel,
                    "thread_ts": question.thread_ts,
                },
            )
        except StoreError as exc:  # The store is away: say so in the thread; Slack's redelivery may retry.
            post_in_thread(self._client, question.channel, question.thread_ts, text=exc.message, variants=[])
            return
        self._answer(
            question, session.id, joined_mid_thread=existing is None and question.joins_existing_thread
        )
        sessions.finish_claim(claim)

    def _answer(self, question: SlackQuestion, session_id: str, *, joined_mid_thread: bool) -> None:
        reply = SlackThreadReply(self._client, question, session_id, use_streaming=self._use_streaming)
        reply.working()
        text = question.text
        if joined_mid_thread:
            text = with_thread_context(self._client, question, self.bot_user_id)
        with asking_as(slack_asker(self._identity, question, self._runtime)):
            outcome = self._agent.handle(session_id, text, reply, author=f"<@{question.user}>")
        mirror_turn(self._client, self._runtime.settings.slack_audit_channel, question, outcome)
