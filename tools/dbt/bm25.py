"""BM25F over documents made of weighted text fields, precomputed so a query costs a few array additions; and
the index's vocabulary, to reach words a question spells differently (compounds, abbreviations)."""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from math import log

import numpy as np

from tools.dbt.tokenize import token_counts

_K1 = 1.2
_B = 0.6
# A word reached through the vocabulary (cust for customer, highschooler for "high school") counts this much.
_VARIANT_WEIGHT = 0.6
_MIN_PREFIX = 4
_MIN_EXTENDED = 5


@lru_cache(maxsize=262_144)
def _token_counts(text: str) -> tuple[tuple[str, int], ...]:
    return tuple(token_counts(text).items())


class WeightedBm25:
    """BM25F over documents made of weighted text fields; a query's scores are a few array additions."""

    def __init__(
        self, documents: Sequence[Mapping[str, str | Sequence[str]]], weights: Mapping[str, float]
    ) -> None:
        """Each document maps a field to its text, or to several texts (column names, say: a large project
        repeats the same ones, and each distinct text is tokenized once)."""
        self.size = len(documents)
        weighted: list[dict[str, float]] = []
        lengths = np.zeros(self.size)
        for position, fields in enumerate(documents):
            counts: dict[str, float] = defaultdict(float)
            for field, texts in fields.items():
                weight = weights[field]
                for text in (texts,) if isinstance(texts, str) else texts:
                    for word, count in _token_counts(text):
                        counts[word] += weight * count
            weighted.append(counts)
            lengths[position] = sum(counts.values())
        average = float(lengths.mean()) if len(lengths) else 1.0
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for position, counts in enumerate(weighted):
            norm = _K1 * (1 - _B + _B * lengths[position] / (average or 1.0))
            for word, frequency in counts.items():
                postings[word].append((position, frequency * (_K1 + 1) / (frequency + norm)))
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for word, entries in postings.items():
            idf = log(1 + (self.size - len(entries) + 0.5) / (len(entries) + 0.5))
            ids = np.fromiter((e[0] for e in entries), dtype=np.int32, count=len(entries))
            scores = np.fromiter((e[1] * idf for e in entries), dtype=np.float64, count=len(entries))
            self._postings[word] = (ids, scores)
        self._vocabulary = sorted(self._postings)

    def idf(self, word: str) -> float:
        posting = self._postings.get(word)
        count = 0 if posting is None else len(posting[0])
        return log(1 + (self.size - count + 0.5) / (count + 0.5))

    def word_scores(self, words: Mapping[str, Mapping[str, float]]) -> dict[str, np.ndarray]:
        """Each question word's score in each document: its best-scoring form (the word itself or a variant
        with its weight); several variants of one word do not add up."""
        found: dict[str, np.ndarray] = {}
        for word, forms in words.items():
            best = np.zeros(self.size)
            for form, weight in forms.items():
                posting = self._postings.get(form)
                if posting is not None:
                    best[posting[0]] = np.maximum(best[posting[0]], posting[1] * weight)
            found[word] = best
        return found

    def scores(self, words: Mapping[str, Mapping[str, float]]) -> np.ndarray:
        """Each document's score: its word scores summed."""
        return sum(self.word_scores(words).values(), np.zeros(self.size))

    def documents_with(self, word: str) -> np.ndarray:
        posting = self._postings.get(word)
        return posting[0] if posting is not None else np.zeros(0, dtype=np.int32)

    def matches(self, word: str, position: int) -> bool:
        posting = self._postings.get(word)
        return posting is not None and bool(np.any(posting[0] == position))

    def expand(self, words: Sequence[str]) -> dict[str, dict[str, float]]:
        """Each question word (and each pair of adjacent ones written as one: high school -> highschool) with
        its forms in the index: itself with weight 1, and at a lower weight an index word that begins it (cust
        in customer) or that it begins (highschooler for highschool)."""
        expanded: dict[str, dict[str, float]] = {}
        for word in [*words, *(a + b for a, b in itertools.pairwise(words))]:
            forms = {variant: _VARIANT_WEIGHT for variant in self._variants(word)}
            forms[word] = 1.0
            expanded[word] = forms
        return expanded

    def _variants(self, word: str) -> list[str]:
        found = [word[:end] for end in range(_MIN_PREFIX, len(word)) if word[:end] in self._postings]
        if len(word) >= _MIN_EXTENDED:
            start = bisect_left(self._vocabulary, word)
            for candidate in self._vocabulary[start : start + 8]:
                if not candidate.startswith(word):
                    break
                found.append(candidate)
        return found
