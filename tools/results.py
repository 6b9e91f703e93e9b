"""Query results: the value a warehouse returns and the bounded store that keeps them by id."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel, ConfigDict


class Column(BaseModel):
    """One result column: its name and the warehouse's type name."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: str


class QueryResult(BaseModel):
    """What a warehouse returns for one read-only query, already capped at the row limit."""

    columns: list[Column]
    rows: list[list[Any]]
    truncated: bool
    elapsed_ms: float
    # Why rows or characters were left out (the row cap, the byte cap, cells cut), for people and the model.
    truncation_note: str | None = None
    bytes_scanned: int | None = None
    bytes_billed: int | None = None


class ResultTable(QueryResult):
    """A query result kept under `result_id`, so charts and exports can reuse it."""

    result_id: str
    sql: str
    session_id: str | None = None

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column_values(self, name: str) -> list[Any]:
        """All values of one column, by name; KeyError names the columns that exist."""
        names = self.column_names()
        if name not in names:
            raise KeyError(f"no column {name!r}; columns are: {', '.join(names)}")
        position = names.index(name)
        return [row[position] for row in self.rows]


class ResultStore:
    """Recent results by id, bounded by count; remembers each session's latest result."""

    def __init__(self, capacity: int = 64) -> None:
        self._capacity = capacity
        self._results: OrderedDict[str, ResultTable] = OrderedDict()
        self._latest_by_session: dict[str | None, str] = {}
        self._lock = threading.Lock()

    def put(self, result: QueryResult, *, sql: str, session_id: str | None) -> ResultTable:
        table = ResultTable(
            **result.model_dump(),
            result_id=f"r_{uuid.uuid4().hex[:10]}",
            sql=sql,
            session_id=session_id,
        )
        with self._lock:
            self._results[table.result_id] = table
            self._latest_by_session[session_id] = table.result_id
            while len(self._results) > self._capacity:
                self._results.popitem(last=False)
        return table

    def get(self, result_id: str) -> ResultTable | None:
        with self._lock:
            return self._results.get(result_id)

    def latest(self, session_id: str | None) -> ResultTable | None:
        with self._lock:
            result_id = self._latest_by_session.get(session_id)
            return self._results.get(result_id) if result_id else None
