"""Prints agent events as newline-delimited JSON, for scripts, evaluations and tests."""

from __future__ import annotations

import sys
from typing import TextIO

from agent.events import AgentEvent
from agent.redaction import redact_event


class JsonLinesSink:
    """An event sink writing one JSON object a line, secrets redacted; flushed so a reader sees events as they
    happen."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout

    def __call__(self, event: AgentEvent) -> None:
        self._stream.write(redact_event(event).model_dump_json() + "\n")
        self._stream.flush()
