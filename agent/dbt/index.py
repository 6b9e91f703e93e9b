"""The in-memory index of a dbt project: nodes, lineage, metrics and search; reloaded when the manifest changes."""

from __future__ import annotations

import difflib
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from agent.dbt.artifacts import DbtArtifacts, manifest_path, read_artifacts
from agent.dbt.building import build_metrics, build_nodes
from agent.dbt.nodes import DbtMetric, DbtNode, Relation
from agent.dbt.search import NodeSearch, SearchHit, layer
from agent.errors import DbtArtifactError
from tools.errors import ToolInputError

_PROMPT_MARTS = 12
_PROMPT_METRICS = 10


@dataclass(frozen=True)
class ProjectOverview:
    """Counts, main marts and key metrics: what the system prompt says about the project."""

    project_name: str
    adapter_type: str
    counts: dict[str, int]
    main_marts: list[DbtNode]
    metrics: list[DbtMetric]
    warnings: list[str]

    def to_prompt_text(self) -> str:
        counts = ", ".join(f"{count} {kind}s" for kind, count in sorted(self.counts.items()))
        lines = [f"Project {self.project_name} on {self.adapter_type}: {counts}."]
        if self.main_marts:
            lines.append("Main models:")
            lines += [f"- {node.name}: {_first_sentence(node.description)}" for node in self.main_marts]
        if self.metrics:
            lines.append("Metrics:")
            lines += [f"- {m.name} ({m.definition}): {_first_sentence(m.description)}" for m in self.metrics]
        lines += [f"Note: {warning}" for warning in self.warnings]
        return "\n".join(lines)


def _first_sentence(text: str, limit: int = 110) -> str:
    sentence = " ".join(text.split()).split(". ")[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


class DbtIndex:
    """Everything BlueprintData knows about one dbt project; immutable once built."""

    def __init__(self, artifacts: DbtArtifacts) -> None:
        metadata = artifacts.manifest.get("metadata") or {}
        self.project_name: str = metadata.get("project_name") or "dbt project"
        self.adapter_type: str = metadata.get("adapter_type") or "duckdb"
        self.warnings: list[str] = list(artifacts.warnings)
        self._nodes = build_nodes(artifacts)
        self._metrics = build_metrics(artifacts)
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
        self._search = NodeSearch(self._nodes)

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

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        return self._search.search(query, limit)

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
        )

    def _main_marts(self) -> list[DbtNode]:
        """Models that look like marts, the most used first; they are where most answers come from."""
        models = [n for n in self._nodes if n.resource_type == "model"]
        marts = [n for n in models if layer(n) == "mart"] or models
        marts.sort(key=lambda n: (-len(self._children.get(n.unique_id, [])), -len(n.description), n.name))
        return marts[:_PROMPT_MARTS]


def load_index(project_dir: Path) -> DbtIndex:
    """Read the project's artifacts and index them."""
    return DbtIndex(read_artifacts(project_dir))


class DbtIndexProvider:
    """The current index of a project, reloaded when manifest.json changes; safe across threads."""

    def __init__(self, project_dir: Path) -> None:
        self._project_dir = project_dir
        self._lock = threading.Lock()
        self._index: DbtIndex | None = None
        self._stamp: tuple[int, int] | None = None

    def current(self) -> DbtIndex:
        path = manifest_path(self._project_dir)
        try:
            stat = path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if self._index is None or stamp != self._stamp:
                # A broken new manifest keeps the last good index: a half-written file must not stop answers.
                try:
                    self._index = load_index(self._project_dir)
                except DbtArtifactError:
                    if self._index is None:
                        raise
                self._stamp = stamp
            return self._index
