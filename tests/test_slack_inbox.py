"""The durable inbox on SQLite and PostgreSQL: stored once, taken under leases, in order within a conversation,
taken over when a process dies; and the pinned frame encoder of the fast acknowledgement."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from agent.clock import utc_now
from agent.sessions import Inbox, InboxEntry, InboxKind, LeaseLost, SessionKey, Sessions
from agent.store import fencing
from agent.store.conversations import ConversationStore
from agent.store.database import create_store_engine, upgrade_database
from agent.store.models import InboxRow, SessionRow


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


def entry(conversation: str, position: int, kind: InboxKind = "mention") -> InboxEntry:
    return InboxEntry(
        message_key=f"{conversation}/{position}",
        conversation_key=conversation,
        position=f"{1_700_000_000 + position}.000100",
        kind=kind,
        payload={"number": position},
    )


def process(engine: Engine, name: str, lease_seconds: float = 10) -> Inbox:
    return Inbox(engine, owner=name, lease=timedelta(seconds=lease_seconds))


def test_a_message_is_accepted_once_whichever_delivery_and_process(engine: Engine) -> None:
    first, second = process(engine, "first"), process(engine, "second")
    first.receive([entry("t", 1)])
    second.receive([entry("t", 1)])  # A redelivery stored by another process: kept as it was.
    assert first.accept(entry("t", 1)) is True
    assert second.accept(entry("t", 1)) is False
    item = second.take()
    assert item is not None and item.entry.payload == {"number": 1} and item.status == "pending"
    assert second.finish(item)
    assert first.accept(entry("t", 1)) is False  # Done: a late redelivery is refused.
    assert first.take() is None


def test_a_conversations_next_message_waits_for_the_one_before_it(engine: Engine) -> None:
    inbox = process(engine, "me")
    inbox.receive([entry("t", 1)])  # Stored, its listener has not decided yet.
    inbox.accept(entry("t", 2, "reply"))
    inbox.accept(entry("other", 1))
    taken = inbox.take()
    assert taken is not None and taken.entry.conversation_key == "other"
    assert inbox.take() is None  # t/1 is received (leased to its receiver), t/2 waits for it.
    inbox.accept(entry("t", 1))
    first = inbox.take()
    assert first is not None and first.entry.message_key == "t/1"
    assert inbox.take() is None
    inbox.finish(first)
    second = inbox.take()
    assert second is not None and second.entry.message_key == "t/2"


def test_a_dropped_message_no_longer_holds_its_conversation_back(engine: Engine) -> None:
    inbox = process(engine, "me")
    inbox.receive([entry("t", 1, "reply")])
    inbox.accept(entry("t", 2, "reply"))
    assert inbox.take() is None
    assert inbox.drop("t/1", only_if_mine=True)
    taken = inbox.take()
    assert taken is not None and taken.entry.message_key == "t/2"


def test_a_conversation_is_ours_from_its_stored_mention_before_any_session(engine: Engine) -> None:
    inbox = process(engine, "me")
    key = SessionKey("slack", "T1:C1:1700000001.000100")
    mention = InboxEntry("m1", key.conversation_key, "1700000001.000100", "mention", {})
    reply = InboxEntry("r1", key.conversation_key, "1700000002.000100", "reply", {})
    assert not inbox.conversation_is_ours(key, before=reply.position)
    inbox.receive([reply])
    assert not inbox.conversation_is_ours(key, before="1700000009.000100")  # A mere reply makes nothing ours.
    inbox.receive([mention])
    assert inbox.conversation_is_ours(key, before=reply.position)
    assert not inbox.conversation_is_ours(key, before=mention.position)  # Only what came before counts.


def test_an_expired_lease_is_taken_over_and_a_lost_lease_cannot_finish(engine: Engine) -> None:
    dying, live = process(engine, "dying", lease_seconds=0.5), process(engine, "live")
    dying.accept(entry("t", 1))
    taken = dying.take()
    assert taken is not None and taken.attempts == 1 and taken.started_at is not None
    assert live.take() is None
    time.sleep(0.6)
    again = live.take()
    assert again is not None and again.id == taken.id and again.attempts == 2
    assert again.started_at == taken.started_at
    assert dying.finish(taken) is False
    assert live.finish(again, reply_ref="1700000001.000900") is True


def test_the_last_reply_of_the_answers_before_a_message_marks_where_its_answer_begins(engine: Engine) -> None:
    inbox = process(engine, "me")
    key = SessionKey("slack", "T1:C1:1700000000.000100")
    for position in range(3):
        inbox.accept(entry(key.conversation_key, position))
    for reply in ("1700000000.000900", "1700000001.000050"):
        item = inbox.take()
        assert item is not None and inbox.finish(item, reply_ref=reply)
    # Of the answered messages before the third (at ...002), the latest reply: compared as Slack ts, not text.
    assert inbox.last_reply_before(key, before="1700000002.000100") == "1700000001.000050"
    assert inbox.last_reply_before(key, before="1700000001.000100") == "1700000000.000900"
    assert inbox.last_reply_before(SessionKey("slack", "T1:C1:other"), before="1700000009.000100") is None


def test_a_renewed_lease_is_not_taken_over(engine: Engine) -> None:
    holder, other = process(engine, "holder", lease_seconds=0.5), process(engine, "other")
    holder.accept(entry("t", 1))
    taken = holder.take()
    assert taken is not None
    for _ in range(4):
        time.sleep(0.25)
        assert holder.renew([taken]) == {taken.lease_key}
    assert other.take() is None


def test_old_finished_messages_are_pruned_and_unfinished_ones_kept(engine: Engine) -> None:
    inbox = process(engine, "me")
    for number in range(3):
        inbox.accept(entry(f"t{number}", 1))
    done = inbox.take()
    assert done is not None and inbox.finish(done)
    with engine.begin() as connection:
        connection.execute(sa.update(InboxRow).values(created_at=utc_now() - timedelta(days=3)))
    assert inbox.depth()[0] == 2
    assert inbox.forget_finished_older_than(timedelta(days=2)) == 1
    assert inbox.depth()[0] == 2


def test_processes_taking_at_once_take_each_message_once_and_in_order(engine: Engine) -> None:
    writer = process(engine, "writer")
    for position in range(6):
        for conversation in range(10):
            writer.accept(entry(f"c{conversation}", position))
    taken: list[tuple[str, int]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(inbox: Inbox) -> None:
        idle_since = time.monotonic()
        try:
            while time.monotonic() - idle_since < 1.0:
                item = inbox.take()
                if item is None:
                    time.sleep(0.01)
                    continue
                idle_since = time.monotonic()
                with lock:
                    taken.append((item.entry.conversation_key, item.entry.payload["number"]))
                assert inbox.finish(item)
        except BaseException as exc:
            errors.append(exc)

    workers = [
        threading.Thread(target=work, args=(process(engine, f"process-{number % 3}"),)) for number in range(9)
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(30)
    assert not errors
    assert len(taken) == 60 and len(set(taken)) == 60
    for conversation in range(10):
        assert [n for c, n in taken if c == f"c{conversation}"] == list(range(6))


def test_the_private_frame_encoder_still_builds_a_masked_text_frame() -> None:
    """bot/slack/socket_mode.py writes a burst's acknowledgements with slack_sdk's private frame encoder. If a
    slack_sdk upgrade moves or changes it, this fails: then send each acknowledgement with Connection.send."""
    from slack_sdk.socket_mode.builtin.frame_header import FrameHeader
    from slack_sdk.socket_mode.builtin.internals import _build_data_frame_for_sending

    payload = '{"envelope_id": "abc-123"}'
    frame_bytes = _build_data_frame_for_sending(payload, FrameHeader.OPCODE_TEXT)
    reader = StreamReader()
    reader.feed_data(frame_bytes)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=True)  # A server reads client frames: they must be masked.
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    else:
        raise AssertionError("the frame was incomplete")
    assert frame.opcode == Opcode.TEXT and frame.fin
    assert frame.data.decode() == payload


def test_a_replaced_take_can_neither_finish_nor_write_and_a_take_waits_for_its_write(engine: Engine) -> None:
    """Fencing: (owner, attempt) names one take. Once another take replaced it (another process, or another
    worker of the same process), the stale one cannot finish, renew, or write the conversation's history."""
    store = ConversationStore(engine)
    session = Sessions(store, engine).open(SessionKey.slack_thread("T", "C", "1"))
    stalled = process(engine, "me", lease_seconds=0)  # Its lease has run out as soon as it is taken.
    same_process = process(engine, "me")  # Another worker of the same process: the owner alone cannot tell.
    stalled.accept(entry("t", 1))
    first = stalled.take()
    assert first is not None
    lost: list[str] = []
    with stalled.fenced(first, on_lost=lambda: lost.append("first")):
        store.append_message(session.id, role="user", content=[{"type": "text", "text": "q"}])
        if engine.dialect.name == "postgresql":
            # A fenced write in progress holds the row from its check on: the takeover passes it by and comes
            # back once it committed, so what the stalled take wrote is there for its successor to clean up.
            with engine.begin() as connection:
                fencing.check(connection)
                connection.execute(sa.update(SessionRow).where(SessionRow.id == session.id).values(title="t"))
                assert same_process.take() is None
    second = same_process.take()
    assert second is not None and second.id == first.id and second.attempts == first.attempts + 1
    with stalled.fenced(first, on_lost=lambda: lost.append("first")), pytest.raises(LeaseLost):
        store.append_message(session.id, role="assistant", content=[{"type": "text", "text": "late"}])
    assert lost == ["first"]
    assert [message.role for message in store.history(session.id)] == ["user"]
    assert stalled.holds(first) is False and same_process.holds(second) is True
    assert stalled.renew([first]) == set()
    assert stalled.finish(first) is False
    with same_process.fenced(second, on_lost=lambda: lost.append("second")):
        store.append_message(session.id, role="assistant", content=[{"type": "text", "text": "answer"}])
    assert same_process.finish(second, reply_ref="1700000001.000200") is True
    assert lost == ["first"]


