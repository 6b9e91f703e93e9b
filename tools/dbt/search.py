"""BM25F ranking of dbt nodes (and semantic-layer items) for a free-text question, precomputed so a query costs
a few array additions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import log

import numpy as np

from tools.dbt.nodes import DbtMetric, DbtNode, DbtSavedQuery
from tools.dbt.tokenize import token_counts, tokens
from tools.glossary import GlossaryEntry

# Names say most about what a model holds; column names next; prose is noisier.
FIELD_WEIGHTS = {
    "name": 3.0,
    "description": 1.0,
    "column_names": 1.5,
    "column_descriptions": 0.6,
    "tags": 1.0,
    "path": 0.3,
}
_K1 = 1.2
_B = 0.6
# Metrics and saved queries: names and labels say most; how they are computed and cut next.
SEMANTIC_FIELD_WEIGHTS = {
    "name": 3.0,
    "label": 2.0,
    "description": 1.0,
    "definition": 0.8,
    "dimensions": 0.5,
    "model": 0.5,
}
_EXACT_NAME_BONUS = 5.0
# Analysts should land on the modelled layer: marts over staging over raw sources, all else equal.
_LAYER_PRIOR = {"mart": 1.25, "model": 1.0, "staging": 0.8, "source": 0.7}


def layer(node: DbtNode) -> str:
    """Which layer of a dbt project a node belongs to, from its type, name, path and tags."""
    if node.resource_type == "source":
        return "source"
    text = f"{node.name} {node.path} {' '.join(node.tags)}".lower()
    if node.name.startswith(("stg_", "base_", "int_")) or "staging" in text:
        return "staging"
    if any(hint in text for hint in ("mart", "fct_", "dim_", "fact", "report")):
        return "mart"
    return "model"


@dataclass(frozen=True)
class SearchHit:
    """A ranked node with its score, the query words it matched and the glossary entries that point at it."""

    node: DbtNode
    score: float
    matched_terms: tuple[str, ...]
    glossary: tuple[GlossaryEntry, ...] = ()


@dataclass(frozen=True)
class SemanticHit:
    """A ranked metric or saved query, with the query words it matched and the glossary entries naming it."""

    item: DbtMetric | DbtSavedQuery
    score: float
    matched_terms: tuple[str, ...]
    glossary: tuple[GlossaryEntry, ...] = ()

    @property
    def kind(self) -> str:
        return "metric" if isinstance(self.item, DbtMetric) else "saved_query"


def _field_texts(node: DbtNode) -> dict[str, str]:
    return {
        "name": f"{node.name} {node.identifier}",
        "description": node.description,
        "column_names": " ".join(column.name for column in node.columns),
        "column_descriptions": "\n".join(column.description for column in node.columns),
        "tags": " ".join(node.tags),
        "path": node.path,
    }


def _semantic_texts(item: DbtMetric | DbtSavedQuery) -> dict[str, str]:
    if isinstance(item, DbtMetric):
        definition = " ".join([item.definition, *item.input_metrics, *(m.name for m in item.measures)])
        dimensions, model = (
            " ".join(item.dimensions),
            " ".join(filter(None, [item.model, item.semantic_model])),
        )
    else:
        definition, dimensions, model = " ".join(item.metrics), " ".join(item.group_by + item.where), ""
    return {
        "name": item.name,
        "label": item.label,
        "description": item.description,
        "definition": definition,
        "dimensions": dimensions,
        "model": model,
    }


class WeightedBm25:
    """BM25F over documents made of weighted text fields; a query's scores are a few array additions."""

    def __init__(self, documents: Sequence[Mapping[str, str]], weights: Mapping[str, float]) -> None:
        self.size = len(documents)
        weighted: list[dict[str, float]] = []
        lengths = np.zeros(self.size)
        for position, fields in enumerate(documents):
            counts: dict[str, float] = defaultdict(float)
            for field, text in fields.items():
                weight = weights[field]
                for word, count in token_counts(text).items():
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

    def scores(self, words: Sequence[str]) -> np.ndarray:
        """Each document's score for these (already tokenized) words."""
        scores = np.zeros(self.size)
        for word in words:
            posting = self._postings.get(word)
            if posting is not None:
                np.add.at(scores, posting[0], posting[1])
        return scores

    def matches(self, word: str, position: int) -> bool:
        posting = self._postings.get(word)
        return posting is not None and bool(np.any(posting[0] == position))


