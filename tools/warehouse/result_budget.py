"""How much of a result a connector keeps: rows, bytes held in memory, and characters a cell shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.byte_sizes import human_bytes
from tools.warehouse.values import plain_value

DEFAULT_MAX_RESULT_BYTES = 32 * 2**20
DEFAULT_MAX_CELL_CHARS = 10_000
DEFAULT_MAX_ENGINE_MEMORY = 512 * 2**20
# Rows asked of the driver at a time: small enough that one batch of wide rows stays far below the byte cap's
# order of magnitude, large enough that narrow results need few round trips.
FETCH_BATCH_ROWS = 500
_NUMBER_BYTES = 8  # What a number, date or boolean counts for; only text and binary can be large.


@dataclass(frozen=True)
class ResultLimits:
    """The connector's own bounds on what one result may hold (BLUEPRINTDATA_MAX_RESULT_BYTES, _MAX_CELL_CHARS).

    `max_engine_memory` bounds an engine that runs in our process (DuckDB): BLUEPRINTDATA_DUCKDB_MEMORY_LIMIT.
    """

    max_bytes: int = DEFAULT_MAX_RESULT_BYTES
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS
    max_engine_memory: int = DEFAULT_MAX_ENGINE_MEMORY


def cut_marker(max_chars: int) -> str:
    """What ends a cell that was cut, so nobody takes it for the whole value."""
    return f"… [cut at {max_chars:,} characters]"


class ResultBudget:
    """Collects rows until the row or byte cap; plain values, long text cut with a visible mark."""

    def __init__(self, limits: ResultLimits, max_rows: int) -> None:
        self._limits = limits
        self._max_rows = max_rows
        self.rows: list[list[Any]] = []
        self.bytes_held = 0
        self.byte_capped = False
        self._cuts_per_row: list[int] = []
        self._cuts_in_row = 0

    @property
    def full(self) -> bool:
        """True once there is a row past the row cap or the byte cap is reached: fetch no more."""
        return self.byte_capped or len(self.rows) > self._max_rows

    def add(self, raw_row: Any) -> None:
        """Keep one row from the driver unless the byte cap is already reached."""
        self._cuts_in_row = 0
        row = [self._cell(value) for value in raw_row]
        size = sum(_size(value) for value in row)
        if self.rows and self.bytes_held + size > self._limits.max_bytes:
            self.byte_capped = True  # The first row is always kept: its cells are cut to a bounded size.
            return
        self.bytes_held += size
        self.rows.append(row)
        self._cuts_per_row.append(self._cuts_in_row)

    @property
    def cut_cells(self) -> int:
        """Values cut in the rows kept (the one past the row cap, read only to know it exists, not counted)."""
        return sum(self._cuts_per_row[: self._max_rows])

    def kept_rows(self) -> list[list[Any]]:
        return self.rows[: self._max_rows]

    @property
    def truncated(self) -> bool:
        return self.byte_capped or len(self.rows) > self._max_rows

    def note(self) -> str | None:
        """Why the result is shorter than the query's answer, or None when nothing was left out."""
        parts = []
        if self.byte_capped:
            parts.append(
                f"stopped at the {human_bytes(self._limits.max_bytes)} result size limit "
                "(BLUEPRINTDATA_MAX_RESULT_BYTES); more rows exist"
            )
        elif len(self.rows) > self._max_rows:
            parts.append(f"stopped at the {self._max_rows:,}-row limit; more rows exist")
        if self.cut_cells:
            values = "1 long value" if self.cut_cells == 1 else f"{self.cut_cells:,} long values"
            parts.append(
                f"{values} cut to {self._limits.max_cell_chars:,} characters (BLUEPRINTDATA_MAX_CELL_CHARS)"
            )
        return "; ".join(parts) or None

    def _cell(self, value: Any) -> Any:
        plain = plain_value(value)
        if isinstance(plain, str) and len(plain) > self._limits.max_cell_chars:
            self._cuts_in_row += 1
            # The database has usually cut it already (to one character past the limit), so its full length
            # is unknown here: the mark says where it was cut, not how much is missing.
            return plain[: self._limits.max_cell_chars] + cut_marker(self._limits.max_cell_chars)
        return plain


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    return _NUMBER_BYTES
