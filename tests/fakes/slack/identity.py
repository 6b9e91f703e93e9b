"""Who the fake workspace and its one installed app are: ids, tokens and secrets, and request signing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

APP_ID = "A0FAKE0001"


def _bot_token() -> str:
    return f"xoxb-1-{secrets.token_hex(12)}"


def _app_token() -> str:
    return f"xapp-1-{APP_ID}-{secrets.token_hex(12)}"


@dataclass(frozen=True)
class AppIdentity:
    """The workspace's and the app's ids; tokens and secrets are new for every fake."""

    team_id: str = "T0FAKE0001"
    team_domain: str = "fake-workspace"
    app_id: str = APP_ID
    bot_user_id: str = "U0FAKEBOT1"
    bot_id: str = "B0FAKEBOT1"
    bot_token: str = field(default_factory=_bot_token)
    app_token: str = field(default_factory=_app_token)
    signing_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    verification_token: str = field(default_factory=lambda: secrets.token_hex(12))

    def signed_headers(
        self, body: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """Headers Slack signs an HTTP request with (v0 HMAC-SHA256 of "v0:{timestamp}:{body}")."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        key = (secret if secret is not None else self.signing_secret).encode()
        digest = hmac.new(key, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
