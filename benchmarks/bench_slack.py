"""The Slack bot under load: ack latency in a burst, time to first feedback, overhead per answered question.

The real bot (build_runtime + build_slack_bot, Socket Mode, real slack_bolt and slack_sdk) runs in this process
against the fake Slack and the fake Messages API of tests/fakes (the real anthropic SDK speaks to it over a
local socket), on the demo project with a temporary data dir and SQLite store. One warm-up question first.

1. Ack latency: 100 app_mention events sent back to back, each in its own thread, while the model takes 2 s
   per call, so answers are in flight while the events are acknowledged. The fake measures each ack from just
   before it writes the envelope to the socket to the moment the ack arrives. The sending loop shares this
   process (and its GIL) with the bot: left alone, the bot's first answers slow the loop down and the burst
   spreads over up to half a second, a gentler load from one run to the next. So on Linux the fake's socket is
   corked (TCP_CORK) while the loop writes, and the envelopes reach the bot together, as a burst from Slack
   would; the latencies include the loop's few ms.
2. First visible feedback: 5 questions in 5 threads with a model taking 5 s; from the envelope being written to
   the first assistant.threads.setStatus call for that thread arriving at the fake.
3. Overhead ratio: 10 questions one after another, each answered with one run_query (SELECT 1) and a text
   answer, the model taking 1 s per call. Wall = envelope written -> arrival of the call that posts the answer
   (chat.stopStream of its stream, or chat.postMessage when the answer is posted whole). Model = 2 x 1 s, the
   fake's sleep; the fake's own handling (building and streaming the reply) is counted as ours. Warehouse = the
   run's duration as stored (store.tool_runs): the whole tool call, DuckDB plus our SQL guard and result
   shaping, 3-5 ms in all with SELECT 1. It is read back from the store rather than by wrapping the warehouse
   so that the runtime runs exactly as built; it overstates the warehouse by our tool code's share of those few
   ms, under 0.25% of the denominator.
"""

from __future__ import annotations

import math
import re
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.runtime import build_runtime
from agent.settings import Settings
from bot.slack.app import SlackBot, build_slack_bot
from tests.fakes.anthropic_api import FakeAnthropic, Reply, text_reply, tool_use_reply
from tests.fakes.slack_api import FakeSlack

CHANNEL = "C0BENCH01"
USER = "U0ASKER01"
ANSWER = (
    "Revenue held steady over the period you asked about: the daily figures stayed within a narrow band, "
    "with no single day standing out, and the weekly totals moved by less than two percent from one week "
    "to the next. Nothing in the orders suggests a change in trend yet."
)  # Longer than the bot's 200-character stream buffer, so the answer goes through chat streaming.
QUERY_TAG = "[query]"  # In a question: the fake model asks for run_query first, then answers.
TRIVIAL_SQL = "SELECT 1"

WARMUP_QUESTIONS = 1
BURST_EVENTS = 100
BURST_MODEL_SECONDS = 2.0
TARGET_ACK_P99_MS = 50.0
FEEDBACK_QUESTIONS = 5
FEEDBACK_MODEL_SECONDS = 5.0
TARGET_FEEDBACK_SECONDS = 1.0
OVERHEAD_TURNS = 10
OVERHEAD_MODEL_SECONDS = 1.0
TARGET_OVERHEAD_RATIO = 1.05
WAIT_SECONDS = 60.0

_TAG = re.compile(r"\[q(\d+)\]")


