"""The anomalies planted in the demo data, so that detectors can be checked against known answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal


@dataclass(frozen=True)
class PlantedAnomaly:
    """One planted anomaly: the day, the metric it shows in (in daily_revenue), and how it was made."""

    day: date
    metric: Literal["orders", "failed_payments", "refunds", "revenue"]
    direction: Literal["above", "below"]
    factor: float
    story: str


PLANTED_ANOMALIES: tuple[PlantedAnomaly, ...] = (
    PlantedAnomaly(date(2024, 3, 14), "orders", "below", 0.55, "checkout outage: orders -45%"),
    PlantedAnomaly(date(2024, 6, 12), "orders", "above", 1.9, "newsletter went viral: orders +90%"),
    PlantedAnomaly(date(2024, 9, 3), "failed_payments", "above", 0.6, "payment provider outage: 60% failed"),
    PlantedAnomaly(date(2024, 10, 15), "refunds", "above", 0.3, "bad coffee batch: 30% refunded"),
    PlantedAnomaly(date(2024, 11, 5), "revenue", "above", 3.0, "bulk buying: baskets three times larger"),
)
