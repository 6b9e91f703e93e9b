"""Typed events the agent emits while it works; front ends render them, tests collect them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.usage import Usage
from tools.artifacts import ArtifactRef
from tools.registry import ToolRun
from tools.results import ResultTable


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    session_id: str


class TurnStarted(_Event):
    """A turn began for `session_id`."""

    type: Literal["turn_started"] = "turn_started"
    text: str


class StatusChanged(_Event):
    """What the agent is doing now, in words ("is searching models…")."""

    type: Literal["status"] = "status"
    status: str


class TextDelta(_Event):
    """A piece of the answer as the model writes it."""

    type: Literal["text_delta"] = "text_delta"
    text: str


class TextRetracted(_Event):
    """The model's stream was cut and its reply is asked for again: drop the text of this step so far (all the
    text since the turn started or its last tool finished); the step's new text follows as TextDeltas."""

    type: Literal["text_retracted"] = "text_retracted"


class ToolStarted(_Event):
    """A tool call began."""

    type: Literal["tool_started"] = "tool_started"
    call_id: str
    tool: str
    input: dict[str, Any]


class ToolFinished(_Event):
    """A tool call ended, with what a front end may show: a table, a chart, the SQL."""

    type: Literal["tool_finished"] = "tool_finished"
    call_id: str
    tool: str
    is_error: bool
    summary: str
    duration_ms: float
    table: ResultTable | None = None
    artifact: ArtifactRef | None = None
    sql: str | None = None
    # What the run read, for the turn's budgets and audit row, whether or not a table is shown (the drill-down's
    # split queries report theirs without one: its answer shows the splits itself).
    rows: int | None = None
    bytes_scanned: int | None = None

    @classmethod
    def from_run(cls, session_id: str, call_id: str, run: ToolRun) -> ToolFinished:
        """The event for a finished tool run."""
        output = run.output
        return cls(
            session_id=session_id,
            call_id=call_id,
            tool=run.tool,
            is_error=output.is_error,
            summary=output.summary,
            duration_ms=run.duration_ms,
            table=output.table,
            artifact=output.artifact,
            sql=output.sql,
            rows=output.rows,
            bytes_scanned=output.bytes_scanned,
        )


class TurnFinished(_Event):
    """The final answer of a turn."""

    type: Literal["final"] = "final"
    text: str
    usage: Usage = Field(default_factory=Usage)
    stop_reason: str | None = None


class TurnFailed(_Event):
    """A turn ended without an answer; `message` is one line for the user, `reference` finds the logs."""

    type: Literal["failed"] = "failed"
    message: str
    reference: str
    error_kind: str


AgentEvent = Annotated[
    TurnStarted
    | StatusChanged
    | TextDelta
    | TextRetracted
    | ToolStarted
    | ToolFinished
    | TurnFinished
    | TurnFailed,
    Field(discriminator="type"),
]

EventSink = Callable[[AgentEvent], None]


class EventList(list[AgentEvent]):
    """An event sink that keeps every event, for tests and scripts."""

    def __call__(self, event: AgentEvent) -> None:
        self.append(event)

    def of_type(self, event_type: type[_Event]) -> list[AgentEvent]:
        return [event for event in self if isinstance(event, event_type)]
