"""A question asked on someone's behalf (slash command, button, a private answer's move to a DM) survives its
process dying at any instant: stored before it is posted, it is posted once and answered once, by whichever
process runs the interaction (or the mention) again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from agent.alerts.investigation import QUESTION as INVESTIGATE
from agent.sessions import Inbox, InboxEntry
from agent.settings import Settings
from agent.store.database import create_store_engine, upgrade_database
from bot.slack import messages
from bot.slack.app import SlackBot
from bot.slack.asked_on_behalf import AskedOnBehalf, post_marked
from bot.slack.listeners.commands import on_slash_command
from bot.slack.listeners.events import on_app_mention
from bot.slack.listeners.private import PRIVATE_SHORTCUT, on_private_shortcut
from bot.slack.questions import received_inbox_entry
from tests.fakes.anthropic_api import FakeAnthropic, text_reply
from tests.fakes.slack.ids import dm_channel
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, USER, StartBot, answered, texts, wait_until
from tests.test_alerts import CHANNEL as ALERT_CHANNEL
from tests.test_alerts_governance import DRILLED, alert_bot

SEARCH = "/search revenue by day"  # A direct command: answered without a model.
DIED = pytest.mark.parametrize("died", ["before posting", "after posting"])


def _asked_posts(fake_slack: FakeSlack, asked: AskedOnBehalf) -> list[str]:
    return [
        message.ts
        for message in fake_slack.messages(asked.channel, thread_ts=asked.thread_ts)
        if message.text.startswith(f"<@{USER}> asked:")
    ]


def _die_then_recover(
    fake_slack: FakeSlack,
    settings: Settings,
    start: Callable[[], SlackBot],
    request: dict[str, Any],
    asked: AskedOnBehalf,
    *,
    died: str,
    needle: str,
) -> None:
    """Leave what a process killed before (or right after) posting the click's question left, start a bot, and
    check the question is posted once and answered once; the same click delivered again changes nothing."""
    engine = create_store_engine(str(settings.database_url))
    upgrade_database(engine)
    dead = Inbox(engine, owner="dead process", lease=timedelta(seconds=1))
    assert dead.hold(asked.held_entry(request)) == "new"
    if died == "after posting":
        asked.post_once(WebClient(token=fake_slack.bot_token, base_url=fake_slack.base_url), again=False)

    bot = start()
    posted = wait_until(lambda: _asked_posts(fake_slack, asked), what="the asked-on-behalf message")
    answer_thread = asked.thread_ts or posted[0]
    answered(fake_slack, asked.channel, answer_thread, needle)
    wait_until(lambda: bot.answerer.inbox.depth()[0] == 0, what="the click finished")
    again = bot.answerer.ask_on_behalf(
        request=request,
        team_id=asked.team_id,
        channel=asked.channel,
        user=USER,
        text=asked.text,
        thread_ts=asked.thread_ts,
    )
    assert again is False
    assert len(_asked_posts(fake_slack, asked)) == 1
    assert sum(needle in text for text in texts(fake_slack, asked.channel, answer_thread)) == 1
    engine.dispose()


@DIED
def test_a_slash_command_whose_process_died_is_posted_once_and_answered_once(
    start_bot: StartBot, fake_slack: FakeSlack, make_settings: Callable[..., Settings], died: str
) -> None:
    request = {
        "team_id": fake_slack.team_id,
        "channel_id": CHANNEL,
        "user_id": USER,
        "command": "/blueprintdata",
        "text": SEARCH,
        "api_app_id": fake_slack.app_id,
        "response_url": "https://hooks.slack.invalid/commands/T/1/x",
        "trigger_id": "1.2.slash-command",
    }
    asked = AskedOnBehalf.of(
        request, team_id=fake_slack.team_id, channel=CHANNEL, user=USER, text=SEARCH, thread_ts=None
    )
    start = lambda: start_bot(slack_inbox_lease_seconds=2)  # noqa: E731
    _die_then_recover(fake_slack, make_settings(), start, request, asked, died=died, needle="daily_revenue")


@DIED
def test_an_investigate_click_whose_process_died_is_posted_once_in_its_thread_and_answered_once(
    start_bot: StartBot,
    fake_slack: FakeSlack,
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    died: str,
) -> None:
    bot, root_ts = alert_bot(
        start_bot, fake_slack, tmp_path, anthropic_api_key=None, slack_inbox_lease_seconds=2
    )
    incident = bot.alerts.runner.incidents.latest("failed_payments")
    assert incident is not None
    request = {
        "type": "block_actions",
        "team": {"id": fake_slack.team_id},
        "user": {"id": USER},
        "channel": {"id": ALERT_CHANNEL},
        "container": {"type": "message", "message_ts": root_ts, "channel_id": ALERT_CHANNEL},
        "message": {"type": "message", "ts": root_ts, "text": ""},
        "actions": [{"action_id": "alert_incident:investigate", "value": str(incident.id), "type": "button"}],
        "trigger_id": "1.2.investigate",
    }
    asked = AskedOnBehalf.of(
        request,
        team_id=fake_slack.team_id,
        channel=ALERT_CHANNEL,
        user=USER,
        text=INVESTIGATE,
        thread_ts=root_ts,
    )
    _die_then_recover(fake_slack, make_settings(), lambda: bot, request, asked, died=died, needle=DRILLED)


# A private answer's move to the asker's DM: the click (or the mention) is held the same way, and each message
# posted on the way (the DM's question, the channel's note) is marked with its key, so posted once.
PRIVATELY = "how many orders in all?"
PRIVATE_ANSWER = "There were 1234 orders in all."
SHORTCUT_MESSAGE_TS = "1700000300.000100"


def _dm_questions(fake_slack: FakeSlack) -> list[str]:
    opening = messages.PRIVATE_QUESTION.format(channel=CHANNEL, text=PRIVATELY)
    return [message.ts for message in fake_slack.messages(dm_channel(USER)) if message.text == opening]


def _notes(fake_slack: FakeSlack, thread_ts: str) -> list[str]:
    note = messages.PRIVATE_ANSWER_SENT.format(user=USER)
    return [
        message.ts for message in fake_slack.messages(CHANNEL, thread_ts=thread_ts) if message.text == note
    ]


def _die_moving_to_dm(
    fake_slack: FakeSlack, settings: Settings, held: InboxEntry, *, died: str, note_in: str | None
) -> None:
    """Leave what a process killed before (or right after) posting a private question left: the request held
    as received; after posting, the question in the DM and the channel's note (when it leaves one)."""
    engine = create_store_engine(str(settings.database_url))
    upgrade_database(engine)
    dead = Inbox(engine, owner="dead process", lease=timedelta(seconds=1))
    assert dead.hold(held) == "new"
    engine.dispose()
    if died == "before posting":
        return
    client = WebClient(token=fake_slack.bot_token, base_url=fake_slack.base_url)
    dm = str(client.conversations_open(users=USER)["channel"]["id"])
    question = messages.PRIVATE_QUESTION.format(channel=CHANNEL, text=PRIVATELY)
    post_marked(client, held.message_key, channel=dm, thread_ts=None, text=question)
    if note_in is not None:
        note = messages.PRIVATE_ANSWER_SENT.format(user=USER)
        post_marked(client, held.message_key, channel=CHANNEL, thread_ts=note_in, text=note)


