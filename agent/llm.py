"""The one place that talks to Anthropic's Messages API: streaming, retries, caching marks, usage."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

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
# A cut stream is asked for again after 0.5 s, then 1 s, 2 s ... (at most 8 s).
STREAM_RETRY_BASE_SECONDS = 0.5
STREAM_RETRY_MAX_SECONDS = 8.0
# Error events the API sends inside a stream that already began, which a new request usually gets past.
_TRANSIENT_STREAM_ERRORS = frozenset({"overloaded_error", "api_error"})


@dataclass
class _AttemptProgress:
    """How far one model call got: whether its response began, and whether any text went to the caller."""

    response_started: bool = False
    text_sent: bool = False


def transport_errors() -> tuple[type[Exception], ...]:
    """The HTTP library's connection faults (a cut stream raises RemoteProtocolError): not anthropic.APIError."""
    import httpx2

    found: list[type[Exception]] = [httpx2.TransportError]
    try:  # Older SDKs, and http_client objects from the original httpx.
        import httpx
    except ImportError:
        pass
    else:
        found.append(httpx.TransportError)
    return tuple(found)


def is_transient_stream_fault(exc: BaseException) -> bool:
    """Whether a fault that ended a stream mid-way is worth one more request."""
    import anthropic

    if isinstance(exc, (*transport_errors(), anthropic.APIConnectionError)):
        return True
    if isinstance(exc, anthropic.APIStatusError):
        body: Any = exc.body if isinstance(exc.body, dict) else {}
        error: Any = body.get("error")
        error_type = error.get("type") if isinstance(error, dict) else None
        return exc.status_code >= 500 or error_type in _TRANSIENT_STREAM_ERRORS
    return False


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
        self._stream_message_class: object = None
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
                self._stream_message_class = _stream_message_class()
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
        on_retry: Callable[[], None] | None = None,
    ) -> ModelReply:
        """One assistant message; streamed (on_text gets each delta) or, with stream=False, in one response.

        A stream cut mid-way (a dropped connection, an overloaded error event) is asked for again from scratch,
        up to llm_max_retries times; `on_retry` is called first when text of the cut attempt was already
        passed to `on_text`, so the caller can drop it. Nothing else has happened in between: a step is one
        model call, and tools run only after it ends.
        """
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
        attempts = self._settings.llm_max_retries + 1
        for attempt in range(1, attempts + 1):
            progress = _AttemptProgress()
            try:
                final = self._call(client, request, on_text, cancel, stream, progress)
            except Exception as exc:
                if not isinstance(exc, (anthropic.APIError, *transport_errors())):
                    raise
                if not (progress.response_started and is_transient_stream_fault(exc)):
                    # Before the response began the SDK has already retried what can be retried.
                    if isinstance(exc, anthropic.APIError):
                        raise self._explain(exc) from exc
                    raise
                if attempt == attempts:
                    log.warning("model stream cut %d times: %s", attempts, exc.__class__.__name__)
                    raise LLMError(user_messages.LLM_STREAM_CUT.format(attempts=attempts)) from exc
                log.warning(
                    "model stream cut (%s); asking again (%d of %d)",
                    exc.__class__.__name__,
                    attempt,
                    attempts,
                )
                if progress.text_sent and on_retry is not None:
                    on_retry()
                self._wait_before_retry(attempt, cancel)
                continue
            return ModelReply(
                content=[block.model_dump(mode="json", exclude_none=True) for block in final.content],
                stop_reason=final.stop_reason,
                usage=self._usage(final.usage),
            )
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _call(
        self,
        client: anthropic.Anthropic,
        request: dict[str, Any],
        on_text: Callable[[str], None],
        cancel: threading.Event | None,
        stream: bool,
        progress: _AttemptProgress,
    ) -> anthropic.types.Message:
        if not stream:
            final: anthropic.types.Message = client.messages.create(**request)
            for block in final.content:
                if block.type == "text":
                    on_text(block.text)
            return final
        with client.messages.stream(**request) as events:
            progress.response_started = True
            for event in events:
                if cancel is not None and cancel.is_set():
                    raise TurnCancelled(user_messages.TURN_CANCELLED)
                if event.type == "text":
                    progress.text_sent = True
                    on_text(event.text)
            return events.get_final_message()

    @staticmethod
    def _wait_before_retry(attempt: int, cancel: threading.Event | None) -> None:
        delay = min(STREAM_RETRY_MAX_SECONDS, STREAM_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
        if cancel is not None and cancel.wait(delay):
            raise TurnCancelled(user_messages.TURN_CANCELLED)
        if cancel is None:
            time.sleep(delay)

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
            model_calls=1,
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


def _stream_message_class() -> object:
    """The class the SDK's stream helper names on every streamed call, `ParsedMessage[ResponseFormatT]`.

    pydantic keeps a parametrised generic class only while something refers to it: held by the client, each call
    finds it built rather than building it again (0.2 ms of CPU per model call, and garbage for the collector).
    """
    try:
        from anthropic.lib._parse._response import ResponseFormatT
        from anthropic.types.parsed_message import ParsedMessage
    except ImportError:  # Moved in another SDK version: each call builds it again, as it did.
        return None
    return cast(Any, ParsedMessage)[ResponseFormatT]


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
