"""Renders one agent turn into its Slack thread: status while working, the answer streamed, then its table,
chart and controls. The agent's events in, Slack calls out; no agent logic here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from agent.event_redaction import EventRedactor
from agent.events import (
    AgentEvent,
    StatusChanged,
    TextDelta,
    TextRetracted,
    ToolFinished,
    ToolStarted,
    TurnFailed,
    TurnFinished,
)
from bot.observability.agent_events import MeteredSink
from bot.observability.structured_logs import LogFieldsToken, bind_log_fields, reset_log_fields
from bot.slack import messages
from bot.slack.answer_stream import AnswerStream
from bot.slack.posting import post_in_thread
from bot.slack.questions import SlackQuestion
from bot.slack.rendering.controls import answer_controls, error_blocks
from bot.slack.rendering.markdown import context_block, section_block
from bot.slack.rendering.tables import table_as_text, table_block, table_csv, table_fits, table_summary
from bot.slack.rendering.untrusted import UntrustedStream
from bot.slack.thread_status import ThreadStatus
from tools.artifacts import ArtifactRef
from tools.results import ResultTable

log = logging.getLogger(__name__)

# One answer reference must fit a button value (2,000 characters): the session and the turn's query call ids.
_MAX_REFERENCED_CALLS = 40


@dataclass
class _TurnOutputs:
    """What the turn produced besides text: shown after the answer."""

    table: ResultTable | None = None
    charts: list[ArtifactRef] = field(default_factory=list)
    query_call_ids: list[str] = field(default_factory=list)


class SlackThreadReply:
    """An agent EventSink for one question in one Slack thread."""

    def __init__(
        self, client: WebClient, question: SlackQuestion, session_id: str, *, use_streaming: bool = True
    ) -> None:
        self._client = client
        self._question = question
        self._session_id = session_id
        self._status = ThreadStatus(client, question.channel, question.thread_ts)
        self._answer = AnswerStream(client, question, use_streaming=use_streaming)
        self._outputs = _TurnOutputs()
        self._paragraph_break_pending = False
        # Where the model's current step began, to drop just its text when its stream is cut and asked again.
        self._step_start_chars = 0
        self._step_break_pending = False
        # The model's text arrives in pieces: a mention or link split across them is held until it closes.
        self._untrusted = UntrustedStream()
        self._redactor = EventRedactor()  # No secret is shown, even one cut between two pieces of text.
        self.answer_ts: str | None = None
        self._counted_render = MeteredSink(self._render_safely)
        self._log_fields: LogFieldsToken | None = None

    def __call__(self, event: AgentEvent) -> None:
        self._counted_render(event)

    def working(self) -> None:
        """Visible feedback the moment work starts, before the model says anything; from here until the turn
        ends, log records in this thread carry the question's team, channel, thread and turn ids."""
        question = self._question
        self._log_fields = bind_log_fields(
            team=question.team_id,
            channel=question.channel,
            thread=question.thread_ts,
            turn=question.message_ts,
            session=self._session_id,
        )
        log.info("answering a question")
        self._status.show(messages.STATUS_WORKING)

    def _render_safely(self, event: AgentEvent) -> None:
        try:
            for shown in self._redactor(event):
                self._render(shown)
        except SlackApiError as exc:
            # Slack kept failing after the client's retries; the turn goes on and the final post tries again.
            log.warning("Slack call failed while rendering %s: %s", event.type, exc.response.get("error"))
        if isinstance(event, TurnFinished | TurnFailed):
            self._turn_over(event)

    def _turn_over(self, event: TurnFinished | TurnFailed) -> None:
        outcome = "answered" if isinstance(event, TurnFinished) else f"failed ({event.error_kind})"
        log.info("question %s", outcome)
        if self._log_fields is not None:
            reset_log_fields(self._log_fields)
            self._log_fields = None

    def _render(self, event: AgentEvent) -> None:
        if isinstance(event, StatusChanged):
            self._status.show(event.status)
        elif isinstance(event, TextDelta):
            text = event.text
            if self._paragraph_break_pending and self._answer.started:
                text = "\n\n" + text
            self._paragraph_break_pending = False
            self._append(self._untrusted.push(text))
        elif isinstance(event, TextRetracted):
            self._untrusted.flush()  # What it still holds belongs to the step being taken back.
            self._answer.retract(self._step_start_chars)
            self._paragraph_break_pending = self._step_break_pending
        elif isinstance(event, ToolStarted):
            self._append(self._untrusted.flush())
            self._paragraph_break_pending = True
            self._step_start_chars = len(self._answer.text)
            self._step_break_pending = True
        elif isinstance(event, ToolFinished):
            self._collect(event)
        elif isinstance(event, TurnFinished):
            self._append(self._untrusted.flush())
            self._finish(self._answer.text if self._answer.started else event.text)
        elif isinstance(event, TurnFailed):
            self._append(self._untrusted.flush())
            self._fail(event)

    def _append(self, text: str) -> None:
        if text:
            self._answer.append(text)

    def _collect(self, event: ToolFinished) -> None:
        if event.is_error:
            return
        if event.table is not None:
            self._outputs.table = event.table  # The latest result is the one the answer is about.
        if event.artifact is not None and event.artifact.kind == "chart":
            self._outputs.charts.append(event.artifact)
        if event.sql and len(self._outputs.query_call_ids) < _MAX_REFERENCED_CALLS:
            self._outputs.query_call_ids.append(event.call_id)

    def _finish(self, text: str) -> None:
        self._status.stop()
        outputs = self._outputs
        reference = answer_reference(self._session_id, outputs.query_call_ids)
        controls = [answer_controls(reference, has_sql=bool(outputs.query_call_ids))]
        self.answer_ts = self._answer.finish(text.strip() or "Done.", controls)
        if outputs.table is not None:
            self._post_table(outputs.table)
        for chart in outputs.charts:
            self._upload(chart.path.read_bytes(), chart.path.name, chart.title)

    def _fail(self, event: TurnFailed) -> None:
        self._status.stop()
        # Some messages already name the reference; the notice shows it once, on its own line.
        message = event.message.replace(f"Reference: {event.reference}.", "").strip()
        text = f"{message} (reference {event.reference})"
        # An answer cut short is not an answer: the notice takes the place of what was written of it.
        self.answer_ts = self._answer.replace_with(text, [error_blocks(message, event.reference)])

    def _post_table(self, table: ResultTable) -> None:
        summary = table_summary(table)
        fits = table_fits(table)
        block = table_block(table)
        if block is not None:
            caption = summary if fits else messages.TABLE_TOO_LARGE.format(summary=summary)
            post_in_thread(
                self._client,
                self._question.channel,
                self._question.thread_ts,
                text=caption,
                variants=[
                    [context_block(caption), block],
                    [
                        context_block(messages.TABLE_AS_TEXT.format(summary=summary)),
                        section_block(table_as_text(table)),
                    ],
                ],
            )
        if not fits or table.truncated:
            self._upload(table_csv(table), f"{table.result_id}.csv", f"Result {table.result_id}: {summary}")

    def _upload(self, data: bytes, filename: str, title: str) -> None:
        try:
            self._client.files_upload_v2(
                channel=self._question.channel,
                thread_ts=self._question.thread_ts,
                content=data,
                filename=filename,
                title=title,
            )
        except SlackApiError as exc:
            log.warning("upload of %s failed: %s", filename, exc.response.get("error"))
            post_in_thread(
                self._client,
                self._question.channel,
                self._question.thread_ts,
                text=f"I made {title!r} but could not upload it ({exc.response.get('error')}).",
                variants=[],
            )


def answer_reference(session_id: str, query_call_ids: list[str]) -> str:
    """`session|call,call`: enough to find the answer's SQL again in the store, even after a restart."""
    return f"{session_id}|{','.join(query_call_ids)}"


def parse_answer_reference(reference: str) -> tuple[str, list[str]]:
    session_id, _, calls = reference.partition("|")
    return session_id, [call for call in calls.split(",") if call]
