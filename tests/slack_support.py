"""Starting the Slack bot on the fakes, and waiting for what it writes: shared by every Slack test module."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from agent.runtime import build_runtime
from agent.settings import Settings
from bot.slack.app import SlackBot, build_slack_bot
from bot.slack.gate import AdmissionRule
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.slack_api import FakeSlack

USER = "U0ASKER"
CHANNEL = "C0DATA"

StartBot = Callable[..., SlackBot]


def wait_until(condition: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def texts(fake: FakeSlack, channel: str, thread_ts: str) -> list[str]:
    """Everything the bot wrote in a thread, as text (blocks included), in order."""
    found = []
    for message in fake.messages(channel, thread_ts=thread_ts):
        found.append(message.text + " " + json.dumps(message.blocks, ensure_ascii=False))
    return found


def answered(fake: FakeSlack, channel: str, thread_ts: str, needle: str, timeout: float = 15.0) -> str:
    return wait_until(  # type: ignore[no-any-return]
        lambda: next((text for text in texts(fake, channel, thread_ts) if needle in text), None),
        timeout,
        f"{needle!r} in thread {thread_ts}",
    )


@pytest.fixture
def start_bot(
    fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, make_settings: Callable[..., Settings]
) -> Iterator[StartBot]:
    """Start bot processes on the fakes (each like a process start); all are stopped after the test."""
    bots: list[SlackBot] = []

    def start(
        *,
        anthropic: FakeAnthropic | None = None,
        admission_rules: Sequence[AdmissionRule] = (),
        **overrides: Any,
    ) -> SlackBot:
        values: dict[str, Any] = {
            "anthropic_api_key": "test-key",
            "anthropic_base_url": (anthropic or fake_anthropic).base_url,
            "slack_bot_token": fake_slack.bot_token,
            "slack_app_token": fake_slack.app_token,
            "slack_signing_secret": fake_slack.signing_secret,
            "slack_api_url": fake_slack.base_url,
            "slack_shutdown_grace_seconds": 20,
            "health_port": 0,
        }
        values.update(overrides)
        bot = build_slack_bot(build_runtime(make_settings(**values)), admission_rules=admission_rules)
        bots.append(bot)
        connected = fake_slack.open_connections
        bot.start_socket_mode()
        fake_slack.wait_for_connections(connected + 1)
        return bot

    yield start
    for bot in bots:
        bot.stop()
