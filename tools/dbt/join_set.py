"""From scores to the set of models a question needs together: the best-scoring connected part of the project,
the models in it that cover the question's words, the bridge tables between them, and how they join."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tools.dbt.graph import ProjectGraph

_CANDIDATES = 40
# Models outside the chosen part keep this share of their score when the rest of the list is ordered.
_OTHER_PART_SHARE = 0.5
# A model joins the set when it covers words the set does not yet cover and scores at least this share of the best.
_MIN_SHARE = 0.15
_MAX_SET = 6
# The set may grow this far before spare bridges are dropped and it is cut to _MAX_SET.
_MAX_BUILT = 8
# A model reached only through bridge tables joins the set when it scores at least this share of the best.
_BRIDGED_SHARE = 0.4
_BRIDGED_GAIN = 0.8
# Candidates scoring at least this share of the best may lead the set when they cover more of the question.
_LEAD_SHARE = 0.6


@dataclass(frozen=True)
class RankedSet:
    """Positions best first: the join set (bridges in place) then the rest; and which are bridges."""

    order: list[int]
    join_set: list[int]
    bridges: frozenset[int]


def rank_join_set(
    scores: np.ndarray,
    graph: ProjectGraph,
    covered_words: Callable[[int], set[str]],
    word_weight: Callable[[str], float],
    names: Sequence[str],
    word_scores: Mapping[str, np.ndarray],
) -> RankedSet:
    """Order nodes for a question: the join set in the best part first, then the rest by score.

    `word_scores` holds each question word's score in each node (what `scores` adds up, bonuses aside)."""
    count = min(_CANDIDATES, int(np.count_nonzero(scores)))
    if count == 0:
        return RankedSet([], [], frozenset())
    # Asked again and again for the same few candidates and words while the set is built.
    covered_words, word_weight = functools.cache(covered_words), functools.cache(word_weight)
    top = np.argpartition(-scores, count - 1)[:count]
    candidates = sorted((int(p) for p in top), key=lambda p: (-scores[p], names[p]))
    part = _best_part(candidates, scores, graph, word_scores)
    in_part = [p for p in candidates if graph.part[p] == part]
    # The set starts from the strong candidate that covers most of the question, not merely the top score.
    strong = [p for p in in_part if scores[p] >= _LEAD_SHARE * scores[in_part[0]]]
    lead = max(strong, key=lambda p: (sum(word_weight(w) for w in covered_words(p)), scores[p]))
    in_part.remove(lead)
    in_part.insert(0, lead)
    chosen: list[int] = []
    bridges: set[int] = set()
    covered: set[str] = set()
    best = float(scores[in_part[0]])
    rarest = max(word_weight(w) for p in in_part for w in covered_words(p) or {""})
    for position in in_part:
        if position in chosen:
            continue
        words = covered_words(position)
        gain = sum(word_weight(w) for w in words - covered)
        if chosen and (gain <= 0 or scores[position] < _MIN_SHARE * best):
            continue
        if chosen:
            # Through the tables the question speaks of most, where several paths are as short.
            path = min((graph.path(start, position, lambda p: -scores[p]) for start in chosen), key=len)
            # Tables the question never names come along only for a model that matters enough to need them:
            # it scores well, or it holds one of the question's rarest words ("dog" as a pet's kind).
            if path and scores[position] < _BRIDGED_SHARE * best and gain < _BRIDGED_GAIN * rarest:
                continue
            for bridge in path:
                if bridge not in chosen:
                    chosen.append(bridge)
                    bridges.add(bridge)
        chosen.append(position)
        covered |= words
        if len(chosen) >= _MAX_BUILT:
            break
    chosen = _without_spare_bridges(chosen, bridges, scores, graph, covered_words)
    chosen = _with_linked(chosen, scores, graph, covered_words)[:_MAX_SET]
    placed = set(chosen)
    rest = [p for p in candidates if p not in placed]
    rest.sort(key=lambda p: (-scores[p] * (1.0 if graph.part[p] == part else _OTHER_PART_SHARE), names[p]))
    return RankedSet(chosen + rest, list(chosen), frozenset(bridges))


def _without_spare_bridges(
    chosen: list[int],
    bridges: set[int],
    scores: np.ndarray,
    graph: ProjectGraph,
    covered_words: Callable[[int], set[str]],
) -> list[int]:
    """The set less the bridges it no longer needs, weakest first: a bridge taken early (domain_author between
    domain and author) is spare once later models join the rest another way and cover its words."""
    kept = list(chosen)
    for bridge in sorted(bridges, key=lambda p: (scores[p], p)):
        others = [p for p in kept if p != bridge]
        words = set().union(*(covered_words(p) for p in others))
        if covered_words(bridge) <= words and _connected(others, graph):
            kept = others
            bridges.discard(bridge)
    return kept


def _connected(positions: list[int], graph: ProjectGraph) -> bool:
    """Whether the models join one another through edges among themselves alone."""
    members = set(positions)
    seen = {positions[0]} if positions else set()
    frontier = list(seen)
    while frontier:
        for neighbour in graph.neighbours(frontier.pop()):
            if neighbour in members and neighbour not in seen:
                seen.add(neighbour)
                frontier.append(neighbour)
    return seen == members


def _with_linked(
    chosen: list[int], scores: np.ndarray, graph: ProjectGraph, covered_words: Callable[[int], set[str]]
) -> list[int]:
    """Each link table in the set followed by the models it links that cover words the set does not: a link
    table (writes: aid, pid) matches words by its key names, while its neighbours hold what they name."""
    result: list[int] = []
    for position in chosen:
        if position in result:
            continue
        result.append(position)
        if graph.is_link(position):
            covered = set().union(*(covered_words(p) for p in [*chosen, *result] if not graph.is_link(p)))
            for neighbour in sorted(graph.neighbours(position), key=lambda p: -scores[p]):
                new = covered_words(neighbour) - covered
                if scores[neighbour] > 0 and neighbour not in result and new:
                    result.append(neighbour)
                    covered |= new
    return result


def _best_part(
    candidates: list[int], scores: np.ndarray, graph: ProjectGraph, word_scores: Mapping[str, np.ndarray]
) -> int:
    """The part of the project that answers the question best, read as one document: each question word
    counts once, at its best match in the part (three models matching "day" are no better than one), plus
    the best bonus (a name the question spells out) of its models."""
    by_part: dict[int, list[int]] = {}
    for position in candidates:
        by_part.setdefault(graph.part[position], []).append(position)
    matched = sum(word_scores.values(), np.zeros(len(scores)))

    def evidence(members: list[int]) -> float:
        words = sum(float(max(found[p] for p in members)) for found in word_scores.values())
        return words + max(float(scores[p] - matched[p]) for p in members)

    return max(by_part, key=lambda part: (evidence(by_part[part]), -part))


def join_sentences(
    positions: Sequence[int], graph: ProjectGraph, names: Sequence[str]
) -> dict[int, list[str]]:
    """For each listed node, how it joins the nodes listed before it ("orders joins customers on customer_id")."""
    sentences: dict[int, list[str]] = {}
    for index, position in enumerate(positions):
        for earlier in positions[:index]:
            edge = graph.edge(position, earlier)
            if edge is None:
                continue
            mine, theirs = edge.columns_from(position)
            if not mine:
                how = " (a ref; no shared key known)"
            elif mine == theirs:
                how = f" on {mine}"
            else:
                how = f" on {names[position]}.{mine} = {names[earlier]}.{theirs}"
            sentences.setdefault(position, []).append(f"{names[position]} joins {names[earlier]}{how}")
    return sentences
