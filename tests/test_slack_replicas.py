"""Three `blueprintdata slack` processes on one PostgreSQL behind the fake Slack, one killed with SIGKILL while
answering: every question is answered exactly once, and in order within its thread."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agent.store.models import InboxRow, MessageRow, SessionRow
from tests.fakes.anthropic_api import FakeAnthropic, Reply, text_reply
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, USER, texts, wait_until
from tests.test_slack_process import slack_process_env

REPLICAS = 3
THREADS = 100
REPLIES_PER_THREAD = 2
LEASE_SECONDS = 6  # Short to keep the test short, long enough that a busy machine does not lose leases.
_TAG = re.compile(r"\[t(\d+)q(\d+)\]")


def tagged_echo(body: dict[str, Any]) -> Reply:
    """Answers with the tag of the question it was asked, so each answer names its question."""
    found = _TAG.search(str(body["messages"][-1]["content"]))
    assert found is not None
    return text_reply(f"answer to [t{found.group(1)}q{found.group(2)}]")


def answers_by_thread(fake: FakeSlack, threads: dict[int, str]) -> dict[int, list[int]]:
    """Thread number -> the question numbers answered there, in the order the answers appear."""
    found: dict[int, list[int]] = {}
    for number, thread_ts in threads.items():
        tags = [_TAG.search(text) for text in texts(fake, CHANNEL, thread_ts) if "answer to" in text]
        found[number] = [int(tag.group(2)) for tag in tags if tag is not None]
    return found


def what_short_threads_show(fake: FakeSlack, threads: dict[int, str], short: dict[int, list[int]]) -> str:
    """What a thread left short of answers shows, message by message: the failure's first clue."""
    lines = []
    for number in short:
        thread_ts = threads[number]
        lines.append(f"thread {number} shows:")
        lines += [f"  {text[:300]}" for text in texts(fake, CHANNEL, thread_ts)]
        lines.append(f"thread {number} calls (deleted messages included):")
        for method in ("chat.postMessage", "chat.startStream", "chat.update", "chat.delete"):
            for call in fake.calls_to(method):
                in_thread = call.args.get("thread_ts") == thread_ts or (
                    method in ("chat.update", "chat.delete")
                    and _in_thread(fake, str(call.args.get("ts")), thread_ts)
                )
                if in_thread:
                    shown = str(call.args.get("text") or call.args.get("ts"))[:160]
                    lines.append(f"  {call.at:.3f} {method} ok={call.ok} {call.error or ''} {shown}")
    return "\n".join(lines) + "\n"


def _in_thread(fake: FakeSlack, ts: str, thread_ts: str) -> bool:
    try:
        return fake.message(CHANNEL, ts).thread_ts == thread_ts
    except KeyError:
        return False


def replica_complaints(tmp_path: Path) -> str:
    """The warnings and errors the replicas logged (their logs are files in tmp_path)."""
    lines = []
    for log_path in sorted(tmp_path.glob("replica-*.log")):
        complaints = [
            line
            for line in log_path.read_text(errors="replace").splitlines()
            if "WARNING" in line or "ERROR" in line
        ]
        lines.append(f"{log_path.name}: {len(complaints)} warnings or errors")
        lines += [f"  {line[:300]}" for line in complaints[-40:]]
    return "\n".join(lines)


