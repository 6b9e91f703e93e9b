"""Private answers, through real Bolt on the fake Slack with a real store: a question asked in a channel is
answered in the asker's DM, under the channel's policy (its first answer and every follow-up in that thread),
with nothing but a note in the channel, an audit row naming the channel, and, asked inside a thread, that
thread's messages as context."""

from __future__ import annotations

import json
from pathlib import Path

from agent.sessions import SessionKey
from bot.slack import messages
from bot.slack.app import SlackBot
from bot.slack.listeners.private import PRIVATE_SHORTCUT
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_use_reply
from tests.fakes.slack.directory import FakeUser
from tests.fakes.slack.ids import dm_channel
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, StartBot, answered, texts, wait_until

MEMBER, GUEST = "U0MEMBER", "U0GUEST"
# #data may not read dim_products; DMs may. A private answer to a question asked in #data keeps #data's rule.
POLICY = """
rules:
  - name: data channel
    match: {channels: ['#data']}
    allow: ['tag:mart']
    deny: [dim_products]
  - name: direct messages
    match: {direct_messages: true}
    allow: ['tag:mart']
"""
PRODUCTS = tool_use_reply("run_query", {"sql": "SELECT product_name FROM dim_products LIMIT 3"})


def start(start_bot: StartBot, fake_slack: FakeSlack, tmp_path: Path, policy_text: str = POLICY) -> SlackBot:
    fake_slack.directory.add_user(FakeUser(MEMBER, fake_slack.team_id, "ann@example.com"))
    fake_slack.directory.add_channel(CHANNEL, "data")
    policy = tmp_path / "policy.yml"
    policy.write_text(policy_text)
    return start_bot(policy_file=policy, slack_audit_channel="C0AUDIT")


def dm_thread(fake_slack: FakeSlack) -> str:
    """The ts of the DM thread the private answer went to (the bot's first DM message)."""
    first = wait_until(lambda: fake_slack.messages(dm_channel(MEMBER)), what="a DM to the asker")[0]
    return first.ts


