"""The bot's Prometheus metrics, on a registry of their own (served at /metrics on the health port).

One `BotMetrics` per process (`bot_metrics()`), so any part of the Slack front door can count without being
handed an object; a test may build its own `BotMetrics` to start from zero. The agent never imports this:
model, tool and turn figures are derived from its typed events (bot/observability/agent_events.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

_PREFIX = "blueprintdata"
# Acks must stay well under Slack's 3 s; the buckets resolve the 1-50 ms range the benchmark targets.
_ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0)
_TURN_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)
_TOOL_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class BotMetrics:
    """Every metric the bot exposes; hooks for the event inbox are the `events_*`, `ack_*`, `inbox_*` and
    `leases_*` objects (increment or observe them where the inbox does that work)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._read_inbox: Callable[[], tuple[float, float]] | None = None

        # Slack events, from the socket or HTTP endpoint to the inbox.
        self.events_received = Counter(
            f"{_PREFIX}_slack_events_received", "Slack events received.", registry=registry
        )
        self.events_acked = Counter(
            f"{_PREFIX}_slack_events_acked", "Slack events acknowledged.", registry=registry
        )
        self.events_deduplicated = Counter(
            f"{_PREFIX}_slack_events_deduplicated",
            "Slack events dropped as a redelivery of one already taken.",
            registry=registry,
        )
        self.ack_latency = Histogram(
            f"{_PREFIX}_slack_ack_latency_seconds",
            "From reading an event to sending its acknowledgement.",
            buckets=_ACK_BUCKETS,
            registry=registry,
        )
        self.inbox_depth = Gauge(
            f"{_PREFIX}_inbox_depth", "Questions stored and not yet answered.", registry=registry
        )
        self.inbox_oldest_age = Gauge(
            f"{_PREFIX}_inbox_oldest_age_seconds",
            "Age of the oldest question not yet answered (0 when none).",
            registry=registry,
        )
        self.leases_taken_over = Counter(
            f"{_PREFIX}_inbox_leases_taken_over",
            "Expired leases on questions taken over from a process that stopped renewing them.",
            registry=registry,
        )

        # Answers and the agent's work, derived from its events.
        self.answers = Counter(
            f"{_PREFIX}_answers", "Questions answered, by outcome.", ["outcome"], registry=registry
        )
        self.turn_duration = Histogram(
            f"{_PREFIX}_turn_duration_seconds",
            "From a turn's start to its answer or failure.",
            ["outcome"],
            buckets=_TURN_BUCKETS,
            registry=registry,
        )
        self.model_calls = Counter(
            f"{_PREFIX}_model_calls", "Model replies received (one per step of a turn).", registry=registry
        )
        self.model_tokens = Counter(
            f"{_PREFIX}_model_tokens",
            "Model tokens, by kind: input, output, cache_read, cache_write.",
            ["kind"],
            registry=registry,
        )
        self.model_cost = Counter(
            f"{_PREFIX}_model_cost_usd", "Estimated model cost in US dollars.", registry=registry
        )
        self.tool_duration = Histogram(
            f"{_PREFIX}_tool_duration_seconds",
            "Tool run time, by tool and outcome (ok or error).",
            ["tool", "outcome"],
            buckets=_TOOL_BUCKETS,
            registry=registry,
        )
        self.warehouse_bytes = Counter(
            f"{_PREFIX}_warehouse_bytes",
            "Bytes the warehouse reported for queries, by kind: scanned, billed (BigQuery reports them).",
            ["kind"],
            registry=registry,
        )

        # The Slack Web API, counted by slack_sdk retry handlers (bot/observability/slack_calls.py).
        self.slack_retries = Counter(
            f"{_PREFIX}_slack_api_retries",
            "Slack Web API calls retried, by method and reason (rate_limited, server_error, connection_error).",
            ["method", "reason"],
            registry=registry,
        )
        self.slack_rate_limited = Counter(
            f"{_PREFIX}_slack_api_rate_limited",
            "Slack Web API answers with HTTP 429, by method.",
            ["method"],
            registry=registry,
        )

    def watch_inbox(self, read: Callable[[], tuple[float, float]]) -> None:
        """Refresh the inbox gauges at each scrape from `read()`: (depth, oldest age in seconds), both from one
        read of the store (it must be quick and thread-safe)."""
        self._read_inbox = read

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        if self._read_inbox is not None:
            depth, oldest_age_seconds = self._read_inbox()
            self.inbox_depth.set(depth)
            self.inbox_oldest_age.set(oldest_age_seconds)
        return generate_latest(self.registry)


_process_metrics: BotMetrics | None = None
_process_lock = threading.Lock()


def bot_metrics() -> BotMetrics:
    """This process's metrics, made on first use."""
    global _process_metrics
    with _process_lock:
        if _process_metrics is None:
            _process_metrics = BotMetrics()
        return _process_metrics
