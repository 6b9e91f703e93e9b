"""What people do with an incident from its message: acknowledge, snooze, resolve, or mute its alert.

An action applies to every incident of the message (alerts of one model share one), then the message is edited
to show the new state and the thread says who did what.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from agent.alerts.keeping import IncidentKeeper
from agent.alerts.notices import IncidentNote, NoteKind, PostedNotice

IncidentAction = Literal["ack", "snooze_1d", "snooze_1w", "resolve", "mute"]
INCIDENT_ACTIONS: tuple[IncidentAction, ...] = ("ack", "snooze_1d", "snooze_1w", "resolve", "mute")
_SNOOZE = {"snooze_1d": timedelta(days=1), "snooze_1w": timedelta(weeks=1)}
_NOTES: dict[IncidentAction, NoteKind] = {
    "ack": "acknowledged",
    "snooze_1d": "snoozed",
    "snooze_1w": "snoozed",
    "resolve": "resolved_by_user",
    "mute": "muted",
}
UNKNOWN_INCIDENT = "That incident is no longer known (the store was reset?)."


class IncidentDesk:
    """Applies people's actions to the incidents in the store and keeps their message current."""

    def __init__(self, keeper: IncidentKeeper) -> None:
        self._keeper = keeper

    def act(self, incident_id: int, action: IncidentAction, user: str, now: datetime) -> str | None:
        """Apply `action` by `user`; None when done, else a line to tell only that user why not."""
        store = self._keeper.store
        clicked = store.get(incident_id)
        if clicked is None or clicked.channel is None or clicked.message_ts is None:
            return UNKNOWN_INCIDENT
        where = PostedNotice(clicked.channel, clicked.message_ts)
        incidents = store.in_message(clicked.channel, clicked.message_ts)
        until = now + _SNOOZE[action] if action in _SNOOZE else None
        for incident in incidents:
            if action == "ack":
                store.acknowledge(incident.id, user)
            elif until is not None:
                store.snooze(incident.id, until)
            elif action == "resolve" and incident.state.is_open:
                store.resolve_by(incident.id, user)
            elif action == "mute":
                store.set_muted(incident.alert, user)
        self._keeper.refresh(where, now)
        first = store.get(incident_id)
        alert = self._keeper.alert(clicked.alert)
        if first is not None and alert is not None:
            self._keeper.note(where, IncidentNote(alert, _NOTES[action], first, user=user, until=until))
        return None