def _answered_once_in_the_dm(fake_slack: FakeSlack, bot: SlackBot) -> None:
    """The replayed request moved the question to the DM once and it was answered there once."""
    [root] = wait_until(lambda: _dm_questions(fake_slack), what="the private question in the DM")
    answered(fake_slack, dm_channel(USER), root, PRIVATE_ANSWER)
    wait_until(lambda: bot.answerer.inbox.depth()[0] == 0, what="the private question finished")
    assert _dm_questions(fake_slack) == [root]
    assert sum(PRIVATE_ANSWER in text for text in texts(fake_slack, dm_channel(USER), root)) == 1


@DIED
@pytest.mark.parametrize("how", ["slash command", "shortcut"])
def test_a_private_click_whose_process_died_is_moved_to_the_dm_once_and_answered_once(
    start_bot: StartBot,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    make_settings: Callable[..., Settings],
    died: str,
    how: str,
) -> None:
    response_url = fake_slack.response_url(CHANNEL, USER)
    request: dict[str, Any]
    if how == "slash command":
        request = {
            "team_id": fake_slack.team_id,
            "channel_id": CHANNEL,
            "user_id": USER,
            "command": "/blueprintdata",
            "text": f"private {PRIVATELY}",
            "api_app_id": fake_slack.app_id,
            "response_url": response_url,
            "trigger_id": "1.2.private-command",
        }
    else:
        request = {
            "type": "message_action",
            "callback_id": PRIVATE_SHORTCUT,
            "action_ts": "1700000400.000100",
            "team": {"id": fake_slack.team_id},
            "user": {"id": USER, "team_id": fake_slack.team_id},
            "channel": {"id": CHANNEL},
            "message_ts": SHORTCUT_MESSAGE_TS,
            "message": {"type": "message", "ts": SHORTCUT_MESSAGE_TS, "text": PRIVATELY, "user": "U0BOB"},
            "response_url": response_url,
            "trigger_id": "1.2.private-shortcut",
        }
    click = AskedOnBehalf.of(
        request, team_id=fake_slack.team_id, channel=CHANNEL, user=USER, text=PRIVATELY, thread_ts=None
    )
    fake_anthropic.enqueue(text_reply(PRIVATE_ANSWER))
    _die_moving_to_dm(fake_slack, make_settings(), click.held_entry(request), died=died, note_in=None)

    bot = start_bot(slack_inbox_lease_seconds=2)
    _answered_once_in_the_dm(fake_slack, bot)
    # The channel hears nothing; the asker alone is told, once (the dead process never got to say it).
    [told] = wait_until(lambda: fake_slack.responses(CHANNEL), what="the click's reply")
    assert told.body["text"] == messages.PRIVATE_ANSWER_COMING and told.body["response_type"] == "ephemeral"
    assert fake_slack.messages(CHANNEL) == []
    # The same click delivered again does nothing: nothing opened, posted, told or asked.
    opened = len(fake_slack.calls_to("conversations.open"))
    said: list[str] = []
    if how == "slash command":
        on_slash_command(request, lambda **reply: said.append(reply["text"]), bot.answerer)
    else:
        assert on_private_shortcut(request, bot.answerer) is None
    assert said == [] and len(fake_slack.calls_to("conversations.open")) == opened
    assert len(_dm_questions(fake_slack)) == 1 and len(fake_slack.responses(CHANNEL)) == 1
    assert bot.answerer.inbox.depth()[0] == 0 and len(fake_anthropic.requests) == 1


