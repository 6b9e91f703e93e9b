"""The model's mistakes: raised inside a tool, returned to the model as an `is_error` result."""

from __future__ import annotations


class ToolInputError(Exception):
    """Bad tool input (unknown model, refused SQL, SQL error): the model can correct it and retry."""

    def __init__(self, message: str, *, sql: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.sql = sql
