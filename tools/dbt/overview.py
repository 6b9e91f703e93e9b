"""What the system prompt says about the project, sized to the project: a small one is listed nearly whole;
a large one by its areas (folders) and a few main models, so the prompt stays small and search does the rest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from tools.dbt.nodes import DbtMetric, DbtNode, DbtSavedQuery

_LARGE = 200
_MEDIUM = 60
_AREAS = 12
_WARNINGS = 3


@dataclass(frozen=True)
class ProjectOverview:
    """Counts, main marts and key metrics, and for a large project its areas: the system prompt's view."""

    project_name: str
    adapter_type: str
    counts: dict[str, int]
    main_marts: list[DbtNode]
    metrics: list[DbtMetric]
    warnings: list[str]
    saved_queries: list[DbtSavedQuery] | None = None
    glossary: str = ""
    areas: list[tuple[str, int]] = field(default_factory=list)
    all_metrics: int = 0

    def to_prompt_text(self) -> str:
        counts = ", ".join(f"{count} {kind}s" for kind, count in sorted(self.counts.items()))
        lines = [f"Project {self.project_name} on {self.adapter_type}: {counts}."]
        large = sum(self.counts.values()) > _LARGE
        if self.areas:
            lines.append("Areas (folder: models): " + ", ".join(f"{a} {n}" for a, n in self.areas) + ".")
        if self.main_marts:
            limit = 70 if large else 110
            lines.append("Main models:")
            lines += [f"- {n.name}: {first_sentence(n.description, limit)}" for n in self.main_marts]
        if self.metrics and large:
            more = self.all_metrics - len(self.metrics)
            names = ", ".join(m.name for m in self.metrics) + (f" and {more} more" if more > 0 else "")
            lines.append(f"Metrics: {names}.")
        elif self.metrics:
            lines.append("Metrics:")
            lines += [f"- {m.name} ({m.definition}): {first_sentence(m.description)}" for m in self.metrics]
        if self.saved_queries:
            lines.append(f"Saved queries: {', '.join(q.name for q in self.saved_queries)}.")
        if large:
            lines.append(
                "The project is large: find models with search_models (it returns the tables a question needs "
                "together and how they join) rather than from this list."
            )
        if self.glossary:
            lines.append(self.glossary)
        lines += [f"Note: {warning}" for warning in self.warnings[:_WARNINGS]]
        if len(self.warnings) > _WARNINGS:
            lines.append(f"Note: {len(self.warnings) - _WARNINGS} more warnings in the logs.")
        return "\n".join(lines)


def first_sentence(text: str, limit: int = 110) -> str:
    sentence = " ".join(text.split()).split(". ")[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def main_model_count(models: int) -> int:
    """How many main models the prompt lists: fewer, shorter lines as the project grows."""
    if models > _LARGE:
        return 8
    return 10 if models > _MEDIUM else 12


def areas(nodes: Sequence[DbtNode]) -> list[tuple[str, int]]:
    """The largest folders of the project's models (models/marts/finance -> marts/finance), for large projects."""
    models = [n for n in nodes if n.resource_type == "model"]
    if len(models) <= _MEDIUM:
        return []
    folders = Counter(_folder(node.path) for node in models)
    return [(folder, count) for folder, count in folders.most_common(_AREAS) if folder]


def _folder(path: str) -> str:
    parts = path.replace("\\", "/").split("/")[:-1]
    if parts and parts[0] == "models":
        parts = parts[1:]
    return "/".join(parts[:2])
