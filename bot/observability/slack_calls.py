"""slack_sdk retry handlers that count Slack Web API retries and 429 answers into the bot's metrics."""

from __future__ import annotations

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.observability.metrics import BotMetrics, bot_metrics


def api_method(request: HttpRequest) -> str:
    """`chat.postMessage` from `https://slack.com/api/chat.postMessage?...`."""
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "unknown"


class RateLimitObserver(RetryHandler):
    """Put first in the client's list: sees every answer, counts the 429s, and never retries itself."""

    def __init__(self, metrics: BotMetrics | None = None) -> None:
        super().__init__(max_retry_count=0)
        self._metrics = metrics or bot_metrics()

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self._metrics.slack_rate_limited.labels(api_method(request)).inc()
        return False


class CountedRetries(RetryHandler):
    """Wraps one of slack_sdk's retry handlers: it decides and waits as before; each retry is counted."""

    def __init__(self, inner: RetryHandler, reason: str, metrics: BotMetrics | None = None) -> None:
        super().__init__(max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator)
        self._inner = inner
        self._reason = reason
        self._metrics = metrics or bot_metrics()

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return self._inner.can_retry(state=state, request=request, response=response, error=error)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        self._metrics.slack_retries.labels(api_method(request), self._reason).inc()
        self._inner.prepare_for_next_attempt(state=state, request=request, response=response, error=error)
