"""Investigate with the model: one bounded agent turn in the incident's thread, answered in a fixed shape.

Bounds: at most `tool_rounds` rounds of tool calls (every tool is read-only; SQL goes through the guard and the
byte cap), at most `output_tokens` per reply, and `seconds` of wall time, after which the turn is cancelled.
The turn is stored in the thread's session like any other, so a follow-up question continues from it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.alerts.notices import INVESTIGATION_SHAPE
from agent.events import EventList, ToolFinished
from agent.llm import ModelClient
from agent.loop import Agent

if TYPE_CHECKING:
    from agent.runtime import Runtime

QUESTION = "Why did this happen? Investigate the incident, splitting the metric by the model's dimensions."


@dataclass(frozen=True)
class InvestigationBounds:
    """How far one investigation may go."""

    tool_rounds: int = 4
    output_tokens: int = 1500
    seconds: float = 120.0


@dataclass(frozen=True)
class Investigation:
    """The model's answer and what it ran."""

    text: str
    ok: bool
    queries: int
    output_tokens: int


def investigate_with_model(
    runtime: Runtime, session_id: str, bounds: InvestigationBounds, question: str = QUESTION
) -> Investigation:
    """One bounded turn in the alert thread's session, with the fixed shape added to the system prompt."""
    settings = runtime.settings.model_copy(
        update={"max_tool_iterations": bounds.tool_rounds, "max_output_tokens": bounds.output_tokens}
    )
    agent = Agent(
        settings=settings,
        model=ModelClient(settings),  # Its own client: the output-token bound is the client's setting.
        store=runtime.store,
        registry=runtime.registry,
        tool_context=runtime.tool_context,
        system_prompt=lambda: f"{runtime.system_prompt()}\n\n{INVESTIGATION_SHAPE}",
    )
    cancel = threading.Event()
    timer = threading.Timer(bounds.seconds, cancel.set)
    timer.start()
    events = EventList()
    try:
        outcome = agent.handle(session_id, question, events, cancel=cancel, stream=False)
    finally:
        timer.cancel()
    queries = sum(1 for event in events if isinstance(event, ToolFinished) and event.sql)
    return Investigation(outcome.text, outcome.ok, queries, outcome.usage.output_tokens)