def _scores(
    bm25: WeightedBm25,
    words: Sequence[str],
    query: str,
    by_name: Mapping[str, int],
    boosts: Mapping[str, float] | None,
) -> np.ndarray:
    """BM25F scores, plus a bonus for names the query spells out and the glossary's boosts by (lower-case) name."""
    scores = bm25.scores(words)
    for raw_word in query.lower().replace(",", " ").split():
        position = by_name.get(raw_word.strip("`\"'?.!"))
        if position is not None:
            scores[position] += _EXACT_NAME_BONUS
    for name, bonus in (boosts or {}).items():
        if (position := by_name.get(name)) is not None:
            scores[position] += bonus
    return scores


def _top(scores: np.ndarray, limit: int, names: Sequence[str]) -> list[int]:
    """Positions of the best `limit` non-zero scores, best first, ties by name."""
    count = min(limit, int(np.count_nonzero(scores)))
    if count == 0:
        return []
    top = np.argpartition(-scores, count - 1)[:count]
    return sorted((int(p) for p in top), key=lambda position: (-scores[position], names[position]))


class NodeSearch:
    """A BM25F index over nodes; built once per manifest."""

    def __init__(self, nodes: Sequence[DbtNode]) -> None:
        self._nodes = list(nodes)
        self._bm25 = WeightedBm25([_field_texts(node) for node in self._nodes], FIELD_WEIGHTS)
        self._names = [node.name for node in self._nodes]
        self._by_name = {node.name.lower(): position for position, node in enumerate(self._nodes)}
        self._prior = np.array([_LAYER_PRIOR[layer(node)] for node in self._nodes])

    def search(
        self, query: str, limit: int = 10, boosts: Mapping[str, float] | None = None
    ) -> list[SearchHit]:
        """The best `limit` nodes for `query`, best first; nodes matching nothing are left out.

        `boosts` adds to the score of nodes by (lower-case) name: what the glossary says a question is about.
        """
        words = list(dict.fromkeys(tokens(query)))
        if not self._nodes or not (words or boosts):
            return []
        scores = _scores(self._bm25, words, query, self._by_name, boosts) * self._prior
        return [
            SearchHit(self._nodes[p], float(scores[p]), tuple(w for w in words if self._bm25.matches(w, p)))
            for p in _top(scores, limit, self._names)
        ]


class SemanticSearch:
    """A BM25F index over the semantic layer's metrics and saved queries."""

    def __init__(self, items: Sequence[DbtMetric | DbtSavedQuery]) -> None:
        self._items = list(items)
        self._bm25 = WeightedBm25([_semantic_texts(item) for item in self._items], SEMANTIC_FIELD_WEIGHTS)
        self._names = [item.name for item in self._items]
        self._by_name = {item.name.lower(): position for position, item in enumerate(self._items)}

    def search(
        self, query: str, limit: int = 10, boosts: Mapping[str, float] | None = None
    ) -> list[SemanticHit]:
        """The best `limit` metrics and saved queries for `query`, best first."""
        words = list(dict.fromkeys(tokens(query)))
        if not self._items or not (words or boosts):
            return []
        scores = _scores(self._bm25, words, query, self._by_name, boosts)
        return [
            SemanticHit(self._items[p], float(scores[p]), tuple(w for w in words if self._bm25.matches(w, p)))
            for p in _top(scores, limit, self._names)
        ]
