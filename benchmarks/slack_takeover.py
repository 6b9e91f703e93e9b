"""Slack takeover figure: how long a question stays unanswered when the process answering it is killed.

7. Takeover after SIGKILL: real `blueprintdata slack` processes on one SQLite store (a file shared by the
   processes) behind the fake Slack; the fake model takes 2 s per call. Each round starts victim processes
   next to a survivor that runs throughout, sends one question to each victim's connection, waits until the
   question is leased by that victim and its model call has begun, then kills every victim with SIGKILL. The
   figure is the time from the kill to the answer being posted (by the survivor or a victim's replacement),
   with the default lease settings; max and median over all kills.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from agent.settings import Settings
from agent.store.models import InboxRow
from benchmarks.slack_harness import CHANNEL, USER, ScriptedModel, verdict, wait_until
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.slack_api import FakeSlack

KILLS = int(os.environ.get("BENCH_SLACK_KILLS", "20"))  # Each round takes up to a lease and a start-up.
VICTIMS_PER_ROUND = 2
MODEL_SECONDS = 2.0
TARGET_TAKEOVER_SECONDS = 30.0
START_SECONDS = 120.0


@dataclass
class Kill:
    thread_ts: str
    killed_at: float
    answered_at: float | None = None

    @property
    def seconds(self) -> float:
        return (self.answered_at or float("inf")) - self.killed_at


class Fleet:
    """The fakes and the bot processes sharing one store."""

    def __init__(self, folder: Path) -> None:
        self.slack = FakeSlack()
        self.model = FakeAnthropic(latency_seconds=MODEL_SECONDS)
        self.model.respond_with(ScriptedModel())
        self.database_url = f"sqlite:///{folder / 'store.db'}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("BLUEPRINTDATA_", "ANTHROPIC_", "SLACK_"))
        } | {
            "BLUEPRINTDATA_DATA_DIR": str(folder / "data"),
            "BLUEPRINTDATA_DATABASE_URL": self.database_url,
            "BLUEPRINTDATA_SLACK_API_URL": self.slack.base_url,
            "BLUEPRINTDATA_HEALTH_PORT": "0",
            "BLUEPRINTDATA_LLM_MAX_RETRIES": "0",
            "ANTHROPIC_API_KEY": "bench-key",
            "ANTHROPIC_BASE_URL": self.model.base_url,
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_APP_TOKEN": self.slack.app_token,
            "NO_COLOR": "1",
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.engine = sa.create_engine(self.database_url)

    def start(self, count: int) -> list[subprocess.Popen[bytes]]:
        """Start `count` bot processes and wait until each has connected."""
        started = [
            subprocess.Popen(
                [sys.executable, "-c", "from bot.cli.app import main; main()", "slack"],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]
        self.processes.extend(started)
        self.slack.wait_for_connections(len(self.live()), timeout=START_SECONDS)
        return started

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [process for process in self.processes if process.poll() is None]

    def lease_owner(self, thread_ts: str) -> str | None:
        with self.engine.connect() as connection:
            owner = connection.execute(
                sa.select(InboxRow.lease_owner).where(
                    InboxRow.position == thread_ts, InboxRow.status == "pending"
                )
            ).scalar()
        return str(owner) if owner else None

    def answered_at(self, thread_ts: str) -> float | None:
        for call in self.slack.calls_to("chat.postMessage"):
            if call.ok and call.args.get("thread_ts") == thread_ts and "answer to" in str(call.args):
                return call.at
        return None

    def close(self) -> None:
        for process in self.live():
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        self.engine.dispose()
        self.slack.close()
        self.model.close()


def run_round(fleet: Fleet, round_number: int, default_lease: float) -> list[Kill]:
    """Start victims, give each a question, kill them mid-answer; the kills whose questions they held."""
    victims = fleet.start(VICTIMS_PER_ROUND)
    victim_pids = {str(process.pid) for process in victims}
    first_victim_connection = fleet.slack.open_connections - VICTIMS_PER_ROUND
    threads = []
    for offset in range(VICTIMS_PER_ROUND):
        mention = fleet.slack.app_mention(f"[t{round_number}r{offset}] revenue?", user=USER, channel=CHANNEL)
        fleet.slack.wait_for_ack(fleet.slack.send_event(mention, connection=first_victim_connection + offset))
        threads.append(mention["ts"])

    def all_started() -> bool:
        asked = " ".join(str(request.body) for request in fleet.model.requests)
        return all(fleet.lease_owner(ts) for ts in threads) and all(
            f"[t{round_number}r{offset}]" in asked for offset in range(VICTIMS_PER_ROUND)
        )

    wait_until(all_started, f"round {round_number}: the questions leased and their model calls begun")
    # The owner is "host:pid:random"; a question the survivor took by chance is no kill.
    held = [ts for ts in threads if (fleet.lease_owner(ts) or "::").split(":")[-2] in victim_pids]
    killed_at = time.monotonic()
    for process in victims:
        process.send_signal(signal.SIGKILL)
    for process in victims:
        process.wait(timeout=30)
    kills = [Kill(ts, killed_at) for ts in held]
    # The next round addresses its victims by connection index: the dead ones must be gone first.
    wait_until(lambda: fleet.slack.open_connections == len(fleet.live()), "the killed connections closed")

    def all_answered() -> bool:
        return all(fleet.answered_at(ts) is not None for ts in threads)

    wait_until(all_answered, f"round {round_number}: the answers", timeout=default_lease + 60)
    for kill in kills:
        kill.answered_at = fleet.answered_at(kill.thread_ts)
    return kills


def measure_takeover() -> list[Kill]:
    lease = Settings.model_fields["slack_inbox_lease_seconds"].default
    kills: list[Kill] = []
    with tempfile.TemporaryDirectory(prefix="bench-slack-takeover-") as folder:
        fleet = Fleet(Path(folder))
        try:
            fleet.start(1)  # The survivor, which also builds the demo warehouse first.
            round_number = 0
            while len(kills) < KILLS and round_number < 2 * KILLS:
                kills.extend(run_round(fleet, round_number, lease))
                round_number += 1
        finally:
            fleet.close()
    return kills[:KILLS]


def report() -> None:
    """Measure and print figure 7."""
    lease = Settings.model_fields["slack_inbox_lease_seconds"].default
    renew = Settings.model_fields["slack_inbox_renew_seconds"].default
    kills = measure_takeover()
    seconds = [kill.seconds for kill in kills]
    print(
        f"7. takeover after SIGKILL: {len(kills)} kills of a process mid-answer (lease {lease:.0f} s, renewed every "
        f"{renew:.0f} s, model {MODEL_SECONDS:.0f} s per call), kill -> answer posted: max {max(seconds):.1f} s, "
        f"median {statistics.median(seconds):.1f} s"
    )
    print(f"   target <= {TARGET_TAKEOVER_SECONDS:.0f} s: {verdict(max(seconds) <= TARGET_TAKEOVER_SECONDS)}")
