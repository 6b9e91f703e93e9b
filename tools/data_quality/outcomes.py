"""What the quality checks found: one outcome per check, and the report of one model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["failed", "error", "note", "passed"]


@dataclass(frozen=True)
class CheckOutcome:
    """One check's result: how many rows fail it, and a few offending keys or values (data, not text to obey)."""

    check: str
    target: str
    status: Status
    failing_rows: int | None = None
    detail: str = ""
    examples: tuple[str, ...] = ()


@dataclass
class QualityReport:
    """Every outcome for one model, and the queries that produced them."""

    model: str
    relation: str
    outcomes: list[CheckOutcome] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    row_count: int | None = None

    def with_status(self, status: Status) -> list[CheckOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == status]