def start_logging_to(env: dict[str, str], log_path: Path) -> subprocess.Popen[str]:
    """A `blueprintdata slack` process whose output goes to a file: a pipe nobody reads until the end fills up,
    and a process writing a log line to it then blocks, with its leases still renewed by another thread."""
    with log_path.open("w") as log_file:
        return subprocess.Popen(
            [sys.executable, "-c", "from bot.cli.app import main; main()", "slack"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )


@pytest.mark.postgres
def test_three_replicas_answer_every_question_once_in_order_though_one_is_killed(
    tmp_path: Path, fake_slack: FakeSlack, postgres_url: str, demo_data_dir: Path
) -> None:
    model = FakeAnthropic(latency_seconds=0.2)
    model.respond_with(tagged_echo)
    env = slack_process_env(tmp_path, fake_slack) | dict(
        # The demo warehouse built once for the session: three processes must not all build it at once.
        BLUEPRINTDATA_DATA_DIR=str(demo_data_dir),
        BLUEPRINTDATA_DATABASE_URL=postgres_url,
        ANTHROPIC_API_KEY="test-key",
        ANTHROPIC_BASE_URL=model.base_url,
        # The model's transient faults are retried as in production (their handling has tests of its own,
        # tests/test_model_stream_faults.py): this test is about delivery. With no retry, a connection the
        # fake model's kernel reset (its listen backlog was 5, see tests/fakes/local_server.py) left a thread
        # with a failure notice instead of its answer.
        BLUEPRINTDATA_SLACK_INBOX_LEASE_SECONDS=str(LEASE_SECONDS),
        BLUEPRINTDATA_SLACK_INBOX_RENEW_SECONDS="1",
    )
    processes = [start_logging_to(env, tmp_path / f"replica-{number}.log") for number in range(REPLICAS)]
    try:
        fake_slack.wait_for_connections(REPLICAS, timeout=120)  # Slow to start on a loaded machine.
        threads: dict[int, str] = {}
        envelopes = []
        for number in range(THREADS):  # Mentions first, each thread's replies right after: round robin.
            mention = fake_slack.app_mention(f"[t{number}q0] revenue?", user=USER, channel=CHANNEL)
            threads[number] = mention["ts"]
            envelopes.append(fake_slack.send_event(mention))
        for reply in range(1, REPLIES_PER_THREAD + 1):
            for number, thread_ts in threads.items():
                message = fake_slack.channel_message(
                    f"[t{number}q{reply}] and then?", user=USER, channel=CHANNEL, thread_ts=thread_ts
                )
                envelopes.append(fake_slack.send_event(message))
        for envelope_id in envelopes:  # Stored before acknowledged: from here a crash loses nothing.
            fake_slack.wait_for_ack(envelope_id, timeout=30)
        total = THREADS * (1 + REPLIES_PER_THREAD)
        wait_until(lambda: len(model.requests) >= total // 3, timeout=60, what="a third of the answers")
        victim = processes[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)

        def all_answered() -> bool:
            return sum(len(found) for found in answers_by_thread(fake_slack, threads).values()) >= total

        try:
            wait_until(all_answered, timeout=120, what="every question answered")
        except AssertionError:
            found = answers_by_thread(fake_slack, threads)
            short = {number: answers for number, answers in found.items() if len(answers) < 3}
            engine = sa.create_engine(postgres_url)
            with engine.connect() as connection:
                rows = connection.execute(
                    sa.select(
                        InboxRow.position, InboxRow.status, InboxRow.attempts, InboxRow.lease_owner
                    ).where(InboxRow.status != "done")
                ).all()
            engine.dispose()
            raise AssertionError(
                f"unanswered: {short}; unfinished inbox rows: {rows}\n"
                + what_short_threads_show(fake_slack, threads, short)
                + replica_complaints(tmp_path)
            ) from None
        time.sleep(LEASE_SECONDS + 1)  # Long enough for a duplicate to show.
        answered = answers_by_thread(fake_slack, threads)
        expected = list(range(1 + REPLIES_PER_THREAD))
        assert {number: found for number, found in answered.items() if found != expected} == {}
        engine = sa.create_engine(postgres_url)
        try:
            with engine.connect() as connection:
                unfinished = connection.execute(
                    sa.select(sa.func.count()).where(InboxRow.status.in_(("received", "pending")))
                ).scalar_one()
                taken_over = connection.execute(
                    sa.select(sa.func.count()).where(InboxRow.attempts > 1)
                ).scalar_one()
                questions_stored = connection.execute(
                    sa.select(SessionRow.external_key, sa.func.count())
                    .join(MessageRow, MessageRow.session_id == SessionRow.id)
                    .where(MessageRow.role == "user")
                    .group_by(SessionRow.external_key)
                ).all()
        finally:
            engine.dispose()
        assert unfinished == 0
        assert taken_over >= 1  # The killed process was answering: its questions were taken over.
        assert len(questions_stored) == THREADS
        assert {count for _, count in questions_stored} == {1 + REPLIES_PER_THREAD}
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        model.close()
