"""The SQL side of a policy: every relation and column a query reads is resolved against the dbt catalog, what
the asker may not read is refused by name, SELECT * expands to allowed columns, and row filters are written
into every reference to a filtered relation.

Resolution uses sqlglot's own scope analysis and `qualify`, so aliases, CTEs, subqueries, USING joins, set
operations and stars are resolved the way the warehouse resolves them. Each real table reference is first
renamed to a unique placeholder whose schema holds only the visible columns: a column the asker may not see
does not exist as far as qualification is concerned, whichever route names it.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from sqlglot import exp, parse
from sqlglot.errors import OptimizeError, ParseError, SqlglotError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope
from sqlglot.schema import MappingSchema

from tools.dbt.index import DbtIndex
from tools.dbt.nodes import DbtNode
from tools.policy.access import Access
from tools.policy.relations import RelationLookup
from tools.policy.verification import HiddenReference, verify
from tools.sql_guard.passed_trees import passed_tree

_PLACEHOLDER = "__bp_relation_{}"
_REASONS = {
    "denied": "denied by the policy",
    "masked": "masked by the policy",
    "sensitive": "sensitive (masked)",
}


class PolicyRefused(Exception):
    """A query reads what the asker may not; the message names it."""

    def __init__(self, message: str, *, names_hidden: bool = True) -> None:
        super().__init__(message)
        self.message = message
        # False when nothing hidden was named: maybe just a misspelt column, which a hint can help with.
        self.names_hidden = names_hidden


class EnforcedQuery(NamedTuple):
    """The SQL to run in place of the asker's, and the models whose row filters it carries."""

    sql: str
    filtered: tuple[str, ...]


def enforce(sql: str, dialect: str, access: Access, index: DbtIndex, lookup: RelationLookup) -> EnforcedQuery:
    """`sql` rewritten to obey `access` (stars expanded, row filters in place); PolicyRefused otherwise."""
    # A statement the guard passed (run_query's, and every tool's that checks its SQL first) is not parsed again.
    tree = passed_tree(sql, dialect) or _parse(sql, dialect)
    tree = normalize_identifiers(tree, dialect=dialect)
    references = _real_tables(tree)
    schema: dict[str, dict[str, str]] = {}
    originals: dict[str, tuple[exp.Table, DbtNode]] = {}
    for position, table in enumerate(references):
        node, why = lookup.find(table)
        if node is None:
            raise PolicyRefused(f"Not allowed: {why}. Only the dbt project's models and sources may be read.")
        if not access.allows(node):
            raise PolicyRefused(access.refusal_for(node))
        if table.alias and table.args["alias"].columns:
            # `dim_customers AS t(a, b)` renames the real columns by position, hidden ones included.
            raise PolicyRefused(
                f"Not allowed: renaming {node.name}'s columns by position; alias columns in SELECT."
            )
        placeholder = _PLACEHOLDER.format(position)
        hidden = access.hidden_columns(node)
        schema[placeholder] = {
            name: kind for name, kind in lookup.columns(node).items() if name.lower() not in hidden
        }
        originals[placeholder] = (table.copy(), node)
        alias = table.alias or table.name
        table.set("catalog", None)
        table.set("db", None)
        table.set("this", exp.to_identifier(placeholder))
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
    try:
        qualified = qualify(
            # Names are normalised already (and cached per node): the schema need not do it again per query.
            tree, dialect=dialect, schema=MappingSchema(dict(schema), dialect=dialect, normalize=False),
            validate_qualify_columns=True,
            quote_identifiers=True, expand_stars=True,
        )  # fmt: skip
    except (OptimizeError, SqlglotError, ValueError) as exc:
        raise _unresolved(str(exc), originals, access) from None
    try:
        verify(qualified, schema)
    except HiddenReference as exc:
        raise _unresolved(exc.message, originals, access, exc.column) from None
    filtered = _restore(qualified, originals, access, dialect)
    # The tree is ours and dropped after this: the generator need not copy it first (a tenth of the check).
    return EnforcedQuery(qualified.sql(dialect=dialect, copy=False), filtered)


