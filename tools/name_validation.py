"""Which schema to check a query's names against: the dbt catalog, or for relations it does not list with their
columns, the warehouse's own listing of the schemas the query names, one query per schema, kept a while."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from sqlglot import exp

from tools.errors import ToolInputError, WarehouseError
from tools.profiling.warehouse_columns import read_schema
from tools.registry import ToolContext
from tools.schema_check import KnownTable, NameProblem, find_name_problem
from tools.sql_guard import CheckedQuery
from tools.warehouse.base import Warehouse

_LISTING_SECONDS = 600.0


class SchemaListings:
    """The warehouse's tables and columns by (database, schema), each listing kept for ten minutes."""

    def __init__(self, keep_seconds: float = _LISTING_SECONDS) -> None:
        self._keep_seconds = keep_seconds
        self._lock = threading.Lock()
        self._listed: dict[tuple[int, str | None, str], tuple[float, list[KnownTable]]] = {}

    def tables(
        self, warehouse: Warehouse, database: str | None, schema: str, timeout_seconds: float
    ) -> list[KnownTable]:
        key = (id(warehouse), database, schema)
        with self._lock:
            found = self._listed.get(key)
        if found is not None and time.monotonic() - found[0] < self._keep_seconds:
            return found[1]
        listed = read_schema(warehouse, database, schema, timeout_seconds=timeout_seconds)
        tables = [
            KnownTable(t.name, database, schema, t.name, tuple(c for c, _ in t.columns), part=schema)
            for t in listed.values()
        ]
        with self._lock:
            self._listed[key] = (time.monotonic(), tables)
        return tables


# One per process: listings are the warehouse's, not a conversation's.
LISTINGS = SchemaListings()


def name_problem(context: ToolContext, query: CheckedQuery) -> NameProblem | None:
    """The first unknown or ambiguous name of the query, checked against the dbt catalog, or against the
    warehouse's listing of the named schemas when the catalog does not list the query's columns."""
    known = context.dbt.known_tables()
    if context.policy is not None:
        known = context.policy.visible_known_tables(known)
    problem = find_name_problem(query, known, source="the dbt catalog")
    # Under a policy the warehouse's own listing is not consulted: it would suggest tables the asker may not see.
    if problem is not None or _catalog_covers(query, known) or context.policy is not None:
        return problem
    schemas = _named_schemas(query)
    if not schemas:
        return None
    try:
        listed = [
            table
            for database, schema in schemas
            for table in LISTINGS.tables(
                context.warehouse, database, schema, context.limits.query_timeout_seconds
            )
        ]
    except (WarehouseError, ToolInputError):
        return None  # The listing is a help; the query itself will meet the same outage and say so.
    if {t.schema for t in listed} != {schema for _, schema in schemas}:
        return (
            None  # A schema listed empty: spelt in another case, or not ours to see; the warehouse will say.
        )
    where = ", ".join(schema for _, schema in schemas)
    # Complete only when every table names its schema: an unqualified one may live on the search path.
    complete = all(t.db for t in _tables(query))
    return find_name_problem(query, listed, source=f"the warehouse's listing of {where}", complete=complete)


def _catalog_covers(query: CheckedQuery, known: Sequence[KnownTable]) -> bool:
    """Whether every table of the query is one the catalog lists with its columns."""
    listed = {table.identifier.lower() for table in known if table.columns}
    return all(t.name.lower() in listed for t in _tables(query))


def _tables(query: CheckedQuery) -> list[exp.Table]:
    """The query's tables, not counting references to its own CTEs."""
    ctes = {cte.alias_or_name.lower() for cte in query.expression.find_all(exp.CTE)}
    return [t for t in query.expression.find_all(exp.Table) if t.db or t.name.lower() not in ctes]


def _named_schemas(query: CheckedQuery) -> list[tuple[str | None, str]]:
    """The (database, schema) pairs the query's tables name explicitly."""
    found = {(t.catalog or None, t.db) for t in _tables(query) if t.db}
    return sorted(found, key=lambda pair: (pair[0] or "", pair[1]))
