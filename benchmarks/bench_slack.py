"""The Slack bot under load: ack latency, first feedback, overhead, order, cold start, throughput, takeover.

Figures 1-6 run the real bot in this process against the fakes of tests/fakes (see benchmarks/slack_harness.py):
1-3 on one bot (benchmarks/slack_latency.py), 4-6 each on a bot just started (benchmarks/slack_delivery.py).
Figure 7 kills real `blueprintdata slack` processes (benchmarks/slack_takeover.py); BENCH_SLACK_KILLS sets how
many kills (20 by default; each costs up to a lease length and a process start).
"""

from __future__ import annotations

from benchmarks import slack_delivery, slack_latency, slack_takeover


def main() -> None:
    slack_latency.report()
    slack_delivery.report()
    slack_takeover.report()


if __name__ == "__main__":
    main()
