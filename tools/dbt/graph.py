"""The project as a graph: models joined by relationships tests, refs, shared key columns and semantic-model
entities; its connected parts; and the shortest join path between two models (the bridge tables)."""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tools.dbt.nodes import DbtColumn, DbtNode
from tools.dbt.tokenize import stem, tokens
from tools.dbt.values import column_is_sensitive

# Column names that say "a key" when shared by two models of the same schema.
_KEY_SUFFIXES = ("id", "key", "code", "_no", "_number", "_name")
_GENERIC_KEYS = frozenset({"id", "key", "code", "name", "number", "no"})
# A key shared by more models than this is a catch-all (tenant_id, loaded_at): joining on it says nothing.
_MAX_KEY_SPREAD = 25
_MAX_PATH = 3
_MIN_ROLE_KEY = 5
_MIN_PREFIXED = 3
_PREFIX_SHARE = 0.75
# A model's own key, named for its entity: airport_code in airport, customer_id in customers.
_ENTITY_KEY_SUFFIXES = ("_code", "_id", "_key", "id", "code")
_MIN_ENTITY = 4
_FLAG_PREFIXES = ("is_", "has_", "was_", "did_", "can_", "should_")
_FLAG_TYPES = ("bool",)


@dataclass(frozen=True)
class JoinEdge:
    """How two models join: `left`.`left_column` = `right`.`right_column` (columns empty: a ref, no key known)."""

    left: int
    right: int
    left_column: str
    right_column: str
    reason: str

    def other(self, position: int) -> int:
        return self.right if position == self.left else self.left

    def columns_from(self, position: int) -> tuple[str, str]:
        """(this side's column, the other side's column), seen from `position`."""
        if position == self.left:
            return self.left_column, self.right_column
        return self.right_column, self.left_column


