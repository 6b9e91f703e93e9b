"""A glossary's entries as search and the prompt use them: matched by name and synonyms, shown compactly."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tools.dbt.tokenize import tokens

_MORE_LINE_CHARS = 100


@dataclass(frozen=True)
class GlossaryEntry:
    """One term or metric as search and the prompt use it."""

    kind: Literal["term", "metric"]
    name: str
    label: str
    synonyms: tuple[str, ...]
    definition: str
    models: tuple[str, ...]
    tables: tuple[str, ...] = ()
    sql: str | None = None
    expression: str | None = None
    dbt_metric: str | None = None
    location: str = ""

    def computation(self) -> str:
        """How a metric is computed, in one line; empty for a plain term."""
        if self.sql:
            return "SQL: " + " ".join(self.sql.split())
        if self.expression:
            return f"{self.expression} on {self.models[0]}" if self.models else self.expression
        if self.dbt_metric:
            return f"dbt metric {self.dbt_metric}"
        return ""

    def text(self) -> str:
        """Definition and computation in one line, as shown on a search hit."""
        parts = [" ".join(self.definition.split()), self.computation()]
        return " ".join(part if part.endswith(".") else part + "." for part in parts if part)

    def phrases(self) -> list[str]:
        return [self.name, self.label, *self.synonyms]


@dataclass(frozen=True)
class Glossary:
    """The entries of one glossary file, matched against questions by their names and synonyms."""

    path: Path | None = None
    entries: tuple[GlossaryEntry, ...] = ()
    _phrases: tuple[tuple[frozenset[str], GlossaryEntry], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        phrases = [
            (frozenset(words), entry)
            for entry in self.entries
            for phrase in dict.fromkeys(p.lower() for p in entry.phrases())
            if (words := tokens(phrase))
        ]
        object.__setattr__(self, "_phrases", tuple(phrases))

    def match(self, question: str) -> list[GlossaryEntry]:
        """Entries with a name or synonym whose every word is in the question (in any order)."""
        asked = set(tokens(question))
        found = [entry for words, entry in self._phrases if words <= asked]
        return list(dict.fromkeys(found))

    def find(self, name: str) -> GlossaryEntry | None:
        """An entry by its name or one of its synonyms, ignoring case."""
        lowered = name.strip().lower()
        return next((e for e in self.entries if lowered in (p.lower() for p in e.phrases())), None)

    def prompt_text(self, max_chars: int = 2_000) -> str:
        """A compact glossary for the system prompt, cut to `max_chars`; what is left out is named."""
        if not self.entries:
            return ""
        lines = ["Business glossary (the team's own definitions; follow them):"]
        used = len(lines[0])
        for position, entry in enumerate(self.entries):
            also = f" (also: {', '.join(entry.synonyms)})" if entry.synonyms else ""
            models = f" Models: {', '.join(entry.models)}." if entry.models and not entry.expression else ""
            line = f"- {entry.name}{also}: {_shorten(entry.text(), 170)}{models}"
            if used + len(line) + 1 > max_chars - _MORE_LINE_CHARS:
                rest = [e.name for e in self.entries[position:]]
                more = f"… and {len(rest)} more (search_models shows them): {', '.join(rest)}"
                lines.append(_shorten(more, _MORE_LINE_CHARS))
                break
            lines.append(line)
            used += len(line) + 1
        return "\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
