"""The closest known names to a wrong one: case-insensitive spelling, the same words in another form (plurals,
order, separators), words that mean the same, and descriptions that use the wrong name's words."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_SPLIT = re.compile(r"[^0-9a-zA-Z]+|(?<=[a-z0-9])(?=[A-Z])")
# Words people swap for one another in column and table names.
_SYNONYM_GROUPS = (
    {"first", "given", "fore", "forename"},
    {"last", "family", "surname", "sur"},
    {"middle", "second"},
    {"amount", "amt", "value", "sum"},
    {"quantity", "qty", "count", "cnt", "num", "number"},
    {"date", "day", "dt", "time", "timestamp", "ts", "at", "on"},
    {"created", "creation", "create", "signup", "joined", "join", "registered"},
    {"updated", "modified", "changed"},
    {"price", "cost", "fee", "charge"},
    {"revenue", "sales", "income", "turnover"},
    {"customer", "client", "cust", "buyer"},
    {"user", "member", "account", "usr"},
    {"employee", "staff", "emp", "worker", "salesperson"},
    {"product", "item", "sku", "article"},
    {"category", "type", "kind", "class", "group"},
    {"name", "title", "label"},
    {"id", "key", "code", "identifier", "no", "nbr"},
    {"description", "desc", "details", "text", "comment"},
    {"address", "addr", "street", "location"},
    {"city", "town"},
    {"country", "nation"},
    {"state", "region", "province"},
    {"zip", "postal", "postcode", "zipcode"},
    {"phone", "telephone", "mobile", "tel"},
    {"email", "mail"},
    {"rating", "score", "stars", "rank"},
    {"year", "yr"},
    {"month", "mon"},
    {"start", "begin", "from"},
    {"end", "finish", "until", "to"},
    {"total", "sum", "overall"},
    {"status", "state"},
    {"percent", "pct", "percentage", "rate"},
    {"transaction", "tx", "txn", "trade"},
)
_SYNONYMS: dict[str, frozenset[str]] = {}
for _group in _SYNONYM_GROUPS:
    for _word in _group:
        _SYNONYMS[_word] = _SYNONYMS.get(_word, frozenset()) | frozenset(_group)


@dataclass(frozen=True)
class Candidate:
    """A known name that may be meant, with how close it is (0..1) and where it lives."""

    name: str
    closeness: float
    where: str = ""


def _fold(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def name_words(name: str) -> list[str]:
    return [_fold(word.lower()) for word in _SPLIT.split(name) if word]


def _synonymous(left: str, right: str) -> bool:
    return left == right or right in _SYNONYMS.get(left, frozenset())


def closeness(wrong: str, known: str, description: str = "") -> float:
    """How likely `known` is what `wrong` meant, 0..1: the best of spelling, word forms, synonyms, description."""
    lowered, target = wrong.lower(), known.lower()
    if lowered == target:
        return 1.0
    spelling = difflib.SequenceMatcher(None, lowered, target).ratio()
    wrong_words, known_words = name_words(wrong), name_words(known)
    if wrong_words and wrong_words == known_words:
        return 0.99
    if "".join(wrong_words) == "".join(known_words) or sorted(wrong_words) == sorted(known_words):
        return 0.97
    synonym = 0.0
    if wrong_words and len(wrong_words) == len(known_words):
        pairs = list(zip(wrong_words, known_words, strict=True))
        if all(_synonymous(a, b) for a, b in pairs):
            synonym = 0.95 - 0.02 * sum(a != b for a, b in pairs)
    described = 0.0
    if description and wrong_words:
        text = set(name_words(description))
        shared = sum(word in text for word in wrong_words) / len(wrong_words)
        described = 0.9 * shared if shared == 1.0 else 0.0
    return max(spelling, synonym, described)


def closest(
    wrong: str,
    known: Sequence[str],
    *,
    descriptions: Mapping[str, str] | None = None,
    nearby: frozenset[str] = frozenset(),
    limit: int = 3,
    cutoff: float = 0.5,
) -> list[Candidate]:
    """The `limit` known names closest to `wrong`, best first; names `nearby` (same part of the project as the
    query's other tables) win ties and close calls."""
    scored = []
    for name in dict.fromkeys(known):
        score = closeness(wrong, name, (descriptions or {}).get(name, ""))
        if name in nearby:
            score += 0.05
        if score >= cutoff:
            scored.append(Candidate(name, round(score, 3)))
    scored.sort(key=lambda candidate: (-candidate.closeness, candidate.name))
    return scored[:limit]
