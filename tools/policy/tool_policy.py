"""The policy as tools see it: which models exist for the asker, what columns they have, and checked SQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tools.dbt.index import DbtIndex
from tools.dbt.nodes import DbtNode, Relation
from tools.errors import ToolInputError
from tools.policy.access import Access
from tools.policy.enforcement import EnforcedQuery, PolicyRefused, enforce
from tools.policy.relations import RelationLookup
from tools.schema_check import KnownTable


@dataclass(frozen=True)
class PolicyDecision:
    """One thing the policy decided during a turn, for the audit record."""

    outcome: str  # allowed, refused, filtered
    subject: str
    detail: str = ""


@dataclass
class ToolPolicy:
    """One asker's access over one index; every tool consults it through ToolContext."""

    access: Access
    index: DbtIndex
    decisions: list[PolicyDecision] = field(default_factory=list)
    # Called before a query runs with a way to estimate its bytes (None where the warehouse cannot tell; called
    # only when a byte budget needs it, as BigQuery's dry run is a request); raises when a budget is spent. Set
    # by the agent, which keeps the budgets.
    before_query: Callable[[Callable[[], int | None]], None] | None = None
    _lookups: dict[str, RelationLookup] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _last: tuple[str, str, EnforcedQuery] | None = field(default=None, repr=False)

    def allows(self, node: DbtNode) -> bool:
        return self.access.allows(node)

    def visible(self, node: DbtNode) -> DbtNode:
        """The node with the columns the asker may not see taken out."""
        return self.access.visible_node(node)

    def visible_relations(self, relations: list[Relation]) -> list[Relation]:
        """The relations the asker may read, with only their visible columns (for hints about misspelt names)."""
        visible = []
        for relation in relations:
            node = self.index.find(relation.node_name)
            if node is None or not self.allows(node):
                continue
            hidden = self.access.hidden_columns(node)
            columns = {name: kind for name, kind in relation.columns.items() if name.lower() not in hidden}
            visible.append(replace(relation, columns=columns))
        return visible

    def visible_known_tables(self, known: list[KnownTable]) -> list[KnownTable]:
        """The tables the asker may read, with only their visible columns (for the name check's suggestions)."""
        visible = []
        for table in known:
            node = self.index.find(table.name)
            if node is None or not self.allows(node):
                continue
            hidden = self.access.hidden_columns(node)
            columns = tuple(name for name in table.columns if name.lower() not in hidden)
            visible.append(replace(table, columns=columns))
        return visible

    def require(self, node: DbtNode) -> DbtNode:
        """The visible node, or ToolInputError saying it is not allowed (the model's request, not our fault)."""
        if not self.allows(node):
            refusal = self.access.refusal_for(node)
            self.decisions.append(PolicyDecision("refused", node.name, refusal))
            raise ToolInputError(refusal)
        return self.visible(node)

    def refuse_hidden(self, sql: str, dialect: str) -> None:
        """ToolInputError when `sql` names something the asker may not read; other problems are left to hints."""
        try:
            self._enforced(sql, dialect)
        except PolicyRefused as exc:
            if exc.names_hidden:
                self.decisions.append(PolicyDecision("refused", "sql", exc.message))
                raise ToolInputError(exc.message, sql=sql) from None

    def enforce_sql(self, sql: str, dialect: str) -> str:
        """The SQL to run in its place (stars expanded, row filters in); ToolInputError naming what is refused."""
        try:
            enforced = self._enforced(sql, dialect)
        except PolicyRefused as exc:
            self.decisions.append(PolicyDecision("refused", "sql", exc.message))
            raise ToolInputError(exc.message, sql=sql) from None
        if enforced.filtered:
            detail = f"row filters on {', '.join(enforced.filtered)}; ran: {enforced.sql[:2000]}"
            self.decisions.append(PolicyDecision("filtered", "sql", detail))
        else:
            self.decisions.append(PolicyDecision("allowed", "sql"))
        return enforced.sql

    def _enforced(self, sql: str, dialect: str) -> EnforcedQuery:
        # The last statement is kept: run_query checks a statement, then the warehouse runs the same one.
        if self._last is not None and self._last[:2] == (sql, dialect):
            return self._last[2]
        enforced = enforce(sql, dialect, self.access, self.index, self._lookup(dialect))
        self._last = (sql, dialect, enforced)
        return enforced

    def _lookup(self, dialect: str) -> RelationLookup:
        with self._lock:
            if dialect not in self._lookups:
                self._lookups[dialect] = RelationLookup(self.index, dialect)
            return self._lookups[dialect]
