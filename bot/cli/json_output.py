"""Prints agent events as newline-delimited JSON, for scripts, evaluations and tests."""

from __future__ import annotations

import sys
from typing import TextIO

from agent.event_redaction import EventRedactor
from agent.events import AgentEvent


class JsonLinesSink:
    """An event sink writing one JSON object a line, secrets redacted; flushed so a reader sees events as they
    happen."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._redactor = EventRedactor()

    def __call__(self, event: AgentEvent) -> None:
        for shown in self._redactor(event):
            self._stream.write(shown.model_dump_json() + "\n")
        self._stream.flush()
