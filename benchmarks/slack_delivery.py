"""Slack delivery figures, each on a freshly started bot: order within threads, replies on a cold start,
throughput.

4. Order: 200 threads, each opened by a mention that is answered first; then two replies into every thread,
   the two of a thread back to back (400 events in one burst), model 0.3 s per call. A thread is out of order
   when its answers in Slack, or its questions in the stored history, are not in the order asked.
5. Cold start: on a bot just started, 200 threads, each a mention followed at once by a reply without mention
   (sent back to back); a reply is ignored when no answer to it is posted within 60 s of the last answer.
6. Throughput: 200 one-step questions in 200 threads sent in one burst, model 0.2 s per call, 16 answer
   workers; wall = first envelope written -> last answer posted, as a ratio to the ideal 200 x 0.2 s / 16.
   Measured twice: on a real `blueprintdata slack` process (the bot as deployed, in its own interpreter; the
   target's figure), and on the bot built in this process beside the fakes, which then share its GIL (the
   figure earlier stops reported: the fakes' CPU, which Slack's and Anthropic's servers spend elsewhere in
   production, is counted against the bot).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from benchmarks.slack_fleet import Fleet
from benchmarks.slack_harness import CHANNEL, MESSAGE_TAG, USER, Harness, harness, verdict
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.slack.records import ApiCall
from tests.fakes.slack_api import FakeSlack

ORDER_THREADS = 200
ORDER_MODEL_SECONDS = 0.3
COLD_START_THREADS = 200
COLD_START_QUIET_SECONDS = 60.0
THROUGHPUT_QUESTIONS = 200
THROUGHPUT_MODEL_SECONDS = 0.2
THROUGHPUT_WORKERS = 16
TARGET_THROUGHPUT_RATIO = 1.5
_POLL_SECONDS = 0.2  # Polls read the fake's records; rarely, so as to take little of the bot's GIL.


def posted_answers(slack: FakeSlack) -> dict[str, list[tuple[float, str]]]:
    """Thread ts -> (arrival time, tag) of every answer posted into it, in arrival order."""
    found: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for call in slack.calls_to("chat.postMessage"):
        tag = _answer_tag(call)
        if tag is not None:
            found[str(call.args.get("thread_ts"))].append((call.at, tag))
    return found


def wait_for_answer_count(slack: FakeSlack, wanted: int, *, quiet_seconds: float = 60.0) -> float:
    """Block until `wanted` answers are posted, or none came for `quiet_seconds`; the last one's arrival.

    Each poll reads only the calls that came since the one before: reading every call again on each poll took
    a tenth of the process's CPU during the throughput burst, slowing the bot it measures.
    """
    read, count, last_at = 0, 0, None
    last_change = time.monotonic()
    while True:
        calls = slack.calls_to("chat.postMessage")
        arrivals = [call.at for call in calls[read:] if _answer_tag(call) is not None]
        read = len(calls)
        if arrivals:
            count += len(arrivals)
            last_at = max(arrivals) if last_at is None else max(last_at, *arrivals)
            last_change = time.monotonic()
        if count >= wanted or time.monotonic() - last_change > quiet_seconds:
            return last_at if last_at is not None else time.monotonic()
        time.sleep(_POLL_SECONDS)


def _answer_tag(call: ApiCall) -> str | None:
    """The tag of the question a chat.postMessage call answered; None for a failed call or another message."""
    if not call.ok:
        return None
    text = json.dumps(call.args)
    tagged = MESSAGE_TAG.search(text)
    return tagged.group(1) if tagged and "answer to" in text else None


def stored_tags(bench: Harness, thread_ts: str) -> list[str]:
    """The tags of the questions stored in a thread's session, in stored order."""
    store = bench.bot.runtime.store
    session = store.find_session("slack", f"{bench.slack.team_id}:{CHANNEL}:{thread_ts}")
    if session is None:
        return []
    history = store.history(session.id)
    return [
        tagged.group(1)
        for message in history
        if message.role == "user" and (tagged := MESSAGE_TAG.search(json.dumps(message.content)))
    ]


def measure_order() -> tuple[int, int]:
    """(threads answered out of order in Slack, threads stored out of order)."""
    with harness() as bench:
        bench.model.latency_seconds = ORDER_MODEL_SECONDS
        threads = {}
        for number in range(ORDER_THREADS):
            mention = bench.slack.app_mention(f"[t{number}r0] revenue?", user=USER, channel=CHANNEL)
            threads[number] = mention["ts"]
            bench.slack.send_event(mention)
        wait_for_answer_count(bench.slack, ORDER_THREADS)
        for number, thread_ts in threads.items():
            for reply in (1, 2):
                bench.slack.send_event(
                    bench.slack.channel_message(
                        f"[t{number}r{reply}] and then?", user=USER, channel=CHANNEL, thread_ts=thread_ts
                    )
                )
        wait_for_answer_count(bench.slack, 3 * ORDER_THREADS)
        answers = posted_answers(bench.slack)
        out_of_order = stored_out_of_order = 0
        for number, thread_ts in threads.items():
            expected = [f"t{number}r{reply}" for reply in range(3)]
            out_of_order += [tag for _, tag in answers.get(thread_ts, [])] != expected
            stored_out_of_order += stored_tags(bench, thread_ts) != expected
    return out_of_order, stored_out_of_order


