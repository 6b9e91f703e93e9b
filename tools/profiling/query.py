"""The one aggregate query that profiles a model, built with sqlglot; each warehouse's dialect fills in its part."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlglot import exp

if TYPE_CHECKING:
    from tools.warehouse.dialects.base import WarehouseDialect

ColumnKind = Literal["number", "temporal", "boolean", "text", "other"]

TOP_VALUES = 5
_SAMPLE_SEED = (
    42  # A fixed seed: profiling the same data twice gives the same sample where the dialect allows.
)
_NUMBER_WORDS = ("int", "decimal", "numeric", "float", "double", "real", "number", "money")
_TEMPORAL_WORDS = ("date", "time")  # date, datetime, timestamp, timestamptz, time
_TEXT_WORDS = ("char", "text", "string", "enum", "citext")
_OTHER_WORDS = ("interval", "struct", "record", "array", "[]", "map", "list", "json", "geo", "blob", "bytes")


def column_kind(data_type: str) -> ColumnKind:
    """What statistics a column type allows, from the warehouse's type name."""
    lowered = data_type.lower()
    if any(word in lowered for word in _OTHER_WORDS):
        return "other"
    if lowered.startswith("bool"):
        return "boolean"
    if any(word in lowered for word in _TEMPORAL_WORDS):
        return "temporal"
    if any(word in lowered for word in _NUMBER_WORDS):
        return "number"
    if any(word in lowered for word in _TEXT_WORDS):
        return "text"
    return "other"


@dataclass(frozen=True)
class ColumnPlan:
    """What the query computes for one column; min, max and top values are never asked for sensitive ones."""

    name: str
    data_type: str
    kind: ColumnKind
    sensitive: bool
    top_values: bool

    @property
    def distinct(self) -> bool:
        # Approximate distinct counts are defined for scalar types only (BigQuery refuses them on structs).
        return self.kind != "other"

    @property
    def min_max(self) -> bool:
        return self.kind in {"number", "temporal"} and not self.sensitive


@dataclass(frozen=True)
class RelationName:
    """Where a model lives: database (BigQuery project), schema (dataset) and table name."""

    database: str | None
    schema: str | None
    identifier: str

    def table(self) -> exp.Table:
        return exp.Table(
            this=exp.to_identifier(self.identifier, quoted=True),
            db=exp.to_identifier(self.schema, quoted=True) if self.schema else None,
            catalog=exp.to_identifier(self.database, quoted=True) if self.database else None,
        )

    def display(self) -> str:
        return ".".join(part for part in (self.database, self.schema, self.identifier) if part)


def alias(stat: str, position: int) -> str:
    """The result column holding one statistic of the column at `position` (names stay ASCII and short)."""
    return f"{stat}_{position}"


def build_profile_sql(
    relation: RelationName,
    columns: Sequence[ColumnPlan],
    dialect: WarehouseDialect,
    sample_percent: float | None,
) -> str:
    """One SELECT returning one row: row count, then per column non-null count, distinct, min, max, top values.

    With a sample, statistics come from the sampled rows (`sampled_rows`) and `row_count` is still exact.
    """
    # Only the profiled columns: BigQuery bills by the columns a query reads.
    read: list[exp.Expr] = [_quoted(column.name) for column in columns] or [exp.Star()]
    base = exp.select(*read).from_(_sampled(relation.table(), dialect, sample_percent))
    selections: list[exp.Expr] = []
    if sample_percent is None:
        selections.append(exp.Count(this=exp.Star()).as_("row_count"))
    else:
        # Exact and cheap: a full COUNT(*) reads no column (BigQuery bills it nothing).
        full = exp.select(exp.Count(this=exp.Star())).from_(relation.table())
        selections.append(full.subquery().as_("row_count"))
        selections.append(exp.Count(this=exp.Star()).as_("sampled_rows"))
    for position, column in enumerate(columns):
        value = _quoted(column.name)
        selections.append(exp.Count(this=value.copy()).as_(alias("filled", position)))
        if column.distinct:
            selections.append(dialect.distinct_count(value.copy()).as_(alias("distinct", position)))
        if column.min_max:
            selections.append(exp.Min(this=value.copy()).as_(alias("min", position)))
            selections.append(exp.Max(this=value.copy()).as_(alias("max", position)))
        if column.top_values and not column.sensitive:
            top = dialect.top_values(value.copy(), _most_frequent(value), TOP_VALUES)
            selections.append(top.as_(alias("top", position)))
    query = exp.select(*selections).from_("profiled").with_("profiled", as_=base)
    return query.sql(dialect=dialect.sqlglot_name)


def _quoted(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True))


def _sampled(table: exp.Table, dialect: WarehouseDialect, sample_percent: float | None) -> exp.Table:
    if sample_percent is None:
        return table
    percent = exp.Literal.number(round(sample_percent, 4))
    table.set("sample", dialect.sample(percent, exp.Literal.number(_SAMPLE_SEED)))
    return table


def _most_frequent(value: exp.Expr) -> exp.Select:
    """The TOP_VALUES most frequent non-null values of the profiled rows, with their counts."""
    return (
        exp.select(value.copy().as_("value"), exp.Count(this=exp.Star()).as_("frequency"))
        .from_("profiled")
        .where(exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())))
        .group_by(value.copy())
        .order_by(exp.Ordered(this=exp.column("frequency"), desc=True))
        .limit(TOP_VALUES)
    )
