"""Which dbt node a table reference in SQL names, by the warehouse's own identifier rules."""

from __future__ import annotations

from collections import defaultdict

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from tools.dbt.index import DbtIndex
from tools.dbt.nodes import DbtNode


class RelationLookup:
    """Nodes by (database, schema, identifier), (schema, identifier) and identifier, normalised per dialect."""

    def __init__(self, index: DbtIndex, dialect: str) -> None:
        self._dialect = Dialect.get_or_raise(dialect)
        self._by_parts: dict[tuple[str, ...], list[DbtNode]] = defaultdict(list)
        self._columns: dict[str, dict[str, str]] = {}
        # Stored name -> normalised: a project repeats its column names (id, created_at) across thousands of
        # models, and a model's columns are normalised on the query that first reads it.
        self._normalised: dict[str, str] = {}
        for node in index.nodes():
            database, schema, name = (
                self.normalise(p) for p in (node.database, node.schema, node.identifier)
            )
            self._by_parts[(name,)].append(node)
            if schema:
                self._by_parts[(schema, name)].append(node)
                if database:
                    self._by_parts[(database, schema, name)].append(node)

    def columns(self, node: DbtNode) -> dict[str, str]:
        """The node's columns, normalised, with their types; worked out once per node."""
        found = self._columns.get(node.unique_id)
        if found is None:
            found = {self.normalise(column.name): column.data_type or "TEXT" for column in node.columns}
            self._columns[node.unique_id] = found
        return found

    def normalise(self, part: str | None) -> str:
        """A stored name as the dialect compares it: quoted, so only case-insensitive dialects fold it."""
        if not part:
            return ""
        found = self._normalised.get(part)
        if found is None:
            found = self._dialect.normalize_identifier(exp.to_identifier(part, quoted=True)).name
            self._normalised[part] = found
        return found

    def find(self, table: exp.Table) -> tuple[DbtNode | None, str]:
        """The node `table` names (after normalize_identifiers), or None with why not."""
        parts = tuple(p.name for p in (table.args.get("catalog"), table.args.get("db"), table.this) if p)
        if not parts or not all(parts):
            return None, "a relation without a plain name"
        found = self._by_parts.get(parts, [])
        if len(found) == 1:
            return found[0], ""
        if len(found) > 1:
            return None, f"{'.'.join(parts)} is ambiguous: write its schema too"
        return None, f"{'.'.join(parts)} is not a model or source of the dbt project"
