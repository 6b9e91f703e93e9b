"""Byte counts as people read them: 120 MB, 1.2 TB."""

from __future__ import annotations

from pydantic import ByteSize


def human_bytes(count: int) -> str:
    """`count` in decimal units, as BigQuery's console shows them: 512 B, 120 MB, 1.2 TB."""
    text = ByteSize(max(count, 0)).human_readable(decimal=True, separator=" ")
    return text.replace(".0 ", " ")  # "120 MB", not "120.0 MB"
