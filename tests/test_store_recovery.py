"""A store that recovers: 64-bit counters, its database going away and coming back, text it can always keep."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine

from agent import user_messages
from agent.events import EventList, TurnFailed, TurnFinished
from agent.redaction import register_secret
from agent.runtime import Runtime
from agent.sessions import SessionKey
from agent.store.conversations import ConversationStore
from agent.store.database import alembic_config, create_store_engine, upgrade_database
from tests.fakes.anthropic_api import FakeAnthropic, text_reply
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import CHANNEL, USER, StartBot, answered

BIG = 3 * 10**12  # 3 TB: far past 2**31


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    engine = create_store_engine(url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


def test_byte_and_row_counters_hold_more_than_32_bits(engine: Engine) -> None:
    store = ConversationStore(engine)
    session = store.open_session(source="cli")
    store.record_tool_run(
        session.id,
        tool_use_id="t1",
        tool="run_query",
        input={"sql": "SELECT 1"},
        is_error=False,
        duration_ms=1.0,
        rows=5_000_000_000,
        bytes_scanned=BIG,
        bytes_billed=BIG + 1,
    )
    run = store.tool_runs(session.id)[0]
    assert run.rows == 5_000_000_000 and run.bytes_scanned == BIG
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT bytes_billed FROM tool_runs")).scalar() == BIG + 1


def test_migration_0005_widens_the_counters_of_an_existing_store(postgres_url: str) -> None:
    engine = create_store_engine(postgres_url)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    columns = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("tool_runs")}
    assert isinstance(columns["bytes_scanned"], sa.Integer) and not isinstance(
        columns["bytes_scanned"], sa.BigInteger
    )
    upgrade_database(engine)
    inspector = sa.inspect(engine)
    widened = {c["name"]: c["type"] for c in inspector.get_columns("tool_runs")}
    assert all(isinstance(widened[name], sa.BigInteger) for name in ("rows", "bytes_scanned", "bytes_billed"))
    sizes = {c["name"]: c["type"] for c in inspector.get_columns("artifacts")}
    assert isinstance(sizes["size_bytes"], sa.BigInteger)
    engine.dispose()


def test_stored_text_has_secrets_masked_and_invalid_utf8_replaced(engine: Engine) -> None:
    register_secret("hunter2secret")
    store = ConversationStore(engine)
    session = store.open_session(source="cli", title="bad byte \udcff here")
    leaked = "cannot connect to postgresql://u@db/x?password=hunter2secret (password hunter2secret)"
    returned = store.append_message(
        session.id, role="user", content=[{"type": "text", "text": leaked + " \udcff"}]
    )
    store.record_tool_run(
        session.id,
        tool_use_id="t",
        tool="run_query",
        input={"sql": leaked},
        is_error=True,
        duration_ms=1,
        error=leaked,
    )
    stored = store.history(session.id)[0].content[0]["text"]
    assert stored == returned.content[0]["text"]  # What the model is sent is what was stored.
    assert "hunter2secret" not in stored and "\ufffd" in stored and "password=***" in stored
    run = store.tool_runs(session.id)[0]
    assert "hunter2secret" not in str(run.input) + str(run.error)
    found = store.get_session(session.id)
    assert found is not None and found.title == "bad byte \ufffd here"


def _admin(server_url: str) -> Engine:
    return sa.create_engine(server_url, isolation_level="AUTOCOMMIT")


def _turn(runtime: Runtime, session_id: str) -> EventList:
    events = EventList()
    runtime.agent().handle(session_id, "/search revenue", events)
    return events


def test_turns_survive_the_store_database_being_dropped_and_recreated(
    postgres_url: str, postgres_server_url: str, make_runtime: Callable[..., Runtime]
) -> None:
    runtime = make_runtime(database_url=postgres_url)
    session = runtime.sessions.open(SessionKey.new_terminal())
    assert _turn(runtime, session.id).of_type(TurnFinished)
    name = sa.make_url(postgres_url).database
    admin = _admin(postgres_server_url)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        # Meanwhile: one clear line, not "something went wrong", and no exception out of the turn.
        events = _turn(runtime, session.id)
        failed = events.of_type(TurnFailed)
        assert len(failed) == 1 and isinstance(failed[0], TurnFailed)
        assert failed[0].message == user_messages.STORE_UNREACHABLE and failed[0].error_kind == "StoreError"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        # Back, empty: a turn in the lost session says so; a new session works without a restart (the
        # migrations are applied again).
        gone = _turn(runtime, session.id).of_type(TurnFailed)
        assert [event.message for event in gone if isinstance(event, TurnFailed)] == [
            user_messages.SESSION_GONE
        ]
        fresh = runtime.sessions.open(SessionKey.new_terminal())
        assert _turn(runtime, fresh.id).of_type(TurnFinished)
        assert [m.role for m in runtime.store.history(fresh.id)] == []  # /commands store tool runs only
        assert runtime.store.tool_runs(fresh.id)
    finally:
        admin.dispose()


def test_turns_survive_the_store_server_closing_every_connection(
    postgres_url: str, postgres_server_url: str, make_runtime: Callable[..., Runtime]
) -> None:
    runtime = make_runtime(database_url=postgres_url)
    session = runtime.sessions.open(SessionKey.new_terminal())
    assert _turn(runtime, session.id).of_type(TurnFinished)
    admin = _admin(postgres_server_url)
    try:
        with admin.connect() as connection:
            killed = connection.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name"
                ),
                {"name": sa.make_url(postgres_url).database},
            ).scalar()
        assert killed and killed > 0
        # The pooled connections are dead; each is checked before use and replaced.
        assert _turn(runtime, session.id).of_type(TurnFinished)
        assert len(runtime.store.tool_runs(session.id)) == 2
    finally:
        admin.dispose()


def test_invalid_utf8_on_stdin_is_replaced_not_fatal(demo_cli_env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from bot.cli.app import main; main()", "chat", "--json"],
        input=b"/search caf\xe9\xff revenue by day\n/search orders\n",
        capture_output=True,
        env=demo_cli_env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    started = [event["text"] for event in events if event["type"] == "turn_started"]
    assert started == ["/search caf\ufffd\ufffd revenue by day", "/search orders"]
    assert sum(event["type"] == "final" for event in events) == 2


def test_invalid_utf8_from_slack_is_replaced_not_fatal(
    start_bot: StartBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text_reply("Revenue rose."))
    bot = start_bot()
    mention = fake_slack.app_mention("revenue caf\udcff\udce9?", user=USER, channel=CHANNEL)
    fake_slack.send_event(mention)
    answered(fake_slack, CHANNEL, mention["ts"], "Revenue rose")
    assert "caf\ufffd\ufffd?" in fake_anthropic.requests[0].last_user_text()
    session = bot.runtime.sessions.find(SessionKey.slack_thread(mention["team"], CHANNEL, mention["ts"]))
    assert session is not None
    stored = bot.runtime.store.history(session.id)[0].content[0]["text"]
    assert "caf\ufffd\ufffd?" in stored


def test_a_slack_thread_hears_that_the_store_is_away_and_is_answered_once_it_is_back(
    start_bot: StartBot, fake_slack: FakeSlack, postgres_url: str, postgres_server_url: str
) -> None:
    start_bot(database_url=postgres_url)
    name = sa.make_url(postgres_url).database
    admin = _admin(postgres_server_url)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        away = fake_slack.app_mention("/search revenue", user=USER, channel=CHANNEL)
        fake_slack.send_event(away)
        answered(fake_slack, CHANNEL, away["ts"], "conversation store is unreachable")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        back = fake_slack.app_mention("/search revenue by day", user=USER, channel=CHANNEL)
        fake_slack.send_event(back)
        answered(fake_slack, CHANNEL, back["ts"], "daily_revenue")
    finally:
        admin.dispose()
