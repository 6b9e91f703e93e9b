"""The values a model's columns hold, as search sees them: accepted_values tests and profiles' top values,
never for sensitive columns (their values must not be stored or shown, so must not be searchable either).

Kept in an index of their own, apart from the names and prose: stored profiles change with every `sync`, and
rebuilding this small index costs little, while the main one (every model's names and columns) is built once
per manifest and cached."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tools.dbt.bm25 import WeightedBm25
from tools.dbt.nodes import DbtColumn, DbtNode
from tools.dbt.tokenize import raw_word_counts, value_forms
from tools.profiling.profile import ModelProfile
from tools.sensitivity import is_sensitive

# (unique id, lower-case column name) -> the column's most frequent values, e.g. from stored profiles.
TopValues = Mapping[tuple[str, str], Sequence[object]]
# Numbers and dates among the values would match every year and day a question mentions.
_NUMERIC = re.compile(r"[\d.,:/+-]+")
_MAX_VALUE_CHARS = 60
# Flags say nothing of what a column holds: "No" is found in every yes/no column of a project.
_FLAG_VALUES = frozenset({"yes", "no", "y", "n", "true", "false", "t", "f"})


def column_is_sensitive(column: DbtColumn, table: str) -> bool:
    """tools.sensitivity's verdict, remembered by name: a large project repeats the same column names."""
    if column.meta:
        return is_sensitive(column.name, column.meta, table=table)
    return _sensitive_name(column.name, table if column.name.lower() == "name" else "")


@lru_cache(maxsize=262_144)
def _sensitive_name(name: str, table: str) -> bool:
    return is_sensitive(name, None, table=table or None)


def profile_top_values(profiles: Mapping[str, ModelProfile]) -> dict[tuple[str, str], list[object]]:
    """The top values of each profiled column (by unique id and lower-case column name), except those profiling
    judged sensitive (it keeps none for them; a profile written otherwise must not leak either)."""
    return {
        (unique_id, column.name.lower()): [top.value for top in column.top_values]
        for unique_id, profile in profiles.items()
        for column in profile.columns.values()
        if column.top_values and not column.sensitive
    }


def column_values(
    node: DbtNode, top_values: Mapping[str, Sequence[object]]
) -> Iterator[tuple[str, list[str]]]:
    """(column name, its searchable values) for each non-sensitive column of a node that has values: its
    accepted_values test and its top values (by lower-case column name), also for a profiled column the
    manifest does not document."""
    profiled = dict(top_values)
    for column in node.columns:
        values = [*column.accepted_values, *(str(v) for v in profiled.pop(column.name.lower(), ()))]
        # Most columns have no values to offer: asked about sensitivity only when they do.
        if values and not column_is_sensitive(column, node.name):
            yield column.name, values
    for name, stored in profiled.items():
        if stored and not column_is_sensitive(DbtColumn(name, None, ""), node.name):
            yield name, [str(v) for v in stored]


class ValueIndex:
    """Which models hold a question's word as a value, in which column: BM25 over each model's values."""

    def __init__(self, nodes: Sequence[DbtNode], top_values: TopValues | None = None) -> None:
        by_node: dict[str, dict[str, Sequence[object]]] = defaultdict(dict)
        for (unique_id, column), values in (top_values or {}).items():
            by_node[unique_id][column] = values
        documents: list[dict[str, str]] = []
        # (indexed word, position) -> where the value is: `pettype holds "dog"`.
        self._where: dict[tuple[str, int], ValueMatch] = {}
        for position, node in enumerate(nodes):
            words: list[str] = []
            profiled = by_node.get(node.unique_id, {})
            # Most models of a large project have no values at all: passed over without a look at each column.
            if not profiled and not any(column.accepted_values for column in node.columns):
                documents.append({})
                continue
            for column, values in column_values(node, profiled):
                for value in values:
                    found = [
                        w
                        for w in str(value).split()
                        if not _NUMERIC.fullmatch(w) and w.lower() not in _FLAG_VALUES
                    ]
                    words += found
                    for raw in raw_word_counts(" ".join(found)):
                        for form in value_forms(raw):
                            self._where.setdefault((form, position), ValueMatch(column, value))
            documents.append({"values": " ".join(words)} if words else {})
        # No discount for long value lists: a model with many enumerated columns holds each value no less.
        self._bm25 = WeightedBm25(documents, {"values": 1.0}, length_norm=0.0, forms=value_forms)
        self.size = len(documents)

    def word_scores(self, words: Sequence[str]) -> dict[str, np.ndarray]:
        """Each (stemmed) question word's score in each model's values; exact forms only, since a value
        sharing a prefix with a question word is a different value."""
        return self._bm25.word_scores({word: {word: 1.0} for word in words})

    def where(self, word: str, position: int) -> ValueMatch | None:
        """Where a model holds a word as a value (`pettype holds "dog"`), or None."""
        return self._where.get((word, position))


@dataclass(frozen=True)
class ValueMatch:
    """A question's word found as a value of a model's column."""

    column: str
    value: str

    def __str__(self) -> str:
        """`pettype holds "dog"`: the value in JSON quotes, as describe_model shows data (never words to obey)."""
        value = self.value
        shown = value if len(value) <= _MAX_VALUE_CHARS else value[: _MAX_VALUE_CHARS - 1] + "…"
        return f"{self.column} holds {json.dumps(shown, ensure_ascii=False)}"