def test_a_private_question_is_answered_in_a_dm_under_the_channels_policy(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    bot = start(start_bot, fake_slack, tmp_path)
    fake_anthropic.enqueue(PRODUCTS, text_reply("Product names are not available here."))
    envelope = fake_slack.send_slash_command(
        "/blueprintdata", "private which products sell best?", user=MEMBER, channel=CHANNEL
    )
    fake_slack.wait_for_ack(envelope)
    dm, root = dm_channel(MEMBER), dm_thread(fake_slack)
    [opened] = fake_slack.calls_to("conversations.open")
    assert opened.args["users"] == MEMBER
    answered(fake_slack, dm, root, "Product names are not available here.")
    assert f"<#{CHANNEL}>" in fake_slack.messages(dm)[0].text
    # The denied table stays denied: #data's rule applies, not the DMs' (which allows dim_products).
    refused = fake_anthropic.requests[1].tool_results()[0]
    assert refused["is_error"] and "dim_products is not among the models you may read" in str(
        refused["content"]
    )
    # Only the asker hears it: the channel gets nothing; the command's reply is ephemeral.
    [reply] = wait_until(lambda: fake_slack.responses(CHANNEL), what="the command's reply")
    assert reply.body["text"] == messages.PRIVATE_ANSWER_COMING and reply.body["response_type"] == "ephemeral"
    assert fake_slack.messages(CHANNEL) == [] and fake_slack.uploads(CHANNEL) == []
    # A follow-up in the DM thread keeps the channel's policy.
    fake_anthropic.enqueue(PRODUCTS, text_reply("Still not available."))
    fake_slack.send_event(fake_slack.direct_message("and the top one?", user=MEMBER, thread_ts=root))
    answered(fake_slack, dm, root, "Still not available.")
    assert fake_anthropic.requests[3].tool_results()[0]["is_error"]
    # A new DM is a DM question: the DMs' rule lets it read products (so the refusals above were #data's).
    fake_anthropic.enqueue(PRODUCTS, text_reply("Here are three products."))
    plain = fake_slack.direct_message("which products?", user=MEMBER)
    fake_slack.send_event(plain)
    answered(fake_slack, dm, plain["ts"], "Here are three products.")
    assert not fake_anthropic.requests[5].tool_results()[0].get("is_error")
    # Audited as questions asked in #data (the DM's own question as a DM), with the policy's refusals.
    rows = wait_until(
        lambda: (found := bot.runtime.governance.audit.entries(user=MEMBER)) and len(found) == 3 and found,
        what="an audit row per question",
    )
    by_question = {row.question: row for row in rows}
    for question in ("which products sell best?", "and the top one?"):
        row = by_question[question]
        assert row.channel_id == CHANNEL and row.principal_kind == "slack_channel"
        assert any(d["outcome"] == "refused" and "dim_products" in d["detail"] for d in row.decisions)
    assert by_question["which products?"].principal_kind == "direct_message"
    # The audit channel names the refusal, not the data, and where the question was asked: privately, from #data.
    mirrored = answered(fake_slack, "C0AUDIT", None, "which products sell best?")  # type: ignore[arg-type]
    assert "⛔ refused" in mirrored and "dim_products" in mirrored
    assert mirrored.startswith(f"<@{MEMBER}> asked privately from <#{CHANNEL}>: which products sell best?")
    follow_up = answered(fake_slack, "C0AUDIT", None, "and the top one?")  # type: ignore[arg-type]
    assert follow_up.startswith(f"<@{MEMBER}> asked privately from <#{CHANNEL}>: and the top one?")
    own_dm = answered(fake_slack, "C0AUDIT", None, ": which products?")  # type: ignore[arg-type]
    assert own_dm.startswith(f"<@{MEMBER}> asked in a DM: which products?")


def test_privately_in_a_mention_moves_the_answer_to_a_dm_and_leaves_only_a_note(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    bot = start(start_bot, fake_slack, tmp_path)
    fake_anthropic.enqueue(
        tool_use_reply("run_query", {"sql": "SELECT count(*) AS orders FROM fct_orders"}),
        text_reply("There were 1234 orders in all."),
    )
    mention = fake_slack.app_mention("privately: how many orders in all?", user=MEMBER, channel=CHANNEL)
    event_id = "Ev0PRIVATE01"
    fake_slack.send_event(mention, event_id=event_id)
    dm, root = dm_channel(MEMBER), dm_thread(fake_slack)
    answer = answered(fake_slack, dm, root, "1234 orders")
    assert "rows: 1" in str(fake_anthropic.requests[1].tool_results()[0]["content"])
    note = answered(fake_slack, CHANNEL, mention["ts"], messages.PRIVATE_ANSWER_SENT.format(user=MEMBER))
    # A redelivery of the mention does not open a second private answer.
    fake_slack.send_event(mention, event_id=event_id, retry_attempt=1, retry_reason="timeout")
    wait_until(lambda: bot.runtime.governance.audit.entries(user=MEMBER), what="the audit row")
    channel_texts = texts(fake_slack, CHANNEL, mention["ts"])
    assert channel_texts == [note] and "1234" not in note and "1234" in answer
    assert fake_slack.uploads(CHANNEL) == [] and len(fake_slack.messages(dm)) >= 2
    assert len(fake_slack.calls_to("conversations.open")) == 1
    [row] = bot.runtime.governance.audit.entries(user=MEMBER)
    assert (
        row.channel_id == CHANNEL and row.question == "how many orders in all?" and row.outcome == "answered"
    )


def test_the_dm_thread_is_admitted_by_the_channels_rule_where_dms_are_not(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    only_data = "default_slack_access: deny\nrules:\n  - name: data\n    match: {channels: ['#data']}\n"
    start(start_bot, fake_slack, tmp_path, only_data)
    fake_anthropic.enqueue(text_reply("First answer."), text_reply("Follow-up answer."))
    fake_slack.send_slash_command("/blueprintdata", "private how many orders?", user=MEMBER, channel=CHANNEL)
    dm, root = dm_channel(MEMBER), dm_thread(fake_slack)
    answered(fake_slack, dm, root, "First answer.")
    fake_slack.send_event(fake_slack.direct_message("and last week?", user=MEMBER, thread_ts=root))
    answered(fake_slack, dm, root, "Follow-up answer.")
    # A DM of its own is judged as a DM, which no rule admits.
    plain = fake_slack.direct_message("how many orders?", user=MEMBER)
    fake_slack.send_event(plain)
    assert answered(fake_slack, dm, plain["ts"], "not set up").startswith(messages.CHANNEL_NOT_ALLOWED)
    assert len(fake_anthropic.requests) == 2


def test_a_follow_up_refused_at_the_door_is_mirrored_as_asked_privately_from_the_channel(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    only_data = "default_slack_access: deny\nrules:\n  - name: data\n    match: {channels: ['#data']}\n"
    start(start_bot, fake_slack, tmp_path, only_data)
    fake_anthropic.enqueue(text_reply("First answer."))
    fake_slack.send_slash_command("/blueprintdata", "private how many orders?", user=MEMBER, channel=CHANNEL)
    dm, root = dm_channel(MEMBER), dm_thread(fake_slack)
    answered(fake_slack, dm, root, "First answer.")
    # #data loses its rule: the DM thread, judged by #data's rule, is refused at the door from now on.
    (tmp_path / "policy.yml").write_text("default_slack_access: deny\nrules: []\n")
    fake_slack.send_event(fake_slack.direct_message("and last month?", user=MEMBER, thread_ts=root))

    mirrored = answered(fake_slack, "C0AUDIT", None, "and last month?")  # type: ignore[arg-type]
    assert mirrored.startswith(f"<@{MEMBER}> asked privately from <#{CHANNEL}>: and last month?")
    assert "refused at the door" in mirrored and len(fake_anthropic.requests) == 1


def test_the_answer_privately_shortcut_answers_a_channel_message_in_a_dm(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    bot = start(start_bot, fake_slack, tmp_path)
    fake_slack.directory.add_user(
        FakeUser(GUEST, fake_slack.team_id, "guest@example.com", is_restricted=True)
    )
    fake_anthropic.enqueue(PRODUCTS, text_reply("Not for this channel."))
    # Someone's question in #data, not addressed to the bot; Ann wants its answer for herself.
    fake_slack.seed_thread(
        CHANNEL, "1700000100.000100", [{"text": "which products sell best?", "user": "U0BOB"}]
    )
    envelope = fake_slack.send_message_shortcut(
        PRIVATE_SHORTCUT, user=MEMBER, channel=CHANNEL, message_ts="1700000100.000100"
    )
    fake_slack.wait_for_ack(envelope)
    dm, root = dm_channel(MEMBER), dm_thread(fake_slack)
    answered(fake_slack, dm, root, "Not for this channel.")
    assert fake_anthropic.requests[1].tool_results()[0]["is_error"]  # #data's deny, not the DMs' allow.
    [reply] = wait_until(lambda: fake_slack.responses(CHANNEL), what="the shortcut's reply")
    assert reply.body["text"] == messages.PRIVATE_ANSWER_COMING and reply.body["response_type"] == "ephemeral"
    assert fake_slack.messages(CHANNEL) == []
    [row] = wait_until(lambda: bot.runtime.governance.audit.entries(user=MEMBER), what="the audit row")
    assert row.channel_id == CHANNEL and row.question == "which products sell best?"
    # The entry gate judges a shortcut like any question: a guest is refused, seen by the guest alone.
    fake_slack.send_message_shortcut(
        PRIVATE_SHORTCUT, user=GUEST, channel=CHANNEL, message_ts="1700000100.000100"
    )
    refusal = wait_until(lambda: fake_slack.ephemeral_messages(CHANNEL, GUEST), what="the guest's refusal")
    assert refusal[0].text == messages.GUESTS_NOT_ALLOWED and fake_slack.messages(CHANNEL) == []
    assert len(fake_anthropic.requests) == 2


def test_privately_in_a_reply_of_the_bots_thread_moves_that_answer_to_a_dm(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    bot = start(start_bot, fake_slack, tmp_path)
    fake_anthropic.enqueue(text_reply("Orders are in fct_orders."), text_reply("Acme placed 17 orders."))
    mention = fake_slack.app_mention("where are orders?", user=MEMBER, channel=CHANNEL)
    fake_slack.send_event(mention)
    answered(fake_slack, CHANNEL, mention["ts"], "Orders are in fct_orders.")
    reply = fake_slack.channel_message(
        "privately, how many did acme place?", user=MEMBER, channel=CHANNEL, thread_ts=mention["ts"]
    )
    fake_slack.send_event(reply)
    dm, root = dm_channel(MEMBER), dm_thread(fake_slack)
    answered(fake_slack, dm, root, "Acme placed 17 orders.")
    answered(fake_slack, CHANNEL, mention["ts"], messages.PRIVATE_ANSWER_SENT.format(user=MEMBER))
    assert not any("17" in text for text in texts(fake_slack, CHANNEL, mention["ts"]))
    private_request = fake_anthropic.requests[1].body["messages"]
    assert "how many did acme place?" in private_request[-1]["content"][0]["text"]
    # The thread it was asked in comes along, quoted as context (the private question itself is not quoted).
    opening = json.dumps(private_request[0], ensure_ascii=False)
    assert "<thread>" in opening and "where are orders?" in opening and "Orders are in fct_orders." in opening
    assert "acme" not in opening
    # A follow-up in the DM still sees the thread.
    fake_anthropic.enqueue(text_reply("Acme ordered shoes."))
    fake_slack.send_event(fake_slack.direct_message("what did they order?", user=MEMBER, thread_ts=root))
    answered(fake_slack, dm, root, "Acme ordered shoes.")
    assert "Orders are in fct_orders." in json.dumps(fake_anthropic.requests[2].body["messages"])
    # Read-only: the channel thread's conversation holds only its own question and answer.
    thread = bot.runtime.sessions.find(SessionKey.slack_thread(fake_slack.team_id, CHANNEL, mention["ts"]))
    assert thread is not None and len(bot.runtime.store.history(thread.id)) == 2


def test_the_shortcut_on_a_reply_in_a_thread_brings_the_thread_under_the_channels_policy(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    start(start_bot, fake_slack, tmp_path)
    fake_anthropic.enqueue(PRODUCTS, text_reply("Not for this channel."))
    fake_slack.seed_thread(
        CHANNEL,
        "1700000200.000100",
        [
            {"text": "The spring catalogue went live on Monday.", "user": "U0BOB"},
            {"text": "which of its products sell best?", "user": "U0CAROL", "ts": "1700000200.000200"},
        ],
    )
    fake_slack.send_message_shortcut(
        PRIVATE_SHORTCUT, user=MEMBER, channel=CHANNEL, message_ts="1700000200.000200"
    )
    answered(fake_slack, dm_channel(MEMBER), dm_thread(fake_slack), "Not for this channel.")

    first = fake_anthropic.requests[0].body["messages"]
    assert "The spring catalogue went live on Monday." in json.dumps(first[0], ensure_ascii=False)
    assert first[-1]["content"][0]["text"].endswith("which of its products sell best?")
    # The thread's context changes nothing of the policy: #data's deny, not the DMs' allow.
    assert fake_anthropic.requests[1].tool_results()[0]["is_error"]
    assert fake_slack.messages(CHANNEL) == []
