"""A local fake of Slack, spoken to by the real slack_sdk WebClient, SocketModeClient and Bolt App.

The Web API answers over HTTP at `base_url` with Slack's payload shapes, error names, status codes and
rate-limit answers; Socket Mode runs over a real WebSocket (hello, envelopes, acks). Every Web API call, sent
envelope and ack is recorded; failures are scripted with `fail_next`. Block validation follows Slack's
documented limits. The parts live in tests/fakes/slack/; this module is what tests import.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.slack.argument_checks import MAX_MESSAGE_TEXT
from tests.fakes.slack.blocks import (
    MAX_BLOCKS,
    MAX_HEADER_TEXT,
    MAX_MARKDOWN_TEXT,
    MAX_SECTION_FIELD_TEXT,
    MAX_SECTION_TEXT,
    MAX_TABLE_COLUMNS,
    MAX_TABLE_ROWS,
    block_errors,
)
from tests.fakes.slack.fake_slack import FakeSlack
from tests.fakes.slack.ids import TS_EPOCH
from tests.fakes.slack.messages import SlackMessage, UploadedFile
from tests.fakes.slack.records import Ack, ApiCall, ResponseUrlPost, SentEnvelope

__all__ = [
    "MAX_BLOCKS",
    "MAX_HEADER_TEXT",
    "MAX_MARKDOWN_TEXT",
    "MAX_MESSAGE_TEXT",
    "MAX_SECTION_FIELD_TEXT",
    "MAX_SECTION_TEXT",
    "MAX_TABLE_COLUMNS",
    "MAX_TABLE_ROWS",
    "TS_EPOCH",
    "Ack",
    "ApiCall",
    "FakeSlack",
    "ResponseUrlPost",
    "SentEnvelope",
    "SlackMessage",
    "UploadedFile",
    "block_errors",
    "fake_slack",
]


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started fake Slack workspace (Web API and Socket Mode), closed after the test."""
    with FakeSlack() as fake:
        yield fake
