"""The agent: one turn of Claude's tool-use loop over the project's tools, every step stored."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from agent import user_messages
from agent.commands import is_direct_command, run_command
from agent.errors import MessageTooLong, MissingApiKeyError, TurnCancelled
from agent.events import (
    EventSink,
    StatusChanged,
    TextDelta,
    TextRetracted,
    ToolFinished,
    ToolStarted,
    TurnFailed,
    TurnFinished,
    TurnStarted,
)
from agent.governance.turns import TurnGovernance
from agent.history import conversation_for_model
from agent.llm import ModelClient, ModelReply
from agent.prompts import user_turn_text
from agent.settings import Settings
from agent.store.conversations import ConversationStore, StoredMessage
from agent.tool_calls import ToolCall, ToolResult
from agent.tool_records import record_tool_run
from agent.usage import Usage
from tools.errors import BlueprintError
from tools.registry import ToolContext, ToolRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnOutcome:
    """How a turn ended: the final answer's text, or the failure message shown to the user."""

    session_id: str
    ok: bool
    text: str
    usage: Usage
    # Why the policy or a budget refused something during the turn (set by its governance; no data in them).
    refusals: tuple[str, ...] = ()


class Turn(Protocol):
    """What answers a message in a session: the Agent, or a conversation's own kind of turn (an alert thread's
    investigation); every front door calls it the same way and renders the events it sends to `sink`."""

    def handle(
        self,
        session_id: str,
        text: str,
        sink: EventSink,
        *,
        author: str | None = None,
        cancel: threading.Event | None = None,
    ) -> TurnOutcome: ...


