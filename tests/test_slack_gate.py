"""The entry gate: every kind of Slack entry passes one admission step, through real Bolt on the fake Slack."""

from __future__ import annotations

import threading

from bot.slack.gate import Refusal, SlackEntry, classify
from bot.slack.listeners.home import ASK_SUGGESTION_ACTION_ID
from bot.slack.listeners.private import PRIVATE_SHORTCUT
from tests.fakes.anthropic_api import FakeAnthropic, text_reply
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, USER, StartBot, answered, wait_until


class RecordingRule:
    """An admission rule that admits everything and remembers what it saw."""

    def __init__(self) -> None:
        self.seen: list[SlackEntry] = []
        self._lock = threading.Lock()

    def __call__(self, entry: SlackEntry) -> Refusal | None:
        with self._lock:
            self.seen.append(entry)
        return None

    def kinds(self) -> set[str]:
        with self._lock:
            return {entry.kind for entry in self.seen}


def test_every_kind_of_entry_passes_the_gate_with_who_and_where(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(*[text_reply(f"Answer {number}.") for number in range(5)])
    recorder = RecordingRule()
    start_bot(admission_rules=[recorder])

    mention = fake_slack.app_mention("how many orders?", user=USER, channel=CHANNEL)
    fake_slack.send_event(mention)
    answered(fake_slack, CHANNEL, mention["ts"], "Answer")
    fake_slack.send_event(
        fake_slack.channel_message("and refunds?", user=USER, channel=CHANNEL, thread_ts=mention["ts"])
    )
    fake_slack.send_event(fake_slack.direct_message("hello", user=USER))
    fake_slack.send_slash_command("/blueprintdata", "/search revenue", user=USER, channel=CHANNEL)
    fake_slack.send_event(
        {
            "type": "assistant_thread_started",
            "assistant_thread": {"user_id": USER, "channel_id": "D0ASSIST", "thread_ts": "1700000001.000100"},
            "event_ts": "1700000001.000200",
        }
    )
    fake_slack.send_event(fake_slack.app_home_opened(USER))
    welcome = wait_until(lambda: fake_slack.messages(fake_slack.direct_message("x", user=USER)["channel"]))
    button = next(
        element
        for message in welcome
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"].startswith(ASK_SUGGESTION_ACTION_ID)
    )
    fake_slack.send_block_action(
        button["action_id"], button["value"], user=USER, channel=welcome[0].channel, message_ts=welcome[0].ts
    )
    fake_slack.send_message_shortcut(PRIVATE_SHORTCUT, user=USER, channel=CHANNEL, message_ts=mention["ts"])

    expected = {
        "mention",
        "thread_reply",
        "direct_message",
        "slash_command",
        "assistant_thread",
        "home_tab",
        "button",
        "shortcut",
    }
    try:
        wait_until(lambda: expected <= recorder.kinds(), what=f"entries {expected}")
    except AssertionError:
        raise AssertionError(f"seen {recorder.kinds()}") from None
    mention_entry = next(entry for entry in recorder.seen if entry.kind == "mention")
    assert (mention_entry.user, mention_entry.channel, mention_entry.team_id) == (
        USER,
        CHANNEL,
        fake_slack.team_id,
    )
    assert all(entry.user == USER for entry in recorder.seen if entry.kind in expected)


def test_a_refused_entry_reaches_no_listener_and_the_person_is_told_why(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    def closed_channel(entry: SlackEntry) -> Refusal | None:
        if entry.channel == "C0CLOSED":
            return Refusal("channel not allowed", "I don't answer in this channel.")
        return None

    fake_anthropic.enqueue(text_reply("Open channel answer."))
    start_bot(admission_rules=[closed_channel])

    refused = fake_slack.app_mention("how many orders?", user=USER, channel="C0CLOSED")
    fake_slack.send_event(refused)
    answered(fake_slack, "C0CLOSED", refused["ts"], "I don't answer in this channel.")
    command = fake_slack.send_slash_command(
        "/blueprintdata", "/search revenue", user=USER, channel="C0CLOSED"
    )
    ack = fake_slack.wait_for_ack(command)
    assert ack.payload == {"response_type": "ephemeral", "text": "I don't answer in this channel."}

    allowed = fake_slack.app_mention("how many orders?", user=USER, channel=CHANNEL)
    fake_slack.send_event(allowed)
    answered(fake_slack, CHANNEL, allowed["ts"], "Open channel answer.")
    # Only the allowed mention reached the model; the refused one never left the gate.
    assert len(fake_anthropic.requests) == 1
    assert [m.text for m in fake_slack.messages("C0CLOSED", thread_ts=refused["ts"])] == [
        "I don't answer in this channel."
    ]


def test_messages_that_are_not_a_persons_question_are_dropped_by_the_gate() -> None:
    from bot.slack.gate import from_a_person

    rule = from_a_person("U0BOT")
    base = {"type": "event_callback", "team_id": "T1"}

    def entry(event: dict[str, object]) -> SlackEntry:
        return classify({**base, "event": event})

    person = entry({"type": "message", "channel": "C1", "user": "U1", "text": "hi", "ts": "1.0"})
    assert person.kind == "channel_message" and rule(person) is None
    for event in [
        {"type": "message", "channel": "C1", "user": "U0BOT", "text": "mine", "ts": "1.0"},
        {"type": "message", "channel": "C1", "bot_id": "B1", "text": "bot", "ts": "1.0"},
        {"type": "message", "subtype": "message_changed", "channel": "C1", "ts": "1.0"},
        {"type": "message", "subtype": "channel_join", "channel": "C1", "user": "U1", "ts": "1.0"},
        {"type": "app_mention", "channel": "C1", "user": "U1", "text": "  ", "ts": "1.0"},
    ]:
        assert rule(entry(event)) is not None, event
    home = entry({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "messages"})
    assert home.kind == "home_tab" and rule(home) is None
