"""Alert threads are governed like every other conversation: the keyless drill-down and the Investigate button
(keyed or not) leave an audit row, a spent budget stops the drill-down's first query with the usual message, and
the Investigate button's answer is mirrored to the audit channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.alerts.investigation import QUESTION
from agent.governance.audit import AuditRecord
from agent.sessions import SessionKey
from bot.slack.app import SlackBot
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_use_reply
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import USER, StartBot, answered, texts, wait_until
from tests.test_alerts import CHANNEL, MORNING, alerts_file
from tests.test_alerts_slack import FAILED_UNTIL_SEPT_3, SHAPED_ANSWER, roots

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
