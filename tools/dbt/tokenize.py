"""Words from names and prose: snake_case and camelCase split, plurals folded, filler words dropped."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from tools.dbt.stop_words import COMMON_ENGLISH

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+")
# Search's additions: quantity and position words that name no table ("most", "between", "during").
STOP_WORDS = COMMON_ENGLISH | frozenset(
    ["many", "much", "most", "more", "any", "some", "over", "under", "into", "between", "during", "about", "across"]
)  # fmt: skip


# Irregular verb forms a question uses where names use the verb (writes, buy and sell types, paid_at).
IRREGULAR_VERBS = {
    "written": "write", "wrote": "write", "bought": "buy", "sold": "sell", "paid": "pay", "made": "make",
    "taught": "teach", "taken": "take", "took": "take", "spent": "spend", "sent": "send", "won": "win",
    "lost": "lose", "held": "hold", "flown": "fly", "flew": "fly", "driven": "drive", "drove": "drive",
    "led": "lead", "built": "build", "chosen": "choose", "ate": "eat", "eaten": "eat", "seen": "see",
    "saw": "see", "ran": "run", "began": "begin", "begun": "begin", "left": "leave", "met": "meet",
}  # fmt: skip


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light plural fold: categories -> category, boxes -> box, orders -> order; short words untouched; an
    irregular verb form to its verb (written -> write, as writes -> write)."""
    if word in IRREGULAR_VERBS:
        return IRREGULAR_VERBS[word]
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


# Abbreviations common in column and table names, read as the word they stand for as well.
ABBREVIATIONS = {
    "tx": "transaction", "txn": "transaction", "cust": "customer", "qty": "quantity", "amt": "amount",
    "acct": "account", "addr": "address", "prod": "product", "dept": "department", "emp": "employee",
    "desc": "description", "num": "number", "cnt": "count", "pct": "percent", "dt": "date", "ts": "timestamp",
    "org": "organization", "pub": "publication", "cat": "category", "inv": "invoice", "mgr": "manager",
}  # fmt: skip


def _words(text: str) -> list[str]:
    spaced = _CAMEL.sub(" ", text) if not text.islower() else text
    return _WORD.findall(spaced.lower())


def tokens(text: str) -> list[str]:
    """Stemmed words of `text`, stop words removed, in order (repeats kept for term frequency)."""
    return [stem(word) for word in _words(text) if word not in STOP_WORDS]


# Words a question uses to say how to aggregate or present, not what about: "average" must not pull a column
# named Average, nor "total" every total_* column. Dropped from questions only; names and prose keep them.
QUESTION_FILLER = frozenset(
    ["average", "avg", "total", "sum", "number", "count", "top", "highest", "lowest", "least", "maximum",
    "minimum", "max", "min", "return", "distinct", "whose", "those", "only", "also", "both", "not", "along",
    "including", "respectively", "ordered", "sorted", "descending", "ascending", "rank", "ranked",
    "percentage", "percent", "ratio", "calculate", "compute", "display", "id"]
)  # fmt: skip


# Time windows ("in the past 30 days", "last month", "3 weeks ago") and dates filter rows; they name no table.
_TIME_WINDOW = re.compile(
    r"\b(?:(?:past|last|next|this|current|previous|prior|recent|first)\s+(?:\d+\s+)?"
    r"|\d+\s+)(?:day|week|month|quarter|year)s?(?:\s+ago)?\b|\binclusive of today\b|\btoday\b",
    re.IGNORECASE,
)


def question_tokens(text: str) -> list[str]:
    """The distinct stemmed words of a question that say what it is about, in order; numbers, dates, time
    windows and words about aggregation or presentation left out."""
    words = [
        word
        for word in _words(_TIME_WINDOW.sub(" ", text))
        # A lone letter is what is left of "what's" or "no." and says nothing.
        if word not in STOP_WORDS and word not in QUESTION_FILLER and not word.isdigit() and len(word) > 1
    ]
    return list(dict.fromkeys(stem(word) for word in words))


def raw_word_counts(text: str) -> Counter[str]:
    """How often each lower-case word (camelCase split) occurs in `text`, before stemming; with index_forms."""
    return Counter(_words(text))


@lru_cache(maxsize=262_144)
def index_forms(word: str) -> tuple[str, ...]:
    """The forms a raw word is indexed under: none for a stop word, its stem, and what an abbreviation means.
    Remembered per word: a large project repeats a few thousand words a million times."""
    if word in STOP_WORDS:
        return ()
    full = ABBREVIATIONS.get(word)
    return (stem(word),) if full is None else (stem(word), full)


@lru_cache(maxsize=65_536)
def value_forms(word: str) -> tuple[str, ...]:
    """The forms a raw word of a column value is indexed under: its stem only, since no abbreviation is read
    into data ("cat" is a pet, not a category); none for a stop word or a word with digits (ids, codes)."""
    if word in STOP_WORDS or any(character.isdigit() for character in word):
        return ()
    return (stem(word),)
