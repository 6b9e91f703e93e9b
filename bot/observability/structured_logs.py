"""Logs for machines: one JSON object per line (BLUEPRINTDATA_LOG_FORMAT=json), carrying the Slack team,
channel, thread and turn being worked on, so one question's lines can be found across threads and replicas.

The ids live in a context variable that the code answering a question binds (`log_fields` or `bind_log_fields`);
a filter copies them onto every record logged meanwhile in that thread. Records carry our own log lines only:
the text people wrote is never put in a log line, so none reaches the collector.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

_FIELDS: ContextVar[dict[str, str]] = ContextVar("blueprintdata_log_fields", default={})  # noqa: B039
LogFieldsToken = Token[dict[str, str]]


def bind_log_fields(**fields: str | None) -> LogFieldsToken:
    """Add these ids to every record logged from now on in this context; `reset_log_fields(token)` undoes it."""
    merged = {**_FIELDS.get(), **{name: value for name, value in fields.items() if value}}
    return _FIELDS.set(merged)


def reset_log_fields(token: LogFieldsToken) -> None:
    """Back to the ids bound before `bind_log_fields` returned `token`."""
    try:
        _FIELDS.reset(token)
    except ValueError:  # Bound in another context (a different thread): clear this one instead.
        _FIELDS.set({})


@contextmanager
def log_fields(**fields: str | None) -> Iterator[None]:
    """These ids on every record logged inside the block."""
    token = bind_log_fields(**fields)
    try:
        yield
    finally:
        reset_log_fields(token)


def current_log_fields() -> dict[str, str]:
    """The ids bound in this context."""
    return dict(_FIELDS.get())


class LogFieldsFilter(logging.Filter):
    """Copies the bound ids onto each record, as `record.log_fields`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.log_fields = _FIELDS.get()
        return True


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, the bound ids, and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "log_fields", None) or _FIELDS.get())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def use_log_format(log_format: str, level: int = logging.INFO) -> None:
    """Send the root logger's records to stderr in `log_format` ("text" or "json"), at `level`."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LogFieldsFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
