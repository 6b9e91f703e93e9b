"""Alert runs, recorded so that each (alert, scheduled time) runs once and each anomaly is posted once.

The database decides, not the process: a run is a row inserted before any work (a second insert of the same
alert and time fails, so another process already has it), and an anomaly's point is written into its run's row
before the post (the same point of the same alert cannot be written twice). Any number of bot processes can
share one database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from agent.clock import utc_now
from agent.redaction import redact
from agent.store.models import AlertRunRow

RunTrigger = Literal["schedule", "catch_up", "manual"]
RunStatus = Literal["running", "ok", "anomaly", "failed", "muted"]
PostKind = Literal["anomaly", "update", "failure", "recovery"]

_SCHEDULED = ("schedule", "catch_up")
_SETTLED = ("ok", "anomaly", "failed")
# How far back a failure streak is read; a longer streak is simply reported again.
_STREAK_LOOKBACK = 200


@dataclass(frozen=True)
class AlertRun:
    """A stored run."""

    id: int
    alert: str
    scheduled_for: datetime
    trigger: str
    status: str
    posted: str | None
    posted_point: str | None
    channel: str | None
    message_ts: str | None
    summary: str | None
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class AlertRunStore:
    """Claims and records alert runs; safe to share between threads and processes."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def claim(self, alert: str, scheduled_for: datetime, trigger: RunTrigger) -> int | None:
        """The new run's id, or None when a run of this alert at this time was already claimed."""
        row = AlertRunRow(
            alert=alert, scheduled_for=scheduled_for, trigger=trigger, status="running", started_at=utc_now()
        )
        try:
            with self._sessions.begin() as db:
                db.add(row)
        except IntegrityError:
            return None
        return row.id

    def claim_point(self, run_id: int, point: str) -> bool:
        """Reserve the anomaly at `point` for this run's post; False when a run of the alert already had it."""
        try:
            self._update(run_id, posted_point=point)
        except IntegrityError:
            return False
        return True

    def release_point(self, run_id: int) -> None:
        """Give the point back when its post failed, so that the next run tries again."""
        self._update(run_id, posted_point=None)

    def finish(
        self,
        run_id: int,
        *,
        status: RunStatus,
        summary: str | None = None,
        error: str | None = None,
        posted: PostKind | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> None:
        self._update(
            run_id,
            status=status,
            summary=summary,
            error=redact(error) if error else error,  # Warehouse errors may quote a connection URL.
            posted=posted,
            channel=channel,
            message_ts=message_ts,
            finished_at=utc_now(),
        )

    def failure_streak(self, alert: str, before: datetime) -> list[AlertRun]:
        """The scheduled runs before `before` that failed since the last one that succeeded, newest first."""
        query = (
            sa.select(AlertRunRow)
            .where(
                AlertRunRow.alert == alert,
                AlertRunRow.scheduled_for < before,
                AlertRunRow.trigger.in_(_SCHEDULED),
                AlertRunRow.status.in_(_SETTLED),
            )
            .order_by(AlertRunRow.scheduled_for.desc())
            .limit(_STREAK_LOOKBACK)
        )
        streak = []
        for run in self._select(query):
            if run.status != "failed":
                break
            streak.append(run)
        return streak

    def last_anomaly_post(self, alert: str) -> AlertRun | None:
        """The latest run that posted an anomaly, for the cooldown."""
        return self._first(
            sa.select(AlertRunRow)
            .where(AlertRunRow.alert == alert, AlertRunRow.posted == "anomaly")
            .order_by(AlertRunRow.scheduled_for.desc())
        )

    def posted_point(self, alert: str, point: str) -> AlertRun | None:
        """The run that posted (or is posting) the anomaly at `point`, if any."""
        return self._first(
            sa.select(AlertRunRow).where(AlertRunRow.alert == alert, AlertRunRow.posted_point == point)
        )

    def latest(self, alert: str) -> AlertRun | None:
        """The alert's most recently started run."""
        return self._first(
            sa.select(AlertRunRow).where(AlertRunRow.alert == alert).order_by(AlertRunRow.started_at.desc())
        )

    def runs(self, alert: str | None = None, *, limit: int = 100) -> list[AlertRun]:
        """Recent runs, newest scheduled time first."""
        query = sa.select(AlertRunRow).order_by(AlertRunRow.scheduled_for.desc()).limit(limit)
        if alert is not None:
            query = query.where(AlertRunRow.alert == alert)
        return self._select(query)

    def _update(self, run_id: int, **values: object) -> None:
        with self._sessions.begin() as db:
            db.execute(
                sa.update(AlertRunRow).where(AlertRunRow.id == run_id).values(**values),
                execution_options={"synchronize_session": False},
            )

    def _first(self, query: sa.Select[AlertRunRow]) -> AlertRun | None:
        found = self._select(query.limit(1))
        return found[0] if found else None

    def _select(self, query: sa.Select[AlertRunRow]) -> list[AlertRun]:
        with self._sessions() as db:
            return [_run(row) for row in db.scalars(query).all()]


def _run(row: AlertRunRow) -> AlertRun:
    return AlertRun(
        id=row.id,
        alert=row.alert,
        scheduled_for=row.scheduled_for,
        trigger=row.trigger,
        status=row.status,
        posted=row.posted,
        posted_point=row.posted_point,
        channel=row.channel,
        message_ts=row.message_ts,
        summary=row.summary,
        error=row.error,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
