"""What an operator sees: Prometheus metrics at /metrics on the health port, and JSON logs with the question's
ids. Through the real bot (in this process, and as the real `blueprintdata slack` process) on the fakes."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from agent.sessions import Inbox, InboxEntry
from agent.store.database import create_store_engine, upgrade_database
from bot.observability.inbox_gauges import watch_inbox
from bot.observability.metrics import BotMetrics
from tests.fakes.analyst_script import analyst_script
from tests.fakes.anthropic_api import FakeAnthropic, text_reply
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, USER, StartBot, answered, wait_until
from tests.test_slack_process import slack_process_env, start

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    """Every sample at /metrics, keyed by name and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_an_answered_mention_its_model_calls_tools_and_slack_rate_limits(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.respond_with(analyst_script())
    bot = start_bot()
    port = bot.serve_health(0, lambda: True).port
    before = scrape(port)

    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    mention = fake_slack.app_mention("how did revenue do in December 2024?", user=USER, channel=CHANNEL)
    fake_slack.send_event(mention)
    answered(fake_slack, CHANNEL, mention["ts"], "rose into the holidays", timeout=30)
    model_requests = len(fake_anthropic.requests)
    after = wait_until(
        lambda: (
            (found := scrape(port))
            and value(found, "blueprintdata_answers_total", outcome="answered")
            > value(before, "blueprintdata_answers_total", outcome="answered")
            and found
        ),
        what="the answer counted",
    )

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("blueprintdata_answers_total", outcome="answered") == 1
    assert grew("blueprintdata_turn_duration_seconds_count", outcome="answered") == 1
    assert grew("blueprintdata_turn_duration_seconds_sum", outcome="answered") > 0
    assert grew("blueprintdata_model_calls_total") == model_requests
    assert grew("blueprintdata_model_tokens_total", kind="output") > 0
    assert grew("blueprintdata_model_tokens_total", kind="input") > 0
    assert grew("blueprintdata_model_cost_usd_total") > 0
    tools = {
        dict(labels)["tool"]
        for (name, labels), count in after.items()
        if name == "blueprintdata_tool_duration_seconds_count" and count > before.get((name, labels), 0)
    }
    assert {"search_models", "run_query"} <= tools
    assert grew("blueprintdata_slack_api_rate_limited_total", method="chat.postMessage") == 1
    assert (
        grew("blueprintdata_slack_api_retries_total", method="chat.postMessage", reason="rate_limited") == 1
    )
    # The mention went through the inbox: received, stored, acknowledged, and the ack's latency measured.
    assert grew("blueprintdata_slack_events_received_total") >= 1
    assert grew("blueprintdata_slack_events_acked_total") >= 1
    assert grew("blueprintdata_slack_ack_latency_seconds_count") >= 1
    assert value(after, "blueprintdata_inbox_depth") >= 0  # Read from the store at the scrape.


def test_json_logs_carry_the_questions_ids_and_never_its_text(
    tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    secret_question = "what was the revenue of project nightingale?"
    fake_anthropic.enqueue(text_reply("Nightingale brought in 1.2M."))
    env = slack_process_env(
        tmp_path,
        fake_slack,
        BLUEPRINTDATA_LOG_FORMAT="json",
        ANTHROPIC_API_KEY="sk-ant-test",
        ANTHROPIC_BASE_URL=fake_anthropic.base_url,
    )
    process = start(env)
    try:
        fake_slack.wait_for_connections(1, timeout=60)
        assert process.stdout is not None
        port = int(re.search(r"health on :(\d+)", process.stdout.readline()).group(1))  # type: ignore[union-attr]
        mention = fake_slack.app_mention(secret_question, user=USER, channel=CHANNEL)
        fake_slack.send_event(mention)
        answered(fake_slack, CHANNEL, mention["ts"], "1.2M", timeout=30)
        metrics = wait_until(
            lambda: value(found := scrape(port), "blueprintdata_answers_total", outcome="answered") and found,
            what="the answer counted by the process",
        )
        time.sleep(0.2)  # The last log lines of the turn.
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    assert value(metrics, "blueprintdata_model_calls_total") == 1
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    about_the_question = [record for record in records if record.get("turn") == mention["ts"]]
    assert about_the_question, stderr
    for record in about_the_question:
        assert record["team"] == fake_slack.team_id
        assert record["channel"] == CHANNEL and record["thread"] == mention["ts"] and record["session"]
    assert any(record["message"] == "question answered" for record in about_the_question)
    assert "nightingale" not in stderr.lower()


def test_a_scrape_reads_the_inbox_once_for_its_depth_and_oldest_age(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_database(engine)
    inbox = Inbox(engine, owner="me", lease=timedelta(seconds=10))
    inbox.accept(
        InboxEntry(
            message_key="m/1", conversation_key="c", position="1700000000.000100", kind="mention", payload={}
        )
    )
    reads: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: reads.append(args[2]))
    metrics = BotMetrics()
    watch_inbox(inbox, metrics)
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for sample in family.samples
    }
    assert samples["blueprintdata_inbox_depth"] == 1
    assert samples["blueprintdata_inbox_oldest_age_seconds"] >= 0
    assert len([statement for statement in reads if "inbox" in statement]) == 1
    engine.dispose()
