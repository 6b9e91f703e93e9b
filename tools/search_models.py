"""search_models: rank the project's models, metrics and saved queries for a question, with the glossary's words."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from tools.dbt.nodes import DbtMetric, DbtNode
from tools.dbt.search import SearchHit, SemanticHit
from tools.dbt.values import ValueMatch
from tools.direct_command import DirectCommand, whole_argument
from tools.registry import Tool, ToolContext, ToolOutput

if TYPE_CHECKING:
    from tools.dbt.index import DbtIndex
    from tools.policy import ToolPolicy

_SEMANTIC_LIMIT = 5
_JOIN_LINES = 2
_VALUE_LINES = 3


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


def _echo(query: str) -> str:
    """The question quoted back, short: whoever asked has it already (a 1 MB query was echoed whole)."""
    return repr(_one_line(query, 80))


def _node_lines(hit: SearchHit, share_values: bool) -> list[str]:
    node = hit.node
    bridge = " (bridge: joins the others)" if hit.bridge else ""
    lines = [
        f"- {node.name} [{node.resource_type}]{bridge} {_one_line(node.description) or '(no description)'}",
        f"  relation: {node.relation_name or node.identifier}; key columns: {', '.join(key_columns(node))}",
    ]
    # Which column holds a value the question names: the filter to write. Data, so only where rows may be shared.
    if hit.values and share_values:
        lines.append(f"  values: {'; '.join(str(match) for match in hit.values[:_VALUE_LINES])}")
    # How it joins the models above it; two lines are enough to write the query, more only cost tokens.
    lines += [f"  {sentence}" for sentence in hit.joins[:_JOIN_LINES]]
    return lines + [f"  glossary: {entry.name}: {_one_line(entry.text(), 300)}" for entry in hit.glossary]


def _semantic_lines(hit: SemanticHit) -> list[str]:
    item = hit.item
    lines = [f"- {item.name} [{hit.kind}] {item.label}: {_one_line(item.description) or '(no description)'}"]
    if isinstance(item, DbtMetric):
        built_on = f" on {item.model} ({item.relation_name or item.model})" if item.model else ""
        time = f"; time: {item.time_dimension}" if item.time_dimension else ""
        lines.append(f"  computed as: {_one_line(item.definition, 120)}{built_on}{time}")
    else:
        where = f"; where: {' and '.join(item.where)}" if item.where else ""
        lines.append(f"  metrics: {', '.join(item.metrics)}; group by: {', '.join(item.group_by)}{where}")
    return lines + [f"  glossary: {entry.name}: {_one_line(entry.text(), 300)}" for entry in hit.glossary]


def search_models(context: ToolContext, arguments: SearchModelsInput) -> ToolOutput:
    index = context.dbt
    hits = index.search(arguments.query, arguments.limit)
    semantic = index.search_semantic(arguments.query, min(arguments.limit, _SEMANTIC_LIMIT))
    if context.policy is not None:
        hits, semantic = _allowed_hits(context.policy, index, arguments, hits, semantic)
    attached = [entry for hit in hits for entry in hit.glossary] + [
        e for hit in semantic for e in hit.glossary
    ]
    shown = {entry.name for entry in attached}
    # Terms that point at nothing found (or at nothing at all) still answer "what do we mean by ...".
    unattached = [entry for entry in index.glossary_matches(arguments.query) if entry.name not in shown]
    if not hits and not semantic and not unattached:
        message = f"No models match {_echo(arguments.query)}. Try other words, or broader ones."
        return ToolOutput(content=message, summary=message)
    sections = []
    if unattached:
        sections.append(
            "Glossary:\n"
            + "\n".join(f"- {e.name} ({e.kind}): {_one_line(e.text(), 400)}" for e in unattached)
        )
    if hits:
        share = context.limits.send_result_rows_to_model
        lines = [line for hit in hits for line in _node_lines(hit, share)]
        sections.append(f"Models for {_echo(arguments.query)}, best first:\n" + "\n".join(lines))
    if semantic:
        lines = [line for hit in semantic for line in _semantic_lines(hit)]
        sections.append("Semantic layer (metrics and saved queries):\n" + "\n".join(lines))
    names = ", ".join(hit.node.name for hit in hits[:3])
    summary = f"{len(hits)} models found ({names}…)" if len(hits) > 3 else f"found {names or 'no models'}"
    if semantic:
        summary += "; " + ", ".join(f"{hit.item.name} ({hit.kind})" for hit in semantic[:2])
    glossary = [entry.name for entry in index.glossary_matches(arguments.query)]
    if glossary:
        summary += f"; glossary: {', '.join(glossary[:3])}"
    return ToolOutput(content="\n\n".join(sections), summary=summary)


def _allowed_hits(
    policy: ToolPolicy,
    index: DbtIndex,
    arguments: SearchModelsInput,
    hits: list[SearchHit],
    semantic: list[SemanticHit],
) -> tuple[list[SearchHit], list[SemanticHit]]:
    """Only what the asker may read, with hidden columns out; searched wider so that a full page remains."""
    wider = index.search(arguments.query, arguments.limit * 4) if len(hits) == arguments.limit else hits
    hidden_models = {node.name.lower() for node in index.nodes() if not policy.allows(node)}

    def shown_joins(hit: SearchHit) -> tuple[str, ...]:
        # A join sentence names the other model and the key: neither may be one the asker cannot see.
        hidden = hidden_models | set(policy.access.hidden_columns(hit.node))
        return tuple(s for s in hit.joins if not hidden & {w.lower() for w in re.findall(r"\w+", s)})

    def shown_values(hit: SearchHit) -> tuple[ValueMatch, ...]:
        hidden = {column.lower() for column in policy.access.hidden_columns(hit.node)}
        return tuple(match for match in hit.values if match.column.lower() not in hidden)

    allowed = [
        replace(hit, node=policy.visible(hit.node), joins=shown_joins(hit), values=shown_values(hit))
        for hit in wider
        if policy.allows(hit.node)
    ]

    def on_allowed_model(hit: SemanticHit) -> bool:
        model = hit.item.model if isinstance(hit.item, DbtMetric) else None
        node = index.find(model) if model else None
        return node is None or policy.allows(node)

    return allowed[: arguments.limit], [hit for hit in semantic if on_allowed_model(hit)]


TOOL = Tool(
    name="search_models",
    description=(
        "Search the dbt project for models and sources relevant to a question. Returns the models it needs "
        "together first (bridge tables included, with how they join), each with a one-line description, the "
        "relation to query and key columns; semantic-layer metrics and saved queries "
        "that match; and the team's glossary definitions of words in the question. Call this before writing SQL."
    ),
    input_model=SearchModelsInput,
    run=search_models,
    status=lambda _: "is searching models…",
    command=DirectCommand(
        "search",
        "/search words",
        "find models for a question",
        whole_argument("query", "/search revenue by day"),
    ),
)
