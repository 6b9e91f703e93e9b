"""Secrets never shown: one redaction step that every way out (logs, errors, Slack, terminal, --json, the store)
applies to its text.

Two kinds of masking: by form (a password in any URL or connection-string shape, a key in service-account JSON,
a PEM private key), and by value (each secret the settings hold, wherever it appears, also URL- or
JSON-encoded). The values are registered once per process by `install_redaction(settings)`: secrets are
process-wide, and a log record or an error message has no settings at hand.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

from agent.settings import Settings

MASK = "***"
# Shorter values are too likely to be ordinary words or numbers: masking them would garble answers.
_MIN_SECRET_LENGTH = 6

# Names whose value is a secret in a connection string or a JSON document. Not a bare `key`: that is also a
# common column name, and SQL shown to people must stay readable.
_SECRET_NAMES = (
    r"(?:ssl)?password|passwd|pwd|passphrase|sslkey|"
    r"(?:access_|refresh_|id_|auth_|api_|bot_|app_|session_)?token|"
    r"(?:client_|signing_|shared_|app_)?secret|"
    r"(?:api_?|access_|private_|secret_|account_)key|private_key_id|credentials(?:_[a-z0-9]+)?"
)
# In a URL's query string every one of those, and also `key`, `pass` and `token`-like short names.
_QUERY_SECRET_NAMES = rf"{_SECRET_NAMES}|key|pass|sig|signature"
# scheme://user:password@host: everything between the user's colon and the last @ before the path.
_URL_USERINFO = re.compile(r"(?P<keep>://[^\s/:@]*:)(?P<secret>[^\s/]+?)(?=@[^\s@]*(?:[/\s?#]|$))")
# ?password=... or &key=... in a URL, also with a prefix (X-Amz-Signature, X-Goog-Credential, db_password).
_QUERY_PARAMETER = re.compile(
    rf"(?P<keep>[?&](?:[a-z0-9_.\-]*[-_.])?(?:{_QUERY_SECRET_NAMES}|credential)=)(?P<secret>[^\s&#'\"<>]+)",
    re.I,
)
# password=... in a libpq or ODBC connection string, or said in a message: no spaces around the `=`. Found from
# each "=" (a fast literal search), looking back at the word before it: a regular expression tried at every
# position costs 50 times more on a long tool result.
# Also an environment variable's name ending in one (PGPASSWORD=, SLACK_BOT_TOKEN=) and a --flag: the last
# word before the "=" is matched whole, so the cost does not grow with the name's length.
_WORD_BEFORE = re.compile(r"[a-z0-9_]+$", re.I)
_SECRET_NAME = re.compile(rf"[a-z0-9_]*?(?:{_SECRET_NAMES})", re.I)
_SECRET_NAME_PARTS = ("pass", "pwd", "key", "token", "secret", "credential")
_SEPARATORS = ";\t\n ,(-"
_ASSIGNED_VALUE = re.compile(r"'[^']*'|\"[^\"]*\"|[^\s&;,)'\"]+")
_LONGEST_NAME = 48
# "private_key": "...", "password": "..." in JSON (also with escaped quotes inside a JSON string), and
# 'password': '...' in a Python dict's repr, as an exception message may print one.
_JSON_FIELD = re.compile(
    rf"(?P<keep>(?P<quote>\\?[\"'])(?:{_SECRET_NAMES})(?P=quote)\s*:\s*(?P=quote))"
    rf"(?P<secret>(?:(?!(?P=quote)).)*)",
    re.I,
)
# The kinds of credential this product holds, recognisable by their shape wherever they appear, configured here
# or not: Slack tokens, Anthropic keys, and a bearer token in an Authorization header. Looked for only when
# their prefix is in the text: the pattern tried at every position costs several times the rest of redact().
_TOKEN_SHAPE = re.compile(
    r"(?P<keep>Bearer )[A-Za-z0-9._~+/=\-]{12,}|(?:xox[abeoprs]-|xapp-|sk-ant-)[A-Za-z0-9_\-]{10,}"
)
_TOKEN_HINTS = ("xox", "xapp-", "sk-ant-", "Bearer ")
_PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)

_lock = threading.Lock()
_known_values: set[str] = set()
_value_pattern: re.Pattern[str] | None = None

T = TypeVar("T")


def register_secret(value: str | None) -> None:
    """Mask `value` (and its URL- and JSON-encoded forms) wherever it appears from now on."""
    global _value_pattern
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    with _lock:
        if forms <= _known_values:
            return
        _known_values.update(form for form in forms if len(form) >= _MIN_SECRET_LENGTH)
        alternatives = sorted(_known_values, key=len, reverse=True)
        _value_pattern = re.compile("|".join(re.escape(form) for form in alternatives))


def register_settings_secrets(settings: Settings) -> None:
    """Register every secret the settings hold: API key, Slack tokens and signing secret, URL passwords."""
    for secret in (
        settings.anthropic_api_key,
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
    ):
        if secret is not None:
            register_secret(secret.get_secret_value())
    urls = [settings.database_url]
    if settings.warehouse_url is not None:
        urls.append(settings.warehouse_url.get_secret_value())
    for url in urls:
        for secret_value in url_secrets(url):
            register_secret(secret_value)


def url_secrets(url: str | None) -> list[str]:
    """The password and secret query parameters of a URL (decoded), e.g. for registering them by value."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        found = [unquote(parts.password)] if parts.password else []
        query = parse_qsl(parts.query, keep_blank_values=False)
    except ValueError:
        return []
    names = re.compile(rf"^(?:{_QUERY_SECRET_NAMES})$", re.I)
    found += [value for name, value in query if names.match(name)]
    return found


