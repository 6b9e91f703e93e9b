"""What the fake recorded of the app's traffic: Web API calls, Socket Mode envelopes and acks, response_url POSTs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ApiCall:
    """One Web API call as the fake received it; failed calls are kept too, with ok False."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float  # time.monotonic() when it arrived
    ok: bool = True
    error: str | None = None
    status: int = 200
    injected: bool = False  # answered by a fail_next() script


@dataclass(frozen=True)
class SentEnvelope:
    """A Socket Mode envelope the fake sent to one connection."""

    envelope_id: str
    type: str
    envelope: dict[str, Any]
    connection: int  # the connection's number, counting every connection the fake accepted from 0
    sent_at: float


@dataclass(frozen=True)
class Ack:
    """An app's acknowledgement of an envelope, with the time it took."""

    envelope_id: str
    payload: dict[str, Any] | None
    latency_seconds: float
    connection: int


@dataclass(frozen=True)
class ResponseUrlPost:
    """A POST to a response_url the fake handed out with a slash command or a block action."""

    channel: str
    user: str
    body: dict[str, Any]
    at: float
