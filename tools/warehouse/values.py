"""Warehouse values made plain: what JSON, CSV and charts understand, numbers and dates keeping their type."""

from __future__ import annotations

import json
from datetime import date, datetime
from datetime import time as clock_time
from decimal import Decimal
from typing import Any
from uuid import UUID


def plain_value(value: Any) -> Any:
    """A JSON- and CSV-friendly value; bytes become hex, nested records and arrays become JSON text."""
    if value is None or isinstance(value, bool | int | float | str | Decimal | date | datetime | clock_time):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict | list | tuple):
        # BigQuery STRUCT and ARRAY columns (and DuckDB's): one readable cell, not a Python repr.
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)
