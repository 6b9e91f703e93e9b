"""Alert threads are governed like every other conversation: the keyless drill-down and the Investigate button
(keyed or not) leave an audit row, a spent budget stops the drill-down's first query with the usual message, and
the Investigate button's answer is mirrored to the audit channel."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.alerts.drill_down_turn import DrillDownTurn
from agent.alerts.drilldown import DrillDown
from agent.alerts.incidents import StoredIncident
from agent.alerts.investigation import QUESTION
from agent.events import EventList, ToolFinished, TurnFailed
from agent.governance.asker import asking_as
from agent.governance.audit import AuditRecord
from agent.runtime import Runtime
from agent.sessions import SessionKey
from bot.slack.app import SlackBot
from demo.load import DEMO_FILE_NAME, DEMO_PROJECT_DIR
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_use_reply
from tests.fakes.bigquery_api import ENDPOINT, PROJECT, FakeBigQuery
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import USER, StartBot, answered, texts, wait_until
from tests.test_alerts import CHANNEL, MORNING, alerts_file, slack_alerts
from tests.test_alerts_slack import FAILED_UNTIL_SEPT_3, SHAPED_ANSWER, roots
from tools.policy import Principal

AUDIT_CHANNEL = "C0AUDIT"
DRILLED = "Investigation of alert failed_payments"


def alert_bot(
    start_bot: StartBot, fake_slack: FakeSlack, tmp_path: Path, **overrides: Any
) -> tuple[SlackBot, str]:
    """A bot whose failed_payments alert has opened an incident: the bot and the incident message's ts."""
    bot = start_bot(alerts_file=alerts_file(tmp_path, FAILED_UNTIL_SEPT_3), **overrides)
    bot.alerts.runner.run(bot.alerts.loaded.alerts[0], MORNING, "schedule")
    [root] = roots(fake_slack)
    return bot, root.ts


def audit_rows(bot: SlackBot, count: int) -> list[AuditRecord]:
    def rows() -> list[AuditRecord] | None:
        found = bot.runtime.governance.audit.entries(user=USER)
        return found if len(found) >= count else None

    return wait_until(rows, what=f"{count} audit rows")  # type: ignore[no-any-return]


def click_investigate(fake_slack: FakeSlack, bot: SlackBot, root_ts: str) -> None:
    incident = bot.alerts.runner.incidents.latest("failed_payments")
    assert incident is not None
    fake_slack.send_block_action(
        "alert_incident:investigate", str(incident.id), user=USER, channel=CHANNEL, message_ts=root_ts
    )


def mirrored(fake_slack: FakeSlack, needle: str) -> str:
    return answered(fake_slack, AUDIT_CHANNEL, None, needle)  # type: ignore[arg-type]


