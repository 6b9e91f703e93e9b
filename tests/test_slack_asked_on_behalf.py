"""A question asked on someone's behalf (slash command, button) survives its process dying at any instant: stored
before it is posted, it is posted once and answered once, by whichever process runs the interaction again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from agent.alerts.investigation import QUESTION as INVESTIGATE
from agent.sessions import Inbox
from agent.settings import Settings
from agent.store.database import create_store_engine, upgrade_database
from bot.slack.app import SlackBot
from bot.slack.asked_on_behalf import AskedOnBehalf
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
        asked.post(WebClient(token=fake_slack.bot_token, base_url=fake_slack.base_url))

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
