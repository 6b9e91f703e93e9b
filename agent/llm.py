"""The one place that talks to Anthropic's Messages API: streaming, retries, caching marks, usage."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent import user_messages
from agent.errors import LLMError, MissingApiKeyError, TurnCancelled
from agent.pricing import estimate_cost_usd
from agent.settings import Settings
from agent.tool_calls import ToolCall
from agent.usage import Usage

if TYPE_CHECKING:
    import anthropic

log = logging.getLogger(__name__)

_EPHEMERAL = {"type": "ephemeral"}


@dataclass(frozen=True)
class ModelReply:
    """One assistant message: its content blocks as plain dicts (replayable as sent), why it stopped, usage."""

    content: list[dict[str, Any]]
    stop_reason: str | None
    usage: Usage

    def text(self) -> str:
        return "".join(block["text"] for block in self.content if block.get("type") == "text")

    def tool_calls(self) -> list[ToolCall]:
        """The tools the model asked to run, in its order."""
        return [ToolCall.from_block(block) for block in self.content if block.get("type") == "tool_use"]


class ModelClient:
    """Calls Claude with streaming; the SDK retries 429, 529 and 5xx, we turn what is left into LLMError."""

    def __init__(self, settings: Settings, *, http_client: Any | None = None) -> None:
        # http_client: an httpx2.Client, for benchmarks that answer in-process instead of over a socket.
        self._settings = settings
        self._http_client = http_client
        self._client: anthropic.Anthropic | None = None
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return self._settings.anthropic_api_key is not None

    def _sdk(self) -> anthropic.Anthropic:
        # Imported on first use: the SDK takes about a second to import, which every CLI command would pay.
        import anthropic

        if self._settings.anthropic_api_key is None:
            raise MissingApiKeyError(user_messages.MISSING_API_KEY)
        with self._lock:
            if self._client is None:
                self._client = anthropic.Anthropic(
                    api_key=self._settings.anthropic_api_key.get_secret_value(),
                    base_url=self._settings.anthropic_base_url,
                    max_retries=self._settings.llm_max_retries,
                    timeout=self._settings.llm_timeout_seconds,
                    http_client=self._http_client,
                )
            return self._client

    def stream_reply(
        self,
        *,
        system: str,
        tools: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        on_text: Callable[[str], None],
        cancel: threading.Event | None = None,
        allow_tools: bool = True,
        stream: bool = True,
    ) -> ModelReply:
        """One assistant message; streamed (on_text gets each delta) or, with stream=False, in one response."""
        import anthropic

        client = self._sdk()
        request: dict[str, Any] = {
            "model": self._settings.model,
            "max_tokens": self._settings.max_output_tokens,
            "system": [{"type": "text", "text": system, "cache_control": _EPHEMERAL}],
            "messages": with_cache_breakpoint(messages),
        }
        if tools:
            request["tools"] = with_cache_breakpoint_on_last(tools)
            if not allow_tools:
                request["tool_choice"] = {"type": "none"}
        try:
            if stream:
                with client.messages.stream(**request) as events:
                    for event in events:
                        if cancel is not None and cancel.is_set():
                            raise TurnCancelled(user_messages.TURN_CANCELLED)
                        if event.type == "text":
                            on_text(event.text)
                    final = events.get_final_message()
            else:
                final = client.messages.create(**request)
                for block in final.content:
                    if block.type == "text":
                        on_text(block.text)
        except anthropic.APIError as exc:
            raise self._explain(exc) from exc
        return ModelReply(
            content=[block.model_dump(mode="json", exclude_none=True) for block in final.content],
            stop_reason=final.stop_reason,
            usage=self._usage(final.usage),
        )

    def _usage(self, usage: anthropic.types.Usage) -> Usage:
        cache_write = usage.cache_creation_input_tokens or 0
        cache_read = usage.cache_read_input_tokens or 0
        return Usage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_input_tokens=cache_write,
            cache_read_input_tokens=cache_read,
            cost_usd=estimate_cost_usd(
                self._settings.model,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_creation_tokens=cache_write,
                cache_read_tokens=cache_read,
            ),
        )

    def _explain(self, exc: anthropic.APIError) -> LLMError:
        import anthropic

        attempts = self._settings.llm_max_retries + 1
        model = self._settings.model
        log.warning("model API error: %s", exc.__class__.__name__, exc_info=exc)
        if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
            return LLMError(user_messages.LLM_AUTH.format(model=model))
        if isinstance(exc, anthropic.NotFoundError):
            return LLMError(user_messages.LLM_NOT_FOUND.format(model=model))
        if isinstance(exc, anthropic.RateLimitError):
            return LLMError(user_messages.LLM_RATE_LIMITED.format(attempts=attempts))
        if isinstance(exc, anthropic.APIConnectionError):
            url = self._settings.anthropic_base_url or "https://api.anthropic.com"
            return LLMError(user_messages.LLM_UNREACHABLE.format(url=url))
        if isinstance(exc, anthropic.APIStatusError):
            if exc.status_code == 529 or "overloaded" in str(exc.message).lower():
                return LLMError(user_messages.LLM_OVERLOADED.format(attempts=attempts))
            if exc.status_code >= 500:
                return LLMError(user_messages.LLM_SERVER.format(status=exc.status_code, attempts=attempts))
            return LLMError(user_messages.LLM_REFUSED.format(detail=_short(exc.message)))
        return LLMError(user_messages.LLM_REFUSED.format(detail=_short(str(exc))))


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def with_cache_breakpoint_on_last(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of `items` whose last element carries cache_control, so everything up to it is cached."""
    if not items:
        return items
    marked = [dict(item) for item in items]
    marked[-1]["cache_control"] = _EPHEMERAL
    return marked


def with_cache_breakpoint(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark the last block of the conversation so the next turn reads all of it from the cache."""
    if not messages:
        return messages
    marked = [dict(message) for message in messages]
    last = marked[-1]
    content = last["content"]
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    last["content"] = with_cache_breakpoint_on_last(list(content))
    return marked
