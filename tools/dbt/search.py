"""BM25F ranking of dbt nodes (and semantic-layer items) for a free-text question, precomputed so a query costs
a few array additions."""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tools.dbt.bm25 import WeightedBm25
from tools.dbt.graph import ProjectGraph, schema_prefixes
from tools.dbt.join_set import join_sentences, rank_join_set
from tools.dbt.nodes import DbtMetric, DbtNode, DbtSavedQuery
from tools.dbt.tokenize import question_tokens, tokens
from tools.dbt.values import TopValues, ValueIndex, ValueMatch
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
# A question word found among a model's column values adds this share of its value score (see values.py).
_VALUE_WEIGHT = 0.7
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
_NAMED_BONUS = 4.0
_MAX_NAME_WORDS = 4
# A node covers a question word when it matches it at least this share as well as the best-matching node.
_COVER_SHARE = 0.5
# Prefixes that say which layer a model is in, not what it is about.
_LAYER_WORDS = frozenset({"stg", "int", "fct", "dim", "base", "mart", "fact", "raw", "src"})
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
    joins: tuple[str, ...] = ()
    bridge: bool = False
    values: tuple[ValueMatch, ...] = ()  # where a question word is a value it holds: `pettype holds "dog"`


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


def _field_texts(node: DbtNode) -> dict[str, str | Sequence[str]]:
    return {
        "name": f"{node.name} {node.identifier}",
        "description": node.description,
        "column_names": [column.name for column in node.columns],
        "column_descriptions": [column.description for column in node.columns],
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


def _scores(
    scores: np.ndarray,
    query: str,
    by_name: Mapping[str, list[int]],
    boosts: Mapping[str, float] | None,
) -> np.ndarray:
    """BM25F scores, plus a bonus for names the query spells out and the glossary's boosts by (lower-case) name."""
    scores = scores.copy()
    for raw_word in query.lower().replace(",", " ").split():
        for position in by_name.get(raw_word.strip("`\"'?.!"), ()):
            scores[position] += _EXACT_NAME_BONUS
    for name, bonus in (boosts or {}).items():
        for position in by_name.get(name, ()):
            scores[position] += bonus
    return scores


def _positions_by_name(names: Sequence[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    for position, name in enumerate(names):
        found[name.lower()].append(position)
    return found


def _top(scores: np.ndarray, limit: int, names: Sequence[str]) -> list[int]:
    """Positions of the best `limit` non-zero scores, best first, ties by name."""
    count = min(limit, int(np.count_nonzero(scores)))
    if count == 0:
        return []
    top = np.argpartition(-scores, count - 1)[:count]
    return sorted((int(p) for p in top), key=lambda position: (-scores[position], names[position]))


class NodeSearch:
    """A BM25F index over nodes and the project's join graph; built once per manifest."""

    def __init__(
        self,
        nodes: Sequence[DbtNode],
        top_values: TopValues | None = None,
        entity_keys: dict[str, list[tuple[str, str]]] | None = None,
    ) -> None:
        self._nodes = list(nodes)
        self._bm25 = WeightedBm25([_field_texts(node) for node in self._nodes], FIELD_WEIGHTS)
        self._values = ValueIndex(self._nodes, top_values)
        self._names = [node.name for node in self._nodes]
        self._by_name = _positions_by_name(self._names)
        self._prior = np.array([_LAYER_PRIOR[layer(node)] for node in self._nodes])
        self.graph = ProjectGraph(self._nodes, entity_keys)
        # Models by the set of words their name says (layer prefixes and schema-wide prefixes left out).
        self._by_name_words: dict[frozenset[str], list[int]] = defaultdict(list)
        prefixes = schema_prefixes(self._nodes)
        for position, node in enumerate(self._nodes):
            name_words = frozenset(tokens(node.identifier)) - _LAYER_WORDS - prefixes.get(node.schema, set())
            if 0 < len(name_words) <= _MAX_NAME_WORDS:
                self._by_name_words[name_words].append(position)

    def with_values(self, top_values: TopValues | None) -> NodeSearch:
        """This search with other top values (new profiles): only the small value index is built again."""
        view = copy.copy(self)
        view._values = ValueIndex(self._nodes, top_values)
        return view

    def _named_entity_bonus(self, words: set[str]) -> np.ndarray:
        """A bonus for models whose name the question says in full, in any form: "papers" names model paper,
        "customer orders" names fct_customer_orders. Looked up by each small set of the question's words."""
        bonus = np.zeros(len(self._nodes))
        ordered = sorted(words)
        for size in range(1, min(_MAX_NAME_WORDS, len(ordered)) + 1):
            for combination in itertools.combinations(ordered, size):
                for position in self._by_name_words.get(frozenset(combination), ()):
                    bonus[position] = _NAMED_BONUS
        return bonus

    def search(
        self, query: str, limit: int = 10, boosts: Mapping[str, float] | None = None
    ) -> list[SearchHit]:
        """The best `limit` nodes for `query`, best first: the set of models it needs together (bridge tables
        included, within one connected part of the project), then the rest; nodes matching nothing are left out.

        `boosts` adds to the score of nodes by (lower-case) name: what the glossary says a question is about.
        """
        words = question_tokens(query)
        if not self._nodes or not (words or boosts):
            return []
        expanded = self._bm25.expand(words)
        by_word = self._bm25.word_scores(expanded)
        for word, found in self._values.word_scores(words).items():
            by_word[word] = by_word[word] + _VALUE_WEIGHT * found
        scores = _scores(sum(by_word.values(), np.zeros(len(self._nodes))), query, self._by_name, boosts)
        scores = (scores + self._named_entity_bonus(set(words))) * self._prior
        strongest = {word: float(array.max()) for word, array in by_word.items()}

        def covered(position: int) -> set[str]:
            """The question words this node matches about as well as any node does."""
            return {
                word
                for word, array in by_word.items()
                if array[position] > 0 and array[position] >= _COVER_SHARE * strongest[word]
            }

        weighted = {word: array * self._prior for word, array in by_word.items()}
        ranked = rank_join_set(scores, self.graph, covered, self._bm25.idf, self._names, weighted)
        shown = ranked.order[:limit]
        joins = join_sentences(shown, self.graph, self._names)
        return [
            SearchHit(
                self._nodes[p],
                float(scores[p]),
                tuple(w for w in words if w in covered(p)),
                joins=tuple(joins.get(p, ())),
                bridge=p in ranked.bridges,
                values=tuple(dict.fromkeys(where for w in words if (where := self._values.where(w, p)))),
            )
            for p in shown
        ]


class SemanticSearch:
    """A BM25F index over the semantic layer's metrics and saved queries."""

    def __init__(self, items: Sequence[DbtMetric | DbtSavedQuery]) -> None:
        self._items = list(items)
        self._bm25 = WeightedBm25([_semantic_texts(item) for item in self._items], SEMANTIC_FIELD_WEIGHTS)
        self._names = [item.name for item in self._items]
        self._by_name = _positions_by_name(self._names)

    def search(
        self, query: str, limit: int = 10, boosts: Mapping[str, float] | None = None
    ) -> list[SemanticHit]:
        """The best `limit` metrics and saved queries for `query`, best first."""
        words = list(dict.fromkeys(tokens(query)))
        if not self._items or not (words or boosts):
            return []
        # Metric names are short and few: exact words only, no variants (week would pull every weekly item).
        exact = {word: {word: 1.0} for word in words}
        scores = _scores(self._bm25.scores(exact), query, self._by_name, boosts)
        return [
            SemanticHit(self._items[p], float(scores[p]), tuple(w for w in words if self._bm25.matches(w, p)))
            for p in _top(scores, limit, self._names)
        ]
