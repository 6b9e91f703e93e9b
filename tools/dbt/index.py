"""The in-memory index of a dbt project: nodes, lineage, semantic layer, glossary and search; reloaded when the
manifest or the glossary file changes."""

from __future__ import annotations

import copy
import difflib
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tools.dbt.artifacts import DbtArtifacts, manifest_path, read_artifacts
from tools.dbt.building import build_nodes
from tools.dbt.collector import collector_paused
from tools.dbt.entities import entity_keys
from tools.dbt.nodes import DbtMetric, DbtNode, DbtSavedQuery, Relation
from tools.dbt.overview import ProjectOverview, areas, main_model_count
from tools.dbt.search import NodeSearch, SearchHit, SemanticHit, SemanticSearch, layer
from tools.dbt.semantic import build_metrics, build_saved_queries
from tools.dbt.values import TopValues, profile_top_values
from tools.errors import BlueprintError, DbtArtifactError, ToolInputError
from tools.glossary import Glossary, GlossaryEntry, GlossaryError, GlossarySource
from tools.glossary.guarding import guard_glossary
from tools.profiling.stored import ProfileSnapshot
from tools.schema_check import KnownTable

_PROMPT_METRICS = 10
_PROMPT_SAVED_QUERIES = 8
_PROMPT_GLOSSARY_CHARS = 2_000
# What a glossary term adds to the models it points at: as much as naming the model outright.
_GLOSSARY_BONUS = 5.0
# How often the store is asked whether a profile was saved (then its top values are read again): `sync` may
# run in another process.
_PROFILES_EVERY_SECONDS = 60.0
logger = logging.getLogger(__name__)


