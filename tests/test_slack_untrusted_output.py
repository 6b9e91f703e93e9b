"""Data that talks, and secrets, through the real bot on the fake Slack: warehouse values and model text cannot
mention, broadcast or hide a link; a warehouse password never reaches a thread."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from demo.load import DEMO_FILE_NAME, DEMO_PROJECT_DIR
from tests.fakes.anthropic_api import FakeAnthropic, text_reply
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, USER, StartBot, answered, wait_until
from tools.profiling.runner import ProfileOptions, sync_profiles

BROADCAST, MENTION, LINK = (
    "<!channel> ping",
    "<@U123ABC>",
    "<https://evil.example/login|Reset-your-password>",
)
# What Slack would obey: a special or user mention, or a link whose label hides its address.
LIVE_TOKEN = re.compile(r"<[!@#]|<https?:[^>|]*\||\]\(https?:")
SENT_BY_THE_BOT = (
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "chat.startStream",
    "chat.appendStream",
    "chat.stopStream",
    "assistant.threads.setStatus",
)


def everything_sent(fake: FakeSlack) -> list[str]:
    return [json.dumps(call.args, ensure_ascii=False) for m in SENT_BY_THE_BOT for call in fake.calls_to(m)]


@pytest.fixture
def hostile_warehouse(demo_data_dir: Path, tmp_path: Path) -> str:
    """The demo warehouse with order statuses that try to notify everyone and to phish."""
    target = tmp_path / "warehouse" / DEMO_FILE_NAME
    target.parent.mkdir()
    shutil.copy(demo_data_dir / "demo" / DEMO_FILE_NAME, target)
    with duckdb.connect(str(target)) as connection:
        for old, new in (("completed", BROADCAST), ("returned", MENTION), ("cancelled", LINK)):
            connection.execute("UPDATE fct_orders SET status = ? WHERE status = ?", [new, old])
    return f"duckdb:///{target}"


def _ask(fake_slack: FakeSlack, text: str, needle: str) -> list[str]:
    mention = fake_slack.app_mention(text, user=USER, channel=CHANNEL)
    fake_slack.send_event(mention)
    answered(fake_slack, CHANNEL, mention["ts"], needle, timeout=30)
    return everything_sent(fake_slack)


def _assert_plain(sent: list[str]) -> None:
    joined = "\n".join(sent)
    assert not LIVE_TOKEN.search(joined), LIVE_TOKEN.search(joined)
    assert "https://evil.example/login" in joined  # The real address is shown.


def test_profile_top_values_from_data_cannot_notify_or_phish(
    start_bot: StartBot, fake_slack: FakeSlack, hostile_warehouse: str
) -> None:
    bot = start_bot(dbt_project_dir=DEMO_PROJECT_DIR, warehouse_url=hostile_warehouse)
    runtime = bot.runtime
    sync_profiles(
        runtime.index(),
        runtime.warehouse(),
        runtime.profiles,
        ProfileOptions(sample_rows=100_000, timeout_seconds=30, max_bytes_scanned=10**9),
        select="fct_orders",
    )
    sent = _ask(fake_slack, "/describe fct_orders", "top:")
    _assert_plain(sent)
    assert any("ping" in text and "U123ABC" in text for text in sent)


def test_query_results_from_data_cannot_notify_or_phish(
    start_bot: StartBot, fake_slack: FakeSlack, hostile_warehouse: str
) -> None:
    start_bot(dbt_project_dir=DEMO_PROJECT_DIR, warehouse_url=hostile_warehouse)
    sent = _ask(
        fake_slack, "/sql SELECT status, count(*) AS n FROM fct_orders GROUP BY 1 ORDER BY 2 DESC", "n"
    )
    wait_until(lambda: any("U123ABC" in text for text in everything_sent(fake_slack)), what="the table")
    _assert_plain(everything_sent(fake_slack))
    assert sent


def test_a_model_answer_quoting_data_cannot_notify_or_phish(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        text_reply(
            f"The top statuses are {BROADCAST}, {MENTION} and {LINK}; see [the docs](https://evil.example/login)."
        )
    )
    start_bot()
    sent = _ask(fake_slack, "what are the top statuses?", "top statuses")
    _assert_plain(sent)


def test_the_bots_own_mention_of_the_asker_still_works(start_bot: StartBot, fake_slack: FakeSlack) -> None:
    start_bot()
    fake_slack.send_slash_command(
        "/blueprintdata", f"/sql SELECT 1 AS one -- {BROADCAST}", user=USER, channel=CHANNEL
    )
    posted = wait_until(lambda: fake_slack.calls_to("chat.postMessage"), what="the question posted")
    first = posted[0].args["text"]
    assert first.startswith(f"<@{USER}> asked:")  # Ours: a real mention.
    assert "<!channel>" not in first  # Theirs: shown as text.


def test_a_link_whose_address_has_parentheses_still_shows_its_address(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    # Found by the second probe: the Markdown converter made `<https://evil.example/a_(b|Reset>` of a link whose
    # address holds parentheses, which the first pass could not read; Slack then showed only "Reset".
    fake_anthropic.enqueue(
        text_reply(
            "Read [Reset your password](https://evil.example/login_(new)) or [click](javascript:alert(1)) "
            "or [https://good.example](https://evil.example/(x))."
        )
    )
    start_bot()
    sent = _ask(fake_slack, "where do I reset it?", "Reset your password")
    _assert_plain(sent)
    text = "\n".join(sent)
    assert not re.search(r"<[a-z][a-z0-9+.\-]*:[^<>]*\|", text, re.I), text
    assert "https://evil.example/login_(new" in text and "javascript:alert(1)" in text
