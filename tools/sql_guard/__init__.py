"""The SQL guard: one read-only SELECT, only known-pure functions, no system catalogs, bounded size.

`from tools.sql_guard import check_read_only` is the entry point; the rules live in the modules beside it.
"""

from tools.sql_guard.check import CheckedQuery, check_read_only
from tools.sql_guard.limits import MAX_CONSTRUCTOR_NESTING, MAX_NESTING, MAX_SQL_CHARACTERS
from tools.sql_guard.refusal import ALLOWED, ALLOWED_FUNCTIONS_SETTING, SqlRefused

__all__ = [
    "ALLOWED",
    "ALLOWED_FUNCTIONS_SETTING",
    "MAX_CONSTRUCTOR_NESTING",
    "MAX_NESTING",
    "MAX_SQL_CHARACTERS",
    "CheckedQuery",
    "SqlRefused",
    "check_read_only",
]
