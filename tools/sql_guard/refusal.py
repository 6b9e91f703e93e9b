"""How the guard says no: one exception type and the sentences every refusal shares."""

from __future__ import annotations

from tools.errors import ToolInputError

ALLOWED = (
    "Only one read-only SELECT statement is allowed (WITH, UNION/INTERSECT/EXCEPT and subqueries are fine)."
)

# The setting that lets a user vouch for a function the guard does not know; named in every function refusal.
ALLOWED_FUNCTIONS_SETTING = "BLUEPRINTDATA_ALLOWED_FUNCTIONS"


class SqlRefused(ToolInputError):
    """The SQL is not a single read-only query."""


def refuse(reason: str, sql: str) -> SqlRefused:
    """A refusal whose message states the reason, then what is allowed."""
    return SqlRefused(f"Refused: {reason}. {ALLOWED}", sql=sql)
