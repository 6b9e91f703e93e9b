"""BM25F over documents made of weighted text fields, precomputed so a query costs a few array additions; and
the index's vocabulary, to reach words a question spells differently (compounds, abbreviations)."""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from math import log

import numpy as np

from tools.dbt.tokenize import index_forms, raw_word_counts

_K1 = 1.2
_B = 0.6
# A word reached through the vocabulary (cust for customer, highschooler for "high school") counts this much.
_VARIANT_WEIGHT = 0.6
_MIN_PREFIX = 4
_MIN_EXTENDED = 5


class WeightedBm25:
    """BM25F over documents made of weighted text fields; a query's scores are a few array additions."""

    def __init__(
        self,
        documents: Sequence[Mapping[str, str | Sequence[str]]],
        weights: Mapping[str, float],
        length_norm: float = _B,
        forms: Callable[[str], tuple[str, ...]] = index_forms,
    ) -> None:
        """Each document maps a field to its text, or to several texts (column names, say); `length_norm` is
        BM25's b: how much a long document's matches are discounted; `forms` what a raw word is indexed as."""
        self.size = len(documents)
        # Every (document, word) pair in flat lists, so the BM25 arithmetic is done on whole arrays at once.
        vocabulary: dict[str, int] = {}
        word_ids: list[int] = []
        frequencies: list[float] = []
        words_per_document = np.zeros(self.size, dtype=np.int64)
        lengths = np.zeros(self.size)
        for position, fields in enumerate(documents):
            counts: dict[str, float] = {}
            for field, texts in fields.items():
                weight = weights[field]
                for raw, count in raw_word_counts(
                    texts if isinstance(texts, str) else " ".join(texts)
                ).items():
                    for word in forms(raw):
                        counts[word] = counts.get(word, 0.0) + weight * count
            word_ids += [vocabulary.setdefault(word, len(vocabulary)) for word in counts]
            frequencies += counts.values()
            words_per_document[position] = len(counts)
            lengths[position] = sum(counts.values())
        ids = np.array(word_ids, dtype=np.int64)
        frequency = np.array(frequencies)
        documents_of = np.repeat(np.arange(self.size, dtype=np.int32), words_per_document)
        average = float(lengths.mean()) if len(lengths) else 1.0
        norm = _K1 * (1 - length_norm + length_norm * lengths / (average or 1.0))
        document_frequency = np.bincount(ids, minlength=len(vocabulary))
        idf = np.log(1 + (self.size - document_frequency + 0.5) / (document_frequency + 0.5))
        scores = frequency * (_K1 + 1) / (frequency + norm[documents_of]) * idf[ids]
        # Grouped by word; a stable sort keeps each word's documents in ascending order.
        order = np.argsort(ids, kind="stable")
        bounds = np.cumsum(document_frequency)[:-1]
        grouped = zip(np.split(documents_of[order], bounds), np.split(scores[order], bounds), strict=True)
        # No words: np.split still returns one (empty) group.
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = (
            dict(zip(vocabulary, grouped, strict=True)) if vocabulary else {}
        )
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