class DbtIndex:
    """Everything BlueprintData knows about one dbt project; immutable once built."""

    def __init__(self, artifacts: DbtArtifacts, top_values: TopValues | None = None) -> None:
        metadata = artifacts.manifest.get("metadata") or {}
        self.project_name: str = metadata.get("project_name") or "dbt project"
        self.adapter_type: str = metadata.get("adapter_type") or "duckdb"
        self.warnings: list[str] = list(artifacts.warnings)
        self._nodes = build_nodes(artifacts)
        self._metrics = build_metrics(artifacts)
        self._saved_queries = build_saved_queries(artifacts)
        self.glossary = Glossary()
        # Glossary entry name -> the node names and the dbt metric it points at; set by with_glossary.
        self._glossary_nodes: dict[str, tuple[str, ...]] = {}
        self._glossary_metrics: dict[str, str] = {}
        self._by_key: dict[str, DbtNode] = {}
        for node in self._nodes:
            for key in (node.unique_id, node.name, node.relation_name or "", node.identifier):
                if key:
                    self._by_key.setdefault(key.lower().replace('"', "").replace("`", ""), node)
        self._by_id = {node.unique_id: node for node in self._nodes}
        self._children: dict[str, list[str]] = defaultdict(list)
        for node in self._nodes:
            for parent in node.depends_on:
                self._children[parent].append(node.unique_id)
        self._search = NodeSearch(self._nodes, top_values, entity_keys(artifacts))
        catalog = artifacts.catalog or {}
        # Only a catalog (the warehouse's own listing) says which columns a relation has, all of them.
        self._cataloged = {uid for section in ("nodes", "sources") for uid in catalog.get(section) or {}}
        self._semantic_search = SemanticSearch([*self._metrics, *self._saved_queries])

    def nodes(self) -> list[DbtNode]:
        return list(self._nodes)

    def find(self, name: str) -> DbtNode | None:
        """A node by name, unique id or relation name, ignoring case and quotes."""
        return self._by_key.get(name.strip().lower().replace('"', "").replace("`", ""))

    def resolve(self, name: str) -> DbtNode:
        """A node by name; ToolInputError with close names when there is none."""
        node = self.find(name)
        if node is not None:
            return node
        names = [n.name for n in self._nodes]
        close = difflib.get_close_matches(name.lower(), names, n=4, cutoff=0.5)
        close += [n for n in names if name.lower() in n.lower() and n not in close][:3]
        hint = f" Did you mean: {', '.join(close)}?" if close else " Use search_models to find models."
        raise ToolInputError(f"No model named {name!r}.{hint}")

    def upstream(self, node: DbtNode) -> list[DbtNode]:
        return [self._by_id[uid] for uid in node.depends_on if uid in self._by_id]

    def downstream(self, node: DbtNode) -> list[DbtNode]:
        return [self._by_id[uid] for uid in self._children.get(node.unique_id, []) if uid in self._by_id]

    def metrics(self) -> list[DbtMetric]:
        return list(self._metrics)

    def find_metric(self, name: str) -> DbtMetric | None:
        lowered = name.strip().lower()
        return next((m for m in self._metrics if m.name.lower() == lowered), None)

    def saved_queries(self) -> list[DbtSavedQuery]:
        return list(self._saved_queries)

    def find_saved_query(self, name: str) -> DbtSavedQuery | None:
        lowered = name.strip().lower()
        return next((q for q in self._saved_queries if q.name.lower() == lowered), None)

    def with_values(self, top_values: TopValues | None) -> DbtIndex:
        """This index, its search knowing these top values (stored profiles); the rest is shared, not rebuilt."""
        view = copy.copy(self)
        view._search = self._search.with_values(top_values)
        return view

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """Nodes for a question; the models a glossary term in it points at rank higher and carry the term."""
        matched = self.glossary.match(query)
        pointed = {entry.name: self._glossary_nodes.get(entry.name, ()) for entry in matched}
        boosts = {name.lower(): _GLOSSARY_BONUS for names in pointed.values() for name in names}
        hits = self._search.search(query, limit, boosts)
        return [
            replace(hit, glossary=tuple(e for e in matched if hit.node.name in pointed[e.name]))
            for hit in hits
        ]

    def search_semantic(self, query: str, limit: int = 5) -> list[SemanticHit]:
        """Metrics and saved queries for a question; a glossary entry naming a dbt metric ranks it higher."""
        matched = self.glossary.match(query)
        pointed = {entry.name: self._glossary_metrics.get(entry.name) for entry in matched}
        boosts = {name.lower(): _GLOSSARY_BONUS for name in pointed.values() if name}
        hits = self._semantic_search.search(query, limit, boosts)
        return [
            replace(hit, glossary=tuple(e for e in matched if pointed[e.name] == hit.item.name))
            for hit in hits
        ]

    def glossary_matches(self, query: str) -> list[GlossaryEntry]:
        return self.glossary.match(query)

    def glossary_models(self, entry: GlossaryEntry) -> tuple[str, ...]:
        """The models a glossary entry points at: named in it, read by its SQL, or under its dbt metric."""
        return self._glossary_nodes.get(entry.name, ())

    def with_glossary(
        self, glossary: Glossary, *, strict: bool = True, allowed_functions: frozenset[str] = frozenset()
    ) -> DbtIndex:
        """This index, also knowing the team's glossary (a shallow copy: the glossary reloads on its own).

        Names of models and dbt metrics the glossary uses must exist: strict raises GlossaryError naming each
        unknown one; otherwise they are left out and reported as warnings. Metrics whose SQL the guard refuses
        in this project's dialect (with the user's `allowed_functions`) are left out with a warning, strict or
        not: one bad metric must not stop the rest.
        """
        guarded = guard_glossary(glossary, self.sql_dialect(), allowed_functions)
        glossary = guarded.glossary
        nodes: dict[str, tuple[str, ...]] = {}
        metrics: dict[str, str] = {}
        problems: list[str] = []
        for entry in glossary.entries:
            found = []
            for name in entry.models:
                node = self.find(name)
                if node is None:
                    problems.append(
                        f"{entry.location} {entry.name!r} names model {name!r}, which {self._missing(name)}"
                    )
                else:
                    found.append(node.name)
            # Tables in a SQL definition may be outside dbt (or CTEs sqlglot took for tables): no error.
            found += [node.name for table in entry.tables if (node := self._find_table(table)) is not None]
            if entry.dbt_metric:
                metric = self.find_metric(entry.dbt_metric)
                if metric is None:
                    known = ", ".join(m.name for m in self._metrics) or "none"
                    problems.append(
                        f"{entry.location} {entry.name!r} refers to dbt metric {entry.dbt_metric!r}, which the "
                        f"project does not define (its metrics: {known})"
                    )
                else:
                    metrics[entry.name] = metric.name
                    if metric.model and (node := self.find(metric.model)) is not None:
                        found.append(node.name)
            nodes[entry.name] = tuple(dict.fromkeys(found))
        if problems and strict:
            raise GlossaryError(f"Glossary file {glossary.path}: " + "; ".join(problems) + ".")
        view = copy.copy(self)
        view.glossary = glossary
        view._glossary_nodes = nodes
        view._glossary_metrics = metrics
        view.warnings = self.warnings + [
            f"glossary {glossary.path}: {problem}" for problem in [*guarded.problems, *problems]
        ]
        return view

    def sql_dialect(self) -> str:
        """The sqlglot dialect of the project's warehouse, by its dbt adapter type (the adapter's own name when
        no dialect of ours serves it)."""
        from tools.warehouse.dialects.registry import REGISTERED  # the connectors' modules, only when asked

        served = (d.sqlglot_name for d in REGISTERED if self.adapter_type in d.dbt_adapter_types)
        return next(served, self.adapter_type)

    def _missing(self, name: str) -> str:
        close = difflib.get_close_matches(name.lower(), [n.name for n in self._nodes], n=3, cutoff=0.6)
        return "the dbt project does not have" + (f" (did you mean {', '.join(close)}?)" if close else "")

    def _find_table(self, table: str) -> DbtNode | None:
        return self.find(table) or self.find(table.rsplit(".", 1)[-1])

    def relations(self) -> list[Relation]:
        return [
            Relation(
                node.name,
                node.database,
                node.schema,
                node.identifier,
                {c.name: c.data_type or "" for c in node.columns},
            )
            for node in self._nodes
        ]

    def known_tables(self) -> list[KnownTable]:
        """Every relation for checking a query's names: its columns when the catalog lists them (otherwise
        none, so they are not checked), their descriptions, and its connected part of the project."""
        part = self._search.graph.part
        return [
            KnownTable(
                name=node.name,
                database=node.database,
                schema=node.schema,
                identifier=node.identifier,
                columns=tuple(c.name for c in node.columns) if node.unique_id in self._cataloged else (),
                descriptions={c.name: c.description for c in node.columns if c.description},
                part=str(part[position]),
            )
            for position, node in enumerate(self._nodes)
        ]

    def overview(self) -> ProjectOverview:
        counts = Counter(node.resource_type for node in self._nodes)
        if self._metrics:
            counts["metric"] = len(self._metrics)
        return ProjectOverview(
            self.project_name,
            self.adapter_type,
            dict(counts),
            self._main_marts(),
            self._metrics[:_PROMPT_METRICS],
            self.warnings,
            self._saved_queries[:_PROMPT_SAVED_QUERIES],
            self.glossary.prompt_text(_PROMPT_GLOSSARY_CHARS),
            areas(self._nodes),
            len(self._metrics),
        )

    def _main_marts(self) -> list[DbtNode]:
        """Models that look like marts, the most used first; they are where most answers come from."""
        models = [n for n in self._nodes if n.resource_type == "model"]
        marts = [n for n in models if layer(n) == "mart"] or models
        marts.sort(key=lambda n: (-len(self._children.get(n.unique_id, [])), -len(n.description), n.name))
        return marts[: main_model_count(len(models))]