@dataclass
class ScriptedModel:
    """The fake model's script, and when it answered each request (after its latency), by question number."""

    replied_at: dict[int, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        last = messages[-1]["content"]
        found = _TAG.search(str(messages[0]["content"]))
        if found:
            with self._lock:
                self.replied_at.setdefault(int(found.group(1)), []).append(time.monotonic())
        if isinstance(last, list) and any(block.get("type") == "tool_result" for block in last):
            return text_reply(ANSWER)
        if QUERY_TAG in str(last):
            return tool_use_reply("run_query", {"sql": TRIVIAL_SQL})
        return text_reply(ANSWER)


@dataclass
class Question:
    """One question sent as an app_mention; it is answered in the thread it starts."""

    number: int
    thread_ts: str
    envelope_id: str
    sent_at: float  # time.monotonic() just before the envelope was written to the socket


class Harness:
    """The fakes, the bot, and helpers to ask questions and read what happened in Slack."""

    def __init__(self, data_dir: Path) -> None:
        self.slack = FakeSlack()
        self.model = FakeAnthropic()
        self.script = ScriptedModel()
        self.model.respond_with(self.script)
        self._numbers = 0
        settings = Settings.model_validate(
            {
                "data_dir": data_dir,
                "database_url": f"sqlite:///{data_dir / 'store.db'}",
                "anthropic_api_key": "bench-key",
                "anthropic_base_url": self.model.base_url,
                "llm_max_retries": 0,
                "slack_bot_token": self.slack.bot_token,
                "slack_app_token": self.slack.app_token,
                "slack_signing_secret": self.slack.signing_secret,
                "slack_api_url": self.slack.base_url,
                "slack_shutdown_grace_seconds": 30,
                "health_port": 0,
            },
            by_name=True,
        )
        try:
            self.bot: SlackBot = build_slack_bot(build_runtime(settings))
        except BaseException:
            self._close_fakes()
            raise
        try:
            self.bot.start_socket_mode()
            self.slack.wait_for_connections(1)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the bot (answers in flight finish first), then the fakes."""
        try:
            finished = self.bot.stop()
        finally:
            self._close_fakes()
        if not finished:
            raise SystemExit("bench_slack: answers were still running when the bot stopped")

    def _close_fakes(self) -> None:
        self.slack.close()
        self.model.close()

    def mentions(self, count: int, *, query: bool = False) -> list[dict[str, Any]]:
        """`count` app_mention events, each starting its own thread, tagged with a question number."""
        events = []
        for _ in range(count):
            self._numbers += 1
            text = f"[q{self._numbers}] how did revenue do last week?" + (f" {QUERY_TAG}" if query else "")
            events.append(self.slack.app_mention(text, user=USER, channel=CHANNEL))
        return events

    def send(self, events: list[dict[str, Any]]) -> list[Question]:
        """Send the events back to back; their send times are the fake's own record."""
        ids = [self.slack.send_event(event) for event in events]
        sent = {envelope.envelope_id: envelope.sent_at for envelope in self.slack.envelopes}
        questions = []
        for event, envelope_id in zip(events, ids, strict=True):
            found = _TAG.search(str(event["text"]))
            assert found is not None
            questions.append(Question(int(found.group(1)), str(event["ts"]), envelope_id, sent[envelope_id]))
        return questions

    def answer_times(self, threads: set[str]) -> dict[str, float]:
        """Thread ts -> arrival time of the call that completed the bot's answer there, for those answered.

        That is the first chat.postMessage into the thread or the chat.stopStream of a stream in it, whichever
        came first (tables and charts are posted after the answer). Polled while the bot works, so it only
        copies the messages of the threads asked about.
        """
        stream_thread = {
            message.ts: thread
            for thread in threads
            for message in self.slack.messages(CHANNEL, thread_ts=thread)
            if message.streaming is not None
        }
        answered: dict[str, float] = {}
        calls = self.slack.calls_to("chat.postMessage") + self.slack.calls_to("chat.stopStream")
        for call in sorted(calls, key=lambda call: call.at):
            if not call.ok:
                continue
            if call.method == "chat.postMessage":
                thread = str(call.args.get("thread_ts"))
            else:
                thread = stream_thread.get(str(call.args.get("ts")), "")
            if thread in threads and thread not in answered:
                answered[thread] = call.at
        return answered

    def first_status_times(self) -> dict[str, float]:
        """Thread ts -> arrival time of the first assistant.threads.setStatus call for it."""
        first: dict[str, float] = {}
        for call in self.slack.calls_to("assistant.threads.setStatus"):
            if call.ok and call.args.get("channel_id") == CHANNEL:
                thread = str(call.args.get("thread_ts"))
                first[thread] = min(call.at, first.get(thread, math.inf))
        return first

    def wait_for_answers(self, questions: list[Question], *, with_table: bool = False) -> dict[str, float]:
        """Block until every question's thread holds the answer (and its table); returns answer_times()."""
        wanted = {question.thread_ts for question in questions}

        def done() -> bool:
            if len(self.answer_times(wanted)) < len(wanted):
                return False
            return not with_table or all(_has_table(self.slack, thread) for thread in wanted)

        _wait_until(done, f"answers to {len(wanted)} question(s)")
        missing = [
            thread
            for thread in wanted
            if not any(ANSWER in message.text for message in self.slack.messages(CHANNEL, thread_ts=thread))
        ]
        if missing:
            raise SystemExit(f"bench_slack: the answer is missing in threads {sorted(missing)}")
        return self.answer_times(wanted)

    def session_tool_seconds(self, thread_ts: str) -> float:
        """Total duration of the tool runs stored for the session of a thread."""
        store = self.bot.runtime.store
        session = store.find_session("slack", f"{self.slack.team_id}:{CHANNEL}:{thread_ts}")
        if session is None:
            raise SystemExit(f"bench_slack: no session for thread {thread_ts}")
        runs = store.tool_runs(session.id)
        if len(runs) != 1 or runs[0].is_error:
            raise SystemExit(f"bench_slack: expected one successful run_query in {thread_ts}, got {runs}")
        return sum(run.duration_ms for run in runs) / 1000


@contextmanager
def held_back(slack: FakeSlack) -> Iterator[bool]:
    """While open, what the fake writes on its one Socket Mode connection waits in the kernel (TCP_CORK); it
    leaves when the block ends. Yields False, holding nothing, where TCP_CORK does not exist (not Linux)."""
    cork = getattr(socket, "TCP_CORK", None)
    sockets = slack.open_sockets()
    if cork is None or len(sockets) != 1:
        yield False
        return
    connection = sockets[0]
    connection.setsockopt(socket.IPPROTO_TCP, cork, 1)
    try:
        yield True
    finally:
        connection.setsockopt(socket.IPPROTO_TCP, cork, 0)


def _has_table(slack: FakeSlack, thread_ts: str) -> bool:
    return any(
        block.get("type") == "table"
        for message in slack.messages(CHANNEL, thread_ts=thread_ts)
        for block in message.blocks
    )


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll every 50 ms: often enough, as the times measured are the fake's records, not the poll's."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench_slack: timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@contextmanager
def harness() -> Iterator[Harness]:
    with tempfile.TemporaryDirectory(prefix="bench-slack-") as folder:
        bench = Harness(Path(folder))
        try:
            yield bench
        finally:
            bench.close()


@dataclass
class AckFigures:
    latencies_ms: list[float]
    held_back: bool  # whether the envelopes were corked until the last was written
    burst_ms: float  # from the first envelope written to the last
    last_ack_ms: float  # from the first envelope written to the last ack received
    drained_seconds: float  # from the first envelope to the last answer


def measure_acks(bench: Harness) -> AckFigures:
    bench.model.latency_seconds = BURST_MODEL_SECONDS
    events = bench.mentions(BURST_EVENTS)
    with held_back(bench.slack) as held:
        questions = bench.send(events)
    acks = [bench.slack.wait_for_ack(question.envelope_id, timeout=WAIT_SECONDS) for question in questions]
    first = questions[0].sent_at
    answered = bench.wait_for_answers(questions)
    return AckFigures(
        latencies_ms=[ack.latency_seconds * 1000 for ack in acks],
        held_back=held,
        burst_ms=(questions[-1].sent_at - first) * 1000,
        last_ack_ms=max(q.sent_at + a.latency_seconds - first for q, a in zip(questions, acks, strict=True))
        * 1000,
        drained_seconds=max(answered.values()) - first,
    )


def measure_feedback(bench: Harness) -> list[float]:
    bench.model.latency_seconds = FEEDBACK_MODEL_SECONDS
    questions = bench.send(bench.mentions(FEEDBACK_QUESTIONS))
    bench.wait_for_answers(questions)
    first_status = bench.first_status_times()
    return [first_status[question.thread_ts] - question.sent_at for question in questions]


@dataclass
class Turn:
    wall: float
    model: float
    warehouse: float
    to_first_request: float  # envelope written -> first model request arrives at the fake
    between_calls: float  # first model reply -> second request arrives, less the tool run
    to_answer: float  # second model reply -> the answer's call arrives at Slack

    @property
    def ratio(self) -> float:
        return self.wall / (self.model + self.warehouse)

    @property
    def overhead(self) -> float:
        return self.wall - self.model - self.warehouse


def measure_overhead(bench: Harness) -> list[Turn]:
    latency = OVERHEAD_MODEL_SECONDS
    bench.model.latency_seconds = latency
    turns = []
    for _ in range(OVERHEAD_TURNS):
        (question,) = bench.send(bench.mentions(1, query=True))
        answered_at = bench.wait_for_answers([question], with_table=True)[question.thread_ts]
        replies = bench.script.replied_at[question.number]
        if len(replies) != 2:
            raise SystemExit(f"bench_slack: expected 2 model calls for a question, got {len(replies)}")
        warehouse = bench.session_tool_seconds(question.thread_ts)
        turns.append(
            Turn(
                wall=answered_at - question.sent_at,
                model=2 * latency,
                warehouse=warehouse,
                to_first_request=replies[0] - latency - question.sent_at,
                between_calls=replies[1] - latency - replies[0] - warehouse,
                to_answer=answered_at - replies[1],
            )
        )
    return turns


def warm_up(bench: Harness) -> None:
    """Imports, the warehouse connection and the SDK clients, before anything is measured."""
    bench.model.latency_seconds = 0.0
    questions = bench.send(bench.mentions(WARMUP_QUESTIONS, query=True))
    bench.wait_for_answers(questions, with_table=True)


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> None:
    with harness() as bench:
        workers = bench.bot.runtime.settings.slack_workers
        warm_up(bench)
        acks = measure_acks(bench)
        feedback = measure_feedback(bench)
        turns = measure_overhead(bench)
    ms = acks.latencies_ms
    p50, p99 = statistics.median(ms), percentile(ms, 0.99)
    print(
        f"Slack bot on the fakes (Socket Mode, {workers} answer workers, demo project, SQLite store), "
        f"after {WARMUP_QUESTIONS} warm-up question"
    )
    print(
        f"1. ack latency, burst of {BURST_EVENTS} app_mentions (model {BURST_MODEL_SECONDS:.0f} s per call): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(ms):.1f} ms; written in {acks.burst_ms:.0f} ms"
        f"{' (held back until the last, TCP_CORK)' if acks.held_back else ' (not held back: no TCP_CORK)'}, "
        f"all acked {acks.last_ack_ms:.0f} ms after the first was sent, all answered after "
        f"{acks.drained_seconds:.1f} s"
    )
    print(f"   target p99 < {TARGET_ACK_P99_MS:.0f} ms: {_verdict(p99 < TARGET_ACK_P99_MS)}")
    feedback_ms = [value * 1000 for value in feedback]
    print(
        f"2. first visible feedback (setStatus), {FEEDBACK_QUESTIONS} questions in {FEEDBACK_QUESTIONS} threads "
        f"sent together (model {FEEDBACK_MODEL_SECONDS:.0f} s per call): "
        f"p50 {statistics.median(feedback_ms):.1f} ms, max {max(feedback_ms):.1f} ms"
    )
    print(
        f"   target < {TARGET_FEEDBACK_SECONDS * 1000:.0f} ms: "
        f"{_verdict(max(feedback) < TARGET_FEEDBACK_SECONDS)}"
    )
    ratio = statistics.median(turn.ratio for turn in turns)

    def median_ms(values: Iterator[float]) -> float:
        return statistics.median(values) * 1000

    print(
        f"3. overhead ratio, {OVERHEAD_TURNS} questions one after another, each run_query ({TRIVIAL_SQL}) "
        f"+ text answer, model {OVERHEAD_MODEL_SECONDS:.0f} s per call: median {ratio:.4f} "
        f"(min {min(turn.ratio for turn in turns):.4f}, max {max(turn.ratio for turn in turns):.4f})"
    )
    print(
        f"   medians: wall {median_ms(turn.wall for turn in turns):.1f} ms = model "
        f"{median_ms(turn.model for turn in turns):.0f} ms + warehouse "
        f"{median_ms(turn.warehouse for turn in turns):.1f} ms + overhead "
        f"{median_ms(turn.overhead for turn in turns):.1f} ms; overhead by stage: event -> 1st model request "
        f"{median_ms(turn.to_first_request for turn in turns):.1f} ms, 1st reply -> 2nd request less the "
        f"tool run "
        f"{median_ms(turn.between_calls for turn in turns):.1f} ms, 2nd reply -> answer posted "
        f"{median_ms(turn.to_answer for turn in turns):.1f} ms"
    )
    print(f"   target <= {TARGET_OVERHEAD_RATIO}: {_verdict(ratio <= TARGET_OVERHEAD_RATIO)}")


if __name__ == "__main__":
    main()
