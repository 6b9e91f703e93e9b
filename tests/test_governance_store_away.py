"""A governed turn whose asker cannot be read (the store is away) ends with its caller's own failure, before any
of its work runs: the agent's TurnFailed and the alert drill-down's, each with the store's one clear line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from agent import user_messages
from agent.alerts.drill_down_turn import DrillDownTurn
from agent.alerts.drilldown import DrillDown
from agent.alerts.incidents import StoredIncident
from agent.alerts.runner import AlertRunner
from agent.errors import StoreError
from agent.events import EventList, EventSink, TurnFailed
from agent.loop import TurnOutcome
from agent.runtime import Runtime
from agent.sessions import SessionKey
from agent.usage import Usage
from tools.errors import BlueprintError


@contextmanager
def store_away(runtime: Runtime, folder: Path) -> Iterator[None]:
    """The SQLite store's folder moved away: every new connection fails until it is back."""
    runtime.engine.dispose()  # Pooled connections would keep the moved file open.
    moved = folder.with_name(f"{folder.name}-away")
    folder.rename(moved)
    try:
        yield
    finally:
        runtime.engine.dispose()
        moved.rename(folder)


class UnusedView:
    """A drill-down that never gets as far as its answer."""

    def text(self, incident: StoredIncident, drill: DrillDown) -> str:
        raise AssertionError("the drill-down ran although its asker was unknown")

    def shown(self, drill: DrillDown) -> None:
        raise AssertionError("the drill-down ran although its asker was unknown")


def only_failure(events: EventList) -> TurnFailed:
    [event] = events
    assert isinstance(event, TurnFailed)
    return event


def test_run_turn_ends_with_the_callers_failure_when_the_store_is_away(
    make_runtime: Callable[..., Runtime], tmp_path: Path
) -> None:
    folder = tmp_path / "store"
    runtime = make_runtime(database_url=f"sqlite:///{folder / 'store.db'}")
    session = runtime.sessions.open(
        SessionKey.new_terminal()
    )  # A terminal session: who asks is read from it.
    failures: list[BlueprintError] = []

    def fail(exc: BlueprintError) -> TurnOutcome:
        failures.append(exc)
        return TurnOutcome(session.id, False, exc.message, Usage())

    def handle(_sink: EventSink) -> TurnOutcome:
        raise AssertionError("the turn ran although its asker was unknown")

    with store_away(runtime, folder):
        outcome = runtime.governance.run_turn(session.id, "how many orders?", EventList(), handle, fail=fail)
        agent_events = EventList()
        agent_outcome = runtime.agent().handle(session.id, "/search revenue", agent_events)
        drill_events = EventList()
        drill_outcome = DrillDownTurn(AlertRunner(runtime), 1, UnusedView()).handle(
            session.id, "why?", drill_events
        )

    [failure] = failures
    assert isinstance(failure, StoreError) and failure.message == user_messages.STORE_UNREACHABLE
    assert not outcome.ok and outcome.text == user_messages.STORE_UNREACHABLE
    for events, turn_outcome in ((agent_events, agent_outcome), (drill_events, drill_outcome)):
        failed = only_failure(events)  # No TurnStarted: nothing of the turn ran.
        assert failed.error_kind == "StoreError" and failed.message == user_messages.STORE_UNREACHABLE
        assert not turn_outcome.ok and turn_outcome.text == user_messages.STORE_UNREACHABLE
    # Back: the next turn runs and is audited.
    assert runtime.agent().handle(session.id, "/search revenue", EventList()).ok
    assert [row.outcome for row in runtime.governance.audit.entries()] == ["answered"]
