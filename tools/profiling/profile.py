"""What profiling learns about a model and its columns: small frozen values, stored as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ProfileStatus = Literal["ok", "failed"]
# Only JSON scalars are kept: dates and decimals are turned into strings and floats before they are stored.
Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class TopValue:
    """One frequent value of a low-cardinality column and how many (sampled) rows hold it."""

    value: Scalar
    count: int


@dataclass(frozen=True)
class ColumnProfile:
    """Statistics of one column; min, max and top values are None for sensitive columns."""

    name: str
    data_type: str
    null_fraction: float | None = None
    distinct_count: int | None = None
    min: Scalar = None
    max: Scalar = None
    top_values: tuple[TopValue, ...] = ()
    sensitive: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "data_type": self.data_type,
            "null_fraction": self.null_fraction,
            "distinct_count": self.distinct_count,
            "min": self.min,
            "max": self.max,
            "top_values": [[top.value, top.count] for top in self.top_values],
            "sensitive": self.sensitive,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnProfile:
        return cls(
            name=str(data["name"]),
            data_type=str(data.get("data_type") or ""),
            null_fraction=data.get("null_fraction"),
            distinct_count=data.get("distinct_count"),
            min=data.get("min"),
            max=data.get("max"),
            top_values=tuple(TopValue(value, int(count)) for value, count in data.get("top_values") or []),
            sensitive=bool(data.get("sensitive")),
        )


@dataclass(frozen=True)
class ModelProfile:
    """One profiling of a dbt model: its row count and column statistics, or the error that stopped it."""

    unique_id: str
    relation: str
    row_count: int | None
    profiled_at: datetime
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    status: ProfileStatus = "ok"
    error: str | None = None
    manifest_checksum: str | None = None
    columns_signature: str | None = None
    sampled: bool = False
    sample_percent: float | None = None
    bytes_scanned: int | None = None
    duration_ms: float = 0.0

    def column(self, name: str) -> ColumnProfile | None:
        """A column's profile, ignoring case."""
        lowered = name.lower()
        return next((c for key, c in self.columns.items() if key.lower() == lowered), None)
