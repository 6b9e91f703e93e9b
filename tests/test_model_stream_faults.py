"""A model stream cut mid-way (the connection drops before the last chunk) is asked for again from scratch:
through the real anthropic SDK against the fake Messages API, in the agent and in a Slack thread."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from slack_sdk import WebClient

from agent import user_messages
from agent.events import EventList, TextDelta, TextRetracted, TurnFailed, TurnFinished, TurnStarted
from agent.runtime import Runtime
from bot.slack.questions import SlackQuestion
from bot.slack.thread_reply import SlackThreadReply
from tests.fakes.anthropic_api import (
    FakeAnthropic,
    cut_stream_reply,
    overloaded_mid_stream_reply,
    text_reply,
    tool_use_reply,
)
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, USER, StartBot, answered, wait_until

LONG_ANSWER = (
    "Let me check the orders first. Revenue held steady over the period you asked about: the daily figures "
    "stayed within a narrow band, and the weekly totals moved by less than two percent from one week to the next. Nothing in the orders "
    "suggests a change in trend yet."
)  # Longer than the bot's 200-character stream buffer, so the cut stream has reached Slack.
SECOND_TRY = "Revenue was flat in December: no day stands out from the rest of the month."


@pytest.fixture
def runtime(fake_anthropic: FakeAnthropic, make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime(anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url)


def ask(runtime: Runtime, text: str) -> EventList:
    session = runtime.store.open_session(source="cli").id
    events = EventList()
    runtime.agent().handle(session, text, events)
    return events


def test_a_cut_stream_is_asked_again_and_its_partial_text_retracted(
    runtime: Runtime, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(cut_stream_reply("Let me look at revenue."), text_reply(SECOND_TRY))
    events = ask(runtime, "how was revenue?")

    finished = events.of_type(TurnFinished)
    assert len(finished) == 1 and finished[0].text == SECOND_TRY  # type: ignore[union-attr]
    assert len(fake_anthropic.requests) == 2
    # The cut attempt's text came first, then its retraction, then the whole new reply.
    kinds = [type(event).__name__ for event in events if isinstance(event, TextDelta | TextRetracted)]
    retracted_at = kinds.index("TextRetracted")
    assert retracted_at > 0 and "TextRetracted" not in kinds[retracted_at + 1 :]
    after = [
        event.text
        for event in events[events.index(events.of_type(TextRetracted)[0]) :]
        if isinstance(event, TextDelta)
    ]
    assert "".join(after) == SECOND_TRY
    # The history holds the one complete reply, not the cut one.
    stored = json.dumps(fake_anthropic.requests[-1].body["messages"])
    assert "Let me look" not in stored


def test_an_overloaded_error_event_mid_stream_is_asked_again(
    runtime: Runtime, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(overloaded_mid_stream_reply("Let me look at revenue."), text_reply(SECOND_TRY))
    events = ask(runtime, "how was revenue?")
    assert events.of_type(TurnFinished)[0].text == SECOND_TRY  # type: ignore[union-attr]
    assert len(events.of_type(TextRetracted)) == 1 and len(fake_anthropic.requests) == 2


def test_a_stream_cut_after_a_tool_ran_repeats_only_the_model_step(
    runtime: Runtime, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        tool_use_reply("search_models", {"query": "revenue"}, text="Searching."),
        cut_stream_reply("Daily revenue is in daily_rev", after_events=5),
        text_reply("Daily revenue is in daily_revenue."),
    )
    events = ask(runtime, "where is revenue?")
    assert events.of_type(TurnFinished)[0].text == "Daily revenue is in daily_revenue."  # type: ignore[union-attr]
    assert len(fake_anthropic.requests) == 3
    # The tool ran once; the retried request carries its result exactly like the cut one did.
    assert fake_anthropic.requests[1].body["messages"] == fake_anthropic.requests[2].body["messages"]
    assert len(events.of_type(TurnFinished)) == 1


def test_a_stream_cut_every_time_ends_in_one_clear_line(
    runtime: Runtime, fake_anthropic: FakeAnthropic
) -> None:
    attempts = runtime.settings.llm_max_retries + 1
    fake_anthropic.enqueue(*[cut_stream_reply("Let me") for _ in range(attempts)])
    events = ask(runtime, "hello")
    failure = events.of_type(TurnFailed)[0]
    assert f"dropped mid-answer {attempts} times" in failure.message  # type: ignore[union-attr]
    assert len(fake_anthropic.requests) == attempts


def _thread_texts(fake: FakeSlack, thread_ts: str) -> list[str]:
    return [
        message.text + json.dumps(message.blocks)
        for message in fake.messages(CHANNEL, thread_ts=thread_ts)
        if message.ts != thread_ts
    ]


def test_a_partly_streamed_slack_answer_is_replaced_by_the_complete_one(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    # 24 events: the first 250-odd characters are streamed into Slack before the connection drops.
    fake_anthropic.enqueue(cut_stream_reply(LONG_ANSWER, after_events=24), text_reply(SECOND_TRY))
    start_bot()
    mention = fake_slack.app_mention("how was revenue in December?", user=USER, channel=CHANNEL)
    fake_slack.send_event(mention)
    answered(fake_slack, CHANNEL, mention["ts"], "no day stands out", timeout=20)

    assert fake_slack.calls_to("chat.startStream"), "the cut attempt had reached Slack"
    replies = wait_until(
        lambda: (
            (found := _thread_texts(fake_slack, mention["ts"])) and "Let me check" not in str(found) and found
        ),
        what="the partial answer replaced",
    )
    assert len(replies) == 1
    assert "no day stands out" in replies[0] and "Let me check" not in replies[0]


def test_when_the_stream_keeps_being_cut_the_thread_shows_one_notice_with_one_reference(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(*[cut_stream_reply(LONG_ANSWER, after_events=20) for _ in range(2)])
    start_bot(llm_max_retries=1)
    mention = fake_slack.app_mention("how was revenue?", user=USER, channel=CHANNEL)
    fake_slack.send_event(mention)
    answered(fake_slack, CHANNEL, mention["ts"], "dropped mid-answer", timeout=20)
    assert fake_slack.calls_to("chat.startStream"), "the cut attempts had reached Slack"

    replies = [m for m in fake_slack.messages(CHANNEL, thread_ts=mention["ts"]) if m.ts != mention["ts"]]
    assert len(replies) == 1, [reply.text for reply in replies]
    shown = json.dumps(replies[0].blocks)
    assert "Let me check" not in shown and "Let me check" not in replies[0].text
    assert shown.count("Reference") == 1


def test_an_unexpected_failure_after_streaming_leaves_one_notice_naming_its_reference_once(
    fake_slack: FakeSlack,
) -> None:
    base_url = fake_slack.base_url if fake_slack.base_url.endswith("/") else fake_slack.base_url + "/"
    client = WebClient(token=fake_slack.bot_token, base_url=base_url)
    mention = fake_slack.app_mention("how was revenue?", user=USER, channel=CHANNEL)
    question = SlackQuestion(
        event_id=None,
        team_id=fake_slack.team_id,
        channel=CHANNEL,
        thread_ts=mention["ts"],
        message_ts=mention["ts"],
        user=USER,
        text="how was revenue?",
        is_direct_message=False,
    )
    reply = SlackThreadReply(client, question, "session-1")
    reference = "0a1b2c3d"
    # The events of a turn that streamed part of its answer and then hit a bug, as the agent sends them.
    reply(TurnStarted(session_id="session-1", text="how was revenue?"))
    reply(TextDelta(session_id="session-1", text=LONG_ANSWER))
    message = user_messages.UNEXPECTED_ERROR.format(reference=reference)
    reply(TurnFailed(session_id="session-1", message=message, reference=reference, error_kind="internal"))

    assert fake_slack.calls_to("chat.startStream"), "part of the answer had reached Slack"
    replies = [m for m in fake_slack.messages(CHANNEL, thread_ts=mention["ts"]) if m.ts != mention["ts"]]
    assert len(replies) == 1
    shown = json.dumps(replies[0].blocks)
    assert "Let me check" not in shown + replies[0].text
    assert "Something went wrong on our side" in shown
    assert shown.count(reference) == 1 and replies[0].text.count(reference) == 1
