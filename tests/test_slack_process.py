"""`blueprintdata slack` as a real process: it connects, answers, refuses a bad token, and shuts down on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.slack_api import FakeSlack
from tests.slack_support import answered


def slack_process_env(tmp_path: Path, fake: FakeSlack, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BLUEPRINTDATA_", "ANTHROPIC_", "SLACK_"))
    }
    env.update(
        BLUEPRINTDATA_DATA_DIR=str(tmp_path / "data"),
        BLUEPRINTDATA_SLACK_API_URL=fake.base_url,
        BLUEPRINTDATA_HEALTH_PORT="0",
        SLACK_BOT_TOKEN=fake.bot_token,
        SLACK_APP_TOKEN=fake.app_token,
        NO_COLOR="1",
        **extra,
    )
    return env


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from bot.cli.app import main; main()", "slack"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_slack_command_answers_and_stops_cleanly_on_sigterm(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    process = start(slack_process_env(tmp_path, fake_slack))
    try:
        fake_slack.wait_for_connections(1, timeout=60)
        mention = fake_slack.app_mention("/search revenue by day", user="U0ASKER", channel="C0DATA")
        fake_slack.send_event(mention)
        answered(fake_slack, "C0DATA", mention["ts"], "daily_revenue", timeout=30)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert time.monotonic() - started < 15
    assert "listening on Slack in Socket Mode" in stdout
    assert fake_slack.open_connections == 0
    assert fake_slack.bot_token not in stdout + stderr and fake_slack.app_token not in stdout + stderr


def test_a_refused_bot_token_is_one_clear_line(tmp_path: Path, fake_slack: FakeSlack) -> None:
    process = start(slack_process_env(tmp_path, fake_slack) | {"SLACK_BOT_TOKEN": "xoxb-revoked"})
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in stderr
    assert "Traceback" not in stderr


def test_a_missing_app_token_says_how_to_make_one(tmp_path: Path, fake_slack: FakeSlack) -> None:
    env = slack_process_env(tmp_path, fake_slack)
    del env["SLACK_APP_TOKEN"]
    process = start(env)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "SLACK_APP_TOKEN is not set" in stderr and "connections:write" in stderr
