"""Alerts in the Slack bot: the post and its chart reach Slack, a reply in the alert's thread reaches the model
with the alert in its history, `/alerts` lists and runs, and `blueprintdata slack` runs the schedule itself."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.alerts.definitions import AlertDefinition
from agent.alerts.investigation import InvestigationBounds, InvestigationTurn
from agent.alerts.loading import load_alerts
from agent.alerts.replay import replay
from agent.events import EventList, TurnFailed
from agent.runtime import Runtime
from agent.sessions import SessionKey
from agent.user_messages import TURN_CANCELLED
from bot.slack.listeners.alerts import alerts_arguments
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_use_reply, tool_uses_reply
from tests.fakes.slack.messages import SlackMessage
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import USER, StartBot, answered, wait_until
from tests.test_alerts import CHANNEL, MORNING, alerts_file, orders_until, slack_alerts
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
    assert (
        "*Alert viral_orders* · :red_circle: Open\norders on 2024-06-12: 399, expected 144–281, +98%"
        in post.text
    )
    assert "What to do" in post.text
    [chart] = wait_until(lambda: fake_slack.uploads(CHANNEL, thread_ts=post.ts), what="the chart")
    assert chart.content.startswith(b"\x89PNG") and chart.filename == "viral_orders-20240612-0000.png"

    fake_anthropic.enqueue(text_reply("The newsletter went out that morning."))
    reply = fake_slack.channel_message("why did orders jump?", user=USER, channel=CHANNEL, thread_ts=post.ts)
    fake_slack.send_event(reply)  # No mention: the alert's thread is already a conversation.
    answered(fake_slack, CHANNEL, post.ts, "newsletter went out")

    sent = json.dumps(fake_anthropic.requests[-1].body["messages"], ensure_ascii=False)
    assert "viral_orders" in sent and "orders on 2024-06-12: 399" in sent
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
    assert done == [
        f"viral_orders: incident opened: orders on 2024-06-12: 399, expected 144–281, +98%; posted to {CHANNEL}"
    ]
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


SPIKES = ("2024-03-10", "2024-03-11", "2024-03-13", "2024-03-25")


def spiky_series(until: str, spikes: tuple[str, ...] = SPIKES) -> str:
    """An `sql` alert's series in DuckDB: about 110 a day with a weekly wiggle, and 400 on the `spikes` days."""
    days = ", ".join(f"date '{day}'" for day in spikes)
    return (
        "      select day, case when day in ("
        + days
        + ") then 400 else 100 + (extract(dow from day) * 7) % 11 + (extract(doy from day) * 13) % 9 end\n"
        "      from (select cast(range as date) as day\n"
        "            from range(date '2024-01-01', date '2024-04-01', interval 1 day)) as days\n"
        f"      where day <= date '{until}'\n"
    )


def spiky_alert(
    tmp_path: Path, until: str, spikes: tuple[str, ...] = SPIKES, **fields: str
) -> AlertDefinition:
    """The `spiky` alert as the file says it on the morning after `until` (its data ends there)."""
    extra = "".join(f"    {key}: {value}\n" for key, value in fields.items())
    series = spiky_series(until, spikes)
    entry = f"  - name: spiky\n    label: signups\n    min_history: 28\n{extra}    sql: |\n{series}"
    return load_alerts(alerts_file(tmp_path, entry)).alerts[0]


def roots(fake: FakeSlack) -> list[SlackMessage]:
    return [m for m in fake.messages(CHANNEL) if m.thread_ts in (None, m.ts)]


def thread_texts(fake: FakeSlack, ts: str) -> list[str]:
    return [m.text for m in fake.messages(CHANNEL, thread_ts=ts) if m.ts != ts]