def load_index(project_dir: Path) -> DbtIndex:
    """Read the project's artifacts and index them."""
    with collector_paused():
        return DbtIndex(read_artifacts(project_dir))


class DbtIndexProvider:
    """The current index of a project, with its glossary and the top values of stored profiles; reloaded when
    manifest.json or the glossary file changes, its values when the stored profiles do; safe across threads."""

    def __init__(
        self,
        project_dir: Path,
        glossary: GlossarySource | None = None,
        load: Callable[[Path], DbtIndex] = load_index,
        allowed_functions: frozenset[str] = frozenset(),
        profiles: ProfileSnapshot | None = None,
        profiles_every_seconds: float = _PROFILES_EVERY_SECONDS,
    ) -> None:
        """`load` builds the index of a project dir: load_index, or index_cache's cached loader. `profiles`
        (the store's) are read at the first call; at most every `profiles_every_seconds` after that their
        changes token is asked, and they are read again only when it changed.

        `allowed_functions` (BLUEPRINTDATA_ALLOWED_FUNCTIONS) are allowed in the glossary's metric SQL too.
        """
        self._project_dir = project_dir
        self._allowed_functions = allowed_functions
        self._load = load
        self._glossary_source = glossary
        self._profiles = profiles
        self._profiles_every = profiles_every_seconds
        self._profiles_read_at: float | None = None
        self._profiles_token: str | None = None
        self._top_values: dict[tuple[str, str], list[object]] = {}
        self._valued: DbtIndex | None = None
        self._profiles_lock = threading.Lock()
        self._lock = threading.Lock()
        self._base: DbtIndex | None = None
        self._index: DbtIndex | None = None
        self._stamp: tuple[int, int] | None = None
        self._glossary: Glossary | None = None

    def current(self) -> DbtIndex:
        path = manifest_path(self._project_dir)
        try:
            stat = path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        # Read outside the index's lock: other threads keep answering while the store is asked.
        top_values = self._due_top_values()
        with self._lock:
            first = self._index is None
            if self._base is None or stamp != self._stamp:
                # A broken new manifest keeps the last good index: a half-written file must not stop answers.
                try:
                    self._base = self._load(self._project_dir)
                    self._index = self._valued = None
                except DbtArtifactError:
                    if self._base is None:
                        raise
                self._stamp = stamp
            if top_values is not None and top_values != self._top_values:
                self._top_values, self._valued = top_values, None
            if self._valued is None:
                self._valued = self._base.with_values(self._top_values) if self._top_values else self._base
                self._index = None
            glossary = self._glossary_source.current() if self._glossary_source else None
            if self._index is None or glossary is not self._glossary:
                self._index = self._link(
                    self._valued, glossary, strict=first, allowed=self._allowed_functions
                )
                self._glossary = glossary
            return self._index

    def _due_top_values(self) -> dict[tuple[str, str], list[object]] | None:
        """The stored profiles' top values when a read is due and a profile was saved since the last one (one
        thread reads, the others go on), else None. None too when the store cannot be read: values make search
        better, their absence must not stop answers."""
        if self._profiles is None:
            return None
        with self._profiles_lock:
            now = time.monotonic()
            if self._profiles_read_at is not None and now - self._profiles_read_at < self._profiles_every:
                return None
            self._profiles_read_at = now
        try:
            # Asked before reading: a profile saved in between changes the token again, so it is not missed.
            token = self._profiles.changes_token()
            if token is not None and token == self._profiles_token:
                return None  # Nothing saved since: the values in hand are current.
            top_values = profile_top_values(self._profiles.all())
        except BlueprintError as exc:
            logger.warning("Search keeps its column values: the stored profiles cannot be read (%s).", exc)
            return None
        self._profiles_token = token
        return top_values

    @staticmethod
    def _link(
        base: DbtIndex, glossary: Glossary | None, *, strict: bool, allowed: frozenset[str]
    ) -> DbtIndex:
        """The index with its glossary: at start an unknown name fails; later it is a warning, not an outage."""
        if glossary is None:
            return base
        index = base.with_glossary(glossary, strict=strict, allowed_functions=allowed)
        for warning in index.warnings[len(base.warnings) :]:
            logger.warning("%s", warning)
        return index
