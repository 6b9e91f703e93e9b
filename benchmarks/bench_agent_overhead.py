"""The agent's own overhead per turn: a fake model that answers instantly, one trivial query, p50 and p95.

Each turn is a question on the demo project: the model asks for run_query with a tiny SQL, the agent checks and
runs it and stores everything, the model answers with text. The fake Messages API (tests/fakes) runs in this
process on a local socket and is spoken to by the real anthropic SDK, as in the tests.

Per turn we measure the wall time of Agent.handle and, inside it, the time spent
  - in the fake server's request handler (parsing, scripting the reply, writing it): not ours, excluded;
  - in Warehouse.execute_readonly (DuckDB running the query; also our row-cap rewrite, ~0.5 ms): excluded;
  - in ModelClient.stream_reply (our request preparation, the SDK, HTTP over loopback, SSE parsing and the
    fake server's handling), to split what is left into the model client and the rest of the agent.
Overhead = wall - fake server - warehouse: everything our process does for a turn apart from the model
thinking and the warehouse working, the SDK and its HTTP round trip included (a real API adds network
latency on top, which no code of ours can remove). The target applies to that figure.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import socket
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

from agent.events import AgentEvent, ToolFinished
from agent.llm import ModelClient, ModelReply
from agent.runtime import Runtime, build_runtime
from agent.settings import Settings
from tests.fakes.anthropic_api import FakeAnthropic, Reply, text_reply, tool_use_reply
from tools.results import QueryResult
from tools.warehouse.base import Warehouse
from tools.warehouse.dialects.base import WarehouseDialect

TURNS = 200
WARMUP_TURNS = 20
TURNS_PER_SESSION = 10  # A thread of ten questions: history grows as it does in real use, then a new thread.
TARGET_P50_MS = 20.0
# Spawned, not forked: the same on Linux and macOS, and no copy of this process's threads or connections.
_PROCESSES = multiprocessing.get_context("spawn")
TRIVIAL_SQL = 'SELECT order_date, revenue FROM "shop"."main"."daily_revenue" ORDER BY order_date DESC LIMIT 5'


class Stopwatch:
    """Seconds accumulated by timed sections, in any thread or in the fake server's process."""

    def __init__(self) -> None:
        self._seconds = _PROCESSES.Value("d", 0.0)

    @contextmanager
    def timing(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            with self._seconds.get_lock():
                self._seconds.value += elapsed

    def take(self) -> float:
        """The seconds accumulated since the last take."""
        with self._seconds.get_lock():
            seconds, self._seconds.value = self._seconds.value, 0.0
        return float(seconds)


class TimedWarehouse:
    """A warehouse that adds the time of every query to a stopwatch."""

    def __init__(self, inner: Warehouse, stopwatch: Stopwatch) -> None:
        self._inner = inner
        self._stopwatch = stopwatch

    @property
    def dialect(self) -> WarehouseDialect:
        return self._inner.dialect

    def execute_readonly(
        self, sql: str, *, max_rows: int, timeout_seconds: float, session_id: str | None = None
    ) -> QueryResult:
        with self._stopwatch.timing():
            return self._inner.execute_readonly(
                sql, max_rows=max_rows, timeout_seconds=timeout_seconds, session_id=session_id
            )

    def estimate_bytes(self, sql: str) -> int | None:
        return self._inner.estimate_bytes(sql)

    def close(self) -> None:
        self._inner.close()


class TimedModelClient(ModelClient):
    """The real model client, with the time of every call added to a stopwatch."""

    def __init__(self, settings: Settings, stopwatch: Stopwatch) -> None:
        super().__init__(settings)
        self._stopwatch = stopwatch

    def stream_reply(self, **request: Any) -> ModelReply:
        with self._stopwatch.timing():
            return super().stream_reply(**request)


def instrument_fake_server(fake: FakeAnthropic, stopwatch: Stopwatch) -> None:
    """Time the fake's request handling (parsed request to last byte written) and send without Nagle's delay."""
    # The fake has no hook for this; its handler class is swapped for a subclass on the running server.
    server = fake._server
    base: Any = server.RequestHandlerClass

    class TimedHandler(base):  # type: ignore[misc]
        def setup(self) -> None:
            super().setup()
            # The fake writes a JSON reply's headers and body in two sends; with Nagle's algorithm the body
            # waits for the client's delayed ACK, about 40 ms on Linux. Real API servers do not do that.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            with stopwatch.timing():
                super().do_POST()

    server.RequestHandlerClass = TimedHandler


def answer_instantly(body: dict[str, Any]) -> Reply:
    """Ask for the trivial query; once its result is back, answer with a sentence."""
    last = body["messages"][-1]["content"]
    if isinstance(last, list) and any(block.get("type") == "tool_result" for block in last):
        return text_reply("Revenue on the last five days was steady, between 1,800 and 2,300 a day.")
    return tool_use_reply("run_query", {"sql": TRIVIAL_SQL}, text="Let me check.")


def serve_fake_model(address: Connection, stop: EventType, server: Stopwatch) -> None:
    """In a child process: run the fake Messages API, send its URL, serve until `stop` is set."""
    with FakeAnthropic() as fake:
        fake.respond_with(answer_instantly)
        instrument_fake_server(fake, server)
        address.send(fake.base_url)
        stop.wait()


@contextmanager
def fake_model_process(server: Stopwatch) -> Iterator[str]:
    """The fake's base URL, served from another process so that its work never holds our GIL."""
    receiving, sending = _PROCESSES.Pipe(duplex=False)
    stop = _PROCESSES.Event()
    process = _PROCESSES.Process(target=serve_fake_model, args=(sending, stop, server), daemon=True)
    process.start()
    try:
        if not receiving.poll(30):
            raise SystemExit("the fake Messages API did not start within 30 s")
        yield str(receiving.recv())
    finally:
        stop.set()
        process.join(10)


@dataclasses.dataclass
class TurnTimes:
    """Milliseconds of one turn, by where they went."""

    wall: float
    server: float
    warehouse: float
    model_client: float

    @property
    def overhead(self) -> float:
        return self.wall - self.server - self.warehouse

    @property
    def agent(self) -> float:
        return self.wall - self.model_client - self.warehouse

    @property
    def client(self) -> float:
        return self.model_client - self.server


@dataclasses.dataclass
class Measurement:
    """The per-turn times of one mode."""

    mode: str
    turns: list[TurnTimes]

    def percentile(self, attribute: str, fraction: float) -> float:
        values = sorted(getattr(turn, attribute) for turn in self.turns)
        if fraction == 0.5:
            return float(statistics.median(values))
        return float(values[min(len(values) - 1, int(len(values) * fraction))])


class Bench:
    """A runtime on the demo project, a fake model and the stopwatches, in a temporary data dir."""

    def __init__(self, data_dir: Path, model_url: str, server: Stopwatch) -> None:
        self.server = server
        self.warehouse = Stopwatch()
        self.model_client = Stopwatch()
        settings = Settings.model_validate(
            {
                "data_dir": data_dir,
                "database_url": f"sqlite:///{data_dir / 'store.db'}",
                "anthropic_api_key": "bench-key",
                "anthropic_base_url": model_url,
                "llm_max_retries": 0,
            },
            by_name=True,
        )
        built = build_runtime(settings)
        self.runtime: Runtime = dataclasses.replace(
            built,
            model_client=TimedModelClient(settings, self.model_client),
            _warehouse=TimedWarehouse(built.warehouse(), self.warehouse),
        )
        self.agent = self.runtime.agent()

    def close(self) -> None:
        self.runtime.close()

    def turn(self, session_id: str, stream: bool) -> TurnTimes:
        failures: list[str] = []

        def sink(event: AgentEvent) -> None:
            if isinstance(event, ToolFinished) and event.is_error:
                failures.append(event.summary)

        for stopwatch in (self.server, self.warehouse, self.model_client):
            stopwatch.take()
        started = time.perf_counter()
        outcome = self.agent.handle(session_id, "How was revenue on the last five days?", sink, stream=stream)
        wall = time.perf_counter() - started
        if not outcome.ok or failures:
            raise SystemExit(f"benchmark turn failed: {outcome.text} {failures}")
        return TurnTimes(
            wall=wall * 1000,
            server=self.server.take() * 1000,
            warehouse=self.warehouse.take() * 1000,
            model_client=self.model_client.take() * 1000,
        )

    def measure(self, stream: bool, turns: int) -> Measurement:
        times = []
        session_id = ""
        for number in range(turns):
            if number % TURNS_PER_SESSION == 0:
                session_id = self.runtime.store.open_session(source="cli").id
            times.append(self.turn(session_id, stream))
        return Measurement("streaming" if stream else "non-streaming", times)


def measure_all(turns: int = TURNS, warmup: int = WARMUP_TURNS) -> list[Measurement]:
    """Streaming and non-streaming runs of `turns` turns each, after `warmup` unmeasured turns of each."""
    server = Stopwatch()
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as folder, fake_model_process(server) as url:
        bench = Bench(Path(folder), url, server)
        try:
            results = []
            for stream in (True, False):
                bench.measure(stream, warmup)
                results.append(bench.measure(stream, turns))
            return results
        finally:
            bench.close()


def main() -> None:
    measurements = measure_all()
    print(
        f"agent overhead per turn: {TURNS} turns per mode after {WARMUP_TURNS} warm-up turns, demo project, "
        f"threads of {TURNS_PER_SESSION} turns; each turn = 2 model calls + 1 run_query"
    )
    columns = [
        ("overhead", "overhead"),
        ("agent", "agent"),
        ("client", "model client"),
        ("server", "fake server"),
        ("warehouse", "warehouse"),
        ("wall", "wall"),
    ]
    print(f"{'ms per turn':<15}" + "".join(f"{title:>22}" for _, title in columns))
    for measurement in measurements:
        cells = "".join(
            f"{measurement.percentile(name, 0.5):>11.2f} / {measurement.percentile(name, 0.95):>7.2f}"
            for name, _ in columns
        )
        print(f"{measurement.mode + ' p50/p95':<15}{cells}")
    print(
        "overhead = wall - fake server - warehouse (the target's figure); it is agent + model client.\n"
        "agent = wall - model client - warehouse: our loop, prompts, history, SQLite store, tool dispatch, SQL "
        "guard, events.\n"
        "model client = our request building, the anthropic SDK and HTTP over loopback, minus the fake's "
        "handling; a real API adds network latency and thinking time on top.\n"
        "warehouse = Warehouse.execute_readonly: DuckDB, plus our row-cap rewrite and connection checkout "
        "(about 0.5 ms of ours, counted there).\n"
        "fake server and warehouse are excluded. The fake runs in a child process, with TCP_NODELAY set: "
        "without it each non-streaming reply waits ~40 ms for a delayed ACK."
    )
    for measurement in measurements:
        p50 = measurement.percentile("overhead", 0.5)
        verdict = "met" if p50 < TARGET_P50_MS else "NOT met"
        print(f"target p50 < {TARGET_P50_MS:.0f} ms, {measurement.mode}: {verdict} ({p50:.2f} ms)")


if __name__ == "__main__":
    main()
