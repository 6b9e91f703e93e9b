"""The bot over the inbox, end to end on the fakes: work a dead process left is taken over and replaces what it
posted and stored; replies sent right after their mention are answered, in order; refused events are dropped;
old rows are pruned periodically."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from slack_sdk import WebClient

from agent.clock import utc_now
from agent.sessions import Inbox, Sessions
from agent.settings import Settings
from agent.store.conversations import ConversationStore
from agent.store.database import create_store_engine, upgrade_database
from agent.store.event_claims import claim_event
from agent.store.models import EventClaimRow, InboxRow
from bot.slack.gate import Refusal, SlackEntry
from bot.slack.pruning import StoreJanitor
from bot.slack.questions import question_from_event
from tests.fakes.anthropic_api import FakeAnthropic, text_reply
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, USER, StartBot, answered, texts, wait_until


def echo(body: dict[str, Any]) -> Any:
    return text_reply("answer to: " + body["messages"][-1]["content"][0]["text"])


def test_an_answer_a_dead_process_left_half_posted_is_replaced_and_its_question_stored_once(
    start_bot: StartBot,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    make_settings: Callable[..., Settings],
) -> None:
    fake_anthropic.respond_with(lambda _: text_reply("Answered after all."))
    # What a process killed mid-answer leaves in the store it shared, and in the thread.
    engine = create_store_engine(str(make_settings().database_url))
    upgrade_database(engine)
    sessions = Sessions(ConversationStore(engine), engine)
    dead = Inbox(engine, owner="dead process", lease=timedelta(seconds=1))
    mention = fake_slack.app_mention("count orders", user=USER, channel=CHANNEL)
    question = question_from_event(fake_slack.event_payload(mention), mention, fake_slack.bot_user_id)
    assert dead.accept(question.inbox_entry("mention"))
    item = dead.take()
    assert item is not None
    session = sessions.open(question.session_key)
    with dead.fenced(item, on_lost=lambda: None):  # As its worker wrote it: tagged with the item's turn.
        ConversationStore(engine).append_message(
            session.id, role="user", content=[{"type": "text", "text": "count orders"}], author=f"<@{USER}>"
        )
    WebClient(token=fake_slack.bot_token, base_url=fake_slack.base_url).chat_postMessage(
        channel=CHANNEL, thread_ts=mention["ts"], text="Let"
    )

    bot = start_bot(slack_inbox_lease_seconds=2)
    answered(fake_slack, CHANNEL, mention["ts"], "Answered after all.", timeout=15)
    thread = texts(fake_slack, CHANNEL, mention["ts"])
    assert sum("Answered after all." in text for text in thread) == 1
    assert not any(text.startswith("Let ") for text in thread)
    history = bot.runtime.store.history(session.id)
    assert [message.role for message in history] == ["user", "assistant"]
    wait_until(lambda: bot.answerer.inbox.depth()[0] == 0, what="the item finished")
    engine.dispose()


def test_replies_sent_right_after_their_mention_are_all_answered_in_order(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.respond_with(echo)
    start_bot()
    threads = []
    for number in range(20):
        mention = fake_slack.app_mention(f"q{number} first", user=USER, channel=CHANNEL)
        reply = fake_slack.channel_message(
            f"q{number} second", user=USER, channel=CHANNEL, thread_ts=mention["ts"]
        )
        fake_slack.send_event(mention)
        fake_slack.send_event(reply)  # Before the mention's listener has run, let alone its answer.
        threads.append((number, mention["ts"]))
    for number, thread_ts in threads:
        answered(fake_slack, CHANNEL, thread_ts, f"q{number} second", timeout=30)
        answers = [text for text in texts(fake_slack, CHANNEL, thread_ts) if "answer to:" in text]
        assert len(answers) == 2
        assert f"q{number} first" in answers[0] and f"q{number} second" in answers[1]


def test_an_event_the_gate_refuses_is_dropped_and_does_not_hold_its_thread_back(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.respond_with(echo)

    def no_intruders(entry: SlackEntry) -> Refusal | None:
        return Refusal("not allowed") if entry.user == "U0INTRUDER" else None

    bot = start_bot(admission_rules=[no_intruders], slack_inbox_lease_seconds=20)
    mention = fake_slack.app_mention("first-question", user=USER, channel=CHANNEL)
    fake_slack.send_event(mention)
    answered(fake_slack, CHANNEL, mention["ts"], "first-question")
    refused = fake_slack.app_mention("refused", user="U0INTRUDER", channel=CHANNEL, thread_ts=mention["ts"])
    fake_slack.wait_for_ack(fake_slack.send_event(refused))
    after = fake_slack.channel_message("after-refusal", user=USER, channel=CHANNEL, thread_ts=mention["ts"])
    fake_slack.send_event(after)
    started = time.monotonic()
    answered(fake_slack, CHANNEL, mention["ts"], "after-refusal")
    assert time.monotonic() - started < 5  # Not after the refused event's 20 s lease.
    expected = {mention["ts"]: "done", refused["ts"]: "dropped", after["ts"]: "done"}

    def statuses() -> dict[str, str]:
        with bot.runtime.engine.connect() as connection:
            return dict(connection.execute(sa.select(InboxRow.position, InboxRow.status)).all())  # type: ignore[arg-type]

    # The answer is posted before its inbox row is marked done: wait for the row rather than race it.
    wait_until(lambda: statuses() == expected, timeout=10, what=f"inbox rows {expected}")


def test_old_claims_and_finished_inbox_rows_are_pruned_periodically(start_bot: StartBot) -> None:
    bot = start_bot()
    engine = bot.runtime.engine
    inbox = bot.answerer.inbox
    old = utc_now() - timedelta(days=3)
    assert claim_event(engine, "slack:EvOLD")
    with engine.begin() as connection:
        connection.execute(sa.update(EventClaimRow).values(created_at=old))
        for status in ("done", "dropped", "pending"):
            connection.execute(
                sa.insert(InboxRow).values(
                    message_key=f"old-{status}",
                    conversation_key="slack:T:C:1",
                    position="1700000000.000100",
                    kind="mention",
                    payload={},
                    status=status,
                    lease_owner="elsewhere",
                    lease_until=utc_now() + timedelta(hours=1),
                    attempts=0,
                    created_at=old,
                )
            )
    janitor = StoreJanitor(
        bot.runtime.sessions, inbox, retention=timedelta(days=2), every=timedelta(seconds=0.1)
    )
    janitor.start()
    try:

        def remaining() -> set[str]:
            with engine.connect() as connection:
                return set(connection.execute(sa.select(InboxRow.message_key)).scalars())

        wait_until(lambda: remaining() == {"old-pending"}, what="the periodic prune")
        with engine.connect() as connection:
            assert connection.execute(sa.select(EventClaimRow.key)).first() is None
    finally:
        janitor.stop()


def test_a_reply_reaching_one_process_before_its_mention_is_stored_by_another_is_answered(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.respond_with(echo)
    start_bot()
    start_bot()  # A second process on the same store, with a connection of its own.
    mention = fake_slack.app_mention("opening-question", user=USER, channel=CHANNEL)
    reply = fake_slack.channel_message("follow-up", user=USER, channel=CHANNEL, thread_ts=mention["ts"])
    # The reply's process sees it first: the mention, on the other connection, is not stored yet.
    fake_slack.wait_for_ack(fake_slack.send_event(reply, connection=1))
    time.sleep(0.3)
    fake_slack.send_event(mention, connection=0)
    answered(fake_slack, CHANNEL, mention["ts"], "follow-up", timeout=20)
    answers = [text for text in texts(fake_slack, CHANNEL, mention["ts"]) if "answer to:" in text]
    assert len(answers) == 2 and "opening-question" in answers[0] and "follow-up" in answers[1]


def test_a_worker_that_wakes_after_its_question_was_taken_over_changes_nothing(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    """The lost-answer race of issue 11: a process stalls past its lease mid-answer; another takes the question
    over and answers it and the next reply. The stalled worker, once awake, must add nothing to the history (its
    late copy of a question once merged with the next question, which was then answered as the earlier one)
    and nothing to the thread."""
    stalled_call, wake = threading.Event(), threading.Event()
    calls = itertools.count()

    def respond(body: dict[str, Any]) -> Any:
        if next(calls) == 0:  # The first process's model call: the process freezes here.
            stalled_call.set()
            wake.wait(30)
        return echo(body)

    fake_anthropic.respond_with(respond)
    stalled = start_bot(slack_inbox_lease_seconds=2)
    mention = fake_slack.app_mention("opening-question", user=USER, channel=CHANNEL)
    fake_slack.send_event(mention, connection=0)
    assert stalled_call.wait(15)
    # Frozen as a whole: its lease renewals stop too (a shutdown without grace abandons the answer in hand).
    assert stalled.answerer.shutdown(0) is False
    successor = start_bot(slack_inbox_lease_seconds=2)
    reply = fake_slack.channel_message("follow-up", user=USER, channel=CHANNEL, thread_ts=mention["ts"])
    fake_slack.send_event(reply, connection=1)
    answered(fake_slack, CHANNEL, mention["ts"], "follow-up", timeout=20)

    wake.set()
    assert stalled.answerer.shutdown(15)  # The stalled worker has run to its end.
    answers = [text for text in texts(fake_slack, CHANNEL, mention["ts"]) if "answer to:" in text]
    assert len(answers) == 2 and "opening-question" in answers[0] and "follow-up" in answers[1]
    question = question_from_event(fake_slack.event_payload(mention), mention, fake_slack.bot_user_id)
    session = successor.runtime.sessions.find(question.session_key)
    assert session is not None
    history = [
        (message.role, " ".join(str(block.get("text")) for block in message.content))
        for message in successor.runtime.store.history(session.id)
    ]
    assert [role for role, _ in history] == ["user", "assistant", "user", "assistant"]
    assert "opening-question" in history[0][1] and "follow-up" in history[2][1]
    assert "answer to:" in history[3][1] and "follow-up" in history[3][1]
