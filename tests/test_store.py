"""The conversation store on SQLite and PostgreSQL: migrations, sessions, history, claims, artifacts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from agent.clock import utc_now
from agent.errors import StoreError
from agent.store.artifact_files import DatabaseArtifactWriter
from agent.store.conversations import ConversationStore
from agent.store.database import alembic_config, create_store_engine, current_revision, upgrade_database
from agent.store.event_claims import claim_event, finish_claim, forget_claims_older_than
from agent.store.models import Base, EventClaimRow
from agent.store.writing import writing
from agent.usage import Usage


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = create_store_engine(store_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


def test_migrations_build_the_schema_and_are_idempotent(store_url: str) -> None:
    engine = create_store_engine(store_url)
    assert current_revision(engine) is None
    upgrade_database(engine)
    upgrade_database(engine)
    # At the newest revision shipped, whichever that is: each feature adds its own.
    assert current_revision(engine) == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names())
    assert {"sessions", "messages", "tool_runs", "artifacts", "event_claims", "feedback"} <= tables
    unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("sessions")}
    assert ("source", "external_key") in unique
    message_columns = {c["name"] for c in inspector.get_columns("messages")}
    assert {
        "content",
        "input_tokens",
        "cache_read_input_tokens",
        "cost_usd",
        "stop_reason",
        "author",
    } <= message_columns
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    engine.dispose()


def _migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command (upgrade or downgrade) to `revision`, in one transaction."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)


def test_migration_0009_tags_new_rows_with_their_turn_and_leaves_older_rows_untagged(store_url: str) -> None:
    engine = create_store_engine(store_url)
    _migrate(engine, command.upgrade, "0008")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO sessions (id, source, metadata, created_at, updated_at)"
                " VALUES ('s', 'cli', '{}', :at, :at)"
            ),
            {"at": utc_now()},
        )
        connection.execute(
            sa.text(
                "INSERT INTO messages (session_id, seq, role, content, input_tokens, output_tokens,"
                " cache_creation_input_tokens, cache_read_input_tokens, cost_usd, created_at)"
                " VALUES ('s', 1, 'user', '[]', 0, 0, 0, 0, 0, :at)"
            ),
            {"at": utc_now()},
        )
    upgrade_database(engine)
    assert "turn_key" in {c["name"] for c in sa.inspect(engine).get_columns("tool_runs")}
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT turn_key FROM messages")).scalars().all() == [None]
    _migrate(engine, command.downgrade, "0008")
    assert "turn_key" not in {c["name"] for c in sa.inspect(engine).get_columns("messages")}
    engine.dispose()


def test_sessions_are_found_by_their_external_key(engine: Engine) -> None:
    store = ConversationStore(engine)
    first = store.open_session(source="slack", external_key="T1:C1:1.0", metadata={"channel": "C1"})
    again = store.open_session(source="slack", external_key="T1:C1:1.0")
    assert first.id == again.id and again.metadata == {"channel": "C1"}
    assert store.open_session(source="cli").id != store.open_session(source="cli").id
    assert store.get_session(first.id[:8]) == first
    assert store.find_session("slack", "T1:C1:2.0") is None


def test_history_keeps_content_blocks_exactly(engine: Engine) -> None:
    store = ConversationStore(engine)
    session = store.open_session(source="cli")
    question = [{"type": "text", "text": "revenue by day? ünïcode ✓"}]
    call = [
        {"type": "text", "text": "Looking."},
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "run_query",
            "input": {"sql": "SELECT 1", "nested": {"a": [1, 2]}},
        },
    ]
    result = [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "bad column", "is_error": True}]
    store.append_message(session.id, role="user", content=question, author="U123")
    usage = Usage(input_tokens=10, output_tokens=5, cache_read_input_tokens=3, cost_usd=0.001)
    store.append_message(
        session.id, role="assistant", content=call, model="m", usage=usage, stop_reason="tool_use"
    )
    store.append_message(session.id, role="user", content=result)
    history = store.history(session.id)
    assert [m.content for m in history] == [question, call, result]
    assert [m.seq for m in history] == [1, 2, 3]
    assert history[0].author == "U123" and history[1].usage.cache_read_input_tokens == 3
    summary = store.list_sessions(limit=5)[0]
    assert summary.message_count == 3 and summary.total_cost_usd == pytest.approx(0.001)


def test_concurrent_appends_keep_order_without_gaps(engine: Engine) -> None:
    store = ConversationStore(engine)
    session = store.open_session(source="cli")

    def write(writer: int) -> None:
        for number in range(10):
            store.append_message(
                session.id, role="user", content=[{"type": "text", "text": f"{writer}-{number}"}]
            )

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [m.seq for m in store.history(session.id)] == list(range(1, 41))


def test_tool_runs_and_feedback_are_recorded(engine: Engine) -> None:
    store = ConversationStore(engine)
    session = store.open_session(source="cli")
    store.record_tool_run(
        session.id,
        tool_use_id="t1",
        tool="run_query",
        input={"sql": "x"},
        is_error=True,
        duration_ms=3.5,
        error="no",
    )
    runs = store.tool_runs(session.id)
    assert runs[0].is_error and runs[0].error == "no" and runs[0].input == {"sql": "x"}
    store.record_feedback(session_id=session.id, message_ref="1.2", user="U1", value="up")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT value FROM feedback")).scalar() == "up"


def test_an_event_is_claimed_once(engine: Engine, store_url: str) -> None:
    other_process = create_store_engine(store_url)
    assert claim_event(engine, "slack:Ev1") is True
    assert claim_event(other_process, "slack:Ev1") is False
    assert claim_event(other_process, "slack:Ev2") is True
    assert forget_claims_older_than(engine, timedelta(seconds=-1)) == 2
    other_process.dispose()


def test_an_unfinished_claim_is_taken_over_once_it_is_old(engine: Engine, store_url: str) -> None:
    other_process = create_store_engine(store_url)
    expiry = timedelta(minutes=5)
    assert claim_event(engine, "slack:Ev3", unfinished_after=expiry) is True
    # Still young: the first process may well be answering.
    assert claim_event(other_process, "slack:Ev3", unfinished_after=expiry) is False
    with engine.begin() as connection:
        connection.execute(sa.update(EventClaimRow).values(created_at=utc_now() - timedelta(minutes=10)))
    # Old and never finished: its process died; one redelivery takes it over, the next is refused again.
    assert claim_event(other_process, "slack:Ev3") is False
    assert claim_event(other_process, "slack:Ev3", unfinished_after=expiry) is True
    assert claim_event(engine, "slack:Ev3", unfinished_after=expiry) is False
    # A finished claim is refused however old it is.
    finish_claim(other_process, "slack:Ev3")
    finish_claim(other_process, "slack:Ev3")
    with engine.begin() as connection:
        connection.execute(sa.update(EventClaimRow).values(created_at=utc_now() - timedelta(minutes=10)))
    assert claim_event(engine, "slack:Ev3", unfinished_after=expiry) is False
    other_process.dispose()


def test_artifacts_are_kept_as_rows_and_files_until_they_expire(engine: Engine, tmp_path: Path) -> None:
    writer = DatabaseArtifactWriter(engine, tmp_path / "artifacts", timedelta(days=1))
    ref = writer.save(
        session_id=None, kind="chart", title="t", filename="a b/../c.png", mime_type="image/png", data=b"png"
    )
    assert ref.path.read_bytes() == b"png" and ref.path.parent == tmp_path / "artifacts"
    ref.path.unlink()
    loaded = writer.load(ref.artifact_id)
    assert loaded is not None and loaded[1] == b"png" and loaded[0].path.exists()
    assert writer.purge_expired(utc_now() + timedelta(days=2)) == 1
    assert writer.load(ref.artifact_id) is None and not ref.path.exists()


def test_unreachable_database_names_the_setting() -> None:
    engine = create_store_engine("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="BLUEPRINTDATA_DATABASE_URL"):
        upgrade_database(engine)


def test_a_sqlite_write_transaction_holds_the_write_lock_from_its_first_read(tmp_path: Path) -> None:
    # A fenced write reads its lease, then writes (fencing.py): another process sharing the file must not change
    # what was read in between. The write transaction takes SQLite's write lock at BEGIN, so a second process's
    # write waits for it; pysqlite's own BEGIN, sent only before the first INSERT, left the read outside.
    url = f"sqlite:///{tmp_path / 'store.db'}"
    this_process, other_process = create_store_engine(url), create_store_engine(url)
    upgrade_database(this_process)
    other_wrote = threading.Event()

    def write_from_the_other_process() -> None:
        with other_process.begin() as connection:
            connection.execute(sa.text("UPDATE sessions SET title = 'other'"))
        other_wrote.set()

    try:
        with writing(this_process) as connection:
            connection.execute(sa.text("SELECT count(*) FROM inbox")).scalar()  # Its check, before writing.
            other = threading.Thread(target=write_from_the_other_process)
            other.start()
            assert not other_wrote.wait(0.5)  # Queued behind this transaction: nothing changed under it.
        assert other_wrote.wait(30)
        other.join()
    finally:
        this_process.dispose()
        other_process.dispose()
