"""response_urls: handed out with slash commands and block actions; the app's POSTs to them applied as Slack does."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.slack.http_server import HttpAnswer, HttpRequest
from tests.fakes.slack.records import ResponseUrlPost
from tests.fakes.slack.workspace import Workspace

RESPONSE_URL_ROUTE = "/response_url/"


@dataclass(frozen=True)
class _Target:
    """Where a response_url's answers go: the invocation's channel and user, and the clicked message."""

    channel: str
    user: str
    message_ts: str | None
    thread_ts: str | None


class ResponseUrls:
    """The response_urls handed out so far and the route they are POSTed to; every POST recorded in `posts`."""

    def __init__(self, workspace: Workspace, http_root: str) -> None:
        self.workspace = workspace
        self.http_root = http_root
        self.posts: list[ResponseUrlPost] = []
        self._targets: dict[str, _Target] = {}

    def new_url(self, channel: str, user: str, message_ts: str | None, thread_ts: str | None) -> str:
        key = secrets.token_hex(8)
        with self.workspace.lock:
            self._targets[key] = _Target(channel, user, message_ts, thread_ts)
        return f"{self.http_root}{RESPONSE_URL_ROUTE}{key}"

    def posts_for(self, channel: str | None = None) -> list[ResponseUrlPost]:
        """POSTs the app made to response_urls, optionally only those for one channel."""
        with self.workspace.lock:
            return [post for post in self.posts if channel in (None, post.channel)]

    def receive(self, request: HttpRequest) -> HttpAnswer:
        """The route for response_urls; `request.path` is the url's key."""
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return HttpAnswer.text(400, "invalid_payload")
        with self.workspace.changed:
            target = self._targets.get(request.path)
            if target is None:
                return HttpAnswer.text(404, "expired_url")
            self.posts.append(ResponseUrlPost(target.channel, target.user, payload, time.monotonic()))
            self._apply(target, payload)
            self.workspace.changed.notify_all()
        return HttpAnswer.text(200, "ok")

    def _apply(self, target: _Target, payload: dict[str, Any]) -> None:
        """Delete or replace the clicked message, post in the channel, or answer the user ephemerally."""
        workspace = self.workspace
        original = workspace.history.get((target.channel, target.message_ts or ""))
        text, blocks = payload.get("text", ""), payload.get("blocks", [])
        if payload.get("delete_original") and original:
            original.deleted = True
        elif payload.get("replace_original") and original:
            original.replace_content(text, blocks, workspace.clock.next_ts())
        elif payload.get("response_type") == "in_channel":
            workspace.post(target.channel, text, blocks, payload.get("thread_ts") or target.thread_ts)
        else:
            workspace.post_ephemeral(target.channel, target.user, text, blocks, target.thread_ts)