def redact(text: str) -> str:
    """`text` with every secret masked; cheap when there is nothing to mask."""
    if not text:
        return text
    pattern = _value_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    if "://" in text:
        text = _URL_USERINFO.sub(lambda match: match.group("keep") + MASK, text)
    if "=" in text:
        text = _QUERY_PARAMETER.sub(_keep_and_mask, text)
        text = _mask_assignments(text)
    if '"' in text or "'" in text:
        text = _JSON_FIELD.sub(_keep_and_mask, text)
    if "PRIVATE KEY" in text:
        text = _PEM_KEY.sub(MASK, text)
    if any(hint in text for hint in _TOKEN_HINTS):
        text = _TOKEN_SHAPE.sub(lambda match: (match.group("keep") or "") + MASK, text)
    return text


def redact_value(value: T) -> T:
    """Strings anywhere inside lists, tuples and dicts (keys too) redacted; other values unchanged."""
    return map_strings(value, redact)


def map_strings(value: T, change: Callable[[str], str]) -> T:
    """`value` with `change` applied to every string inside lists, tuples and dicts (keys too)."""
    return _map_any(value, change)  # type: ignore[no-any-return]


def _map_any(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {_map_any(key, change): _map_any(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_any(item, change) for item in value]
    if isinstance(value, tuple):
        return tuple(_map_any(item, change) for item in value)
    return value


def _mask_assignments(text: str) -> str:
    """`name=value` with a secret's name: the value masked."""
    parts: list[str] = []
    done = 0
    position = text.find("=")
    while position != -1:
        before = text[max(done, position - _LONGEST_NAME - 1) : position]
        value = _ASSIGNED_VALUE.match(text, position + 1)
        if (
            value is not None
            and value.group(0) not in (MASK, f"'{MASK}'")
            and _SECRET_NAME.fullmatch(_last_word(before))
        ):
            parts += [text[done : position + 1], MASK]
            done = value.end()
        position = text.find("=", max(position + 1, done))
    return "".join(parts) + text[done:] if parts else text


def _last_word(text: str) -> str:
    """The name `text` ends with, when a separator (; space , ( -) or the start comes before it; else ""."""
    lowered = text.lower()
    if not any(part in lowered for part in _SECRET_NAME_PARTS):  # Most "=" are nowhere near a secret's name.
        return ""
    found = _WORD_BEFORE.search(text)
    if found is None or (found.start() > 0 and text[found.start() - 1] not in _SEPARATORS):
        return ""
    word = found.group(0)
    lowered = word.lower()
    return word if any(part in lowered for part in _SECRET_NAME_PARTS) else ""


def _keep_and_mask(match: re.Match[str]) -> str:
    secret = match.group("secret")
    if secret in ("", MASK, f"'{MASK}'", f'"{MASK}"'):
        return match.group(0)
    return match.group("keep") + MASK


class RedactingFilter(logging.Filter):
    """Masks secrets in a log record's message, its exception and its stack before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_blueprintdata_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # A bad format string still reaches the log, as logging itself would show it.
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._blueprintdata_redacted = True
        return True


_FILTER = RedactingFilter()


def install_redaction(settings: Settings | None = None, handlers: Iterable[logging.Handler] = ()) -> None:
    """Register the settings' secrets and mask every log record: on the root logger's handlers, on `handlers`,
    and at record creation (so that handlers added later, or on other loggers, see masked records too)."""
    if settings is not None:
        register_settings_secrets(settings)
    for handler in [*logging.getLogger().handlers, *handlers]:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "_blueprintdata_redacting", False):

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            _FILTER.filter(record)
            return record

        redacting_factory._blueprintdata_redacting = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(redacting_factory)
