"""Reading the policy file: validated with errors that name the entry and field, reloaded when it changes."""

from __future__ import annotations

import logging
import re
import string
import threading
from pathlib import Path

import sqlglot
from pydantic import ValidationError
from sqlglot.errors import ParseError, TokenError

from tools.errors import ConfigError
from tools.policy.principal import Principal
from tools.policy.rules import PolicyFile
from tools.yaml_text import YamlTextError, load_yaml

log = logging.getLogger(__name__)
_ATTRIBUTES = frozenset(Principal("terminal").attributes())


def parse_policy(text: str, origin: str) -> PolicyFile:
    """The policy in `text`; ConfigError naming the rule and field when something is wrong."""
    try:
        raw = load_yaml(text) or {}
    except YamlTextError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: the policy must be a mapping with a `rules:` list")
    try:
        policy = PolicyFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_where(raw, error["loc"]) + error["msg"] for error in exc.errors())
        raise ConfigError(f"{origin}: {problems}") from None
    for number, rule in enumerate(policy.rules):
        for model, predicate in rule.row_filters.items():
            problem = _predicate_problem(predicate)
            if problem:
                raise ConfigError(f"{origin}: rules[{number}] ({rule.name}): row_filters.{model}: {problem}")
    names = [rule.name for rule in policy.rules]
    if duplicates := sorted({name for name in names if names.count(name) > 1}):
        raise ConfigError(f"{origin}: two rules are named {duplicates[0]!r}: rule names must be unique")
    return policy


def _where(raw: dict[str, object], location: tuple[int | str, ...]) -> str:
    """`rules[2] (finance): allow: ` for an error at ('rules', 2, 'allow')."""
    parts: list[str] = []
    rules = raw.get("rules")
    for position, part in enumerate(location):
        if isinstance(part, int) and location[position - 1 : position] == ("rules",):
            entry = rules[part] if isinstance(rules, list) and part < len(rules) else None
            name = entry.get("name") if isinstance(entry, dict) else None
            parts[-1] = f"rules[{part}]" + (f" ({name})" if name else "")
        elif isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]"
        else:
            parts.append(str(part))
    return (": ".join(parts) + ": ") if parts else ""


def _predicate_problem(predicate: str) -> str | None:
    fields = {name for _, name, _, _ in string.Formatter().parse(predicate) if name is not None}
    if unknown := sorted(fields - _ATTRIBUTES):
        return f"unknown attribute {{{unknown[0]}}}; use one of {', '.join(sorted(_ATTRIBUTES))}"
    try:
        sqlglot.parse_one(re.sub(r"\{\w+\}", "'x'", predicate), into=sqlglot.exp.Condition)
    except (ParseError, TokenError) as exc:
        return f"not a SQL condition: {str(exc).splitlines()[0]}"
    return None


class PolicySource:
    """The policy file, read again when it changes; a broken edit keeps the last good version (and is logged)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._policy = self._read()  # A broken file at start is an error: nothing good to fall back to.
        self.last_error: str | None = None

    def current(self) -> PolicyFile:
        """The policy as the file says now, or the last good one while the file is broken."""
        with self._lock:
            try:
                stamp = _stamp(self.path)
            except OSError as exc:
                self._report(f"{self.path}: cannot read the policy file: {exc}")
                return self._policy
            if stamp != self._stamp:
                try:
                    self._policy = self._read()
                    self.last_error = None
                except ConfigError as exc:
                    self._stamp = stamp  # Report a broken version once, not on every question.
                    self._report(exc.message)
            return self._policy

    def _read(self) -> PolicyFile:
        try:
            stamp = _stamp(self.path)
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Cannot read the policy file {self.path}: {exc}") from None
        policy = parse_policy(text, str(self.path))
        self._stamp = stamp
        return policy

    def _report(self, message: str) -> None:
        self.last_error = message
        log.error("policy file not reloaded, keeping the last good version: %s", message)


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_mtime_ns, status.st_size