class ProjectGraph:
    """Join edges between nodes (by position), their connected parts and shortest join paths."""

    def __init__(self, nodes: Sequence[DbtNode], entity_keys: dict[str, list[tuple[str, str]]] | None = None):
        self._nodes = list(nodes)
        self._edges: dict[int, dict[int, JoinEdge]] = defaultdict(dict)
        by_name: dict[str, list[int]] = defaultdict(list)
        by_id = {node.unique_id: position for position, node in enumerate(self._nodes)}
        for position, node in enumerate(self._nodes):
            by_name[node.name.lower()].append(position)
        for position, node in enumerate(self._nodes):
            for join in node.joins:
                for target in self._nearest(by_name.get(join.to_node.lower(), []), node):
                    self._add(JoinEdge(position, target, join.column, join.to_column, "relationships test"))
        # Each node's lower-case column names, once: a large project has hundreds of thousands.
        lowered = [[c.name.lower() for c in node.columns] for node in self._nodes]
        self._add_key_columns(lowered)
        for position, node in enumerate(self._nodes):
            for parent in node.depends_on:
                if (parent_position := by_id.get(parent)) is not None:
                    shared = _shared_key(lowered[position], lowered[parent_position])
                    self._add(JoinEdge(position, parent_position, shared, shared, "ref"))
        for entity, members in (entity_keys or {}).items():
            self._add_entity(entity, members, by_name)
        self.part = self._parts()

    def neighbours(self, position: int) -> dict[int, JoinEdge]:
        return self._edges.get(position, {})

    def edge(self, left: int, right: int) -> JoinEdge | None:
        return self._edges.get(left, {}).get(right)

    def is_link(self, position: int) -> bool:
        """A link table (writes: aid, pid): every column a key; it answers nothing alone, its neighbours do."""
        columns = self._nodes[position].columns
        return bool(columns) and all(c.name.lower().endswith(("id", "key")) for c in columns)

    def path(self, start: int, goal: int, rank: Callable[[int], float] | None = None) -> list[int]:
        """The nodes strictly between start and goal on a shortest join path (at most 3 hops), or [] if none;
        of several shortest paths, the one through the nodes of least `rank` first (by position without)."""
        if start == goal or self.edge(start, goal):
            return []
        previous: dict[int, int] = {start: start}
        frontier = deque([(start, 0)])
        while frontier:
            current, depth = frontier.popleft()
            if depth == _MAX_PATH:
                continue
            for neighbour in sorted(self.neighbours(current), key=lambda p: (rank(p) if rank else 0.0, p)):
                if neighbour in previous:
                    continue
                previous[neighbour] = current
                if neighbour == goal:
                    between = []
                    step = previous[goal]
                    while step != start:
                        between.append(step)
                        step = previous[step]
                    return between[::-1]
                frontier.append((neighbour, depth + 1))
        return []

    def _add(self, edge: JoinEdge) -> None:
        if edge.left == edge.right:
            return
        known = self._edges[edge.left].get(edge.right)
        # A declared join (a test, an entity) beats an inferred one; a keyed join beats a bare ref.
        if known is None or (not known.left_column and edge.left_column):
            self._edges[edge.left][edge.right] = edge
            self._edges[edge.right][edge.left] = edge

    def _nearest(self, candidates: list[int], node: DbtNode) -> list[int]:
        """Of same-named models, those in the node's schema (a pooled project repeats names across schemas)."""
        same = [c for c in candidates if self._nodes[c].schema == node.schema]
        return same or candidates[:1]

    def _add_key_columns(self, lowered: list[list[str]]) -> None:
        """Models of one schema sharing a key-like column (`aid`, `customer_id`), or `x_id` against model x's
        `id`, join on it."""
        by_schema: dict[str | None, list[int]] = defaultdict(list)
        for position, node in enumerate(self._nodes):
            by_schema[node.schema].append(position)
        prefixes = schema_prefixes(self._nodes)
        for schema, members in by_schema.items():
            prefix = next(iter(prefixes.get(schema, ())), "")
            holders: dict[str, list[int]] = defaultdict(list)
            entity_models: dict[str, list[int]] = defaultdict(list)
            for position in members:
                node = self._nodes[position]
                keys = {
                    name
                    for c, name in zip(node.columns, lowered[position], strict=True)
                    if name.endswith(_KEY_SUFFIXES)
                    and name not in _GENERIC_KEYS
                    and not column_is_sensitive(c, node.name)
                }
                # In order: which of two keys joins a pair first must not depend on the process's string hashing.
                for column in sorted(keys):
                    holders[column].append(position)
                entity_models[_entity_of(node.name)].append(position)
            self._add_entity_columns(members, lowered, entity_models)
            spread = Counter({column: len(found) for column, found in holders.items()})
            for column, found in holders.items():
                if spread[column] > _MAX_KEY_SPREAD:
                    continue
                for left in found:
                    for right in found:
                        if left < right:
                            self._add(JoinEdge(left, right, column, column, "shared key column"))
                for target in self._id_owners(column, entity_models):
                    for left in found:
                        self._add(JoinEdge(left, target, column, "id", "key column naming the model"))
                for key, target in self._role_keys(column, holders, prefix):
                    for left in found:
                        self._add(JoinEdge(left, target, column, key, "key column with a role prefix"))

    def _add_entity_columns(
        self, members: list[int], lowered: list[list[str]], entity_models: dict[str, list[int]]
    ) -> None:
        """A column named for a role and a model of the schema (from_airport, main_airline) holds that model's
        key (airport_code, airline_code): they join on it, though the names share no key column."""
        keys: dict[str, list[tuple[int, str]]] = {}
        for entity, models in entity_models.items():
            if len(entity) < _MIN_ENTITY:
                continue
            owned = [
                (p, column)
                for p in models
                for column in lowered[p]
                if column in {entity + suffix for suffix in _ENTITY_KEY_SUFFIXES}
            ]
            if owned:
                keys[entity] = owned
        for position in members:
            for column, name in zip(self._nodes[position].columns, lowered[position], strict=True):
                role, _, last = name.rpartition("_")
                targets = keys.get(stem(last), []) if role else []
                # A plural (new_customers) counts a model's rows, a flag (is_first_order) says yes or no: neither
                # holds its key.
                plural = last.endswith("s") and stem(last) != last
                if (
                    not targets
                    or plural
                    or _is_flag(column)
                    or column_is_sensitive(column, self._nodes[position].name)
                ):
                    continue
                for target, key in targets:
                    if target != position:
                        self._add(JoinEdge(position, target, name, key, "column naming a model"))

    def _role_keys(self, column: str, holders: dict[str, list[int]], prefix: str) -> list[tuple[str, int]]:
        """A key with a role before it (citedpaperid, manager_employee_id; sbTxCustId beside sbCustId when a
        schema prefixes every name with sb) joins the model whose own key it ends with (paperid in paper):
        the models holding that key and named after its entity."""
        bare = column[len(prefix) :] if prefix and column.startswith(prefix) else column
        found = []
        for start in range(1, len(bare) - _MIN_ROLE_KEY + 2):
            ending = bare[start:]
            for key in (ending, prefix + ending) if prefix else (ending,):
                if key == column or key not in holders:
                    continue
                found += [(key, p) for p in holders[key] if _names_entity(self._nodes[p].name, key)]
            if found:
                break
        return found

    def _id_owners(self, column: str, entity_models: dict[str, list[int]]) -> list[int]:
        """Models named after the entity an `x_id` column points at, which have an `id` column."""
        if not column.endswith("_id"):
            return []
        entity = stem(column[: -len("_id")].rsplit("_", 1)[-1])
        return [p for p in entity_models.get(entity, []) if self._nodes[p].column("id") is not None]

    def _add_entity(self, entity: str, members: list[tuple[str, str]], by_name: dict[str, list[int]]) -> None:
        """Semantic models sharing an entity join on its expressions."""
        located = [(p, column) for model, column in members for p in by_name.get(model.lower(), [])[:1]]
        for left, left_column in located:
            for right, right_column in located:
                if left < right:
                    self._add(JoinEdge(left, right, left_column, right_column, f"entity {entity}"))

    def _parts(self) -> list[int]:
        """Each node's connected part (the smallest position in it): a coherent region of the project."""
        part = list(range(len(self._nodes)))
        for start in range(len(self._nodes)):
            if part[start] != start or not self._edges.get(start):
                continue
            queue = deque([start])
            while queue:
                current = queue.popleft()
                for neighbour in self._edges.get(current, {}):
                    if part[neighbour] == neighbour and neighbour != start:
                        part[neighbour] = start
                        queue.append(neighbour)
        return part


