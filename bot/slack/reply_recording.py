"""A Web API client for one answer that reports the ts of each message it posts.

An answer taken over from a process that died mid-way must replace what that process posted, and nothing of
the answers before it: each answer's last message (in Slack's own clock) is kept with it when it is done, and
marks where the next answer's messages begin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

# The calls that create a message in the thread: a posted message, or the message a stream writes into.
_POSTING_METHODS = frozenset({"chat.postMessage", "chat.startStream"})


class ReplyRecordingClient(WebClient):
    """Talks to Slack as `base` does (token, URL, retries); calls `on_post(ts)` after each message posted."""

    def __init__(self, base: WebClient, on_post: Callable[[str], None]) -> None:
        super().__init__(
            token=base.token,
            base_url=base.base_url,
            timeout=base.timeout,
            ssl=base.ssl,
            proxy=base.proxy,
            headers=dict(base.headers),
            logger=base.logger,
            retry_handlers=base.retry_handlers,
        )
        self._on_post = on_post

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        response = super().api_call(api_method, **kwargs)
        if api_method in _POSTING_METHODS and response.get("ok") and response.get("ts"):
            self._on_post(str(response["ts"]))
        return response
