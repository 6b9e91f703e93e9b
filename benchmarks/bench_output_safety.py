"""Cost of the safety steps on every way out: redaction, Slack's untrusted-text step, terminal escaping, and the
shape check of the demo's dbt artifacts. Prints microseconds per call (median of repeated runs).

    python -m benchmarks.bench_output_safety
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

from agent.redaction import redact, register_secret
from agent.store.conversations import storable
from bot.cli.terminal_text import terminal_safe
from bot.slack.rendering.untrusted import plain_untrusted
from demo.load import DEMO_PROJECT_DIR
from tools.dbt.shapes import check_catalog, check_manifest, check_semantic_manifest

_ANSWER = (
    "Revenue rose 12% in December, led by **web** orders (see `daily_revenue`). "
    "The top statuses were completed, returned and cancelled; <!channel> ping and <@U123ABC> came from data, "
    "and a link: <https://evil.example/login|Reset>. The query read postgresql://bob@db/x?sslmode=require.\n"
)


def _microseconds(function: Callable[[], object], repeat: int = 7, number: int = 200) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            function()
        timings.append((time.perf_counter() - started) / number)
    return statistics.median(timings) * 1e6


def main() -> None:
    for position in range(6):  # A process holds a handful of secrets: API key, two tokens, passwords.
        register_secret(f"secret-value-{position}-abcdefgh")
    one_kb = (_ANSWER * 4)[:1024]
    hundred_kb = (_ANSWER * 400)[:102_400]
    tool_result = [{"type": "tool_result", "tool_use_id": "t", "content": hundred_kb}]
    print(f"redact, 1 KB answer:            {_microseconds(lambda: redact(one_kb)):9.1f} µs")
    print(f"redact, 100 KB tool result:     {_microseconds(lambda: redact(hundred_kb), number=20):9.1f} µs")
    print(
        f"storable, 100 KB stored block:  {_microseconds(lambda: storable(tool_result), number=20):9.1f} µs"
    )
    print(f"plain_untrusted, 1 KB (Slack):  {_microseconds(lambda: plain_untrusted(one_kb)):9.1f} µs")
    print(f"terminal_safe, 1 KB:            {_microseconds(lambda: terminal_safe(one_kb)):9.1f} µs")
    target = DEMO_PROJECT_DIR / "target"
    texts = {
        name: (target / name).read_text()
        for name in ("manifest.json", "catalog.json", "semantic_manifest.json")
    }

    def check_all() -> None:
        check_manifest(json.loads(texts["manifest.json"]))
        check_catalog(json.loads(texts["catalog.json"]))
        check_semantic_manifest(json.loads(texts["semantic_manifest.json"]))

    def parse_only() -> None:
        for text in texts.values():
            json.loads(text)

    size = sum(len(text) for text in texts.values()) / 1024
    checked, parsed = _microseconds(check_all, number=10), _microseconds(parse_only, number=10)
    print(
        f"demo artifacts ({size:.0f} KB): parse {parsed / 1000:.2f} ms, parse + shape check {checked / 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
