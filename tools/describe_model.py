"""describe_model: everything needed to query one model correctly, or the definition of a metric."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from tools.dbt.nodes import DbtMetric, DbtNode, DbtSavedQuery
from tools.direct_command import DirectCommand, whole_argument
from tools.glossary import GlossaryEntry
from tools.profiling.describe import column_statistics, profile_header
from tools.profiling.profile import ModelProfile
from tools.registry import Tool, ToolContext, ToolOutput
from tools.sensitivity import is_sensitive


class DescribeModelInput(BaseModel):
    """Columns, types, tests, keys, joins and lineage of one model (or a metric's definition)."""

    name: str = Field(
        description="Model, source (source_name.table), metric, saved query or glossary term, e.g. 'fct_orders'.",
        min_length=1,
        # No dbt name is longer; a longer one was echoed whole into errors and status lines.
        max_length=300,
    )


def describe_node(
    node: DbtNode,
    upstream: list[DbtNode],
    downstream: list[DbtNode],
    profile: ModelProfile | None = None,
    *,
    share_values: bool = True,
) -> str:
    lines = [
        f"{node.name} ({node.resource_type}, {node.materialization or 'n/a'})",
        f"Query it as: {node.relation_name or node.identifier}",
    ]
    if profile is not None:
        lines.append(profile_header(profile))
    if node.description:
        lines.append(f"Description: {' '.join(node.description.split())}")
    lines += _listed("Unique key", node.unique_keys)
    for join in node.joins:
        lines.append(f"Joins: {join.column} -> {join.to_node}.{join.to_column}")
    lines.append("Columns:")
    for column in node.columns:
        tests = f" [tests: {', '.join(column.tests)}]" if column.tests else ""
        description = f" — {' '.join(column.description.split())}" if column.description else ""
        stats = profile.column(column.name) if profile is not None else None
        sensitive = is_sensitive(column.name, column.meta, table=node.name)
        profiled = (
            f" · {column_statistics(stats, sensitive=sensitive, share_values=share_values)}"
            if stats is not None
            else ""
        )
        lines.append(f"- {column.name} {column.data_type or '?'}{description}{tests}{profiled}")
    lines += _listed("Built from", [n.name for n in upstream])
    lines += _listed("Used by", [n.name for n in downstream])
    lines += _listed("Tags", node.tags)
    return "\n".join(lines)


def describe_metric(metric: DbtMetric) -> str:
    """A semantic-layer metric: what it is, how it is computed, on which model, by which time grains and cuts."""
    lines = [f"Metric {metric.name} ({metric.label}, {metric.type}): {metric.description}"]
    lines.append(f"Definition: {metric.definition}")
    for measure in metric.measures:
        lines.append(
            f"Measure {measure.name}: {measure.expression} in semantic model {measure.semantic_model}"
        )
    lines += _listed("Built from metrics", metric.input_metrics)
    if metric.model:
        lines.append(f"Built on model: {metric.model}; time dimension: {metric.time_dimension or 'n/a'}")
    if metric.relation_name:
        lines.append(f"Query it as: {metric.relation_name}")
    lines += _listed("Time grains", metric.grains)
    lines += _listed("Dimensions", metric.dimensions)
    lines += [f"Filter: {condition}" for condition in metric.filters]
    return "\n".join(lines)


def describe_saved_query(query: DbtSavedQuery, metrics: list[DbtMetric]) -> str:
    """A saved query: its metrics (with their definitions), group-by and filters."""
    lines = [f"Saved query {query.name} ({query.label}): {query.description}"]
    lines.append(f"Metrics: {', '.join(query.metrics)}")
    lines += [f"- {m.name}: {m.definition} on {m.model or '?'}" for m in metrics]
    lines.append(f"Group by: {', '.join(query.group_by) or '(nothing)'}")
    lines += [f"Where: {condition}" for condition in query.where]
    lines += _listed("Order by", query.order_by)
    if query.limit is not None:
        lines.append(f"Limit: {query.limit}")
    lines += _listed("Exports", query.exports)
    return "\n".join(lines)


def describe_glossary_entry(entry: GlossaryEntry, models: tuple[str, ...]) -> str:
    """A glossary term or metric: the team's definition and how to compute it."""
    label = f" ({entry.label})" if entry.label != entry.name else ""
    lines = [f"Glossary {entry.kind} {entry.name}{label}"]
    lines += _listed("Also called", entry.synonyms)
    if entry.definition:
        lines.append(f"Definition: {' '.join(entry.definition.split())}")
    if entry.sql:
        lines.append(f"SQL:\n{entry.sql.strip()}")
    elif entry.computation():
        lines.append(f"Computed as: {entry.computation()}")
    lines += _listed("Models", models)
    return "\n".join(lines)


def _listed(label: str, items: Sequence[str]) -> list[str]:
    """One `label: a, b` line when there are items; no line when there are none."""
    return [f"{label}: {', '.join(items)}"] if items else []


def describe_model(context: ToolContext, arguments: DescribeModelInput) -> ToolOutput:
    index = context.dbt
    if index.find(arguments.name) is None:
        # Not a model: a metric, a saved query or a glossary entry, in that order.
        if (metric := index.find_metric(arguments.name)) is not None:
            return ToolOutput(
                content=describe_metric(metric), summary=f"metric {metric.name}: {metric.definition}"
            )
        if (query := index.find_saved_query(arguments.name)) is not None:
            metrics = [m for name in query.metrics if (m := index.find_metric(name)) is not None]
            return ToolOutput(
                content=describe_saved_query(query, metrics),
                summary=f"saved query {query.name}: {', '.join(query.metrics)}",
            )
        if (entry := index.glossary.find(arguments.name)) is not None:
            summary = f"glossary {entry.kind} {entry.name}"
            text = describe_glossary_entry(entry, index.glossary_models(entry))
            return ToolOutput(content=text, summary=summary)
    node = index.resolve(arguments.name)
    upstream, downstream = index.upstream(node), index.downstream(node)
    if context.policy is not None:
        node = context.policy.require(node)
        upstream = [n for n in upstream if context.policy.allows(n)]
        downstream = [n for n in downstream if context.policy.allows(n)]
    profile = context.profiles.latest(node.unique_id) if context.profiles is not None else None
    text = describe_node(
        node,
        upstream,
        downstream,
        profile,
        share_values=context.limits.send_result_rows_to_model,
    )
    return ToolOutput(content=text, summary=f"{node.name}: {len(node.columns)} columns")


TOOL = Tool(
    name="describe_model",
    description=(
        "Describe one dbt model or source: the exact relation name to use in FROM, columns with types and "
        "descriptions, tests, unique keys, joins to other models, and lineage. Also describes semantic-layer metrics "
        "and saved queries (definition, model, time grains, dimensions, filters) and glossary terms."
    ),
    input_model=DescribeModelInput,
    run=describe_model,
    status=lambda arguments: f"is reading {arguments.name}…",
    command=DirectCommand(
        "describe",
        "/describe name",
        "a model (columns, tests, keys, lineage, profile), metric or saved query",
        whole_argument("name", "/describe fct_orders"),
    ),
)
