"""PostgreSQL values Python cannot hold, loaded as their text: infinity and BC dates, intervals of any size.

psycopg raises DataError ("date too large", "BC dates not supported") for `DATE 'infinity'` and `'44-03-15 BC'`,
which failed the whole query; columns such as `valid_to = 'infinity'` are common. Registered on warehouse
connections only (SqlAlchemyWarehouse's engine), never on the conversation store's.
"""

from __future__ import annotations

from typing import Any

from psycopg import DataError
from psycopg.adapt import Buffer
from psycopg.types.datetime import DateLoader, TimestampLoader, TimestamptzLoader
from psycopg.types.string import TextLoader


def _text(data: Buffer) -> str:
    return bytes(data).decode("utf-8", errors="replace")


class DateOrText(DateLoader):
    """A date, or its text where Python's date cannot hold it ('infinity', '-infinity', BC dates)."""

    def load(self, data: Buffer) -> Any:
        try:
            return super().load(data)
        except DataError:
            return _text(data)


class TimestampOrText(TimestampLoader):
    """A timestamp, or its text where Python's datetime cannot hold it."""

    def load(self, data: Buffer) -> Any:
        try:
            return super().load(data)
        except DataError:
            return _text(data)


class TimestamptzOrText(TimestamptzLoader):
    """A timestamp with time zone, or its text where Python's datetime cannot hold it."""

    def load(self, data: Buffer) -> Any:
        try:
            return super().load(data)
        except DataError:
            return _text(data)


def register_text_fallbacks(dbapi_connection: Any) -> None:
    """Install the loaders on one psycopg connection (its arrays of these types use them too)."""
    adapters = dbapi_connection.adapters
    adapters.register_loader("date", DateOrText)
    adapters.register_loader("timestamp", TimestampOrText)
    adapters.register_loader("timestamptz", TimestamptzOrText)
    # Intervals as PostgreSQL writes them ("1 year 2 mons"): a timedelta would turn months into 30 days and
    # fails on intervals past its range.
    adapters.register_loader("interval", TextLoader)
