"""Incidents and per-alert state in the store: claimed by the database, so two processes never post twice.

- A new incident is inserted with open_key 'open' before its message is posted; (alert, open_key) is unique, so a
  second process opening an incident for the same alert fails and stands down.
- The points an alert judged are claimed by moving its `last_point` from the value the run read to the new
  one in one conditional update; a run that finds it moved stands down before posting anything.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from agent.alerts.lifecycle import IncidentState
from agent.clock import utc_now
from agent.store.models import AlertIncidentRow, AlertStateRow
from tools.anomalies import Finding

IncidentStatus = Literal["open", "acknowledged", "snoozed", "resolved"]
_OPEN = "open"


@dataclass(frozen=True)
class StoredIncident:
    """An incident as stored: its state, its message and what people did with it."""

    id: int
    alert: str
    state: IncidentState
    channel: str | None
    message_ts: str | None
    acknowledged_by: str | None
    snoozed_until: datetime | None

    def status(self, now: datetime) -> IncidentStatus:
        """Resolved, snoozed (until a time still ahead), acknowledged, or open."""
        if not self.state.is_open:
            return "resolved"
        if self.snoozed_until is not None and self.snoozed_until > now:
            return "snoozed"
        return "acknowledged" if self.acknowledged_by else "open"


@dataclass(frozen=True)
class AlertState:
    """The newest point an alert already judged, and who muted it, if anyone."""

    last_point: datetime | None
    muted_by: str | None
    muted_at: datetime | None


class IncidentStore:
    """Reads and writes incidents and alert states; safe to share between threads and processes."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # ----------------------------------------------------------------- alert states

    def alert_state(self, alert: str) -> AlertState:
        with self._sessions() as db:
            row = db.get(AlertStateRow, alert)
        if row is None:
            return AlertState(None, None, None)
        last = datetime.fromisoformat(row.last_point) if row.last_point else None
        return AlertState(last, row.muted_by, row.muted_at)

    def claim_points(self, alert: str, seen: datetime | None, newest: datetime) -> bool:
        """Move the alert's last judged point from `seen` to `newest`; False when another run moved it first."""
        before = seen.isoformat() if seen else None
        try:
            with self._sessions.begin() as db:
                if db.get(AlertStateRow, alert) is None:
                    if before is not None:
                        return False
                    db.add(AlertStateRow(alert=alert, last_point=newest.isoformat()))
                    return True
                condition = (
                    AlertStateRow.last_point.is_(None)
                    if before is None
                    else AlertStateRow.last_point == before
                )
                moved = db.execute(
                    sa.update(AlertStateRow)
                    .where(AlertStateRow.alert == alert, condition)
                    .values(last_point=newest.isoformat()),
                    execution_options={"synchronize_session": False},
                )
                return bool(moved.rowcount)  # type: ignore[attr-defined]
        except IntegrityError:  # Another process inserted the alert's first state at the same moment.
            return False

    def set_muted(self, alert: str, user: str | None) -> None:
        """Mute the alert (by `user`), or unmute it with None."""
        with self._sessions.begin() as db:
            row = db.get(AlertStateRow, alert)
            if row is None:
                row = AlertStateRow(alert=alert)
                db.add(row)
            row.muted_by, row.muted_at = user, (utc_now() if user else None)

    # ----------------------------------------------------------------- incidents

    def latest(self, alert: str) -> StoredIncident | None:
        """The alert's most recent incident, open or not."""
        with self._sessions() as db:
            row = db.scalars(
                sa.select(AlertIncidentRow)
                .where(AlertIncidentRow.alert == alert)
                .order_by(AlertIncidentRow.id.desc())
                .limit(1)
            ).first()
            return _incident(row) if row else None

    def get(self, incident_id: int) -> StoredIncident | None:
        with self._sessions() as db:
            row = db.get(AlertIncidentRow, incident_id)
            return _incident(row) if row else None

    def in_message(self, channel: str, ts: str) -> list[StoredIncident]:
        """The incidents one message tells (several alerts of one model share a message)."""
        with self._sessions() as db:
            rows = db.scalars(
                sa.select(AlertIncidentRow)
                .where(AlertIncidentRow.channel == channel, AlertIncidentRow.message_ts == ts)
                .order_by(AlertIncidentRow.id)
            ).all()
            return [_incident(row) for row in rows]

    def incidents(self, alert: str) -> list[StoredIncident]:
        """The alert's incidents, oldest first."""
        with self._sessions() as db:
            rows = db.scalars(
                sa.select(AlertIncidentRow)
                .where(AlertIncidentRow.alert == alert)
                .order_by(AlertIncidentRow.id)
            ).all()
            return [_incident(row) for row in rows]

    def open_incident(self, alert: str, state: IncidentState) -> int | None:
        """Insert a new incident; None when another process already has an unresolved one for this alert."""
        now = utc_now()
        row = AlertIncidentRow(alert=alert, opened_at=now, updated_at=now, **_state_columns(state))
        try:
            with self._sessions.begin() as db:
                db.add(row)
        except IntegrityError:
            return None
        return row.id

    def save_state(self, incident_id: int, state: IncidentState) -> None:
        self._update(incident_id, **_state_columns(state))

    def set_message(self, incident_id: int, channel: str, ts: str) -> None:
        self._update(incident_id, channel=channel, message_ts=ts)

    def acknowledge(self, incident_id: int, user: str) -> None:
        self._update(incident_id, acknowledged_by=user, snoozed_until=None)

    def snooze(self, incident_id: int, until: datetime) -> None:
        self._update(incident_id, snoozed_until=until)

    def resolve_by(self, incident_id: int, user: str) -> None:
        self._update(incident_id, resolved_by=user, open_key=None, status="resolved")

    def _update(self, incident_id: int, **values: Any) -> None:
        with self._sessions.begin() as db:
            db.execute(
                sa.update(AlertIncidentRow)
                .where(AlertIncidentRow.id == incident_id)
                .values(updated_at=utc_now(), **values),
                execution_options={"synchronize_session": False},
            )


