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

    @property
    def metrics_affected(self) -> tuple[str, ...]:
        """The daily_revenue columns it shows in: fewer or more orders move revenue too, and failed or refunded
        orders take their amounts out of (net) revenue."""
        return (self.metric,) if self.metric == "revenue" else (self.metric, "revenue")


PLANTED_ANOMALIES: tuple[PlantedAnomaly, ...] = (
    PlantedAnomaly(date(2024, 3, 14), "orders", "below", 0.3, "checkout outage: orders -70%"),
    PlantedAnomaly(date(2024, 6, 12), "orders", "above", 2.0, "newsletter went viral: orders doubled"),
    PlantedAnomaly(date(2024, 9, 3), "failed_payments", "above", 0.6, "payment provider outage: 60% failed"),
    PlantedAnomaly(date(2024, 10, 15), "refunds", "above", 0.5, "bad coffee batch: half the orders refunded"),
    PlantedAnomaly(date(2024, 11, 5), "revenue", "above", 3.0, "bulk buying: baskets three times larger"),
)