@DIED
def test_a_private_mention_whose_process_died_is_moved_once_with_one_note_in_the_channel(
    start_bot: StartBot,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    make_settings: Callable[..., Settings],
    died: str,
) -> None:
    mention = fake_slack.app_mention(f"privately: {PRIVATELY}", user=USER, channel=CHANNEL)
    body = fake_slack.event_payload(mention, event_id="Ev0PRIVATECRASH")
    held = received_inbox_entry({"payload": body}, fake_slack.bot_user_id)
    assert held is not None
    fake_anthropic.enqueue(text_reply(PRIVATE_ANSWER))
    _die_moving_to_dm(fake_slack, make_settings(), held, died=died, note_in=mention["ts"])

    bot = start_bot(slack_inbox_lease_seconds=2)
    _answered_once_in_the_dm(fake_slack, bot)
    assert len(_notes(fake_slack, mention["ts"])) == 1
    assert PRIVATE_ANSWER not in str(texts(fake_slack, CHANNEL, mention["ts"]))
    # The mention delivered again (stored on arrival, then its listener) does nothing.
    bot.answerer.store_envelopes([{"payload": body}])
    on_app_mention(body, mention, bot.answerer)
    assert len(_dm_questions(fake_slack)) == 1 and len(_notes(fake_slack, mention["ts"])) == 1
    assert bot.answerer.inbox.depth()[0] == 0 and len(fake_anthropic.requests) == 1
