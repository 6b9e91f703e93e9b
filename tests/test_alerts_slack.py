"""Alerts in the Slack bot: the post and its chart reach Slack, a reply in the alert's thread reaches the model
with the alert in its history, `/alerts` lists and runs, and `blueprintdata slack` runs the schedule itself."""

from __future__ import annotations

import json
import signal
from datetime import timedelta
from pathlib import Path

from bot.slack.listeners.alerts import alerts_arguments
from tests.fakes.anthropic_api import FakeAnthropic, text_reply
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import USER, StartBot, answered, wait_until
from tests.test_alerts import CHANNEL, MORNING, alerts_file, orders_until
from tests.test_slack_process import slack_process_env, start


def ephemeral_texts(fake: FakeSlack, channel: str) -> list[str]:
    return [str(post.body.get("text", "")) for post in fake.responses(channel)]


def test_an_alert_posts_its_chart_and_a_reply_in_its_thread_is_answered_with_the_alert_in_context(
    start_bot: StartBot,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    tmp_path: Path,
) -> None:
    bot = start_bot(alerts_file=alerts_file(tmp_path, orders_until("2024-06-12", name="viral_orders")))

    [outcome] = bot.alerts.scheduler().tick(MORNING + timedelta(seconds=5))  # 08:00 in Berlin.

    assert outcome.posted == ["anomaly"]
    [post] = [m for m in fake_slack.messages(CHANNEL) if m.thread_ts is None]
    assert "*Alert viral_orders*: orders on 2024-06-12: 135, expected 36.8–129, +96%" in post.text
    assert "What to do" in post.text
    [chart] = wait_until(lambda: fake_slack.uploads(CHANNEL, thread_ts=post.ts), what="the chart")
    assert chart.content.startswith(b"\x89PNG") and chart.filename == "viral_orders-20240612-0000.png"

    fake_anthropic.enqueue(text_reply("The newsletter went out that morning."))
    reply = fake_slack.channel_message("why did orders jump?", user=USER, channel=CHANNEL, thread_ts=post.ts)
    fake_slack.send_event(reply)  # No mention: the alert's thread is already a conversation.
    answered(fake_slack, CHANNEL, post.ts, "newsletter went out")

    sent = json.dumps(fake_anthropic.requests[-1].body["messages"], ensure_ascii=False)
    assert "viral_orders" in sent and "orders on 2024-06-12: 135" in sent
    assert "SELECT period, value FROM" in sent and "order_date <= CAST('2024-06-12' AS DATE)" in sent
    assert "why did orders jump?" in fake_anthropic.requests[-1].last_user_text()


def test_alerts_slash_commands_list_and_run_and_name_what_could_not_be_loaded(
    start_bot: StartBot,
    fake_slack: FakeSlack,
    tmp_path: Path,
) -> None:
    path = alerts_file(
        tmp_path,
        orders_until("2024-06-12", name="viral_orders"),
        orders_until("2024-06-12", name="nightly", schedule="'0 25 * * *'"),
    )
    start_bot(alerts_file=path)

    fake_slack.wait_for_ack(fake_slack.send_slash_command("/alerts", "list", user=USER, channel=CHANNEL))
    listing = wait_until(lambda: ephemeral_texts(fake_slack, CHANNEL), what="the list")[0]
    assert "*viral_orders*" in listing and f"→ {CHANNEL}" in listing and "last run: never" in listing
    assert "alert 'nightly': schedule: '0 25 * * *' is not a cron schedule" in listing

    fake_slack.send_slash_command("/alerts", "run viral_orders", user=USER, channel=CHANNEL)
    done = wait_until(
        lambda: [text for text in ephemeral_texts(fake_slack, CHANNEL) if "posted to" in text], what="the run"
    )
    assert done == [f"viral_orders: orders on 2024-06-12: 135, expected 36.8–129, +96%; posted to {CHANNEL}"]
    assert "Running alert *viral_orders* now…" in ephemeral_texts(fake_slack, CHANNEL)
    assert len([m for m in fake_slack.messages(CHANNEL) if m.thread_ts is None]) == 1

    fake_slack.send_slash_command("/blueprintdata", "alerts list", user=USER, channel="C0OTHER")
    relisted = wait_until(lambda: ephemeral_texts(fake_slack, "C0OTHER"), what="the list again")[0]
    assert "last run: anomaly at" in relisted
    fake_slack.send_slash_command("/alerts", "run nope", user=USER, channel="C0THIRD")
    unknown = wait_until(lambda: ephemeral_texts(fake_slack, "C0THIRD"), what="the refusal")[0]
    assert unknown == "There is no alert named `nope`. Alerts: `viral_orders`."


def test_the_slack_command_runs_alerts_on_their_schedule(tmp_path: Path, fake_slack: FakeSlack) -> None:
    every_minute = orders_until("2024-06-12", name="viral_orders", schedule="'* * * * *'")
    env = slack_process_env(
        tmp_path, fake_slack, BLUEPRINTDATA_ALERTS_FILE=str(alerts_file(tmp_path, every_minute))
    )
    process = start(env)
    try:
        # At start the latest minute is caught up: the anomaly is posted without waiting for the next one.
        posts = wait_until(
            lambda: [m for m in fake_slack.messages(CHANNEL) if m.thread_ts is None],
            timeout=60,
            what="the alert",
        )
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "*Alert viral_orders*" in posts[0].text


def test_blueprintdata_alerts_is_a_command_only_when_it_reads_like_one() -> None:
    assert (
        alerts_arguments("alerts") == "" and alerts_arguments("Alerts run daily_orders") == "run daily_orders"
    )
    assert alerts_arguments("alerts that fired last week?") is None
    assert alerts_arguments("how are revenue alerts set up?") is None
