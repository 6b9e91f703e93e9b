"""search_models: rank the project's models for a question."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.dbt.nodes import DbtNode
from tools.registry import Tool, ToolContext, ToolOutput


class SearchModelsInput(BaseModel):
    """Find the dbt models (and sources) most likely to answer a question."""

    query: str = Field(
        description="The question or keywords, e.g. 'revenue by day' or 'customers who churned'.",
        min_length=1,
    )
    limit: int = Field(8, ge=1, le=25, description="How many models to return.")


def key_columns(node: DbtNode, limit: int = 6) -> list[str]:
    """Unique keys first, then time columns, then other documented columns."""
    chosen = list(node.unique_keys)
    chosen += [c for c in node.time_columns() if c not in chosen]
    chosen += [c.name for c in node.columns if c.description and c.name not in chosen]
    return chosen[:limit]


def _one_line(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def search_models(context: ToolContext, arguments: SearchModelsInput) -> ToolOutput:
    hits = context.dbt.search(arguments.query, arguments.limit)
    if not hits:
        message = f"No models match {arguments.query!r}. Try other words, or broader ones."
        return ToolOutput(content=message, summary=message)
    lines = []
    for hit in hits:
        node = hit.node
        description = _one_line(node.description) or "(no description)"
        lines.append(
            f"- {node.name} [{node.resource_type}] {description}\n"
            f"  relation: {node.relation_name or node.identifier}; key columns: {', '.join(key_columns(node))}"
        )
    names = ", ".join(hit.node.name for hit in hits[:3])
    return ToolOutput(
        content=f"Models for {arguments.query!r}, best first:\n" + "\n".join(lines),
        summary=f"{len(hits)} models found ({names}…)" if len(hits) > 3 else f"found {names}",
    )


TOOL = Tool(
    name="search_models",
    description=(
        "Search the dbt project for models and sources relevant to a question. Returns ranked models with a "
        "one-line description, the relation to query and key columns. Call this before writing SQL."
    ),
    input_model=SearchModelsInput,
    run=search_models,
    status=lambda _: "is searching models…",
)
