"""list_metrics: the governed dbt metrics and saved queries, as MetricFlow reads the semantic manifest."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.direct_command import DirectCommand
from tools.registry import Tool, ToolContext, ToolOutput
from tools.semantic_layer.loading import semantic_layer_for

_DIMENSIONS_SHOWN = 8


class ListMetricsInput(BaseModel):
    """List the dbt semantic layer's metrics and saved queries."""

    search: str | None = Field(
        None, description="Words to look for in metric names, labels and descriptions; omit to list all."
    )


def list_metrics(context: ToolContext, arguments: ListMetricsInput) -> ToolOutput:
    layer = semantic_layer_for(context.project_dir, context.warehouse.dialect.name)
    words = (arguments.search or "").lower().split()
    lines = []
    for metric in layer.metrics():
        text = " ".join([metric.name, metric.label or "", metric.description or ""]).lower()
        if words and not any(word in text for word in words):
            continue
        label = f" ({metric.label})" if metric.label and metric.label != metric.name else ""
        dimensions = [d.dunder_name for d in metric.dimensions]
        more = f", +{len(dimensions) - _DIMENSIONS_SHOWN} more" if len(dimensions) > _DIMENSIONS_SHOWN else ""
        lines.append(
            f"- {metric.name}{label}, {metric.type.value}: {(metric.description or '').strip()}\n"
            f"  group by: {', '.join(dimensions[:_DIMENSIONS_SHOWN])}{more}"
        )
    saved = [
        f"- {query.name}: {(query.description or '').strip()} "
        f"(metrics: {', '.join(query.query_params.metrics)})"
        for query in layer.saved_queries()
        if not words or any(word in f"{query.name} {query.description or ''}".lower() for word in words)
    ]
    if not lines and not saved:
        names = ", ".join(metric.name for metric in layer.metrics()) or "none"
        message = f"No metric matches {arguments.search!r}. The project's metrics: {names}."
        return ToolOutput(content=message, summary=message)
    content = "Metrics (query them with query_metrics):\n" + "\n".join(lines)
    if saved:
        content += "\n\nSaved queries (query_metrics with saved_query):\n" + "\n".join(saved)
    return ToolOutput(content=content, summary=f"{len(lines)} metrics, {len(saved)} saved queries")


TOOL = Tool(
    name="list_metrics",
    description=(
        "List the governed metrics of the dbt semantic layer (name, type, description, what they can be grouped "
        "by) and its saved queries. Use it first when a question asks for a business number."
    ),
    input_model=ListMetricsInput,
    run=list_metrics,
    status=lambda arguments: "is listing the project's metrics…",
    command=DirectCommand(
        "metrics",
        "/metrics [words]",
        "list governed metrics and saved queries",
        lambda _, argument: {"search": argument or None},
    ),
)