def _parse(sql: str, dialect: str) -> exp.Query:
    try:
        statements = [s for s in parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError, RecursionError):
        raise PolicyRefused(
            "Not allowed: the SQL could not be parsed, so what it reads cannot be checked."
        ) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise PolicyRefused("Not allowed: only one SELECT statement can be checked against the policy.")
    return statements[0]


def _real_tables(tree: exp.Query) -> list[exp.Table]:
    """Every table reference that names a warehouse relation (not a CTE); anything unaccounted for is refused."""
    try:
        scopes = traverse_scope(tree)
    except (OptimizeError, RecursionError):
        raise PolicyRefused("Not allowed: the query's structure could not be analysed.") from None
    real = {
        id(source): source
        for scope in scopes
        for source in scope.sources.values()
        if isinstance(source, exp.Table)
    }
    cte_names, tables = set(), []
    for node in tree.walk():  # One walk for both: this runs on every query.
        if isinstance(node, exp.CTE):
            cte_names.add(node.alias_or_name)
        elif isinstance(node, exp.Table):
            tables.append(node)
    for table in tables:
        plain_cte = not table.args.get("db") and not table.args.get("catalog") and table.name in cte_names
        if id(table) not in real and not plain_cte:
            raise PolicyRefused(f"Not allowed: {table.sql()} is read in a way the policy cannot check.")
    return list(real.values())


def _restore(
    tree: exp.Expr, originals: dict[str, tuple[exp.Table, DbtNode]], access: Access, dialect: str
) -> tuple[str, ...]:
    """Put the real relation back in every placeholder; a filtered one becomes a filtered subquery, same alias."""
    attributes = tuple(sorted(access.principal.attributes().items()))
    filtered: list[str] = []
    restored: set[str] = set()
    for table in list(tree.find_all(exp.Table)):
        if table.name not in originals:
            continue
        original, node = originals[table.name]
        alias = table.args.get("alias")
        # The kept original goes back in once; should qualification ever have duplicated a reference, the
        # next one gets its own copy. Built with copy=False throughout: every part here is fresh.
        relation = original.copy() if table.name in restored else original
        restored.add(table.name)
        relation.set("alias", None)
        predicates = access.row_filters.get(node.unique_id, ())
        if not predicates:
            relation.set("alias", alias)
            table.replace(relation)
            continue
        condition = exp.and_(
            *(_filter_condition(p, attributes, dialect).copy() for p in predicates), copy=False
        )
        rows = exp.Select(expressions=[exp.Star()]).from_(relation, copy=False).where(condition, copy=False)
        table.replace(rows.subquery(alias=alias.this if alias else None, copy=False))
        filtered.append(node.name)
    return tuple(dict.fromkeys(filtered))


@functools.lru_cache(maxsize=1024)
def _filter_condition(predicate: str, attributes: tuple[tuple[str, str], ...], dialect: str) -> exp.Expr:
    """A row filter with the asker's attributes quoted in as SQL strings; parsed once per asker (copy to use)."""
    quoted = {name: exp.Literal.string(value).sql(dialect=dialect) for name, value in attributes}
    return exp.condition(predicate.format(**quoted), dialect=dialect)


def _unresolved(
    error: str, originals: dict[str, tuple[exp.Table, DbtNode]], access: Access, name: str | None = None
) -> PolicyRefused:
    """Name the hidden column the query reached for, when that is why qualification failed."""
    lowered = error.lower()
    for _, node in originals.values():
        for column, reason in access.hidden_columns(node).items():
            if column == name or any(
                f"{q}{column}{e}" in lowered for q, e in (("'", "'"), ('"', '"'), (" ", " "), (": ", ""))
            ):
                return PolicyRefused(f"Not allowed: column {column} of {node.name} is {_REASONS[reason]}.")
    detail = error.splitlines()[0].replace(_PLACEHOLDER.format(""), "relation ")
    message = (
        f"Not allowed: the query reads something the policy cannot resolve to a visible column ({detail})."
    )
    return PolicyRefused(message, names_hidden=False)
