"""The identifiers Slack hands out: object ids, trigger ids, DM channel ids and message timestamps."""

from __future__ import annotations

import hashlib
import secrets
import string
import threading

TS_EPOCH = 1_700_000_000


def slack_id(prefix: str, length: int = 10) -> str:
    """A random id in Slack's style: a type prefix ("F", "V", "Ev") and upper-case letters and digits."""
    return prefix + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def trigger_id() -> str:
    """A trigger_id as Slack puts in slash commands and interactions."""
    return f"{secrets.randbelow(10**13)}.{secrets.randbelow(10**13)}.{secrets.token_hex(16)}"


def dm_channel(user: str) -> str:
    """The id of a user's DM with the app, the same for the same user."""
    return f"D{hashlib.sha256(user.encode()).hexdigest()[:9].upper()}"


def ts_key(ts: str) -> tuple[int, int]:
    """A message timestamp as a sortable (seconds, microseconds) pair."""
    seconds, _, micros = ts.partition(".")
    return int(seconds or 0), int((micros or "0").ljust(6, "0")[:6])


class TimestampClock:
    """Hands out increasing message timestamps, always after any timestamp a test chose itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0

    def next_ts(self) -> str:
        with self._lock:
            self._counter += 1
            micros = self._counter * 100
        return f"{TS_EPOCH + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def observe(self, ts: str) -> None:
        """Keep generated timestamps after `ts`."""
        seconds, micros = ts_key(ts)
        offset = (seconds - TS_EPOCH) * 1_000_000 + micros
        with self._lock:
            self._counter = max(self._counter, offset // 100)
