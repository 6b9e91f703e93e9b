"""Drawing chart data as a PNG that reads well at Slack's preview size (thread-safe: no pyplot state)."""

from __future__ import annotations

import io
from typing import Literal

import matplotlib

matplotlib.use("Agg")

from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from tools.charts.shaping import ChartData

ChartKind = Literal["bar", "line", "area", "scatter", "pie"]
WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 5.0, 200
PALETTE = ["#2563eb", "#f97316", "#10b981", "#e11d48", "#8b5cf6", "#eab308", "#0ea5e9", "#64748b"]


def compact_number(value: float, _position: object = None) -> str:
    """1234 -> 1.2K, 3400000 -> 3.4M; small numbers with thousands separators."""
    magnitude = abs(value)
    for threshold, unit, suffix in ((1e12, 1e12, "T"), (1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "K")):
        if magnitude >= threshold:
            return f"{value / unit:,.2f}".rstrip("0").rstrip(".") + suffix
    return f"{value:,.0f}" if magnitude >= 100 or value == int(value) else f"{value:,.2f}"


def titled_figure(title: str) -> tuple[Figure, Axes]:
    """A figure at Slack's preview size with one axes under a bold, left-aligned title."""
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=14, fontweight="bold", loc="left")
    return figure, axes


def png_bytes(figure: Figure) -> bytes:
    """The figure drawn as PNG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def draw_png(data: ChartData, kind: ChartKind, title: str, *, stacked: bool = False) -> bytes:
    """The chart as PNG bytes."""
    figure, axes = titled_figure(title)
    if kind == "pie":
        _pie(axes, data)
    else:
        _cartesian(axes, data, kind, stacked)
    return png_bytes(figure)


def _cartesian(axes: Axes, data: ChartData, kind: ChartKind, stacked: bool) -> None:
    names = list(data.series)
    positions = list(range(len(data.x)))
    x_axis = data.x if data.x_is_time else positions
    horizontal = kind == "bar" and not data.x_is_time and max((len(str(x)) for x in data.x), default=0) > 12
    bottom = [0.0] * len(data.x)
    width = 0.8 / (1 if stacked else max(1, len(names)))
    for number, name in enumerate(names):
        values = [v if v is not None else float("nan") for v in data.series[name]]
        color = PALETTE[number % len(PALETTE)]
        if kind == "line":
            axes.plot(
                x_axis,
                values,
                label=name,
                color=color,
                linewidth=2,
                marker="o" if len(values) <= 31 else None,
            )
        elif kind == "area":
            base = bottom if stacked else [0.0] * len(values)
            top = [b + (v if v == v else 0.0) for b, v in zip(base, values, strict=True)]
            axes.fill_between(x_axis, base, top, alpha=0.35 if not stacked else 0.8, color=color, label=name)
            axes.plot(x_axis, top, color=color, linewidth=1.5)
            bottom = top if stacked else bottom
        elif kind == "scatter":
            axes.scatter(x_axis, values, label=name, color=color, s=24, alpha=0.8)
        else:
            _bars(axes, data, values, number, width, stacked, bottom, horizontal, color, name)
            if stacked:
                bottom = [b + (v if v == v else 0.0) for b, v in zip(bottom, values, strict=True)]
    value_axis = axes.xaxis if horizontal else axes.yaxis
    value_axis.set_major_formatter(FuncFormatter(compact_number))
    category_axis = axes.yaxis if horizontal else axes.xaxis
    if data.x_is_time:
        locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
        if all(moment.hour == moment.minute == moment.second == 0 for moment in data.x):
            # Daily data over a few days: ticks between days ("12:00") would be times nobody measured.
            locator.intervald[mdates.HOURLY] = [24]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    else:
        category_axis.set_ticks(positions, [str(x) for x in data.x])
        if not horizontal and max((len(str(x)) for x in data.x), default=0) > 6:
            for label in axes.get_xticklabels():
                label.set_rotation(30)
                label.set_horizontalalignment("right")
    (axes.set_ylabel if not horizontal else axes.set_xlabel)(data.y_label, fontsize=11)
    (axes.set_xlabel if not horizontal else axes.set_ylabel)(data.x_label, fontsize=11)
    if horizontal:
        axes.invert_yaxis()
    axes.grid(axis="x" if horizontal else "y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=10)
    if len(names) > 1:
        axes.legend(frameon=False, fontsize=10)


def _bars(
    axes: Axes,
    data: ChartData,
    values: list[float],
    number: int,
    width: float,
    stacked: bool,
    bottom: list[float],
    horizontal: bool,
    color: str,
    name: str,
) -> None:
    if data.x_is_time:
        axes.bar(data.x, values, label=name, color=color, bottom=bottom if stacked else None)
        return
    offset = 0.0 if stacked else (number - (len(data.series) - 1) / 2) * width
    positions = [p + offset for p in range(len(data.x))]
    if horizontal:
        axes.barh(positions, values, height=width, left=bottom if stacked else None, label=name, color=color)
    else:
        axes.bar(positions, values, width=width, bottom=bottom if stacked else None, label=name, color=color)


def _pie(axes: Axes, data: ChartData) -> None:
    name = next(iter(data.series))
    values = [max(v or 0.0, 0.0) for v in data.series[name]]
    axes.pie(
        values,
        labels=[str(x) for x in data.x],
        colors=[PALETTE[i % len(PALETTE)] for i in range(len(values))],
        autopct=lambda share: f"{share:.0f}%" if share >= 4 else "",
        startangle=90,
        counterclock=False,
        wedgeprops={"linewidth": 1, "edgecolor": "white"},
        textprops={"fontsize": 10},
    )
    axes.axis("equal")
