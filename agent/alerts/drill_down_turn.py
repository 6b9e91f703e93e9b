"""The deterministic drill-down of an incident as a turn: what answers a reply in an alert's thread without an
API key. No model: read-only queries split the metric (agent.alerts.drilldown), and the front door words the
answer. The question and the answer are kept in the thread's history like any turn's, so a follow-up (a
`/command`, or the model once a key is set) sees what was found. It runs under the runtime's governance like
the agent's turns: each query is one of its tool runs (agent.alerts.drill_down_queries), in its audit row with
its SQL, rows and bytes, and the asker's budgets are checked before each query with what the earlier ones
scanned."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from agent.alerts.drill_down_queries import ReportedQueries
from agent.alerts.drilldown import DrillDown
from agent.alerts.incidents import StoredIncident
from agent.alerts.runner import AlertRunner
from agent.errors import StoreError, TurnCancelled
from agent.events import EventSink, StatusChanged, TurnFailed, TurnFinished, TurnStarted
from agent.governance.budgets import BudgetExceeded
from agent.loop import TurnOutcome, failure_reference
from agent.prompts import user_turn_text
from agent.usage import Usage
from tools.errors import BlueprintError

log = logging.getLogger(__name__)

CANNOT_INVESTIGATE = "I cannot investigate this: {reason}"
_SPLITTING = "is splitting the metric by each of its model's dimensions…"


class DrillDownView(Protocol):
    """How a front door shows a drill-down: the answer's text, and what follows once the answer is shown."""

    def text(self, incident: StoredIncident, drill: DrillDown) -> str:
        """The answer, in the fixed investigation shape, in the front door's markup."""
        ...

    def shown(self, drill: DrillDown) -> None:
        """After the answer: e.g. the leading split's chart."""
        ...


class DrillDownTurn:
    """The drill-down of one incident, answered as a turn (events to the sink, the exchange stored)."""

    def __init__(self, runner: AlertRunner, incident_id: int, view: DrillDownView) -> None:
        self._runner = runner
        self._incident_id = incident_id
        self._view = view

    def handle(
        self,
        session_id: str,
        text: str,
        sink: EventSink,
        *,
        author: str | None = None,
        cancel: threading.Event | None = None,
    ) -> TurnOutcome:
        """Split the incident's metric (read-only queries, bounded by the drill-down) and answer, as one
        governed turn (its audit row written however it ends)."""
        return self._runner.runtime.governance.run_turn(
            session_id,
            text,
            sink,
            lambda observed: self._answer(session_id, text, observed, author=author, cancel=cancel),
            # Who asks and the audit are read from the store: when it is away, the turn fails as any does.
            fail=lambda exc: _failed(session_id, sink, exc),
        )

    def _answer(
        self,
        session_id: str,
        text: str,
        sink: EventSink,
        *,
        author: str | None,
        cancel: threading.Event | None,
    ) -> TurnOutcome:
        sink(TurnStarted(session_id=session_id, text=text))
        sink(StatusChanged(session_id=session_id, status=_SPLITTING))
        drill: DrillDown | None = None
        try:
            # Each query is a tool run of this turn: audited, and counted by the next query's budget check.
            queries = ReportedQueries(session_id, sink, self._runner.runtime.store)
            asker = self._runner.runtime.governance.turn_principal()
            incident, drill = self._runner.investigate(self._incident_id, watch=queries, asker=asker)
        except BudgetExceeded as exc:
            # Refused before the query ran, told like any refused turn (the audit row says "refused").
            return _failed(session_id, sink, exc)
        except TurnCancelled:
            raise  # A take that lost its lease (storing a query's run) stops here; its successor answers.
        except BlueprintError as exc:
            answer = CANNOT_INVESTIGATE.format(reason=exc.message)
        else:
            answer = self._view.text(incident, drill)
        self._record(session_id, text, answer, author)
        sink(TurnFinished(session_id=session_id, text=answer))
        if drill is not None and (cancel is None or not cancel.is_set()):
            self._view.shown(drill)
        return TurnOutcome(session_id, drill is not None, answer, Usage())

    def _record(self, session_id: str, text: str, answer: str, author: str | None) -> None:
        """The exchange, in the thread's history as the agent stores a turn's question and final answer."""
        store = self._runner.runtime.store
        try:
            store.append_message(
                session_id,
                role="user",
                content=[{"type": "text", "text": user_turn_text(text, author)}],
                author=author,
            )
            store.append_message(session_id, role="assistant", content=[{"type": "text", "text": answer}])
        # The answer is worth giving even when the store cannot keep it. A take that lost its lease (TurnCancelled)
        # is not caught: it stops here, and the take that replaced it answers.
        except StoreError as exc:
            log.warning("could not keep a drill-down in its thread's history: %s", exc.message)


def _failed(session_id: str, sink: EventSink, exc: BlueprintError) -> TurnOutcome:
    """The turn ends without an answer, as the agent ends one: a TurnFailed naming the error's kind."""
    reference = failure_reference()
    log.warning("drill-down turn failed (reference %s): %s", reference, type(exc).__name__)
    sink(
        TurnFailed(
            session_id=session_id, message=exc.message, reference=reference, error_kind=type(exc).__name__
        )
    )
    return TurnOutcome(session_id, False, exc.message, Usage())
