"""What an alert is: the series it watches, when it runs, where it posts, how sensitive it is, when it is quiet.

The cron expression is checked by a function handed in through the validation context (`check_schedule`):
the scheduler library lives in bot/, and the agent core does not import it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tools.anomalies import DEFAULT_SENSITIVITY

Grain = Literal["hour", "day"]
# Raises ValueError with a readable reason when `cron` (in `timezone`) is not a schedule.
ScheduleCheck = Callable[[str, str], None]
CHECK_SCHEDULE = "check_schedule"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|minutes?|h|hours?|d|days?)\s*$", re.IGNORECASE)
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class MuteWindow(BaseModel):
    """A quiet time: times of day ('22:00'–'06:00', every day), dates (inclusive), or two date-times."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: datetime | date | time
    end: datetime | date | time
    reason: str | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML reads an unquoted 22:00 as the number 1320.
            raise ValueError("write times of day in quotes, e.g. '22:00'")
        if isinstance(value, str):
            text = value.strip()
            for parse in (time.fromisoformat, date.fromisoformat, datetime.fromisoformat):
                try:
                    return parse(text)
                except ValueError:
                    continue
            raise ValueError(f"{value!r} is not a time ('22:00'), a date ('2024-12-24') or a date-time")
        return value

    @model_validator(mode="after")
    def _same_kind(self) -> MuteWindow:
        if _kind(self.start) != _kind(self.end):
            raise ValueError("start and end must be the same kind: two times, two dates or two date-times")
        if _kind(self.start) != "time" and self.end < self.start:  # type: ignore[operator]
            raise ValueError("end is before start")
        return self

    def covers(self, moment: datetime) -> bool:
        """Whether `moment` (already in the alert's time zone) falls in this window."""
        start, end = self.start, self.end
        if isinstance(start, datetime) and isinstance(end, datetime):
            naive = moment.replace(tzinfo=None)
            return start.replace(tzinfo=None) <= naive < end.replace(tzinfo=None)
        if isinstance(start, time) and isinstance(end, time):
            now = moment.time().replace(tzinfo=None)
            if start <= end:
                return start <= now < end
            return now >= start or now < end  # Overnight, e.g. 22:00–06:00.
        return bool(start <= moment.date() <= end)  # type: ignore[operator]


def _kind(value: time | date | datetime) -> str:
    if isinstance(value, datetime):
        return "datetime"
    return "date" if isinstance(value, date) else "time"


class AlertDefinition(BaseModel):
    """One alert, as written in the alerts file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    # What to watch: exactly one of `sql`, `model` (with time_column and measure) or a dbt `metric`.
    sql: str | None = None
    model: str | None = None
    time_column: str | None = None
    measure: str | None = None
    metric: str | None = None
    filters: list[str] = Field(default_factory=list)
    grain: Grain = "day"
    label: str | None = None
    # When and where (the time zone first: the schedule is read in it).
    timezone: str = "UTC"
    schedule: str
    channel: str
    # Who is tagged in its messages: Slack ids, @handles, emails or user groups (<!subteam^S…>); the loader
    # adds the owners and subscribers the dbt project names (agent.alerts.routing).
    owners: list[str] = Field(default_factory=list)
    # How sensitive, and how much history.
    sensitivity: float = Field(DEFAULT_SENSITIVITY, gt=0, le=20)
    min_history: int = Field(14, ge=3, le=2000)
    history: int = Field(120, ge=10, le=5000)
    check_last: int = Field(1, ge=1, le=100)
    # After an incident resolved by itself, an anomaly within this long (in the metric's time) reopens it
    # instead of posting anew; `cooldown` is the name older alerts files use.
    suppression_interval: timedelta | None = Field(
        None, validation_alias=AliasChoices("suppression_interval", "cooldown")
    )
    # Points in a row back in range that resolve an incident by themselves.
    resolve_after: int = Field(3, ge=1, le=1000)
    mute: list[MuteWindow] = Field(default_factory=list)
    what_to_do: str | None = None
    # Set on the alerts a `monitors:` entry makes (agent.alerts.monitors): rows per period, or how old the
    # newest row is (stale past `warn_after`).
    monitor: Literal["volume", "freshness"] | None = None
    warn_after: timedelta | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits, '_', '-' or '.' (up to 100), e.g. daily_orders")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        value = value.strip()
        if not value or " " in value:
            raise ValueError("a Slack channel name or id, e.g. '#data-alerts' or C0123ABCD")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a time zone; use an IANA name such as Europe/Berlin"
            ) from None
        return value

    @field_validator("suppression_interval", "warn_after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, str) and (match := _DURATION.match(value)):
            unit = _DURATION_UNITS[match.group(2)[0].lower()]
            return timedelta(**{unit: float(match.group(1))})
        return value

    @field_validator("mute", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str, info: ValidationInfo) -> str:
        check: ScheduleCheck | None = (info.context or {}).get(CHECK_SCHEDULE)
        timezone = str(info.data.get("timezone") or "UTC")
        if check is not None:
            check(value, timezone)
        return value.strip()

    @model_validator(mode="after")
    def _one_source(self) -> AlertDefinition:
        sources = [name for name in ("sql", "model", "metric") if getattr(self, name)]
        if len(sources) != 1:
            found = f"got {', '.join(sources)}" if sources else "got none"
            raise ValueError(f"say what to watch with exactly one of sql, model or metric ({found})")
        if self.model:
            missing = [name for name in ("time_column", "measure") if not getattr(self, name)]
            if missing:
                raise ValueError(f"a model alert also needs {' and '.join(missing)}")
        elif self.time_column or self.measure:
            raise ValueError("time_column and measure go with model, not with sql or metric")
        if self.sql and self.filters:
            raise ValueError("filters go with model or metric; put conditions in the sql itself")
        if self.monitor == "freshness" and self.warn_after is None:
            raise ValueError("a freshness monitor needs warn_after, e.g. warn_after: 1d")
        if self.history <= self.min_history:
            raise ValueError(f"history ({self.history}) must be more than min_history ({self.min_history})")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def display_metric(self) -> str:
        """How people call the watched number, for messages and chart titles."""
        if self.label:
            return self.label
        if self.metric:
            return self.metric
        if self.model:
            return f"{self.measure} in {self.model}"
        return self.name

    def watches(self) -> str:
        """What the alert watches, in one short line."""
        if self.metric:
            return f"dbt metric {self.metric} by {self.grain}"
        if self.model:
            where = f" where {' and '.join(self.filters)}" if self.filters else ""
            return f"{self.measure} by {self.grain} of {self.time_column} in {self.model}{where}"
        return "custom SQL"

    def muted_at(self, moment: datetime) -> MuteWindow | None:
        """The mute window covering `moment` (any zone), if any."""
        local = moment.astimezone(self.zone)
        return next((window for window in self.mute if window.covers(local)), None)
