"""The values a model's columns hold, as search sees them: accepted_values tests and profiles' top values,
never for sensitive columns (their values must not be stored or shown, so must not be searchable either)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from tools.dbt.nodes import DbtColumn, DbtNode
from tools.sensitivity import is_sensitive

# (unique id, lower-case column name) -> the column's most frequent values, e.g. from stored profiles.
TopValues = Mapping[tuple[str, str], Sequence[object]]


def column_is_sensitive(column: DbtColumn, table: str) -> bool:
    """tools.sensitivity's verdict, remembered by name: a large project repeats the same column names."""
    if column.meta:
        return is_sensitive(column.name, column.meta, table=table)
    return _sensitive_name(column.name, table if column.name.lower() == "name" else "")


@lru_cache(maxsize=262_144)
def _sensitive_name(name: str, table: str) -> bool:
    return is_sensitive(name, None, table=table or None)


def value_text(node: DbtNode, top_values: TopValues | None) -> str:
    """The searchable values of a node's non-sensitive columns, space separated."""
    found: list[str] = []
    for column in node.columns:
        values = [*column.accepted_values]
        if top_values:
            values += [str(v) for v in top_values.get((node.unique_id, column.name.lower()), ())]
        # Most columns have no values to offer: asked about sensitivity only when they do.
        if values and not column_is_sensitive(column, node.name):
            found += values
    # Numbers and dates among the values would match every year and day a question mentions.
    return " ".join(word for value in found for word in str(value).split() if not _NUMERIC.fullmatch(word))


_NUMERIC = re.compile(r"[\d.,:/+-]+")
