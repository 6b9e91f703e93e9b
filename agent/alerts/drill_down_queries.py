"""Each query of a keyless drill-down as a tool run of its turn, as the agent reports a run_query call: a
ToolStarted/ToolFinished pair to the turn's sink (its governance audits the SQL, rows and bytes, and counts the
bytes before the next query's budget check) and the run kept with the session's tool runs ("Show SQL" reads them).

The ToolFinished carries no table: the drill-down's answer shows the splits itself, and a front end posts a
finished tool's table after the answer."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from agent.errors import StoreError
from agent.events import EventSink, ToolFinished, ToolStarted
from agent.store.conversations import ConversationStore
from agent.tool_records import record_tool_run
from tools.errors import ToolInputError
from tools.registry import ToolOutput, ToolRun
from tools.results import QueryResult
from tools.run_query import result_summary

log = logging.getLogger(__name__)

TOOL = "drill_down"


class ReportedQueries:
    """A drill-down's QueryWatch for one turn: runs each split's query and reports it as a tool run."""

    def __init__(self, session_id: str, sink: EventSink, store: ConversationStore) -> None:
        self._session_id = session_id
        self._sink = sink
        self._store = store

    def __call__(self, dimension: str, sql: str, run: Callable[[], QueryResult]) -> QueryResult:
        """Run one split's query between its ToolStarted and ToolFinished. A query the warehouse refuses
        (ToolInputError: the drill-down skips that split) finishes as an error; a spent budget or an outage
        raises on, ending the turn as it ends the agent's."""
        call_id = f"drill_{uuid.uuid4().hex[:10]}"
        tool_input = {"dimension": dimension, "sql": sql}
        self._sink(ToolStarted(session_id=self._session_id, call_id=call_id, tool=TOOL, input=tool_input))
        started = time.perf_counter()
        try:
            result = run()
        except ToolInputError as exc:
            failed = ToolOutput(content=exc.message, summary=exc.message, is_error=True, sql=sql)
            self._finished(call_id, ToolRun(TOOL, tool_input, failed, _since(started)))
            raise
        summary = f"{dimension}: {result_summary(result)}"
        output = ToolOutput(
            content=summary,
            summary=summary,
            sql=sql,
            rows=len(result.rows),
            bytes_scanned=result.bytes_scanned,
        )
        self._finished(call_id, ToolRun(TOOL, tool_input, output, _since(started)))
        return result

    def _finished(self, call_id: str, run: ToolRun) -> None:
        try:
            record_tool_run(self._store, self._session_id, call_id, run)
        # The query ran and counts for the turn either way; a take that lost its lease (TurnCancelled) stops here.
        except StoreError as exc:
            log.warning("could not keep a drill-down query with its thread's tool runs: %s", exc.message)
        self._sink(ToolFinished.from_run(self._session_id, call_id, run))


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
