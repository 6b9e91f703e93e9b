"""Investigate with the model: one bounded agent turn in the incident's thread, answered in a fixed shape.

The Investigate button (asked in the thread on the clicker's behalf) and every reply typed in an alert's thread run this same turn (`alert_thread_turn` picks
it: every reply in a thread an alert opened is about its incident, whatever it asks; guessing which words ask
why would miss most ways of asking); a direct `/command` there still runs as the command. Bounds: at most
`tool_rounds` rounds of tool calls and `tool_calls` calls in all (each runs at most one query; every tool is
read-only, SQL goes through the guard and the byte cap), at most `output_tokens` per reply, and `seconds` of wall
time, after which the turn is cancelled. The turn is stored in the thread's session like any other, and the
asker's budgets and audit apply (the runtime's governance).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.alerts.drill_down_turn import DrillDownTurn, DrillDownView
from agent.alerts.notices import INVESTIGATION_SHAPE
from agent.commands import is_direct_command
from agent.events import EventList, EventSink, TextDelta, ToolFinished, TurnFinished
from agent.llm import ModelClient
from agent.loop import Agent, Turn, TurnOutcome
from agent.sessions import SessionRecord
from agent.usage import Usage
from tools.registry import ToolContext, ToolOutput, ToolRegistry, ToolRun

if TYPE_CHECKING:
    from agent.alerts.runner import AlertRunner
    from agent.runtime import Runtime

QUESTION = "Why did this happen? Investigate the incident, splitting the metric by the model's dimensions."
# How often the turn looks whether its time is up or the answer was taken over elsewhere.
_WATCH_SECONDS = 0.2


@dataclass(frozen=True)
class InvestigationBounds:
    """How far one investigation may go."""

    tool_rounds: int = 4
    tool_calls: int = 8
    output_tokens: int = 1500
    seconds: float = 120.0

    def footer(self, queries: int) -> str:
        """What the investigation ran and within which bounds, in one line under the answer."""
        return (
            f"_Investigated with read-only tools: {queries} queries; bounds: {self.tool_rounds} rounds "
            f"of tool calls, {self.tool_calls} tool calls, {self.output_tokens} output tokens a reply, "
            f"{self.seconds:.0f} s._"
        )


@dataclass(frozen=True)
class Investigation:
    """The model's answer and what it ran."""

    text: str
    ok: bool
    queries: int
    output_tokens: int


class InvestigationTurn:
    """An investigation as a turn: `handle` answers like Agent.handle (events to the sink), with the footer."""

    def __init__(self, runtime: Runtime, bounds: InvestigationBounds | None = None) -> None:
        self._runtime = runtime
        self.bounds = bounds or InvestigationBounds()

    def run(
        self,
        session_id: str,
        question: str,
        sink: EventSink,
        *,
        author: str | None = None,
        cancel: threading.Event | None = None,
        stream: bool = False,
    ) -> Investigation:
        """One bounded turn in the thread's session, with the fixed shape added to the system prompt."""
        runtime, bounds = self._runtime, self.bounds
        settings = runtime.settings.model_copy(
            update={"max_tool_iterations": bounds.tool_rounds, "max_output_tokens": bounds.output_tokens}
        )
        agent = Agent(
            settings=settings,
            model=ModelClient(settings),  # Its own client: the output-token bound is the client's setting.
            store=runtime.store,
            registry=CallBudget(runtime.registry, bounds.tool_calls),
            tool_context=runtime.tool_context,
            system_prompt=lambda: f"{runtime.system_prompt()}\n\n{INVESTIGATION_SHAPE}",
            governance=runtime.governance,
        )
        queries = 0

        def counted(event: Any) -> None:
            nonlocal queries
            queries += _is_query(event)
            sink(event)

        stop, done = threading.Event(), threading.Event()
        watcher = threading.Thread(
            target=_watch, args=(stop, done, cancel, bounds.seconds), name="investigation-clock", daemon=True
        )
        watcher.start()
        try:
            outcome = agent.handle(session_id, question, counted, author=author, cancel=stop, stream=stream)
        finally:
            done.set()
        return Investigation(outcome.text, outcome.ok, queries, outcome.usage.output_tokens)

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
        """The turn for a reply in an alert's thread: the answer, then the footer naming what ran and the bounds."""
        events = EventList()

        def footed(event: Any) -> None:
            if isinstance(event, TurnFinished):
                # The footer counts the queries of this turn: known only now, so added as the answer ends.
                footer = self.bounds.footer(sum(_is_query(e) for e in events))
                sink(TextDelta(session_id=session_id, text=f"\n\n{footer}"))
                event = event.model_copy(update={"text": f"{event.text}\n\n{footer}"})
            events.append(event)
            sink(event)

        result = self.run(session_id, text, footed, author=author, cancel=cancel, stream=stream)
        finished = next((e for e in events if isinstance(e, TurnFinished)), None)
        if finished is None:
            return TurnOutcome(session_id, False, result.text, Usage())
        return TurnOutcome(session_id, True, finished.text, finished.usage)


