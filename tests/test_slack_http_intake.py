"""HTTP mode behind a load balancer: an event is stored in the inbox before the HTTP 200 that acknowledges it,
so Slack's retries are answered once and a process that dies after storing loses nothing. Through Bolt's real
HTTP server with requests signed with the app's signing secret."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from slack_bolt import BoltResponse

from agent.runtime import build_runtime
from agent.settings import Settings
from agent.store.models import InboxRow
from bot.slack.app import SlackBot, build_slack_bot
from bot.slack.gate import AdmissionRule
from tests.fakes.anthropic_api import FakeAnthropic, text_reply
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, USER, answered, texts, wait_until

StartHttpBot = Callable[..., tuple[SlackBot, str]]


@pytest.fixture
def start_http_bot(
    fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, make_settings: Callable[..., Settings]
) -> Iterator[StartHttpBot]:
    """Start HTTP-mode bot processes on one store (replicas behind a load balancer): (bot, events URL)."""
    bots: list[SlackBot] = []

    def start(admission_rules: tuple[AdmissionRule, ...] = (), **overrides: Any) -> tuple[SlackBot, str]:
        settings = make_settings(
            anthropic_api_key="test-key",
            anthropic_base_url=fake_anthropic.base_url,
            slack_bot_token=fake_slack.bot_token,
            slack_signing_secret=fake_slack.signing_secret,
            slack_api_url=fake_slack.base_url,
            **overrides,
        )
        bot = build_slack_bot(build_runtime(settings), http_mode=True, admission_rules=admission_rules)
        bots.append(bot)
        server = bot.start_http(0, host="127.0.0.1")
        return bot, f"http://127.0.0.1:{server.server_port}/slack/events"

    yield start
    for bot in bots:
        bot.stop()


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 10) -> int:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def inbox_rows(bot: SlackBot) -> list[tuple[str, str]]:
    with bot.runtime.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(InboxRow.position, InboxRow.status))]


def test_an_event_is_stored_before_its_200_and_slacks_retry_of_it_is_answered_once(
    start_http_bot: StartHttpBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.respond_with(lambda _: text_reply("Answered once."))
    bot, url = start_http_bot()
    mention = fake_slack.app_mention("revenue?", user=USER, channel=CHANNEL)
    body = json.dumps(fake_slack.event_payload(mention)).encode()
    assert post(url, body, fake_slack.signed_headers(body)) == 200
    assert [position for position, _ in inbox_rows(bot)] == [mention["ts"]]  # Stored by the time of the 200.
    # Slack did not see that 200 in time and sends the same event again.
    retry = fake_slack.signed_headers(body) | {
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    assert post(url, body, retry) == 200
    answered(fake_slack, CHANNEL, mention["ts"], "Answered once.")
    wait_until(lambda: inbox_rows(bot) == [(mention["ts"], "done")], what="the question done")
    assert post(url, body, fake_slack.signed_headers(body) | {"X-Slack-Retry-Num": "2"}) == 200
    assert sum("Answered once." in text for text in texts(fake_slack, CHANNEL, mention["ts"])) == 1
    assert len(fake_anthropic.requests) == 1
    assert inbox_rows(bot) == [(mention["ts"], "done")]


def test_an_event_stored_by_a_process_that_died_before_answering_is_answered_by_another(
    start_http_bot: StartHttpBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.respond_with(lambda _: text_reply("Answered by the survivor."))
    stored, resume = threading.Event(), threading.Event()

    def dies_here(next: Callable[[], BoltResponse]) -> BoltResponse:
        # Runs after the event was stored: the process dies here, before Bolt answers the request.
        stored.set()
        resume.wait(30)
        return next()

    dying, dying_url = start_http_bot(slack_inbox_lease_seconds=2)
    dying.app.use(dies_here)
    mention = fake_slack.app_mention("revenue?", user=USER, channel=CHANNEL)
    body = json.dumps(fake_slack.event_payload(mention)).encode()
    request = threading.Thread(
        target=lambda: post(dying_url, body, fake_slack.signed_headers(body), timeout=30), daemon=True
    )
    request.start()
    assert stored.wait(15)
    assert dying.answerer.shutdown(0)  # Dead: no lease of it is renewed any more.
    assert inbox_rows(dying) == [(mention["ts"], "received")]

    # Slack gave up on the request; the survivor finds the stored event once its lease has run out.
    start_http_bot(slack_inbox_lease_seconds=2)
    answered(fake_slack, CHANNEL, mention["ts"], "Answered by the survivor.", timeout=20)
    wait_until(lambda: inbox_rows(dying) == [(mention["ts"], "done")], what="the question done")
    resume.set()
    request.join(10)
    assert sum("Answered by the survivor." in text for text in texts(fake_slack, CHANNEL, mention["ts"])) == 1
    assert len(fake_anthropic.requests) == 1
