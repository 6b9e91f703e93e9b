"""Secrets never shown: a warehouse password given as ?password= whose connection fails appears nowhere, on any
way out: CLI stdout and stderr (terminal and --json), logs, the stored messages and tool runs, a Slack thread."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.redaction import install_redaction, redact, register_secret
from demo.load import DEMO_PROJECT_DIR
from tests.fakes.anthropic_api import FakeAnthropic, Reply, text_reply
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, USER, StartBot, answered
from tests.test_slack_untrusted_output import everything_sent

SECRET = "hunter2secret"
WAREHOUSE_URL = f"postgresql://bob@127.0.0.1:1/shop?password={SECRET}&connect_timeout=2"


def _leak() -> Reply:
    """A model answer repeating the secret (as if a person had pasted it): streamed in small pieces."""
    return text_reply(
        f"The URL was {WAREHOUSE_URL} and the password {SECRET}; also postgresql://bob:{SECRET}@db/x."
    )


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli.app import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def leaky_env(tmp_path: Path, demo_data_dir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BLUEPRINTDATA_", "ANTHROPIC_", "SLACK_"))
    }
    env.update(
        BLUEPRINTDATA_DATA_DIR=str(demo_data_dir),
        BLUEPRINTDATA_DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}",
        BLUEPRINTDATA_DBT_PROJECT_DIR=str(DEMO_PROJECT_DIR),
        BLUEPRINTDATA_WAREHOUSE_URL=WAREHOUSE_URL,
        COLUMNS="200",
        NO_COLOR="1",
    )
    return env


@pytest.mark.parametrize("output", ["--json", "terminal"])
def test_the_cli_shows_no_secret_in_output_logs_or_store(
    leaky_env: dict[str, str], tmp_path: Path, output: str
) -> None:
    json_flag = ["--json"] if output == "--json" else []
    direct = run_cli("-v", "chat", *json_flag, "-m", "/sql SELECT 1", env=leaky_env)
    assert direct.returncode == 1
    assert "Cannot connect to the warehouse" in direct.stdout + direct.stderr
    with FakeAnthropic() as fake:
        fake.enqueue(_leak())
        env = {**leaky_env, "ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.base_url}
        asked = run_cli("-v", "chat", *json_flag, "-m", "how many orders?", env=env)
        sent_to_the_model = json.dumps([request.body for request in fake.requests])
    shown = direct.stdout + direct.stderr + asked.stdout + asked.stderr
    assert "password=***" in shown
    assert SECRET not in shown
    assert SECRET not in sent_to_the_model
    if output == "--json":
        events = [json.loads(line) for line in asked.stdout.splitlines() if line.startswith("{")]
        streamed = "".join(str(e["text"]) for e in events if e["type"] == "text_delta")
        assert SECRET not in streamed and "***" in streamed  # Also across the streamed pieces, joined.
    stored = (tmp_path / "store.db").read_bytes()
    assert SECRET.encode() not in stored


def test_a_slack_thread_shows_no_secret(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(_leak())
    start_bot(dbt_project_dir=DEMO_PROJECT_DIR, warehouse_url=WAREHOUSE_URL)
    for question in ("/sql SELECT 1", "how many orders?"):
        mention = fake_slack.app_mention(question, user=USER, channel=CHANNEL)
        fake_slack.send_event(mention)
        answered(fake_slack, CHANNEL, mention["ts"], "***", timeout=30)
    sent = "\n".join(everything_sent(fake_slack))
    assert SECRET not in sent and "password=***" in sent


def test_log_records_are_masked_by_form_and_by_value(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    register_secret("sk-ant-value-123456")
    logger = logging.getLogger("tests.redaction")
    with caplog.at_level(logging.WARNING, logger="tests.redaction"):
        logger.warning("connecting to %s with key %s", WAREHOUSE_URL, "sk-ant-value-123456")
        try:
            raise RuntimeError(f"failed: postgresql://bob:{SECRET}@db/x")
        except RuntimeError:
            logger.exception("boom")
    text = caplog.text
    assert SECRET not in text and "sk-ant-value-123456" not in text
    assert "password=***" in text and "bob:***@db" in text


@pytest.mark.parametrize(
    ("leaky", "kept"),
    [
        ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
        ("snowflake://u:pa@ss@acct/db", "snowflake://u:***@acct/db"),
        ("host=db password=s3cr3tvalue dbname=x", "host=db password=*** dbname=x"),
        (
            "postgresql://h/db?sslpassword=abcdefgh&sslmode=require",
            "postgresql://h/db?sslpassword=***&sslmode=require",
        ),
        (
            "bigquery://p/d?credentials_base64=eyJabc&location=EU",
            "bigquery://p/d?credentials_base64=***&location=EU",
        ),
        ("https://api.example/x?token=abc123&key=zzz", "https://api.example/x?token=***&key=***"),
        ('{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIE\\n"}', None),
        ("SELECT key, token_count FROM t WHERE key = 'x'", "SELECT key, token_count FROM t WHERE key = 'x'"),
        # Found by the second probe: prefixed query names (presigned URLs), environment variables, a Python
        # dict's repr in an exception, and credentials known by their shape though never configured.
        (
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAEXAMPLE1&X-Amz-Signature=abcdef123456&x-id=GetObject",
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&x-id=GetObject",
        ),
        (
            "https://storage.googleapis.com/b/o?X-Goog-Signature=0a1b2c3d4e5f",
            "https://storage.googleapis.com/b/o?X-Goog-Signature=***",
        ),
        (
            "https://acct.blob.core.windows.net/c?sv=2020&sig=abcDEF123%3D",
            "https://acct.blob.core.windows.net/c?sv=2020&sig=***",
        ),
        ("PGPASSWORD=envpass123 psql -h db", "PGPASSWORD=*** psql -h db"),
        ("export SLACK_SIGNING_SECRET=0123456789abcdef", "export SLACK_SIGNING_SECRET=***"),
        ("psql --password=flagpass99 -h db", "psql --password=*** -h db"),
        (
            "ValueError: bad options {'host': 'db', 'password': 'pypass123'}",
            "ValueError: bad options {'host': 'db', 'password': '***'}",
        ),
        ("token xoxb-1234567890-0987654321-abcdefghijkl expired", "token *** expired"),
        ("xapp-1-A0123456789-0123456789-abcdef0123456789", "***"),
        ("invalid x-api-key: sk-ant-api03-abcdefghijklmnopqrstuv", "invalid x-api-key: ***"),
        ("Authorization: Bearer ya29.a0AfH6SMBexampletoken", "Authorization: Bearer ***"),
        ("monkey=1 AND keyword='x' AND turnkey=2", "monkey=1 AND keyword='x' AND turnkey=2"),
    ],
)
def test_every_url_and_connection_string_form_is_masked(leaky: str, kept: str | None) -> None:
    masked = redact(leaky)
    if kept is not None:
        assert masked == kept
    else:
        assert "MIIE" not in masked and '"private_key": "***"' in masked
    assert redact(masked) == masked
