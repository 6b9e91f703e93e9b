"""Deny by default for function calls: a call passes only when it is known to be pure in the dialect.

A call is known pure when sqlglot parsed it into one of its typed expressions (sqlglot types only standard
functions: arithmetic, strings, dates, aggregates, JSON, arrays) other than the few below that read files,
call services or run SQL, or when its name is on the dialect's list in function_names.py, or when the user
named it in BLUEPRINTDATA_ALLOWED_FUNCTIONS. Everything else (admin functions, sequences, settings, locks,
file readers, user-defined functions, and whatever a database adds next year) is refused by name.
"""

from __future__ import annotations

from sqlglot import exp

from tools.sql_guard.function_names import BY_DIALECT, SYSTEM_FUNCTION_SCHEMAS
from tools.sql_guard.refusal import ALLOWED_FUNCTIONS_SETTING, SqlRefused, refuse

# Typed expressions that still carry a name chosen by the SQL's author: judged by that name.
_NAMED_BY_AUTHOR = (
    exp.Anonymous,
    exp.AnonymousAggFunc,
    exp.CombinedAggFunc,
    exp.ParameterizedAgg,
    exp.CombinedParameterizedAgg,
)

# Typed expressions whose function reads outside the warehouse, calls a service or advances a sequence,
# looked up by name so that a class missing from this sqlglot version is skipped. A test lists every typed
# class whose name suggests such a thing and checks it is either here or reviewed as pure.
IMPURE_TYPED_NAMES = (
    "ReadCSV", "ReadParquet", "ReadJSON", "ToFile", "NextValueFor", "Secret",
    "AIAgg", "AIClassify", "AIEmbed", "AIForecast", "AIGenerate", "AISimilarity", "AISummarizeAgg",
    "GenerateEmbedding", "GenerateText", "GenerateTable", "MLForecast", "MLTranslate", "Predict",
    "FeaturesAtTime", "VectorSearch", "Apply", "CurrentIpAddress", "CurrentStatement", "CurrentSession",
    "CurrentClient", "CurrentTransaction", "CurrentAccount", "CurrentAccountName",
    "CurrentOrganizationName", "CurrentOrganizationUser", "CurrentRegion", "CurrentWarehouse", "CurrentVersion",
)  # fmt: skip
_IMPURE_TYPED = tuple(
    node_type for name in IMPURE_TYPED_NAMES if isinstance(node_type := getattr(exp, name, None), type)
)


# Functions known pure only as a table in FROM, where they stream rows: DuckDB runs in our own process, and as
# a value `range(200000000)` builds the whole list in its memory first (14 GB), which no memory limit counts.
TABLE_ONLY = {"duckdb": frozenset({"range", "generate_series"})}


def check_function(node: exp.Func, dialect: str, user_allowed: frozenset[str], sql: str) -> None:
    """Raise SqlRefused unless the call `node` is known pure in `dialect` or allowed by the user."""
    qualifier = function_qualifier(node)
    name = function_name(node)
    written = f"{qualifier}.{name}" if qualifier else name
    if written in user_allowed:
        return
    if name in TABLE_ONLY.get(dialect, frozenset()) and not _is_table_source(node):
        raise refuse(
            f"range() and generate_series() outside FROM build their whole list in memory in {dialect}; use "
            "them as a table (FROM range(n) AS t(x)) and aggregate the rows",
            sql,
        )
    if isinstance(node, _NAMED_BY_AUTHOR):
        known = name in BY_DIALECT.get(dialect, frozenset())
    else:
        known = not isinstance(node, _IMPURE_TYPED)
    if known and (not qualifier or qualifier in SYSTEM_FUNCTION_SCHEMAS.get(dialect, frozenset())):
        return
    raise function_refusal(written, dialect, sql)


def _is_table_source(node: exp.Func) -> bool:
    parent = node.parent
    return isinstance(parent, exp.Table) and parent.this is node


def function_refusal(written: str, dialect: str, sql: str) -> SqlRefused:
    """The refusal for an unknown function: names it and the setting that would allow it."""
    return refuse(
        f"{written}() is not a function known to be free of side effects and of reads outside the warehouse "
        f"in {dialect}. If it is safe, add {written} to {ALLOWED_FUNCTIONS_SETTING} (comma-separated)",
        sql,
    )


def function_name(node: exp.Func) -> str:
    """The called name in lower case: as written for untyped calls, sqlglot's SQL name for typed ones."""
    if isinstance(node, _NAMED_BY_AUTHOR):
        return str(node.name).lower()
    try:
        return node.sql_name().lower()
    except (AttributeError, NotImplementedError):
        return node.key.lower()


def function_qualifier(node: exp.Func) -> str:
    """The schema (or catalog.schema) a call is qualified with, in lower case; empty when unqualified."""
    parent = node.parent
    if isinstance(parent, exp.Dot) and parent.expression is node:
        qualifier: str = parent.this.sql().lower()
        return qualifier.replace('"', "").replace("`", "")
    if isinstance(parent, exp.Table) and parent.this is node:
        return ".".join(part.lower() for part in (parent.catalog, parent.db) if part)
    return ""
