"""The values a model's columns hold, as search sees them: accepted_values tests and profiles' top values,
never for sensitive columns (their values must not be stored or shown, so must not be searchable either)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from tools.dbt.nodes import DbtNode
from tools.sensitivity import is_sensitive

# (unique id, lower-case column name) -> the column's most frequent values, e.g. from stored profiles.
TopValues = Mapping[tuple[str, str], Sequence[object]]


def value_text(node: DbtNode, top_values: TopValues | None) -> str:
    """The searchable values of a node's non-sensitive columns, space separated."""
    found: list[str] = []
    for column in node.columns:
        if is_sensitive(column.name, column.meta, table=node.name):
            continue
        found += column.accepted_values
        if top_values:
            found += [str(v) for v in top_values.get((node.unique_id, column.name.lower()), ())]
    # Numbers and dates among the values would match every year and day a question mentions.
    return " ".join(word for value in found for word in str(value).split() if not _NUMERIC.fullmatch(word))


_NUMERIC = re.compile(r"[\d.,:/+-]+")


def holding_columns(node: DbtNode, top_values: TopValues | None, words: set[str]) -> list[str]:
    """The non-sensitive columns of a node whose values contain one of these (lower-case) words."""
    holders = []
    for column in node.columns:
        if is_sensitive(column.name, column.meta, table=node.name):
            continue
        values = list(column.accepted_values)
        if top_values:
            values += [str(v) for v in top_values.get((node.unique_id, column.name.lower()), ())]
        if any(word in str(value).lower().split() for value in values for word in words):
            holders.append(column.name)
    return holders
