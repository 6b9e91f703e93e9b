"""get_dimensions: what metrics can be grouped and filtered by, their entities (join keys) included."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.direct_command import DirectCommand, required
from tools.registry import Tool, ToolContext, ToolOutput
from tools.semantic_layer.loading import semantic_layer_for


class GetDimensionsInput(BaseModel):
    """The dimensions and entities shared by the given metrics."""

    metrics: list[str] = Field(min_length=1, description="Metric names from list_metrics.")


def get_dimensions(context: ToolContext, arguments: GetDimensionsInput) -> ToolOutput:
    layer = semantic_layer_for(context.project_dir, context.warehouse.dialect.name)
    lines = ["Dimensions (group_by names; time dimensions take a grain):"]
    dimensions = layer.dimensions(arguments.metrics)
    for dimension in dimensions:
        grain = dimension.type_params.time_granularity if dimension.type_params else None
        kind = f"time, finest grain {grain.value}" if grain is not None else dimension.type.value
        name = "metric_time" if dimension.dunder_name.startswith("metric_time") else dimension.dunder_name
        about = f": {dimension.description.strip()}" if dimension.description else ""
        lines.append(f"- {name} ({kind}){about}")
    entities = layer.entities(arguments.metrics)
    lines.append("Entities (join keys; group by them to get one row per key):")
    lines += [f"- {entity.name} ({entity.type.value}, in {entity.semantic_model_reference.semantic_model_name})"
              for entity in entities]  # fmt: skip
    summary = f"{len(dimensions)} dimensions, {len(entities)} entities for {', '.join(arguments.metrics)}"
    return ToolOutput(content="\n".join(lines), summary=summary)


TOOL = Tool(
    name="get_dimensions",
    description=(
        "The dimensions (with time grains) and entities that all the given metrics can be grouped and filtered "
        "by, joins across semantic models included. Use the names exactly in query_metrics."
    ),
    input_model=GetDimensionsInput,
    run=get_dimensions,
    status=lambda arguments: f"is reading the dimensions of {', '.join(arguments.metrics)}…",
    command=DirectCommand(
        "dimensions",
        "/dimensions revenue[,orders]",
        "what metrics can be grouped by",
        lambda _, argument: {
            "metrics": [n for n in required(argument, "/dimensions revenue").replace(",", " ").split() if n]
        },
    ),
)