def test_a_take_over_discards_only_what_its_own_question_stored_though_another_turn_interleaved(
    engine: Engine,
) -> None:
    """A reply taken (t/2), then paused past its lease; an earlier reply of the thread (t/1), whose event was
    stored late, is answered meanwhile: its question and answer are stored after t/2's answer began. The take
    over of t/2 deletes t/2's own writes only, by turn, and keeps t/1's exchange and untagged writes."""
    store = ConversationStore(engine)
    sessions = Sessions(store, engine)
    session = sessions.open(SessionKey.slack_thread("T", "C", "1"))
    later, earlier = entry("t", 2, "reply"), entry("t", 1, "reply")

    def text(value: str) -> list[dict[str, object]]:
        return [{"type": "text", "text": value}]

    paused = process(engine, "paused", lease_seconds=0)  # Its lease has run out as soon as it is taken.
    paused.accept(later)
    first_take = paused.take()
    assert first_take is not None and first_take.turn == later.message_key
    with paused.fenced(first_take, on_lost=lambda: None):
        store.append_message(session.id, role="user", content=text("q2"))
        store.record_tool_run(
            session.id, tool_use_id="u2", tool="run_query", input={}, is_error=False, duration_ms=1
        )
    store.append_message(session.id, role="user", content=text("untagged"))  # Not an inbox turn's write.

    other = process(engine, "other")
    other.accept(earlier)
    taken_earlier = other.take()  # t/1 comes first in the thread: t/2's retake waits for it.
    assert taken_earlier is not None and taken_earlier.entry.message_key == earlier.message_key
    with other.fenced(taken_earlier, on_lost=lambda: None):
        store.append_message(session.id, role="user", content=text("q1"))
        store.record_tool_run(
            session.id, tool_use_id="u1", tool="run_query", input={}, is_error=False, duration_ms=1
        )
        store.append_message(session.id, role="assistant", content=text("a1"))
    assert other.finish(taken_earlier)

    retake = other.take()
    assert retake is not None and retake.id == first_take.id and retake.attempts == 2
    with other.fenced(retake, on_lost=lambda: None):
        assert sessions.discard_turn(session.id, retake.turn) == 1
        store.append_message(session.id, role="user", content=text("q2"))
        store.append_message(session.id, role="assistant", content=text("a2"))
    assert [m.content[0]["text"] for m in store.history(session.id)] == ["untagged", "q1", "a1", "q2", "a2"]
    assert [run.tool_use_id for run in store.tool_runs(session.id)] == ["u1"]