def _state_columns(state: IncidentState) -> dict[str, Any]:
    return {
        "open_key": _OPEN if state.is_open else None,
        "status": "open" if state.is_open else "resolved",
        "start_point": state.start.isoformat(),
        "last_anomaly_point": state.last_anomaly.isoformat(),
        "anomalies": state.anomalies,
        "in_range_streak": state.in_range_streak,
        "worst": _finding_json(state.worst),
        "latest": _finding_json(state.latest),
        "resolved_point": state.resolved_at.isoformat() if state.resolved_at else None,
        "resolved_by": state.resolved_by,
    }


def _finding_json(finding: Finding) -> dict[str, Any]:
    data = asdict(finding)
    data["at"] = finding.at.isoformat()
    # PostgreSQL's JSON has no infinity (a change from zero is infinite): kept as text, read back as float.
    return {
        key: str(value) if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in data.items()
    }


def _finding(data: dict[str, Any]) -> Finding:
    numbers = {key: float(value) for key, value in data.items() if key not in ("at", "direction", "kind")}
    return Finding(**{**data, **numbers, "at": datetime.fromisoformat(str(data["at"]))})


def _incident(row: AlertIncidentRow) -> StoredIncident:
    state = IncidentState(
        start=datetime.fromisoformat(row.start_point),
        last_anomaly=datetime.fromisoformat(row.last_anomaly_point),
        anomalies=row.anomalies,
        in_range_streak=row.in_range_streak,
        worst=_finding(row.worst),
        latest=_finding(row.latest),
        resolved_at=datetime.fromisoformat(row.resolved_point) if row.resolved_point else None,
        resolved_by=row.resolved_by,
    )
    return StoredIncident(
        row.id, row.alert, state, row.channel, row.message_ts, row.acknowledged_by, row.snoozed_until
    )
