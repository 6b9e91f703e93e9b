"""Warehouse values made plain: what JSON, CSV and charts understand, numbers and dates keeping their type."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from datetime import time as clock_time
from decimal import Decimal
from typing import Any
from uuid import UUID

# Beyond this a decimal has no float (charts, JSON numbers and statistics would see infinity): it stays text.
_FLOAT_RANGE = Decimal("1e308")


def plain_value(value: Any) -> Any:
    """A JSON- and CSV-friendly value; bytes become hex, nested records and arrays become JSON text.

    NaN and infinite numbers, and decimals past a float's range, become their text ("NaN", "Infinity"): JSON has
    no such numbers, and a chart or statistic that meets one fails.
    """
    if value is None or isinstance(value, bool | int | str | date | datetime | clock_time):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite_text(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "NaN" if value.is_nan() else ("-Infinity" if value < 0 else "Infinity")
        return value if abs(value) < _FLOAT_RANGE else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict | list | tuple):
        # BigQuery STRUCT and ARRAY columns (and DuckDB's): one readable cell, not a Python repr.
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def _non_finite_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
