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
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agent.settings import Settings
from benchmarks.slack_fleet import Fleet
from benchmarks.slack_harness import CHANNEL, USER, verdict, wait_until

KILLS = int(os.environ.get("BENCH_SLACK_KILLS", "20"))  # Each round takes up to a lease and a start-up.
VICTIMS_PER_ROUND = 2
MODEL_SECONDS = 2.0
TARGET_TAKEOVER_SECONDS = 30.0


@dataclass
class Kill:
    thread_ts: str
    killed_at: float
    answered_at: float | None = None

    @property
    def seconds(self) -> float:
        return (self.answered_at or float("inf")) - self.killed_at


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
        fleet = Fleet(Path(folder), model_seconds=MODEL_SECONDS)
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