def test_an_incident_lives_in_one_message_edited_in_place_with_buttons_and_resolves_itself(
    start_bot: StartBot, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot = start_bot(alerts_file=alerts_file(tmp_path, orders_until("2024-06-12", name="viral_orders")))
    runner = bot.alerts.runner

    def run_day(day: int, **fields: str) -> str:
        outcome = runner.run(
            spiky_alert(tmp_path, f"2024-03-{day:02d}", **fields), MORNING + timedelta(days=day), "schedule"
        )
        return outcome.message

    run_day(9)
    assert roots(fake_slack) == []
    assert "incident opened: signups on 2024-03-10: 400" in run_day(10)
    [root] = roots(fake_slack)
    assert ":red_circle: Open" in root.text and "1 anomaly" in root.text
    buttons = [e["text"]["text"] for b in root.blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [
        "Investigate",
        "Acknowledge",
        "Snooze 1 day",
        "Snooze 1 week",
        "Resolve",
        "Mute this alert",
    ]
    wait_until(lambda: fake_slack.uploads(CHANNEL, thread_ts=root.ts), what="the first chart")

    run_day(11)  # Another anomaly: the same message, edited; the news and a chart in its thread.
    assert [m.ts for m in roots(fake_slack)] == [root.ts]
    assert "2 anomalies" in fake_slack.message(CHANNEL, root.ts).text
    assert any("Again: signups on 2024-03-11: 400" in text for text in thread_texts(fake_slack, root.ts))
    assert len(fake_slack.uploads(CHANNEL, thread_ts=root.ts)) == 2

    incident = runner.incidents.latest("spiky")
    assert incident is not None
    fake_slack.send_block_action(
        "alert_incident:ack", str(incident.id), user=USER, channel=CHANNEL, message_ts=root.ts
    )
    wait_until(
        lambda: "Acknowledged by" in fake_slack.message(CHANNEL, root.ts).text, what="the acknowledgment"
    )
    assert f":eyes: Acknowledged by <@{USER}>" in fake_slack.message(CHANNEL, root.ts).text
    # The root is edited before the note is posted in its thread: wait for the note too.
    wait_until(
        lambda: f":eyes: <@{USER}> acknowledged this." in thread_texts(fake_slack, root.ts),
        what="the acknowledgment note",
    )

    for day in (12, 13, 14, 15):
        run_day(day)
    assert "3 anomalies" in fake_slack.message(CHANNEL, root.ts).text  # The 13th counted, still acknowledged.
    assert "Acknowledged by" in fake_slack.message(CHANNEL, root.ts).text
    resolved = run_day(16)  # 14th, 15th and 16th back in range: resolved by itself.
    assert "incident resolved" in resolved
    final = fake_slack.message(CHANNEL, root.ts)
    assert ":white_check_mark: Resolved: back in range since 2024-03-16" in final.text
    assert not [b for b in final.blocks if b["type"] == "actions"]  # No buttons on a resolved incident.
    assert any(
        t.startswith(":white_check_mark: Resolved by itself") for t in thread_texts(fake_slack, root.ts)
    )
    assert len(roots(fake_slack)) == 1 and len(final.edits) >= 4


def test_a_flapping_metric_reopens_its_incident_and_snooze_and_mute_are_honoured(
    start_bot: StartBot, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot = start_bot(alerts_file=alerts_file(tmp_path, orders_until("2024-06-12", name="viral_orders")))
    runner = bot.alerts.runner
    spikes = ("2024-03-13", "2024-03-25", "2024-03-27")
    # Runs up to today: a snooze clicked now (for a day) covers the last ones.
    today = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)

    def run_day(day: int) -> str:
        alert = spiky_alert(tmp_path, f"2024-03-{day:02d}", spikes, suppression_interval="10d")
        return runner.run(alert, today - timedelta(days=28 - day), "schedule").message

    for day in range(12, 25):  # Opens on the 13th, resolves itself on the 16th.
        run_day(day)
    [root] = roots(fake_slack)
    # Within 10 days of its end: the same incident reopens in the same message.
    assert "incident reopened" in run_day(25)
    assert [m.ts for m in roots(fake_slack)] == [root.ts]
    assert any(t.startswith(":rotating_light: Reopened") for t in thread_texts(fake_slack, root.ts))
    incident = runner.incidents.latest("spiky")
    assert incident is not None and incident.state.is_open and incident.state.anomalies == 2

    click = {"user": USER, "channel": CHANNEL, "message_ts": root.ts}
    fake_slack.send_block_action("alert_incident:snooze_1d", str(incident.id), **click)
    wait_until(
        lambda: any("snoozed this until" in t for t in thread_texts(fake_slack, root.ts)), what="snooze"
    )
    notes_before = len(thread_texts(fake_slack, root.ts))
    run_day(26)
    assert "incident grew" in run_day(27)
    assert ":zzz: Snoozed until" in fake_slack.message(CHANNEL, root.ts).text
    assert "3 anomalies" in fake_slack.message(CHANNEL, root.ts).text
    assert len(thread_texts(fake_slack, root.ts)) == notes_before  # Snoozed: the thread stays quiet.

    fake_slack.send_block_action("alert_incident:mute", str(incident.id), **click)
    wait_until(lambda: runner.incidents.alert_state("spiky").muted_by == USER, what="the mute")
    assert run_day(28) == f"spiky: muted (muted by {USER})"
    fake_slack.send_block_action("alert_incident:resolve", str(incident.id), **click)
    wait_until(lambda: f"Resolved by <@{USER}>" in fake_slack.message(CHANNEL, root.ts).text, what="resolve")
    assert len(roots(fake_slack)) == 1


def test_alerts_test_replays_exactly_what_the_scheduler_posted(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    runtime = make_runtime(alerts_file=alerts_file(tmp_path, orders_until("2024-06-12")))
    runner = slack_alerts(runtime, fake_slack).runner
    for day in range(9, 32):  # The scheduler, each morning seeing one more day.
        runner.run(spiky_alert(tmp_path, f"2024-03-{day:02d}"), MORNING + timedelta(days=day), "schedule")

    evaluation = runner.evaluate(spiky_alert(tmp_path, "2024-03-31"), MORNING)
    replayed = replay(evaluation, datetime(2024, 3, 9))

    scheduled = runner.incidents.incidents("spiky")
    assert [incident.state for incident in scheduled] == replayed.incidents
    assert [(i.start.day, i.last_anomaly.day, i.anomalies, i.resolved_at) for i in replayed.incidents] == [
        (10, 13, 3, datetime(2024, 3, 16)),
        (25, 25, 1, datetime(2024, 3, 28)),
    ]
    posted_roots = roots(fake_slack)
    notes = [text for root in posted_roots for text in thread_texts(fake_slack, root.ts) if text]
    assert len(posted_roots) == replayed.messages == 2
    assert len(notes) == replayed.thread_notes == 4  # Two "again", two "resolved by itself".


FAILED_UNTIL_SEPT_3 = (
    "  - name: failed_payments\n    model: fct_orders\n    time_column: order_date\n    measure: count(*)\n"
    "    label: failed payments\n"
    "    filters: [\"payment_status = 'failed'\", \"order_date <= date '2024-09-03'\"]\n"
)


def test_investigate_splits_the_failed_payments_and_answers_in_the_fixed_shape(
    start_bot: StartBot, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    # Without an API key, Investigate runs the deterministic drill-down.
    bot = start_bot(alerts_file=alerts_file(tmp_path, FAILED_UNTIL_SEPT_3), anthropic_api_key=None)
    bot.alerts.runner.run(bot.alerts.loaded.alerts[0], MORNING, "schedule")
    [root] = roots(fake_slack)
    incident = bot.alerts.runner.incidents.latest("failed_payments")
    assert incident is not None

    fake_slack.send_block_action(
        "alert_incident:investigate", str(incident.id), user=USER, channel=CHANNEL, message_ts=root.ts
    )
    answer = answered(fake_slack, CHANNEL, root.ts, "*Investigation of alert failed_payments*")

    summary = next(line for line in answer.splitlines() if line.startswith("*Summary:*"))
    assert summary.count(". ") == 1 and summary.endswith(").")  # Two sentences.
    assert "it sits mostly in payment_status = failed (123 on the day, 2.25 on a usual day)" in summary
    drivers = [line for line in answer.splitlines() if line.startswith("• *")]
    assert drivers[0].startswith("• *payment_status*") and "filter on this column left out" in drivers[0]
    # Each driver with the query that shows it (in the message's text; its blocks repeat them).
    assert answer.partition(" [{")[0].count("```SELECT") == len(drivers) == 3
    assert "*Evidence:* 6 queries, 51 rows read." in answer
    assert "*Confidence:* high. This shows where the change sits, not what caused it" in answer
    charts = wait_until(
        lambda: fake_slack.uploads(CHANNEL, thread_ts=root.ts)[1:], what="the drill-down chart"
    )
    assert charts[-1].filename == "failed_payments-drilldown-20240903.png"


def test_an_even_drop_is_investigated_with_low_confidence(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    orders = (
        "  - name: orders\n    model: fct_orders\n    time_column: order_date\n    measure: count(*)\n"
        "    filters: [\"order_date <= date '2024-03-14'\"]\n"
    )
    runner = slack_alerts(make_runtime(alerts_file=alerts_file(tmp_path, orders)), fake_slack).runner
    outcome = runner.run(runner.keeper.alert("orders"), MORNING, "schedule")  # type: ignore[arg-type]
    incident = runner.incidents.latest("orders")
    assert outcome.posted == ["anomaly"] and incident is not None

    _, drill = runner.investigate(incident.id)

    # The planted checkout outage cut every channel and payment method alike: nothing stands out, and it says so.
    assert drill.top is None and drill.confidence() == "low"
    assert {split.dimension for split in drill.splits} >= {"channel", "payment_method"}


SHAPED_ANSWER = (
    "*Summary:* Failed payments jumped to 49 on 2024-09-03. They sit in payment_status = failed across all methods.\n"
    "*Possible drivers:*\n• payment_status: failed 49 against 0.5 usually\n```select payment_status, count(*) ...```\n"
    "*Evidence:* 4 queries.\n*Confidence:* medium."
)


def test_investigate_with_the_model_is_one_bounded_turn_in_the_fixed_shape(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    bot = start_bot(alerts_file=alerts_file(tmp_path, FAILED_UNTIL_SEPT_3))
    bot.alerts.runner.run(bot.alerts.loaded.alerts[0], MORNING, "schedule")
    [root] = roots(fake_slack)
    incident = bot.alerts.runner.incidents.latest("failed_payments")
    assert incident is not None
    split = "select payment_status, count(*) from fct_orders where order_date = date '2024-09-03' group by 1"
    # The model would go on querying; the bound stops it after four rounds and asks for the answer.
    fake_anthropic.enqueue(*[tool_use_reply("run_query", {"sql": split}) for _ in range(4)])
    fake_anthropic.enqueue(text_reply(SHAPED_ANSWER))

    fake_slack.send_block_action(
        "alert_incident:investigate", str(incident.id), user=USER, channel=CHANNEL, message_ts=root.ts
    )
    # The answer is streamed: wait for its footer, the last part written, not a message still being written.
    answer = answered(fake_slack, CHANNEL, root.ts, "Investigated with read-only tools")

    requests = fake_anthropic.requests
    assert len(requests) == 5
    assert all("Answer in exactly this shape" in json.dumps(r.body["system"]) for r in requests)
    assert requests[-1].body.get("tool_choice") == {"type": "none"}  # No fifth round of queries.
    assert all(r.body["max_tokens"] == 1500 for r in requests)
    assert "failed payments on 2024-09-03: 123" in json.dumps(
        requests[0].body["messages"]
    )  # The alert's thread.
    assert "Investigated with read-only tools: 4 queries; bounds: 4 rounds" in answer
    for section in ("*Summary:*", "*Possible drivers:*", "*Evidence:*", "*Confidence:*"):
        assert section in answer


def test_why_typed_in_an_alert_thread_is_the_bounded_investigation(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    bot = start_bot(alerts_file=alerts_file(tmp_path, FAILED_UNTIL_SEPT_3))
    bot.alerts.runner.run(bot.alerts.loaded.alerts[0], MORNING, "schedule")
    [root] = roots(fake_slack)
    split = "select payment_method, count(*) from fct_orders where order_date = date '2024-09-03' group by 1"
    # The model asks for three queries a round and would go on: the budget of 8 calls runs the first 8, the
    # round limit stops it after four rounds and asks for the answer.
    fake_anthropic.enqueue(*[tool_uses_reply([("run_query", {"sql": split})] * 3) for _ in range(4)])
    fake_anthropic.enqueue(text_reply(SHAPED_ANSWER))

    fake_slack.send_event(fake_slack.channel_message("why?", user=USER, channel=CHANNEL, thread_ts=root.ts))
    answer = answered(fake_slack, CHANNEL, root.ts, "Investigated with read-only tools")

    requests = fake_anthropic.requests
    assert len(requests) == 5 and requests[-1].body.get("tool_choice") == {"type": "none"}
    assert all("Answer in exactly this shape" in json.dumps(r.body["system"]) for r in requests)
    assert all(r.body["max_tokens"] == 1500 for r in requests)
    assert "why?" in requests[0].last_user_text()
    assert "budget of 8 tool calls is spent" in json.dumps(requests[3].body["messages"][-1])
    for section in ("*Summary:*", "*Possible drivers:*", "*Evidence:*", "*Confidence:*"):
        assert section in answer
    assert (
        "8 queries; bounds: 4 rounds of tool calls, 8 tool calls, 1500 output tokens a reply, 120 s."
        in answer
    )
    session = bot.runtime.sessions.find(SessionKey.slack_thread(fake_slack.team_id, CHANNEL, root.ts))
    assert session is not None
    runs = bot.runtime.sessions.tool_runs(session.id)
    assert len(runs) == 12 and sum(not run.is_error for run in runs) == 8  # The other four were never run.


def test_a_question_typed_in_an_alert_thread_without_a_key_gets_the_drill_down(
    start_bot: StartBot,
    make_runtime: Callable[..., Runtime],
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    tmp_path: Path,
) -> None:
    bot = start_bot(alerts_file=alerts_file(tmp_path, FAILED_UNTIL_SEPT_3), anthropic_api_key=None)
    bot.alerts.runner.run(bot.alerts.loaded.alerts[0], MORNING, "schedule")
    [root] = roots(fake_slack)
    charts_before = len(fake_slack.uploads(CHANNEL, thread_ts=root.ts))

    question = "what happened here?"
    fake_slack.send_event(fake_slack.channel_message(question, user=USER, channel=CHANNEL, thread_ts=root.ts))
    answer = answered(fake_slack, CHANNEL, root.ts, "Investigation of alert failed_payments")

    assert "it sits mostly in payment_status = failed" in answer
    assert "*Evidence:* 6 queries, 51 rows read." in answer and "*Confidence:* high" in answer
    charts = wait_until(
        lambda: fake_slack.uploads(CHANNEL, thread_ts=root.ts)[charts_before:], what="the drill-down chart"
    )
    assert charts[-1].filename == "failed_payments-drilldown-20240903.png"

    describe = "/describe fct_orders"  # A direct command in the thread still runs as the command.
    fake_slack.send_event(fake_slack.channel_message(describe, user=USER, channel=CHANNEL, thread_ts=root.ts))
    answered(fake_slack, CHANNEL, root.ts, "One row per order with its value and payment outcome", timeout=30)

    # The drill-down is in the thread's history: a follow-up answered by the model (a key set since) sees it.
    session = bot.runtime.sessions.find(SessionKey.slack_thread(fake_slack.team_id, CHANNEL, root.ts))
    assert session is not None
    keyed = make_runtime(anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url)
    fake_anthropic.enqueue(text_reply("Card payments failed."))
    outcome = keyed.agent().handle(session.id, "which method failed most?", EventList(), author=f"<@{USER}>")
    assert outcome.ok
    sent = json.dumps(fake_anthropic.requests[-1].body["messages"], ensure_ascii=False)
    assert question in sent and "it sits mostly in payment_status = failed" in sent


def test_a_direct_command_in_an_alert_thread_with_a_key_runs_as_the_command(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    bot = start_bot(alerts_file=alerts_file(tmp_path, FAILED_UNTIL_SEPT_3))
    bot.alerts.runner.run(bot.alerts.loaded.alerts[0], MORNING, "schedule")
    [root] = roots(fake_slack)

    describe = "/describe fct_orders"
    fake_slack.send_event(fake_slack.channel_message(describe, user=USER, channel=CHANNEL, thread_ts=root.ts))
    answer = answered(fake_slack, CHANNEL, root.ts, "One row per order with its value and payment outcome")

    # The command, not an investigation: no model call, and no footer naming an investigation's bounds.
    assert fake_anthropic.requests == [] and "Investigated with read-only tools" not in answer


def test_an_investigation_past_its_time_bound_is_cancelled(
    make_runtime: Callable[..., Runtime], fake_anthropic: FakeAnthropic
) -> None:
    runtime = make_runtime(anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url)
    session = runtime.store.open_session(source="cli").id
    fake_anthropic.latency_seconds = 0.6  # Each model call takes 0.6 s; the bound is 1 s.
    query = {"sql": "select count(*) from fct_orders"}
    fake_anthropic.enqueue(*[tool_use_reply("run_query", query) for _ in range(4)], text_reply(SHAPED_ANSWER))
    events = EventList()

    outcome = InvestigationTurn(runtime, InvestigationBounds(seconds=1.0)).handle(session, "why?", events)

    # Stopped by its clock (wall time itself is not asserted: a loaded machine makes any figure noisy).
    assert not outcome.ok and outcome.text == TURN_CANCELLED
    assert len(fake_anthropic.requests) < 5 and events.of_type(TurnFailed)