def test_a_held_message_is_worked_on_by_its_holder_only_and_placed_once_posted(engine: Engine) -> None:
    """A click stored before its question is posted: held by the process that stored it (or replays it), placed
    in its thread once posted, and until then holding the thread's later questions back."""
    mine, other = process(engine, "mine"), process(engine, "other")
    click = InboxEntry("asked:T:click", "t", "1700000005.000000", "asked", {"body": {"trigger_id": "click"}})
    assert mine.hold(click) == "new"
    assert mine.hold(click) == "again"  # Stored before and still held here: an earlier try may have posted.
    assert other.hold(click) is None  # Another process is on it.
    mine.accept(entry("t", 6, "reply"))
    assert other.take() is None  # The click comes first in its thread, held until posted.
    posted = InboxEntry(click.message_key, "t", "1700000007.000000", "asked", {"question": "q"})
    assert other.place(posted) is False
    assert mine.place(posted) is True
    assert mine.accept(posted) is True
    first = other.take()
    assert first is not None and first.entry.message_key == "t/6"  # Sent before the question was posted.
    assert other.take() is None
    other.finish(first)
    second = other.take()
    assert second is not None and second.entry == posted and second.turn == "asked:T:click"
    other.finish(second)
    assert mine.hold(click) is None  # Answered: a redelivery of the click is not worked on again.
