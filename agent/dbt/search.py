"""BM25F ranking of dbt nodes for a free-text question, precomputed so a query costs a few array additions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from math import log

import numpy as np

from agent.dbt.nodes import DbtNode
from agent.dbt.tokenize import token_counts, tokens

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
    """A ranked node with its score and the query words it matched."""

    node: DbtNode
    score: float
    matched_terms: tuple[str, ...]


def _field_texts(node: DbtNode) -> dict[str, str]:
    return {
        "name": f"{node.name} {node.identifier}",
        "description": node.description,
        "column_names": " ".join(column.name for column in node.columns),
        "column_descriptions": "\n".join(column.description for column in node.columns),
        "tags": " ".join(node.tags),
        "path": node.path,
    }


class NodeSearch:
    """A BM25F index over nodes; built once per manifest."""

    def __init__(self, nodes: Sequence[DbtNode]) -> None:
        self._nodes = list(nodes)
        weighted: list[dict[str, float]] = []
        lengths = np.zeros(len(self._nodes))
        for position, node in enumerate(self._nodes):
            counts: dict[str, float] = defaultdict(float)
            for field, text in _field_texts(node).items():
                weight = FIELD_WEIGHTS[field]
                for word, count in token_counts(text).items():
                    counts[word] += weight * count
            weighted.append(counts)
            lengths[position] = sum(counts.values())
        average = float(lengths.mean()) if len(lengths) else 1.0
        document_count = len(self._nodes)
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for position, counts in enumerate(weighted):
            norm = _K1 * (1 - _B + _B * lengths[position] / (average or 1.0))
            for word, frequency in counts.items():
                postings[word].append((position, frequency * (_K1 + 1) / (frequency + norm)))
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for word, entries in postings.items():
            idf = log(1 + (document_count - len(entries) + 0.5) / (len(entries) + 0.5))
            ids = np.fromiter((e[0] for e in entries), dtype=np.int32, count=len(entries))
            scores = np.fromiter((e[1] * idf for e in entries), dtype=np.float64, count=len(entries))
            self._postings[word] = (ids, scores)
        self._by_name = {node.name.lower(): position for position, node in enumerate(self._nodes)}
        self._prior = np.array([_LAYER_PRIOR[layer(node)] for node in self._nodes])

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """The best `limit` nodes for `query`, best first; nodes matching nothing are left out."""
        words = list(dict.fromkeys(tokens(query)))
        if not self._nodes or not words:
            return []
        scores = np.zeros(len(self._nodes))
        for word in words:
            posting = self._postings.get(word)
            if posting is not None:
                np.add.at(scores, posting[0], posting[1])
        for raw_word in query.lower().replace(",", " ").split():
            position = self._by_name.get(raw_word.strip("`\"'?.!"))
            if position is not None:
                scores[position] += _EXACT_NAME_BONUS
        scores *= self._prior
        count = min(limit, int(np.count_nonzero(scores)))
        if count == 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count]
        ranked = sorted(top, key=lambda position: (-scores[position], self._nodes[position].name))
        return [
            SearchHit(self._nodes[p], float(scores[p]), tuple(w for w in words if self._matches(w, p)))
            for p in ranked
        ]

    def _matches(self, word: str, position: int) -> bool:
        posting = self._postings.get(word)
        return posting is not None and bool(np.any(posting[0] == position))
