"""Writing one answer into a thread while the model produces it: Slack's chat streaming where the workspace has
it, otherwise a message that is posted once and then updated."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.chat_stream import ChatStream

from bot.slack.posting import Blocks, post_in_thread, update_message
from bot.slack.questions import SlackQuestion
from bot.slack.rendering.markdown import (
    MARKDOWN_MESSAGE_LIMIT,
    answer_fallback_sections,
    answer_messages,
)

log = logging.getLogger(__name__)

# A streamed message shares the markdown limit of one message; keep headroom for the last flush.
STREAM_CHAR_LIMIT = MARKDOWN_MESSAGE_LIMIT - 1_000
STREAM_BUFFER_CHARS = 200
UPDATE_INTERVAL_SECONDS = 1.0


class AnswerStream:
    """Text in as it arrives, one finished answer out; never loses text when streaming is refused."""

    def __init__(self, client: WebClient, question: SlackQuestion, *, use_streaming: bool = True) -> None:
        self._client = client
        self._question = question
        self._use_streaming = use_streaming
        self._stream: ChatStream | None = None
        self._streamed_chars = 0
        self._placeholder_ts: str | None = None
        self._last_update = 0.0
        self.text = ""

    @property
    def started(self) -> bool:
        return bool(self.text)

    def append(self, delta: str) -> None:
        """Show more of the answer."""
        self.text += delta
        if self._use_streaming and self._streamed_chars + len(delta) <= STREAM_CHAR_LIMIT:
            try:
                self._stream_append(delta)
                return
            except (SlackApiError, SlackRequestError) as exc:
                # Streaming unavailable (older workspace, missing feature): fall back for the rest of the answer.
                log.info("chat streaming unavailable, posting and updating instead: %s", _error(exc))
                self._use_streaming = False
                self._stream = None
                self._streamed_chars = 0
        if not self._use_streaming:
            self._post_or_update_progress()

    def finish(self, markdown: str, controls: Blocks) -> str:
        """Show the whole answer, with `controls` under its last part; returns the ts of that last message."""
        if self._stream is not None and self._stream.ts is not None:
            return self._finish_stream(markdown, controls)
        messages = answer_messages(markdown) or [[]]
        sections = answer_fallback_sections(markdown) or [[]]
        first_ts = self._placeholder_ts
        last_ts = ""
        for position, blocks in enumerate(messages):
            is_last = position == len(messages) - 1
            extra = controls if is_last else []
            variants = [blocks + extra, (sections[position] if position < len(sections) else []) + extra]
            variants = [variant for variant in variants if variant]
            if position == 0 and first_ts is not None:
                last_ts = self._replace_message(first_ts, markdown, variants)
                continue
            last_ts = post_in_thread(
                self._client,
                self._question.channel,
                self._question.thread_ts,
                text=markdown,
                variants=variants,
            )
        return last_ts

    def retract(self, keep_chars: int) -> None:
        """Drop the text after its first `keep_chars` characters (a model stream was cut and is asked again).

        A streamed message can only grow, so it is closed and, from then on, updated in place: the thread keeps
        one message, which the next progress update and finish() rewrite.
        """
        if keep_chars >= len(self.text):
            return
        self.text = self.text[:keep_chars]
        if self._stream is not None:
            self._close_stream_for_updates()
        if self._placeholder_ts is None:
            # Nothing reached Slack yet (the stream only buffered): stream the kept text again from scratch.
            if self._use_streaming and self.text:
                self._stream_append(self.text)
            return
        self._use_streaming = False
        self._last_update = 0.0
        self._post_or_update_progress()

    def replace_with(self, text: str, variants: Sequence[Blocks]) -> str:
        """Show `text` instead of the answer: in its message when one was started, else as a new one."""
        if self._stream is not None:
            self._close_stream_for_updates()
        self.text = ""
        if self._placeholder_ts is not None:
            return self._replace_message(self._placeholder_ts, text, variants)
        return post_in_thread(
            self._client, self._question.channel, self._question.thread_ts, text=text, variants=variants
        )

    def _close_stream_for_updates(self) -> None:
        assert self._stream is not None
        if self._stream.ts is not None:
            try:
                self._stream.stop()
            except (SlackApiError, SlackRequestError) as exc:
                log.info("could not close the answer stream before rewriting it: %s", _error(exc))
            self._placeholder_ts = str(self._stream.ts)
        # Text only buffered in the stream never reached Slack; it is still in self.text.
        self._stream = None
        self._streamed_chars = 0

    def _replace_message(self, ts: str, text: str, variants: Sequence[Blocks]) -> str:
        """Rewrite our message `ts`; where Slack will not (every layout refused, or the edit refused), delete
        it and post anew, so the thread never shows the old text next to the new."""
        channel = self._question.channel
        try:
            if update_message(self._client, channel, ts, text=text, variants=variants):
                return ts
        except SlackApiError as exc:
            log.info("could not update message %s (%s); reposting it", ts, _error(exc))
        try:
            self._client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as exc:
            log.warning("could not delete message %s before reposting it: %s", ts, _error(exc))
        return post_in_thread(self._client, channel, self._question.thread_ts, text=text, variants=variants)

    def _stream_append(self, delta: str) -> None:
        if self._stream is None:
            self._stream = self._client.chat_stream(
                channel=self._question.channel,
                thread_ts=self._question.thread_ts,
                recipient_team_id=self._question.team_id or None,
                recipient_user_id=self._question.user,
                buffer_size=STREAM_BUFFER_CHARS,
            )
        self._stream.append(markdown_text=delta)
        self._streamed_chars += len(delta)

    def _finish_stream(self, markdown: str, controls: Blocks) -> str:
        assert self._stream is not None
        streamed = self.text[: self._streamed_chars] if self._streamed_chars else ""
        remainder = markdown[len(streamed) :] if markdown.startswith(streamed) else ""
        try:
            self._stream.stop(blocks=controls if not remainder.strip() else None)
        except (SlackApiError, SlackRequestError) as exc:
            log.warning("could not close the answer stream: %s", _error(exc))
        ts = str(self._stream.ts)
        if remainder.strip():
            # The rest of a very long answer goes in follow-up messages, never dropped.
            rest = AnswerStream(self._client, self._question, use_streaming=False)
            return rest.finish(remainder.lstrip(), controls)
        return ts

    def _post_or_update_progress(self) -> None:
        now = time.monotonic()
        if now - self._last_update < UPDATE_INTERVAL_SECONDS or len(self.text) > STREAM_CHAR_LIMIT:
            return
        self._last_update = now
        blocks: list[dict[str, Any]] = [{"type": "markdown", "text": self.text + " …"}]
        try:
            if self._placeholder_ts is None:
                self._placeholder_ts = post_in_thread(
                    self._client,
                    self._question.channel,
                    self._question.thread_ts,
                    text=self.text,
                    variants=[blocks],
                )
            else:
                update_message(
                    self._client,
                    self._question.channel,
                    self._placeholder_ts,
                    text=self.text,
                    variants=[blocks],
                )
        except SlackApiError as exc:
            # Progress is a courtesy; the final answer is posted in full by finish().
            log.info("progress update skipped: %s", _error(exc))


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return str(exc)
