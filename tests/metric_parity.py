"""Comparing a compiled metric query's rows with gold SQL's: same rows, numbers equal to 1e-6 relative."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def normalised(rows: Sequence[Sequence[Any]], *, ordered: bool) -> list[tuple[Any, ...]]:
    """Rows with dates as ISO days, numbers as floats, sorted unless the order is part of the answer."""
    out = [tuple(_value(value) for value in row) for row in rows]
    return out if ordered else sorted(out, key=repr)


def same_rows(got: list[tuple[Any, ...]], gold: list[tuple[Any, ...]]) -> bool:
    if len(got) != len(gold):
        return False
    for row, expected in zip(got, gold, strict=True):
        if len(row) != len(expected):
            return False
        for value, want in zip(row, expected, strict=True):
            if isinstance(value, float) and isinstance(want, float):
                if not math.isclose(value, want, rel_tol=1e-6, abs_tol=1e-6):
                    return False
            elif value != want:
                return False
    return True


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return round(float(value), 9)
    return value
