"""Slack's Web API over HTTP: tokens checked, scripted faults answered, methods dispatched, every call recorded."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.fakes.slack.argument_checks import SlackApiError
from tests.fakes.slack.faults import FaultScript
from tests.fakes.slack.http_server import HttpAnswer, HttpRequest
from tests.fakes.slack.records import ApiCall
from tests.fakes.slack.request_body import read_arguments
from tests.fakes.slack.workspace import Workspace

WebApiMethod = Callable[[dict[str, Any]], dict[str, Any]]
"""A method's implementation: its arguments in, the fields of its ok answer out; called with the lock held."""

_STREAM_METHODS = frozenset({"chat.startStream", "chat.appendStream", "chat.stopStream"})
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


class WebApi:
    """The route for /api/{method}; `streaming=False` plays a workspace without chat.*Stream."""

    def __init__(self, workspace: Workspace, methods: dict[str, WebApiMethod], *, streaming: bool) -> None:
        self.workspace = workspace
        self.methods = methods
        self.streaming = streaming
        self.faults = FaultScript()
        self.calls: list[ApiCall] = []

    def answer(self, request: HttpRequest) -> HttpAnswer:
        """Slack's answer to one call of the method named by the request's path."""
        method, at = request.path, time.monotonic()
        try:
            args = read_arguments(request.query, request.content_type, request.body)
        except ValueError:
            args = {}
            self._record(ApiCall(method, args, None, at, ok=False, error="invalid_json"))
            return HttpAnswer.json(200, {"ok": False, "error": "invalid_json"}, {})
        token = request.authorization.removeprefix("Bearer ").strip() or args.pop("token", None)
        args.pop("token", None)
        fault = self.faults.take(method)
        if fault is not None:
            self._record(
                ApiCall(
                    method, args, token, at, ok=False, error=fault.error, status=fault.status, injected=True
                )
            )
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return HttpAnswer.json(fault.status, {"ok": False, "error": fault.error}, headers)
        try:
            result = {"ok": True, **self._dispatch(method, args, token)}
        except SlackApiError as failure:
            result = {"ok": False, "error": failure.error, **failure.extra}
        self._record(ApiCall(method, args, token, at, ok=result["ok"], error=result.get("error")))
        return HttpAnswer.json(200, result, {})

    def calls_to(self, method: str) -> list[ApiCall]:
        """Every call of `method` so far, failed ones included."""
        with self.workspace.lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        """Block until `count` successful calls of `method` arrived; returns them."""

        def successful() -> list[ApiCall]:
            return [call for call in self.calls if call.method == method and call.ok]

        with self.workspace.changed:
            if self.workspace.changed.wait_for(lambda: len(successful()) >= count, timeout=timeout):
                return successful()
            seen = [f"{call.method} ok={call.ok} error={call.error}" for call in self.calls]
        raise AssertionError(f"waited {timeout}s for {count} successful {method} call(s); calls seen: {seen}")

    def _dispatch(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        implementation = self.methods.get(method)
        if implementation is None or (method in _STREAM_METHODS and not self.streaming):
            raise SlackApiError("unknown_method", req_method=method)
        app = self.workspace.app
        if not token:
            raise SlackApiError("not_authed")
        if token not in (app.bot_token, app.app_token):
            raise SlackApiError("invalid_auth")
        wanted = app.app_token if method in _APP_TOKEN_METHODS else app.bot_token
        if token != wanted and method != "auth.test":
            raise SlackApiError("not_allowed_token_type")
        with self.workspace.lock:
            return implementation(args)

    def _record(self, call: ApiCall) -> None:
        with self.workspace.changed:
            self.calls.append(call)
            self.workspace.changed.notify_all()
