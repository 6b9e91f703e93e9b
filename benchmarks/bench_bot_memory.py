"""Resident memory of the real `blueprintdata slack` process just after it has started (target < 200 MB).

The bot runs as its own process (as tests/test_slack_process.py starts it) against the fake Slack in this
process, with a temporary data dir and the SQLite store. Once its Socket Mode connection is open and /healthz
answers, we wait a moment for start-up work to settle and read VmRSS (and VmHWM, the peak) from
/proc/PID/status. Then one mention is answered the way an analyst question is (the fake Messages API of
tests/fakes asks for search_models, run_query and make_chart on the demo warehouse) and VmRSS is read again: what
the process holds once everything an answer uses is loaded. Linux only. Repeated RUNS times; medians.

Before this change (same machine, same command, 2026-12-03, commit 864139c) the process held 236 MB after start
(240 MB at its peak) and 267 MB after the answer; the issue quoted 244 MB. Most of it was not needed to start: matplotlib (charts only, ~30 MB) and the
demo warehouse, which was built or version-checked in the bot's own process (the data generation and a DuckDB
instance, ~50 MB, never given back). Now matplotlib loads with the first chart, and the demo is built in a child
process and its version read from a file, so DuckDB loads with the first query (~30 MB then). Once an answer
has used everything, the saving is small (the build's leftovers, ~7 MB): the start is what got lighter.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fakes.analyst_script import analyst_script
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import answered, wait_until

RUNS = 3
SETTLE_SECONDS = 2.0
TARGET_MB = 200.0
BASELINE_MB = 236.0
BASELINE_ANSWERED_MB = 267.0


def _env(data_dir: Path, fake: FakeSlack, model: FakeAnthropic) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BLUEPRINTDATA_", "ANTHROPIC_", "SLACK_"))
    }
    env.update(
        BLUEPRINTDATA_DATA_DIR=str(data_dir),
        BLUEPRINTDATA_SLACK_API_URL=fake.base_url,
        BLUEPRINTDATA_HEALTH_PORT="0",
        SLACK_BOT_TOKEN=fake.bot_token,
        SLACK_APP_TOKEN=fake.app_token,
        ANTHROPIC_API_KEY="sk-ant-bench",
        ANTHROPIC_BASE_URL=model.base_url,
        NO_COLOR="1",
        MPLBACKEND="Agg",
    )
    return env


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def measure_once(fake: FakeSlack, model: FakeAnthropic) -> tuple[float, float, float]:
    """RSS after start, peak RSS during start, and RSS after one answered question, in MB, of a fresh bot."""
    model.respond_with(analyst_script())
    with tempfile.TemporaryDirectory() as tmp:
        connected = fake.open_connections
        process = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli.app import main; main()", "slack"],
            env=_env(Path(tmp) / "data", fake, model),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            fake.wait_for_connections(connected + 1, timeout=120)
            assert process.stdout is not None
            process.stdout.readline()  # "listening on Slack": start-up is over once it is printed.
            time.sleep(SETTLE_SECONDS)
            started, peak = _status_mb(process.pid, "VmRSS"), _status_mb(process.pid, "VmHWM")
            mention = fake.app_mention(
                "how did revenue do in December 2024?", user="U0BENCH", channel="C0BENCH"
            )
            fake.send_event(mention)
            answered(fake, "C0BENCH", mention["ts"], "rose into the holidays", timeout=120)
            # The chart is the answer's last step.
            wait_until(lambda: fake.uploads("C0BENCH", thread_ts=mention["ts"]), 60, "the chart")
            time.sleep(SETTLE_SECONDS)
            return started, peak, _status_mb(process.pid, "VmRSS")
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> None:
    if not Path("/proc/self/status").exists():
        raise SystemExit("bench_bot_memory needs Linux (/proc)")
    with FakeSlack() as fake, FakeAnthropic() as model:
        samples = [measure_once(fake, model) for _ in range(RUNS)]
    rss = statistics.median(sample[0] for sample in samples)
    peak = statistics.median(sample[1] for sample in samples)
    answered_rss = statistics.median(sample[2] for sample in samples)
    print(f"bot RSS after start: {rss:.0f} MB (median of {RUNS}; target < {TARGET_MB:.0f} MB)")
    print(f"bot peak RSS during start: {peak:.0f} MB")
    print(f"bot RSS after one answer with a query and a chart: {answered_rss:.0f} MB")
    print(
        f"before (commit 864139c, same machine): {BASELINE_MB:.0f} MB after start, "
        f"{BASELINE_ANSWERED_MB:.0f} MB after the answer"
    )


if __name__ == "__main__":
    main()
