"""Real `blueprintdata slack` processes behind the fake Slack and the fake model of this process, sharing one
SQLite store: the bot as deployed, in its own interpreter, so that the fakes (and the benchmark's polling) take
none of its GIL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from agent.store.models import InboxRow
from benchmarks.slack_harness import ScriptedModel
from tests.fakes.anthropic_api import FakeAnthropic
from tests.fakes.slack_api import FakeSlack

START_SECONDS = 120.0


class Fleet:
    """The fakes and the bot processes sharing one store."""

    def __init__(self, folder: Path, *, model_seconds: float) -> None:
        self.slack = FakeSlack()
        self.model = FakeAnthropic(latency_seconds=model_seconds)
        self.model.respond_with(ScriptedModel())
        self.database_url = f"sqlite:///{folder / 'store.db'}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("BLUEPRINTDATA_", "ANTHROPIC_", "SLACK_"))
        } | {
            "BLUEPRINTDATA_DATA_DIR": str(folder / "data"),
            "BLUEPRINTDATA_DATABASE_URL": self.database_url,
            "BLUEPRINTDATA_SLACK_API_URL": self.slack.base_url,
            "BLUEPRINTDATA_HEALTH_PORT": "0",
            "BLUEPRINTDATA_LLM_MAX_RETRIES": "0",
            "ANTHROPIC_API_KEY": "bench-key",
            "ANTHROPIC_BASE_URL": self.model.base_url,
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_APP_TOKEN": self.slack.app_token,
            "NO_COLOR": "1",
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.engine = sa.create_engine(self.database_url)

    def start(self, count: int) -> list[subprocess.Popen[bytes]]:
        """Start `count` bot processes and wait until each has connected."""
        started = [
            subprocess.Popen(
                [sys.executable, "-c", "from bot.cli.app import main; main()", "slack"],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]
        self.processes.extend(started)
        self.slack.wait_for_connections(len(self.live()), timeout=START_SECONDS)
        return started

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [process for process in self.processes if process.poll() is None]

    def lease_owner(self, thread_ts: str) -> str | None:
        with self.engine.connect() as connection:
            owner = connection.execute(
                sa.select(InboxRow.lease_owner).where(
                    InboxRow.position == thread_ts, InboxRow.status == "pending"
                )
            ).scalar()
        return str(owner) if owner else None

    def answered_at(self, thread_ts: str) -> float | None:
        for call in self.slack.calls_to("chat.postMessage"):
            if call.ok and call.args.get("thread_ts") == thread_ts and "answer to" in str(call.args):
                return call.at
        return None

    def close(self) -> None:
        for process in self.live():
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        self.engine.dispose()
        self.slack.close()
        self.model.close()
