"""Agent events with their secrets masked, for every front door that renders them.

The answer arrives in pieces (TextDelta), and a secret or a URL with a password may be cut between two pieces;
each piece is therefore released only up to its last whitespace, and the rest is held until more text, another
event, or the end of the turn arrives.
"""

from __future__ import annotations

from typing import Any

from agent.events import AgentEvent, TextDelta, ToolStarted
from agent.redaction import redact, redact_value

_EVENT_TEXT_FIELDS = ("text", "status", "message", "summary", "sql")
# A "word" longer than this without whitespace is released anyway, but for its last part: a stream must not
# stall on a long line of code or a table.
_LONGEST_HELD = 4_096
_KEPT_WHEN_RELEASED = 512


def redact_event(event: AgentEvent) -> AgentEvent:
    """The event with its texts and tool input redacted (result rows are data, shown as they are)."""
    updates: dict[str, Any] = {}
    for name in _EVENT_TEXT_FIELDS:
        value = getattr(event, name, None)
        if isinstance(value, str) and (masked := redact(value)) != value:
            updates[name] = masked
    if isinstance(event, ToolStarted):
        masked_input = redact_value(event.input)
        if masked_input != event.input:
            updates["input"] = masked_input
    return event.model_copy(update=updates) if updates else event


class EventRedactor:
    """Events in, the same events redacted out; text pieces are held until no secret can straddle them."""

    def __init__(self) -> None:
        self._held = ""

    def __call__(self, event: AgentEvent) -> list[AgentEvent]:
        """The events to render now, in order (none while a piece of text is held)."""
        if isinstance(event, TextDelta):
            text = self._held + event.text
            cut = _release_point(text)
            self._held = text[cut:]
            released = text[:cut]
            return [event.model_copy(update={"text": redact(released)})] if released else []
        events: list[AgentEvent] = []
        if self._held:
            events.append(TextDelta(session_id=event.session_id, text=redact(self._held)))
            self._held = ""
        events.append(redact_event(event))
        return events


def _release_point(text: str) -> int:
    last_space = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t"))
    cut = last_space + 1
    if len(text) - cut > _LONGEST_HELD:
        cut = len(text) - _KEPT_WHEN_RELEASED
    return cut
