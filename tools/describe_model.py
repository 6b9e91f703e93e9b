"""describe_model: everything needed to query one model correctly, or the definition of a metric."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.dbt.nodes import DbtMetric, DbtNode
from tools.registry import Tool, ToolContext, ToolOutput


class DescribeModelInput(BaseModel):
    """Columns, types, tests, keys, joins and lineage of one model (or a metric's definition)."""

    name: str = Field(
        description="Model, source (source_name.table) or metric name, e.g. 'fct_orders'.", min_length=1
    )


def describe_node(node: DbtNode, upstream: list[DbtNode], downstream: list[DbtNode]) -> str:
    lines = [
        f"{node.name} ({node.resource_type}, {node.materialization or 'n/a'})",
        f"Query it as: {node.relation_name or node.identifier}",
    ]
    if node.description:
        lines.append(f"Description: {' '.join(node.description.split())}")
    if node.unique_keys:
        lines.append(f"Unique key: {', '.join(node.unique_keys)}")
    for join in node.joins:
        lines.append(f"Joins: {join.column} -> {join.to_node}.{join.to_column}")
    lines.append("Columns:")
    for column in node.columns:
        tests = f" [tests: {', '.join(column.tests)}]" if column.tests else ""
        description = f" — {' '.join(column.description.split())}" if column.description else ""
        lines.append(f"- {column.name} {column.data_type or '?'}{description}{tests}")
    if upstream:
        lines.append(f"Built from: {', '.join(n.name for n in upstream)}")
    if downstream:
        lines.append(f"Used by: {', '.join(n.name for n in downstream)}")
    if node.tags:
        lines.append(f"Tags: {', '.join(node.tags)}")
    return "\n".join(lines)


def describe_metric(metric: DbtMetric) -> str:
    lines = [f"Metric {metric.name} ({metric.label}, {metric.type}): {metric.description}"]
    lines.append(f"Definition: {metric.definition}")
    if metric.model:
        lines.append(f"Built on model: {metric.model}; time dimension: {metric.time_dimension or 'n/a'}")
    if metric.dimensions:
        lines.append(f"Dimensions: {', '.join(metric.dimensions)}")
    return "\n".join(lines)


def describe_model(context: ToolContext, arguments: DescribeModelInput) -> ToolOutput:
    index = context.dbt
    metric = index.find_metric(arguments.name)
    if metric is not None and index.find(arguments.name) is None:
        return ToolOutput(
            content=describe_metric(metric), summary=f"metric {metric.name}: {metric.definition}"
        )
    node = index.resolve(arguments.name)
    text = describe_node(node, index.upstream(node), index.downstream(node))
    return ToolOutput(content=text, summary=f"{node.name}: {len(node.columns)} columns")


TOOL = Tool(
    name="describe_model",
    description=(
        "Describe one dbt model or source: the exact relation name to use in FROM, columns with types and "
        "descriptions, tests, unique keys, joins to other models, and lineage. Also describes metrics."
    ),
    input_model=DescribeModelInput,
    run=describe_model,
    status=lambda arguments: f"is reading {arguments.name}…",
)
