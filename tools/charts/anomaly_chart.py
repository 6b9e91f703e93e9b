"""A metric's series with its expected band shaded, its anomalies and changes in behaviour marked, as a PNG (no
pyplot state)."""

from __future__ import annotations

import matplotlib
import numpy as np

matplotlib.use("Agg")

from matplotlib import dates as mdates
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from tools.anomalies.detector import Detection
from tools.anomalies.formatting import format_change
from tools.charts.drawing import PALETTE, compact_number, png_bytes, titled_figure

_SERIES, _BAND, _ANOMALY, _CHANGE = PALETTE[0], "#60a5fa", PALETTE[3], PALETTE[1]
# Two years of daily points stay readable; beyond that only the most recent part is drawn.
_MAX_POINTS = 800
_MAX_LABELLED = 6  # the latest ones: a year of a metric usually has fewer, and more would crowd the chart


def render_anomaly_chart(
    detection: Detection, *, title: str, metric: str, last_points: int | None = None
) -> bytes:
    """The series, its expected range (where known), each anomaly as a red point (the latest ones labelled) and
    each change in behaviour as a dashed line where it was noticed.

    `last_points` draws only the most recent points (an alert shows the last weeks, not two years).
    """
    return png_bytes(anomaly_figure(detection, title=title, metric=metric, last_points=last_points))


def anomaly_figure(
    detection: Detection, *, title: str, metric: str, last_points: int | None = None
) -> Figure:
    """The chart render_anomaly_chart draws, as a figure."""
    shown_points = min(_MAX_POINTS, last_points or _MAX_POINTS)
    start = max(0, len(detection.timestamps) - shown_points)
    # As numpy datetimes: matplotlib's stubs type its x values as numbers or arrays, not lists of datetimes.
    times = np.array(detection.timestamps[start:], dtype="datetime64[us]")
    figure, axes = titled_figure(title)
    axes.fill_between(
        times,
        detection.low[start:],
        detection.high[start:],
        color=_BAND,
        alpha=0.35,
        linewidth=0,
        label="expected range",
    )
    dense = len(times) > 120
    axes.plot(times, detection.values[start:], color=_SERIES, linewidth=0.9 if dense else 1.8, label=metric)
    first = detection.timestamps[start] if detection.timestamps else None
    shown = [finding for finding in detection.findings if first is None or finding.at >= first]
    if shown:
        axes.scatter(
            np.array([finding.at for finding in shown], dtype="datetime64[us]"),
            [finding.value for finding in shown],
            color=_ANOMALY,
            s=42,
            zorder=3,
            label=f"anomal{'y' if len(shown) == 1 else 'ies'} ({len(shown)})",
        )
        for finding in shown[-_MAX_LABELLED:]:
            axes.annotate(
                format_change(finding.change),
                (mdates.date2num(finding.at), finding.value),  # type: ignore[no-untyped-call]
                textcoords="offset points",
                xytext=(0, 9 if finding.direction == "above" else -15),
                ha="center",
                fontsize=9,
                color=_ANOMALY,
                fontweight="bold",
            )
    # A change in behaviour has no point out of its range to mark: a line where it was noticed, so the chart
    # shows what the alert's message says.
    changes = [change for change in detection.changes_in_behaviour if first is None or change.at >= first]
    for number, change in enumerate(changes):
        label = (
            f"change{'' if len(changes) == 1 else 's'} in behaviour ({len(changes)})" if number == 0 else None
        )
        when = mdates.date2num(change.at)  # type: ignore[no-untyped-call]
        axes.axvline(when, color=_CHANGE, linestyle="--", linewidth=1.2, label=label)
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.yaxis.set_major_formatter(FuncFormatter(compact_number))
    axes.set_ylabel(metric, fontsize=11)
    axes.margins(y=0.1)  # room for the labels of the highest and lowest anomalies
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=10)
    axes.legend(frameon=False, fontsize=9, loc="upper left")
    return figure
