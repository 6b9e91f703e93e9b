"""The detector's one error: a series it cannot check, with a message that says what to change."""

from __future__ import annotations


class DetectionInputError(ValueError):
    """The series cannot be checked; the message says what to change."""