class Agent:
    """Answers one message in a session: a direct /command, or a conversation turn with Claude."""

    def __init__(
        self,
        *,
        settings: Settings,
        model: ModelClient,
        store: ConversationStore,
        registry: ToolRegistry,
        tool_context: Callable[[str | None], ToolContext],
        system_prompt: Callable[[], str],
        governance: TurnGovernance | None = None,
    ) -> None:
        self._settings = settings
        self._model = model
        self._store = store
        self._registry = registry
        # Per turn: tools get a context for the session; the prompt follows the project as it reloads.
        self._tool_context = tool_context
        self._system_prompt = system_prompt
        # Budgets before each model call and query, and the audit row of every turn; None in bare tests.
        self._governance = governance

    def handle(
        self,
        session_id: str,
        text: str,
        sink: EventSink,
        *,
        author: str | None = None,
        cancel: threading.Event | None = None,
        stream: bool = True,
    ) -> TurnOutcome:
        """Answer `text`; every outcome, including failures, is reported to `sink` as events."""
        if self._governance is not None:
            return self._governance.run_turn(
                session_id,
                text,
                sink,
                lambda observed: self._handle(
                    session_id, text, observed, author=author, cancel=cancel, stream=stream
                ),
                # Who asks and the audit are read from the store: when it is away, the turn fails as any does.
                fail=lambda exc: self._fail(session_id, sink, exc.message, kind=type(exc).__name__, exc=exc),
            )
        return self._handle(session_id, text, sink, author=author, cancel=cancel, stream=stream)

    def _handle(
        self,
        session_id: str,
        text: str,
        sink: EventSink,
        *,
        author: str | None,
        cancel: threading.Event | None,
        stream: bool,
    ) -> TurnOutcome:
        too_long = len(text) > self._settings.max_message_chars
        # A refused message is not echoed back whole: the event carries its first characters only.
        sink(TurnStarted(session_id=session_id, text=_title(text) if too_long else text))
        try:
            if too_long:
                limit = self._settings.max_message_chars
                raise MessageTooLong(user_messages.MESSAGE_TOO_LONG.format(length=len(text), limit=limit))
            if is_direct_command(text):
                self._store.set_title(session_id, _title(text), only_if_untitled=True)
                context = self._tool_context(session_id)
                answer, ok = run_command(self._registry, self._store, context, text.strip(), sink)
                return TurnOutcome(session_id, ok, answer, Usage())
            return self._converse(session_id, text, sink, author=author, cancel=cancel, stream=stream)
        except BlueprintError as exc:
            return self._fail(session_id, sink, exc.message, kind=type(exc).__name__, exc=exc)
        except Exception as exc:  # The user must hear back even when we have a bug.
            reference = failure_reference()
            log.exception("unexpected failure in turn (reference %s)", reference)
            message = user_messages.UNEXPECTED_ERROR.format(reference=reference)
            return self._fail(session_id, sink, message, kind="internal", exc=exc, reference=reference)

    def _fail(
        self,
        session_id: str,
        sink: EventSink,
        message: str,
        *,
        kind: str,
        exc: BaseException,
        reference: str | None = None,
    ) -> TurnOutcome:
        reference = reference or failure_reference()
        if not isinstance(exc, TurnCancelled):
            log.warning("turn failed (reference %s): %s", reference, kind)
        sink(TurnFailed(session_id=session_id, message=message, reference=reference, error_kind=kind))
        return TurnOutcome(session_id, False, message, Usage())

    def _converse(
        self,
        session_id: str,
        text: str,
        sink: EventSink,
        *,
        author: str | None,
        cancel: threading.Event | None,
        stream: bool,
    ) -> TurnOutcome:
        settings, model, store = self._settings, self._model, self._store
        if not model.configured:
            raise MissingApiKeyError(user_messages.MISSING_API_KEY)
        context = self._tool_context(session_id)
        system = self._system_prompt()
        tools = self._registry.anthropic_schemas()
        user_content = [{"type": "text", "text": user_turn_text(text, author)}]
        # Read once per turn; the turn's own messages are added to this list as they are stored, rather than
        # read back before every model call.
        history: list[StoredMessage] = store.history(session_id)
        history.append(
            store.append_message(
                session_id, role="user", content=user_content, author=author, session_title=_title(text)
            )
        )
        sink(StatusChanged(session_id=session_id, status="is thinking…"))

        usage = Usage()
        for iteration in range(settings.max_tool_iterations + 1):
            allow_tools = iteration < settings.max_tool_iterations
            messages = conversation_for_model(history, settings.history_token_budget)
            if self._governance is not None:
                self._governance.before_model_call(usage)
            reply = model.stream_reply(
                system=system,
                tools=tools,
                messages=messages,
                on_text=lambda delta: sink(TextDelta(session_id=session_id, text=delta)),
                cancel=cancel,
                allow_tools=allow_tools,
                stream=stream,
                on_retry=lambda: sink(TextRetracted(session_id=session_id)),
            )
            usage = usage + reply.usage
            stored_reply = store.append_message(
                session_id,
                role="assistant",
                content=reply.content,
                model=settings.model,
                usage=reply.usage,
                stop_reason=reply.stop_reason,
            )
            history.append(stored_reply)
            calls = reply.tool_calls()
            if not allow_tools or reply.stop_reason != "tool_use" or not calls:
                return self._finish(session_id, sink, reply, usage)
            results = [self._run_tool(session_id, call, context, sink, cancel).to_block() for call in calls]
            if iteration + 1 == settings.max_tool_iterations:
                limit_note = user_messages.TOOL_LIMIT_REACHED.format(limit=settings.max_tool_iterations)
                results.append({"type": "text", "text": limit_note})
            history.append(store.append_message(session_id, role="user", content=results))
            sink(StatusChanged(session_id=session_id, status="is thinking…"))
        raise AssertionError("unreachable: the last iteration always finishes")

    def _run_tool(
        self,
        session_id: str,
        call: ToolCall,
        context: ToolContext,
        sink: EventSink,
        cancel: threading.Event | None,
    ) -> ToolResult:
        if cancel is not None and cancel.is_set():
            raise TurnCancelled(user_messages.TURN_CANCELLED)
        registry = self._registry
        sink(StatusChanged(session_id=session_id, status=registry.status_line(call.name, call.input)))
        sink(ToolStarted(session_id=session_id, call_id=call.id, tool=call.name, input=call.input))
        run = registry.execute(call.name, call.input, context)
        record_tool_run(self._store, session_id, call.id, run)
        sink(ToolFinished.from_run(session_id, call.id, run))
        return ToolResult(call.id, run.output.content, run.output.is_error)

    def _finish(self, session_id: str, sink: EventSink, reply: ModelReply, usage: Usage) -> TurnOutcome:
        text = reply.text().strip()
        sink(TurnFinished(session_id=session_id, text=text, usage=usage, stop_reason=reply.stop_reason))
        return TurnOutcome(session_id, True, text, usage)


def _title(text: str) -> str:
    """A session's title from its first message: one line, at most 80 characters."""
    title = " ".join(text.split())
    return title if len(title) <= 80 else title[:79] + "…"


def failure_reference() -> str:
    """A short id for a failed turn, shown to the user and logged, to find the logs."""
    return uuid.uuid4().hex[:8]
