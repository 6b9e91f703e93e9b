"""Runs agent turns for the terminal: Ctrl-C cancels the turn in progress, not the session."""

from __future__ import annotations

import threading
from collections.abc import Callable

from agent.events import EventSink
from agent.loop import Turn, TurnOutcome


def run_turn_cancellable(
    turn: Turn,
    session_id: str,
    text: str,
    sink: EventSink,
    on_cancel: Callable[[], None],
) -> TurnOutcome | None:
    """Answer one message in a worker thread; returns None when the user pressed Ctrl-C."""
    cancel = threading.Event()
    outcome: list[TurnOutcome] = []
    worker = threading.Thread(
        target=lambda: outcome.append(turn.handle(session_id, text, sink, cancel=cancel)),
        name="blueprintdata-turn",
        daemon=True,
    )
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        cancel.set()
        on_cancel()
        # The model stream stops at its next event; a running query stops at its own time limit.
        worker.join()
        return None
    return outcome[0] if outcome else None
