"""The Slack bot on the fakes, for the Slack benchmarks: the fakes, the bot, and helpers to ask and to read.

The real bot (build_runtime + build_slack_bot, Socket Mode, real slack_bolt and slack_sdk) runs in this process
against the fake Slack and the fake Messages API of tests/fakes (the real anthropic SDK speaks to it over a
local socket), on the demo project with a temporary data dir and SQLite store.
"""

from __future__ import annotations

import math
import re
import socket
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

WAIT_SECONDS = 60.0

_TAG = re.compile(r"\[q(\d+)\]")
# In a message: the fake model answers it briefly, naming the tag (thread t, message r), e.g. "[t3r1]".
MESSAGE_TAG = re.compile(r"\[(t\d+r\d+)\]")


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
        tagged = MESSAGE_TAG.search(str(last))
        if tagged:
            return text_reply(f"answer to [{tagged.group(1)}]")
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

    def __init__(self, data_dir: Path, **overrides: Any) -> None:
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
            }
            | overrides,
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

        wait_until(done, f"answers to {len(wanted)} question(s)")
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


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
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
def harness(**overrides: Any) -> Iterator[Harness]:
    """A bot on the fakes in a fresh temporary data dir; `overrides` are Settings fields."""
    with tempfile.TemporaryDirectory(prefix="bench-slack-") as folder:
        bench = Harness(Path(folder), **overrides)
        try:
            yield bench
        finally:
            bench.close()


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"