def _shared_key(left_columns: list[str], right_columns: list[str]) -> str:
    """The first key-like column (lower case) two models share, or "" if none."""
    left = set(left_columns)
    return next((c for c in right_columns if c in left and c.endswith(_KEY_SUFFIXES)), "")


def _names_entity(model: str, key: str) -> bool:
    """Whether a key column names the model's entity, whole or abbreviated (custid for sbCustomer)."""
    entity = _entity_of(model)
    words = tokens(model)
    candidates = {entity, entity[:4], *(stem(w) for w in words[-1:]), *(stem(w)[:4] for w in words[-1:])}
    return any(len(c) >= 3 and c in key for c in candidates)


def _entity_of(name: str) -> str:
    """The entity a model is about: dim_customers -> customer, restaurant -> restaurant."""
    return stem(name.lower().rsplit(".", 1)[-1].rsplit("_", 1)[-1])


def schema_prefixes(nodes: Sequence[DbtNode]) -> dict[str | None, set[str]]:
    """A first name word most models of a schema share (broker's sbCustomer, sbTicker): a prefix, no topic."""
    firsts: dict[str | None, list[str]] = defaultdict(list)
    for node in nodes:
        words = tokens(node.identifier)
        firsts[node.schema].append(words[0] if len(words) > 1 else "")
    prefixes: dict[str | None, set[str]] = {}
    for schema, words in firsts.items():
        common = max(set(words), key=words.count)
        if common and len(words) >= _MIN_PREFIXED and words.count(common) >= _PREFIX_SHARE * len(words):
            prefixes[schema] = {common}
    return prefixes


def _is_flag(column: DbtColumn) -> bool:
    return column.name.lower().startswith(_FLAG_PREFIXES) or (column.data_type or "").lower().startswith(
        _FLAG_TYPES
    )
