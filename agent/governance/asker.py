"""Who asks the current turn: set by the front door around Agent.handle, read when the turn's tools are built.

A context variable rather than an argument threaded through the agent: the front door that knows the asker
(Slack's answerer, the alert runner) is several calls away from `Runtime.tool_context`, and a context
variable stays with the worker thread that runs the turn, so concurrent turns never see each other's asker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from tools.policy import Principal

_current: ContextVar[Principal | None] = ContextVar("blueprintdata_asker", default=None)


@contextmanager
def asking_as(principal: Principal) -> Iterator[Principal]:
    """Run the turns inside the block as `principal`."""
    token = _current.set(principal)
    try:
        yield principal
    finally:
        _current.reset(token)


def current_asker() -> Principal | None:
    """The principal set by the enclosing `asking_as`, if any."""
    return _current.get()
