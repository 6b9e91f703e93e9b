"""An incident's message in Slack: its status line, what it found, who owns it, and its buttons; thread notes.

Buttons carry the incident's id; their action ids share the prefix INCIDENT_ACTION_PREFIX and end in the action.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agent.alerts.incident_actions import IncidentAction
from agent.alerts.incidents import StoredIncident
from agent.alerts.lifecycle import AUTO
from agent.alerts.notices import DEFAULT_WHAT_TO_DO, IncidentEntry, IncidentNote, IncidentNotice
from bot.slack.rendering.markdown import Block, section_block

INCIDENT_ACTION_PREFIX = "alert_incident:"
INVESTIGATE = "investigate"
_BUTTONS: list[tuple[IncidentAction | str, str]] = [
    (INVESTIGATE, "Investigate"),
    ("ack", "Acknowledge"),
    ("snooze_1d", "Snooze 1 day"),
    ("snooze_1w", "Snooze 1 week"),
    ("resolve", "Resolve"),
    ("mute", "Mute this alert"),
]
_REPLY_HINT = "Reply in this thread to ask me about it, e.g. “which channel drove this?”"


def incident_text(notice: IncidentNotice) -> str:
    """The message: one paragraph per incident (alerts of one model share it), then owners and the hint."""
    paragraphs = [_entry_text(entry, notice.now) for entry in notice.entries]
    if notice.mentions:
        paragraphs.append("*Owners:* " + " ".join(notice.mentions))
    if any(entry.incident.state.is_open for entry in notice.entries):
        paragraphs.append(f"_{_REPLY_HINT}_")
    return "\n\n".join(paragraphs)


def incident_blocks(notice: IncidentNotice) -> list[Block]:
    """The message's blocks: the text and, while any of its incidents is open, the buttons."""
    blocks: list[Block] = [section_block(incident_text(notice))]
    if any(entry.incident.state.is_open for entry in notice.entries):
        value = str(notice.key)
        blocks.append(
            {
                "type": "actions",
                "block_id": f"alert_incident_{value}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{INCIDENT_ACTION_PREFIX}{action}",
                        "text": {"type": "plain_text", "text": label},
                        "value": value,
                    }
                    for action, label in _BUTTONS
                ],
            }
        )
    return blocks


def status_line(incident: StoredIncident, now: datetime) -> str:
    """Open, acknowledged by someone, snoozed until a time, or resolved (by itself or by someone)."""
    status = incident.status(now)
    if status == "resolved":
        state = incident.state
        if state.resolved_by == AUTO and state.resolved_at is not None:
            return f":white_check_mark: Resolved: back in range since {_moment(state.resolved_at)}"
        return f":white_check_mark: Resolved by <@{state.resolved_by}>"
    if status == "snoozed" and incident.snoozed_until is not None:
        return f":zzz: Snoozed until {incident.snoozed_until.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if status == "acknowledged":
        return f":eyes: Acknowledged by <@{incident.acknowledged_by}>"
    return ":red_circle: Open"


def _entry_text(entry: IncidentEntry, now: datetime) -> str:
    alert, state = entry.alert, entry.incident.state
    metric = alert.display_metric()
    icon = (
        ":chart_with_upwards_trend:" if state.worst.direction == "above" else ":chart_with_downwards_trend:"
    )
    lines = [
        f"{icon} *Alert {alert.name}* · {status_line(entry.incident, now)}",
        state.worst.explain(metric),
    ]
    count = "1 anomaly" if state.anomalies == 1 else f"{state.anomalies} anomalies"
    latest = ""
    if state.latest.at != state.worst.at:
        latest = f" · latest {state.latest.explain(metric)}"
    lines.append(f"Since {_moment(state.start)} · {count}{latest}")
    if alert.description:
        lines.append(alert.description.strip())
    if state.is_open:
        lines.append(f"*What to do:* {alert.what_to_do or DEFAULT_WHAT_TO_DO}")
    return "\n".join(lines)


def note_text(note: IncidentNote) -> str:
    """A thread note: a new anomaly, a reopening, a resolution, or what someone did."""
    state, metric = note.incident.state, note.alert.display_metric()
    if note.kind == "grew":
        return f":repeat: Again: {state.latest.explain(metric)} ({state.anomalies} anomalies so far)."
    if note.kind == "reopened":
        return f":rotating_light: Reopened: {state.latest.explain(metric)}."
    if note.kind == "resolved":
        at = _moment(state.resolved_at) if state.resolved_at else "now"
        return (
            f":white_check_mark: Resolved by itself: {metric} back in range for "
            f"{note.alert.resolve_after} points in a row (to {at})."
        )
    if note.kind == "acknowledged":
        return f":eyes: <@{note.user}> acknowledged this."
    if note.kind == "snoozed" and note.until is not None:
        return f":zzz: <@{note.user}> snoozed this until {note.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC."
    if note.kind == "resolved_by_user":
        return f":white_check_mark: <@{note.user}> resolved this."
    if note.kind == "muted":
        return (
            f":mute: <@{note.user}> muted alert *{note.alert.name}*; it will not run until unmuted "
            f"(`blueprintdata alerts unmute {note.alert.name}`)."
        )
    return f"{metric}: {state.latest.explain(metric)}"


def _moment(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}" if (moment.hour, moment.minute) == (0, 0) else f"{moment:%Y-%m-%d %H:%M}"
