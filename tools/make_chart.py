"""make_chart: a PNG chart of a query result, saved as an artifact the front end shows."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from tools.charts.shaping import shape
from tools.direct_command import DirectCommand, options, required
from tools.errors import ToolInputError
from tools.registry import Tool, ToolContext, ToolOutput
from tools.user_messages import NO_RESULT_TO_CHART


class MakeChartInput(BaseModel):
    """Chart a run_query result."""

    result_id: str = Field(description="The result_id returned by run_query.")
    kind: Literal["bar", "line", "area", "scatter", "pie"] = Field(
        description="line or area for time series; bar to compare categories; pie for shares of a whole (few parts)."
    )
    x: str = Field(description="Column for the x axis (time or category); for pie, the slice labels.")
    y: list[str] = Field(description="One or more numeric columns to plot.", min_length=1)
    series: str | None = Field(
        None, description="Optional column whose values become separate lines or bars."
    )
    title: str = Field(description="A short title saying what the chart shows, with units and period.")
    stacked: bool = Field(False, description="Stack bars or areas instead of placing them side by side.")
    top_n: int = Field(12, ge=2, le=50, description="Categories shown before the rest are grouped as Other.")

    @field_validator("y", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


def make_chart(context: ToolContext, arguments: MakeChartInput) -> ToolOutput:
    table = context.result(arguments.result_id)
    if table is None:
        raise ToolInputError(
            f"No result {arguments.result_id!r}: run run_query first and pass the result_id it returns."
        )
    if not table.rows:
        raise ToolInputError(f"Result {arguments.result_id} has no rows to chart.")
    data = shape(table, arguments.x, arguments.y, arguments.series, arguments.top_n, sort_time=True)
    # matplotlib (about 35 MB) loads with the first chart, not with every process that might draw one.
    from tools.charts.drawing import draw_png

    png = draw_png(data, arguments.kind, arguments.title, stacked=arguments.stacked)
    slug = re.sub(r"[^a-z0-9]+", "-", arguments.title.lower()).strip("-")[:60] or "chart"
    artifact = context.artifacts.save(
        session_id=context.session_id,
        kind="chart",
        title=arguments.title,
        filename=f"{slug}.png",
        mime_type="image/png",
        data=png,
    )
    shown = f"{len(data.x)} {'points' if data.x_is_time else 'categories'}, series: {', '.join(data.series)}"
    return ToolOutput(
        content=(
            f"Chart {artifact.artifact_id} made ({arguments.kind}: {arguments.title}; {shown}). The user sees it; "
            "do not describe the image, refer to it."
        ),
        summary=f"{arguments.kind} chart: {arguments.title}",
        artifact=artifact,
    )


def _command_input(context: ToolContext, argument: str) -> dict[str, Any]:
    """`line x=day y=revenue,orders series=channel title="..."` charts the session's latest result."""
    latest = context.results.latest(context.session_id)
    if latest is None:
        raise ToolInputError(NO_RESULT_TO_CHART)
    kinds, named = options(required(argument, "/chart line x=order_date y=revenue"))
    chart: dict[str, Any] = {"result_id": latest.result_id, "kind": kinds[0] if kinds else "", **named}
    if "y" in chart:
        chart["y"] = [column for column in chart["y"].split(",") if column]
    chart.setdefault("title", f"{', '.join(chart.get('y', []))} by {chart.get('x', '')}".strip())
    return chart


TOOL = Tool(
    name="make_chart",
    description=(
        "Draw a chart (bar, line, area, scatter or pie) of a run_query result and show it to the user. Use it when "
        "a trend or comparison is easier to see than to read."
    ),
    input_model=MakeChartInput,
    run=make_chart,
    status=lambda _: "is drawing a chart…",
    command=DirectCommand(
        "chart",
        "/chart line x=col y=col[,col] [series=col] [title=...]",
        "chart the latest result (bar, line, area, scatter, pie)",
        _command_input,
    ),
)