def test_a_keyless_drill_down_reply_leaves_an_audit_row(
    start_bot: StartBot, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot, root_ts = alert_bot(start_bot, fake_slack, tmp_path, anthropic_api_key=None)

    question = "what happened here?"
    fake_slack.send_event(fake_slack.channel_message(question, user=USER, channel=CHANNEL, thread_ts=root_ts))
    answered(fake_slack, CHANNEL, root_ts, DRILLED)

    [row] = audit_rows(bot, 1)
    session = bot.runtime.sessions.find(SessionKey.slack_thread(fake_slack.team_id, CHANNEL, root_ts))
    assert session is not None
    assert row.question == question and row.outcome == "answered" and row.session_id == session.id
    assert row.channel_id == CHANNEL and row.principal_kind == "slack_channel"
    # Each split's query is a tool run of the turn, with its SQL and rows (DuckDB does not report bytes).
    assert [tool["tool"] for tool in row.tools] == ["drill_down"] * 6
    assert all(tool["sql"].startswith("SELECT CAST(") and not tool["is_error"] for tool in row.tools)
    assert all(tool["rows"] > 0 and tool["bytes"] is None for tool in row.tools)
    assert sum(tool["rows"] for tool in row.tools) == row.rows_returned == 51  # The answer's "51 rows read".
    assert row.bytes_scanned == 0


def test_a_keyless_drill_down_reply_is_the_answer_alone_and_shows_its_sql(
    start_bot: StartBot, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot, root_ts = alert_bot(start_bot, fake_slack, tmp_path, anthropic_api_key=None)

    fake_slack.send_event(fake_slack.channel_message("why?", user=USER, channel=CHANNEL, thread_ts=root_ts))
    answered(fake_slack, CHANNEL, root_ts, DRILLED)
    [row] = audit_rows(bot, 1)  # Written once the turn, and all it posts, is over.

    # The split queries' tool events add no table after the answer: the thread holds the alert and the answer,
    # and the two charts (the alert's, the drill-down's).
    thread = fake_slack.messages(CHANNEL, thread_ts=root_ts)
    root, answer = [message for message in thread if not message.files]
    assert root.ts == root_ts and answer.text.startswith(f"*{DRILLED}")
    files = [file.filename for message in thread for file in message.files]
    assert len(files) == 2 and files[-1] == "failed_payments-drilldown-20240903.png"
    buttons = {
        element["action_id"]: element["value"]
        for block in answer.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }
    # "Show SQL" reads the split queries back from the thread's tool runs, as for any answer.
    fake_slack.send_block_action(
        "show_sql", buttons["show_sql"], user=USER, channel=CHANNEL, message_ts=answer.ts, thread_ts=root_ts
    )
    shown = wait_until(
        lambda: next((json.dumps(m.blocks) for m in fake_slack.ephemeral_messages(CHANNEL, USER)), None),
        what="the SQL",
    )
    assert shown.count("SELECT CAST(") == len(row.tools) == 6
    assert all(tool["sql"].partition(" AS ")[0] in shown for tool in row.tools)  # SELECT CAST(<dimension>


def test_investigate_without_a_key_is_audited_and_mirrored(
    start_bot: StartBot, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot, root_ts = alert_bot(
        start_bot, fake_slack, tmp_path, anthropic_api_key=None, slack_audit_channel=AUDIT_CHANNEL
    )

    click_investigate(fake_slack, bot, root_ts)
    answered(fake_slack, CHANNEL, root_ts, DRILLED)

    [row] = audit_rows(bot, 1)
    assert row.question == QUESTION and row.outcome == "answered"
    line = mirrored(fake_slack, "Why did this happen?")
    assert f"<@{USER}> asked in <#{CHANNEL}>" in line and "answered ($0.0000): " in line and DRILLED in line
    assert "/archives/" in line


def test_investigate_with_a_key_is_audited_and_mirrored(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    bot, root_ts = alert_bot(start_bot, fake_slack, tmp_path, slack_audit_channel=AUDIT_CHANNEL)
    split = "select payment_status, count(*) from fct_orders where order_date = date '2024-09-03' group by 1"
    fake_anthropic.enqueue(tool_use_reply("run_query", {"sql": split}), text_reply(SHAPED_ANSWER))

    click_investigate(fake_slack, bot, root_ts)
    answered(fake_slack, CHANNEL, root_ts, "Investigated with read-only tools: 1 queries")

    [row] = audit_rows(bot, 1)
    assert row.question == QUESTION and row.outcome == "answered" and row.input_tokens > 0
    assert [tool["tool"] for tool in row.tools] == ["run_query"] and row.rows_returned == 3
    line = mirrored(fake_slack, "Why did this happen?")
    assert f"<@{USER}> asked in <#{CHANNEL}>" in line and "answered ($" in line and "*Summary:*" in line


def test_a_spent_budget_stops_the_drill_down_before_its_query(
    start_bot: StartBot, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "rules:\n  - name: everyone\n    match: {everyone: true}\n"
        "    budgets: {per_user: {daily_questions: 1}}\n"
    )
    bot, root_ts = alert_bot(
        start_bot,
        fake_slack,
        tmp_path,
        anthropic_api_key=None,
        policy_file=policy,
        slack_audit_channel=AUDIT_CHANNEL,
    )
    fake_slack.send_event(fake_slack.channel_message("why?", user=USER, channel=CHANNEL, thread_ts=root_ts))
    answered(fake_slack, CHANNEL, root_ts, DRILLED)
    audit_rows(bot, 1)
    charts = wait_until(
        lambda: fake_slack.uploads(CHANNEL, thread_ts=root_ts)[1:], what="the drill-down chart"
    )

    fake_slack.send_event(
        fake_slack.channel_message("and now?", user=USER, channel=CHANNEL, thread_ts=root_ts)
    )
    refusal = answered(fake_slack, CHANNEL, root_ts, "Your daily limit of 1 questions is reached")

    assert "resets at 00:00 UTC" in refusal
    assert sum(DRILLED in text for text in texts(fake_slack, CHANNEL, root_ts)) == 1
    assert fake_slack.uploads(CHANNEL, thread_ts=root_ts)[1:] == charts  # No second split: no chart either.
    rows = audit_rows(bot, 2)
    refused = next(row for row in rows if row.question == "and now?")
    assert refused.outcome == "refused" and "daily limit of 1 questions" in (refused.detail or "")
    assert refused.rows_returned == 0 and refused.bytes_scanned == 0
    assert "⛔ refused: Your daily limit of 1 questions is reached" in mirrored(fake_slack, "and now?")


class PlainView:
    """The drill-down's answer in one plain line (this test reads its audit row and events, not its wording)."""

    def text(self, incident: StoredIncident, drill: DrillDown) -> str:
        return f"{DRILLED}: {drill.queries} queries"

    def shown(self, drill: DrillDown) -> None:
        return None


def test_a_byte_budget_spent_by_the_drill_downs_own_queries_stops_its_next_query_before_it_runs(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, demo_data_dir: Path, tmp_path: Path
) -> None:
    # BigQuery reports each query's bytes: 100 MB each, against a daily budget of 250 MB. The first two fit
    # (0 + 100, then 100 + 100); the third would make 300 MB with the two before it in the same turn.
    query_bytes = 100 * 10**6
    bigquery = FakeBigQuery(bytes_processed=query_bytes)
    demo = demo_data_dir / "demo" / DEMO_FILE_NAME
    bigquery.execute(
        f"ATTACH '{demo}' AS demo (READ_ONLY); "
        "CREATE TABLE main.fct_orders AS SELECT * FROM demo.main.fct_orders; DETACH demo"
    )
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "rules:\n  - name: everyone\n    match: {everyone: true}\n"
        "    budgets: {per_user: {daily_bytes: 250000000}}\n"
    )
    ann = Principal("slack_channel", user_id="U0ANN", channel_id=CHANNEL)
    with bigquery.serving():
        runtime = make_runtime(
            alerts_file=alerts_file(tmp_path, FAILED_UNTIL_SEPT_3),
            policy_file=policy,
            dbt_project_dir=DEMO_PROJECT_DIR,
            warehouse_url=f"bigquery://{PROJECT}/main",
            bigquery_api_endpoint=ENDPOINT,
        )
        runner = slack_alerts(runtime, fake_slack).runner
        runner.run(runner.keeper.alert("failed_payments"), MORNING, "schedule")  # type: ignore[arg-type]
        incident = runner.incidents.latest("failed_payments")
        assert incident is not None
        session = runtime.store.open_session(source="slack", external_key=f"T1:{CHANNEL}:drill")
        before = len(bigquery.statements)
        events = EventList()
        with asking_as(ann):
            outcome = DrillDownTurn(runner, incident.id, PlainView()).handle(session.id, "why?", events)

    [failed] = events.of_type(TurnFailed)
    assert not outcome.ok and isinstance(failed, TurnFailed) and failed.error_kind == "BudgetExceeded"
    assert "Your daily warehouse budget of 250 MB scanned is spent (300 MB used)" in failed.message
    ran = bigquery.statements[before:]
    finished = [e for e in events.of_type(ToolFinished) if isinstance(e, ToolFinished)]
    assert len(ran) == len(finished) == 2  # The third query was refused before any job was sent.
    assert [event.bytes_scanned for event in finished] == [query_bytes, query_bytes]
    [row] = runtime.governance.audit.entries(user="U0ANN")
    assert row.outcome == "refused" and row.bytes_scanned == 2 * query_bytes
    assert [tool["bytes"] for tool in row.tools] == [query_bytes, query_bytes]
    assert [tool["sql"] for tool in row.tools] == [event.sql for event in finished]
    assert all("fct_orders" in (tool["sql"] or "") and tool["rows"] > 0 for tool in row.tools)


def test_the_drill_down_reads_as_the_asker_may_not_as_the_alert(
    start_bot: StartBot, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    # The alert's rule (everyone's) reads every column of fct_orders; the channel's rule denies one. The splits
    # are posted to the person who asked, in their channel: the denied column is not split on.
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "rules:\n  - name: everyone\n    match: {everyone: true}\n    allow: [fct_orders]\n"
        f"  - name: ops\n    match: {{channels: [{CHANNEL}]}}\n    allow: [fct_orders]\n"
        "    deny_columns: [fct_orders.payment_method]\n"
    )
    bot, root_ts = alert_bot(start_bot, fake_slack, tmp_path, anthropic_api_key=None, policy_file=policy)

    fake_slack.send_event(fake_slack.channel_message("why?", user=USER, channel=CHANNEL, thread_ts=root_ts))
    answer = answered(fake_slack, CHANNEL, root_ts, DRILLED)

    [row] = audit_rows(bot, 1)
    split_on = [tool["sql"] for tool in row.tools if not tool["is_error"]]
    assert split_on and not any("payment_method" in sql for sql in split_on)
    refused = [decision for decision in row.decisions if decision["outcome"] == "refused"]
    assert any("payment_method" in f"{d['subject']} {d['detail']}" for d in refused)
    shown, _, not_split = answer.partition("not split:")
    assert "payment_method" not in shown and "payment_method" in not_split
    # As the alert's own principal (no asker), the same drill-down splits on it.
    incident = bot.alerts.runner.incidents.latest("failed_payments")
    assert incident is not None
    _, drill = bot.alerts.runner.investigate(incident.id)
    assert "payment_method" in [split.dimension for split in drill.splits]
