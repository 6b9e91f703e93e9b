"""How findings read: dates, numbers and changes in the short forms people scan in a Slack post."""

from __future__ import annotations

import math
from datetime import datetime


def format_moment(moment: datetime) -> str:
    """A date for daily points, a date and hour otherwise."""
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M")


def format_number(value: float) -> str:
    """Compact and readable: 312, 1,240, 0.0812, 3.4M."""
    if math.isnan(value):
        return "?"
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def format_change(change: float) -> str:
    """A signed percentage with a real minus sign, e.g. +90% or −38%."""
    if math.isinf(change):
        return "up from about zero" if change > 0 else "down from about zero"
    percent = round(change * 100)
    return f"+{percent}%" if percent >= 0 else f"−{-percent}%"
