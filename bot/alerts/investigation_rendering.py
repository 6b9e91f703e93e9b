"""An investigation in an incident's thread, always in one shape: a two-sentence summary, possible drivers each
with the query that shows it, the evidence, and a confidence; no claim of cause beyond what the splits show."""

from __future__ import annotations

from slack_sdk import WebClient

from agent.alerts.drilldown import DrillDown, Split, drill_down_chart
from agent.alerts.incidents import StoredIncident
from tools.anomalies.detector import format_number

_DRIVERS_SHOWN = 3
_SEGMENTS_SHOWN = 3


def investigation_text(incident: StoredIncident, drill: DrillDown) -> str:
    """The drill-down in the fixed shape, in Markdown: the thread's answer renders it as it renders the model's."""
    alert, worst = drill.alert, incident.state.worst
    metric = alert.display_metric()
    first = f"{worst.explain(metric)}."
    top = drill.top
    if top is None:
        columns = ", ".join(split.dimension for split in drill.splits) or "none"
        second = f"No split stands out: the change is spread across the segments of every column tried ({columns})."
    else:
        lead = top.segments[0]
        second = (
            f"Split by each categorical column, it sits mostly in {top.dimension} = {lead.value} "
            f"({format_number(lead.point)} on the day, {format_number(lead.usual)} on a usual day)."
        )
    lines = [
        f"**Investigation of alert {alert.name}** (automatic drill-down, read-only, no model)",
        f"**Summary:** {first} {second}",
        "**Possible drivers:**",
    ]
    for split in drill.splits[:_DRIVERS_SHOWN]:
        lines.append(_driver(split))
    evidence = f"{drill.queries} queries, {drill.rows} rows read"
    if drill.skipped:
        evidence += f"; not split: {'; '.join(drill.skipped)}"
    lines.append(f"**Evidence:** {evidence}.")
    lines.append(
        f"**Confidence:** {drill.confidence()}. This shows where the change sits, not what caused it; "
        "ask here to dig further."
    )
    return "\n".join(lines)


def _driver(split: Split) -> str:
    segments = ", ".join(
        f"{segment.value} {format_number(segment.point)} (usually {format_number(segment.usual)})"
        for segment in split.segments[:_SEGMENTS_SHOWN]
    )
    dropped = (
        " (the alert's filter on this column left out, to compare with the rest)"
        if split.filter_dropped
        else ""
    )
    return f"• **{split.dimension}** (score {split.score:.2f}){dropped}: {segments}\n```{split.sql}```"


def upload_drill_down_chart(client: WebClient, channel: str, thread_ts: str, drill: DrillDown) -> None:
    """The leading split's chart, into the incident's thread (nothing when no split could be drawn)."""
    chart = drill_down_chart(drill)
    if chart is not None:
        name = f"{drill.alert.name}-drilldown-{drill.at:%Y%m%d}.png"
        client.files_upload_v2(channel=channel, thread_ts=thread_ts, content=chart, filename=name, title=name)
