"""The Slack Web API client, with retries for rate limits, server errors and dropped connections."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from agent.settings import Settings
from bot.observability.slack_calls import CountedRetries, RateLimitObserver
from tools.errors import ConfigError


def build_web_client(settings: Settings) -> WebClient:
    """A WebClient that waits out 429 Retry-After and retries 5xx, so no reply is lost to a transient fault."""
    if settings.slack_bot_token is None:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your Slack app."
        )
    base_url = (
        settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    )
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=base_url,
        timeout=30,
        retry_handlers=[
            RateLimitObserver(),  # Counts every 429 first; it never retries itself.
            CountedRetries(RateLimitErrorRetryHandler(max_retry_count=5), "rate_limited"),
            CountedRetries(ServerErrorRetryHandler(max_retry_count=3), "server_error"),
            CountedRetries(ConnectionErrorRetryHandler(max_retry_count=3), "connection_error"),
        ],
    )


def slack_refusal(exc: SlackApiError) -> str:
    """One line for a Slack API refusal at start-up, naming the setting to fix."""
    error = str(exc.response.get("error") or exc)
    if error in {"invalid_auth", "not_authed", "account_inactive", "token_revoked"}:
        return f"Slack refused SLACK_BOT_TOKEN ({error}): copy the current Bot User OAuth Token (xoxb-...)."
    return (
        f"Slack refused the request ({error}); check SLACK_BOT_TOKEN, SLACK_APP_TOKEN and the app's scopes."
    )