def measure_cold_start() -> int:
    """Replies ignored out of COLD_START_THREADS sent right after their mention to a bot just started."""
    with harness() as bench:
        threads = {}
        for number in range(COLD_START_THREADS):
            mention = bench.slack.app_mention(f"[t{number}r0] revenue?", user=USER, channel=CHANNEL)
            reply = bench.slack.channel_message(
                f"[t{number}r1] and then?", user=USER, channel=CHANNEL, thread_ts=mention["ts"]
            )
            bench.slack.send_event(mention)
            bench.slack.send_event(reply)
            threads[number] = mention["ts"]
        wait_for_answer_count(bench.slack, 2 * COLD_START_THREADS, quiet_seconds=COLD_START_QUIET_SECONDS)
        answers = posted_answers(bench.slack)
        return sum(
            f"t{number}r1" not in {tag for _, tag in answers.get(thread_ts, [])}
            for number, thread_ts in threads.items()
        )


@dataclass
class Throughput:
    wall_seconds: float
    ideal_seconds: float
    answered: int

    @property
    def ratio(self) -> float:
        return self.wall_seconds / self.ideal_seconds


def measure_throughput() -> Throughput:
    """The burst answered by a real `blueprintdata slack` process, on its default SQLite store."""
    with tempfile.TemporaryDirectory(prefix="bench-slack-throughput-") as folder:
        fleet = Fleet(Path(folder), model_seconds=0.0)
        fleet.env["BLUEPRINTDATA_SLACK_WORKERS"] = str(THROUGHPUT_WORKERS)
        try:
            fleet.start(1)
            return _burst(fleet.slack, fleet.model)
        finally:
            fleet.close()


def measure_throughput_in_process() -> Throughput:
    """The burst answered by the bot built in this process, beside the fakes."""
    with harness(slack_workers=THROUGHPUT_WORKERS) as bench:
        return _burst(bench.slack, bench.model)


def _burst(slack: FakeSlack, model: FakeAnthropic) -> Throughput:
    """One question answered first (the bot warmed up), then THROUGHPUT_QUESTIONS mentions in one burst."""
    model.latency_seconds = 0.0
    slack.send_event(slack.app_mention("[t999r0] warm up", user=USER, channel=CHANNEL))
    wait_for_answer_count(slack, 1)
    answered_before = sum(len(found) for found in posted_answers(slack).values())
    model.latency_seconds = THROUGHPUT_MODEL_SECONDS
    events = [
        slack.app_mention(f"[t{number}r0] revenue?", user=USER, channel=CHANNEL)
        for number in range(THROUGHPUT_QUESTIONS)
    ]
    ids = [slack.send_event(event) for event in events]
    first_sent = next(envelope.sent_at for envelope in slack.envelopes if envelope.envelope_id == ids[0])
    last_answer = wait_for_answer_count(slack, THROUGHPUT_QUESTIONS + answered_before)
    answered = sum(len(found) for found in posted_answers(slack).values()) - answered_before
    ideal = THROUGHPUT_QUESTIONS * THROUGHPUT_MODEL_SECONDS / THROUGHPUT_WORKERS
    return Throughput(last_answer - first_sent, ideal, answered)


def report() -> None:
    """Measure and print figures 4-6."""
    out_of_order, stored_out_of_order = measure_order()
    print(
        f"4. order: {ORDER_THREADS} threads, two back-to-back replies each (model {ORDER_MODEL_SECONDS} s per "
        f"call): answered out of order {out_of_order}, stored out of order {stored_out_of_order}"
    )
    print(f"   target 0: {verdict(out_of_order == 0 and stored_out_of_order == 0)}")
    ignored = measure_cold_start()
    print(
        f"5. cold start: {COLD_START_THREADS} replies sent right after their mention to a bot just started: "
        f"ignored {ignored}"
    )
    print(f"   target 0: {verdict(ignored == 0)}")
    for where, measure in (
        ("a `blueprintdata slack` process", measure_throughput),
        ("the bot in the benchmark's process, beside the fakes", measure_throughput_in_process),
    ):
        throughput = measure()
        print(
            f"6. throughput, {where}: {THROUGHPUT_QUESTIONS} one-step questions in one burst, model "
            f"{THROUGHPUT_MODEL_SECONDS} s per call, {THROUGHPUT_WORKERS} workers: wall "
            f"{throughput.wall_seconds:.2f} s for {throughput.answered} answers, ideal "
            f"{throughput.ideal_seconds:.2f} s, ratio {throughput.ratio:.2f}"
        )
        print(
            f"   target <= {TARGET_THROUGHPUT_RATIO}: {verdict(throughput.ratio <= TARGET_THROUGHPUT_RATIO)}"
        )