class AlertThreadTurn:
    """A reply typed in an alert's thread: a direct `/command` runs as that command, as anywhere else (no model,
    no investigation footer); anything else is the thread's investigation."""

    def __init__(self, commands: Turn, investigation: Turn) -> None:
        self._commands = commands
        self._investigation = investigation

    def handle(
        self,
        session_id: str,
        text: str,
        sink: EventSink,
        *,
        author: str | None = None,
        cancel: threading.Event | None = None,
    ) -> TurnOutcome:
        """Answer with the command or with the investigation, whichever `text` is for."""
        turn = self._commands if is_direct_command(text) else self._investigation
        return turn.handle(session_id, text, sink, author=author, cancel=cancel)


def alert_thread_turn(runner: AlertRunner, session: SessionRecord, view: DrillDownView) -> Turn | None:
    """The turn for a reply in a thread an alert opened, or None elsewhere (the runtime's agent answers).

    With an API key the bounded investigation; without one the deterministic drill-down of the thread's
    incident, shown through the front door's `view` (None for an alert post from before incidents: nothing to
    split without a model).
    """
    metadata = session.metadata or {}
    if not metadata.get("alert"):
        return None
    runtime = runner.runtime
    investigation: Turn
    if runtime.settings.anthropic_api_key is not None:
        investigation = InvestigationTurn(runtime)
    else:
        incident = str(metadata.get("incident") or "")
        if not incident.isdigit():
            return None
        investigation = DrillDownTurn(runner, int(incident), view)
    return AlertThreadTurn(runtime.agent(), investigation)


class CallBudget(ToolRegistry):
    """The runtime's tools, refusing calls past `limit` in one turn: the model is told to answer with what it has."""

    def __init__(self, registry: ToolRegistry, limit: int) -> None:
        tools = [tool for name in registry.names() if (tool := registry.get(name)) is not None]
        super().__init__(tools)
        self._limit = limit
        self._calls = 0
        self._lock = threading.Lock()

    def execute(self, name: str, raw_input: dict[str, Any], context: ToolContext) -> ToolRun:
        with self._lock:
            self._calls += 1
            spent = self._calls > self._limit
        if spent:
            message = (
                f"The investigation's budget of {self._limit} tool calls is spent; this call was not run. "
                "Answer now, in the required shape, from the queries already run."
            )
            return ToolRun(name, raw_input, ToolOutput(content=message, summary=message, is_error=True), 0.0)
        return super().execute(name, raw_input, context)


def _watch(
    stop: threading.Event, done: threading.Event, cancel: threading.Event | None, seconds: float
) -> None:
    """Stop the turn when its time is up or when the front door cancels it; return once the turn is done."""
    deadline = time.monotonic() + seconds
    while not done.wait(_WATCH_SECONDS):
        if time.monotonic() >= deadline or (cancel is not None and cancel.is_set()):
            stop.set()
            return


def _is_query(event: Any) -> bool:
    """A query that ran: a tool call that finished with SQL and without error."""
    return isinstance(event, ToolFinished) and bool(event.sql) and not event.is_error
