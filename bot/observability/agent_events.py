"""Model, tool and turn metrics read off the agent's typed events, so the agent itself stays metric-free."""

from __future__ import annotations

import time

from agent.events import AgentEvent, EventSink, ToolFinished, TurnFailed, TurnFinished, TurnStarted
from bot.observability.metrics import BotMetrics, bot_metrics


class MeteredSink:
    """An event sink that counts what it sees into `metrics`, then passes each event on to `inner`."""

    def __init__(self, inner: EventSink, metrics: BotMetrics | None = None) -> None:
        self._inner = inner
        self._metrics = metrics or bot_metrics()
        self._started: dict[str, float] = {}

    def __call__(self, event: AgentEvent) -> None:
        self.observe(event)
        self._inner(event)

    def observe(self, event: AgentEvent) -> None:
        """Count one event."""
        metrics = self._metrics
        if isinstance(event, TurnStarted):
            self._started[event.session_id] = time.monotonic()
        elif isinstance(event, ToolFinished):
            outcome = "error" if event.is_error else "ok"
            metrics.tool_duration.labels(event.tool, outcome).observe(event.duration_ms / 1000)
            if event.bytes_scanned:  # A drill-down's queries report their bytes without a table.
                metrics.warehouse_bytes.labels("scanned").inc(event.bytes_scanned)
            if event.table is not None and event.table.bytes_billed:
                metrics.warehouse_bytes.labels("billed").inc(event.table.bytes_billed)
        elif isinstance(event, TurnFinished):
            usage = event.usage
            metrics.model_calls.inc(usage.model_calls)
            metrics.model_tokens.labels("input").inc(usage.input_tokens)
            metrics.model_tokens.labels("output").inc(usage.output_tokens)
            metrics.model_tokens.labels("cache_read").inc(usage.cache_read_input_tokens)
            metrics.model_tokens.labels("cache_write").inc(usage.cache_creation_input_tokens)
            metrics.model_cost.inc(usage.cost_usd)
            self._turn_ended(event.session_id, "answered")
        elif isinstance(event, TurnFailed):
            self._turn_ended(
                event.session_id, "cancelled" if event.error_kind == "TurnCancelled" else "failed"
            )

    def _turn_ended(self, session_id: str, outcome: str) -> None:
        self._metrics.answers.labels(outcome).inc()
        started = self._started.pop(session_id, None)
        if started is not None:
            self._metrics.turn_duration.labels(outcome).observe(time.monotonic() - started)
