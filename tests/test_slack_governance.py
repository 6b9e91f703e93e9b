"""The policy at Slack's door, through real Bolt on the fake Slack: guests and Slack Connect outsiders refused
politely by default and admitted by a rule; a channel's policy reaches the tools of its answers."""

from __future__ import annotations

from pathlib import Path

from bot.slack import messages
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_use_reply
from tests.fakes.slack.directory import FakeUser
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, StartBot, answered, wait_until

GUEST, OUTSIDER, MEMBER = "U0GUEST", "U0OUTSIDE", "U0MEMBER"
SHARED = "C0SHARED"


def register_people(fake_slack: FakeSlack) -> None:
    team = fake_slack.team_id
    fake_slack.directory.add_user(FakeUser(GUEST, team, "guest@example.com", is_restricted=True))
    fake_slack.directory.add_user(FakeUser(OUTSIDER, "T0PARTNER", "bob@partner.example"))
    fake_slack.directory.add_user(FakeUser(MEMBER, team, "ann@example.com"))
    fake_slack.directory.add_channel(SHARED, "acme-shared", shared_externally=True)
    fake_slack.directory.add_channel(CHANNEL, "data")


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(text)
    return path


def test_guests_and_outsiders_are_refused_by_default(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    register_people(fake_slack)
    fake_anthropic.enqueue(text_reply("Members get answers."))
    bot = start_bot()
    guest = fake_slack.app_mention("how many orders?", user=GUEST, channel=CHANNEL)
    fake_slack.send_event(guest)
    assert answered(fake_slack, CHANNEL, guest["ts"], "guest accounts").startswith(
        messages.GUESTS_NOT_ALLOWED
    )
    outsider = fake_slack.app_mention("how many orders?", user=OUTSIDER, channel=SHARED)
    fake_slack.send_event(outsider)
    assert answered(fake_slack, SHARED, outsider["ts"], "this workspace").startswith(
        messages.EXTERNAL_NOT_ALLOWED
    )
    member = fake_slack.app_mention("how many orders?", user=MEMBER, channel=CHANNEL)
    fake_slack.send_event(member)
    answered(fake_slack, CHANNEL, member["ts"], "Members get answers.")
    assert len(fake_anthropic.requests) == 1  # Refused questions never reach the model.
    # The audit row is written once the turn ends, just after the answer is posted.
    expected = {(GUEST, "refused"), (OUTSIDER, "refused"), (MEMBER, "answered")}
    wait_until(
        lambda: {(r.user_id, r.outcome) for r in bot.runtime.governance.audit.entries()} == expected,
        what="an audit row for each question",
    )


def test_a_rule_admits_the_partner_channel_and_limits_what_it_reads(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    register_people(fake_slack)
    policy = policy_file(
        tmp_path,
        "default_slack_access: deny\n"
        "rules:\n"
        "  - name: partner\n"
        "    match: {channels: ['#acme-shared']}\n"
        "    allow: [daily_revenue]\n"
        "    allow_external: true\n",
    )
    fake_anthropic.enqueue(
        tool_use_reply("run_query", {"sql": "SELECT count(*) FROM fct_orders"}),
        text_reply("I may not read orders here."),
    )
    start_bot(policy_file=policy)
    outsider = fake_slack.app_mention("how many orders?", user=OUTSIDER, channel=SHARED)
    fake_slack.send_event(outsider)
    answered(fake_slack, SHARED, outsider["ts"], "I may not read orders here.")
    refused = fake_anthropic.requests[1].tool_results()[0]
    assert refused["is_error"] and "fct_orders is not among the models you may read" in str(
        refused["content"]
    )
    # A channel no rule names is refused under `default_slack_access: deny`.
    member = fake_slack.app_mention("how many orders?", user=MEMBER, channel=CHANNEL)
    fake_slack.send_event(member)
    assert answered(fake_slack, CHANNEL, member["ts"], "not set up").startswith(messages.CHANNEL_NOT_ALLOWED)
    assert len(fake_anthropic.requests) == 2


def test_each_question_is_mirrored_to_the_audit_channel(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    register_people(fake_slack)
    fake_anthropic.enqueue(text_reply("There were 42 orders."))
    bot = start_bot(slack_audit_channel="C0AUDIT")
    member = fake_slack.app_mention("how many orders?", user=MEMBER, channel=CHANNEL)
    fake_slack.send_event(member)
    answered(fake_slack, CHANNEL, member["ts"], "42 orders")
    mirrored = answered(fake_slack, "C0AUDIT", None, "how many orders?")  # type: ignore[arg-type]
    assert f"<@{MEMBER}>" in mirrored and "There were 42 orders." in mirrored and "/archives/" in mirrored
    [record] = wait_until(lambda: bot.runtime.governance.audit.entries(user=MEMBER), what="the audit row")
    assert record.outcome == "answered" and record.email == "ann@example.com" and record.channel_id == CHANNEL


def test_a_user_group_rule_reaches_its_members(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    register_people(fake_slack)
    fake_slack.directory.add_group("S0FIN", "finance", [MEMBER])
    policy = policy_file(
        tmp_path,
        "rules:\n"
        "  - name: everyone\n    match: {everyone: true}\n    allow: ['tag:mart']\n"
        "  - name: finance\n    match: {groups: ['@finance']}\n    allow: ['tag:mart', 'tag:staging']\n",
    )
    query = tool_use_reply("run_query", {"sql": "SELECT count(*) AS n FROM stg_payments"})
    fake_anthropic.enqueue(query, text_reply("Finance sees payments."), query, text_reply("Others do not."))
    start_bot(policy_file=policy)
    member = fake_slack.app_mention("payments?", user=MEMBER, channel=CHANNEL)
    fake_slack.send_event(member)
    answered(fake_slack, CHANNEL, member["ts"], "Finance sees payments.")
    other = fake_slack.app_mention("payments?", user="U0OTHER", channel=CHANNEL)
    fake_slack.send_event(other)
    answered(fake_slack, CHANNEL, other["ts"], "Others do not.")
    member_result, other_result = (fake_anthropic.requests[i].tool_results()[0] for i in (1, 3))
    assert not member_result.get("is_error") and "rows: 1" in str(member_result["content"])
    assert other_result["is_error"] and "stg_payments is not among" in str(other_result["content"])


def test_refusals_are_mirrored_with_who_where_and_why_but_no_data(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    register_people(fake_slack)
    policy = policy_file(
        tmp_path,
        "rules:\n"
        "  - name: everyone\n    match: {everyone: true}\n    allow: ['tag:mart']\n    deny: [dim_products]\n"
        "    budgets: {per_user: {daily_questions: 1}}\n",
    )
    fake_anthropic.enqueue(
        tool_use_reply("run_query", {"sql": "SELECT product_name FROM dim_products"}),
        text_reply("Products are not mine to show."),
    )
    start_bot(policy_file=policy, slack_audit_channel="C0AUDIT")

    def mirrored(needle: str) -> str:
        return answered(fake_slack, "C0AUDIT", None, needle)  # type: ignore[arg-type]

    # The policy refuses a table inside a turn: the mirror says why, and shows nothing the query could return.
    member = fake_slack.app_mention("which products sell?", user=MEMBER, channel=CHANNEL)
    fake_slack.send_event(member)
    answered(fake_slack, CHANNEL, member["ts"], "Products are not mine to show.")
    policy_line = mirrored("which products sell?")
    assert "⛔ refused: Not allowed: dim_products is not among the models" in policy_line
    assert f"<@{MEMBER}> asked in <#{CHANNEL}>" in policy_line and "/archives/" in policy_line
    # A budget: the second question of the day is refused before the model.
    again = fake_slack.app_mention("and yesterday?", user=MEMBER, channel=CHANNEL)
    fake_slack.send_event(again)
    answered(fake_slack, CHANNEL, again["ts"], "daily limit")
    budget_line = mirrored("and yesterday?")
    assert "⛔ refused: Your daily limit of 1 questions is reached" in budget_line
    assert "failed" not in budget_line and "/archives/" in budget_line
    # A guest, at Slack's door.
    guest = fake_slack.app_mention("how many orders?", user=GUEST, channel=CHANNEL)
    fake_slack.send_event(guest)
    answered(fake_slack, CHANNEL, guest["ts"], "guest accounts")
    guest_line = mirrored(f"<@{GUEST}>")
    assert "⛔ refused at the door: guest accounts may not ask" in guest_line
    assert f"<#{CHANNEL}>" in guest_line and "/archives/" in guest_line
    assert len(fake_anthropic.requests) == 2
