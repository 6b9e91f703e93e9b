"""What a PostgreSQL role may do beyond reading: superuser, the dangerous built-in roles, writes and DDL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlglot import exp

from tools.warehouse.privileges import ModelledTable, PrivilegeReport

if TYPE_CHECKING:
    from tools.warehouse.base import Warehouse

READER_ROLE = "blueprintdata_reader"

_ROLE_SQL = """\
SELECT current_user, current_database(), r.rolsuper, r.rolreplication,
  pg_has_role(current_user, 'pg_write_server_files', 'MEMBER'),
  pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER'),
  pg_has_role(current_user, 'pg_signal_backend', 'MEMBER')
FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user"""

# CREATE on the schema, or a table the role may change, or one it owns (an owner may ALTER, DROP and TRUNCATE).
_SCHEMA_SQL = """\
SELECT s.nspname, has_schema_privilege(s.oid, 'CREATE'),
  EXISTS (SELECT 1 FROM pg_catalog.pg_class AS c WHERE c.relnamespace = s.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    AND (has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') OR pg_has_role(c.relowner, 'MEMBER')))
FROM pg_catalog.pg_namespace AS s WHERE s.nspname IN ({names}) ORDER BY s.nspname"""

_BUILT_IN_ROLES = ("pg_write_server_files", "pg_execute_server_program", "pg_signal_backend")


def postgres_privileges(warehouse: Warehouse, tables: Sequence[ModelledTable]) -> PrivilegeReport:
    """Read the current role's attributes and its privileges on the modelled schemas from the catalog."""
    schemas = sorted({table.schema for table in tables})
    role_row = _one_query(warehouse, _ROLE_SQL)[0]
    user, database, superuser, replication = role_row[:4]
    problems = []
    if superuser:
        problems.append("is a superuser")
    else:
        problems += [
            f"is a member of {name}" for name, held in zip(_BUILT_IN_ROLES, role_row[4:], strict=True) if held
        ]
        if replication:
            problems.append("has the REPLICATION attribute")
        if schemas:
            names = ", ".join(exp.Literal.string(name).sql(dialect="postgres") for name in schemas)
            for schema, can_create, can_write in _one_query(warehouse, _SCHEMA_SQL.format(names=names)):
                if can_create:
                    problems.append(f"can create objects in schema {schema}")
                if can_write:
                    problems.append(f"can change or drop tables in schema {schema}")
    return PrivilegeReport(
        warehouse="postgres",
        identity=str(user),
        problems=tuple(problems),
        remedy=read_only_role_sql(str(database), schemas, owner=str(user)),
    )


def read_only_role_sql(database: str, schemas: Sequence[str], *, owner: str, role: str = READER_ROLE) -> str:
    """The statements that create a login role reading `schemas` (tables made later by `owner` too)."""
    quoted_role = _identifier(role)
    lines = [
        f"CREATE ROLE {quoted_role} LOGIN PASSWORD 'choose-a-password';",
        f"GRANT CONNECT ON DATABASE {_identifier(database)} TO {quoted_role};",
    ]
    for schema in schemas or ["public"]:
        name = _identifier(schema)
        lines += [
            f"GRANT USAGE ON SCHEMA {name} TO {quoted_role};",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {name} TO {quoted_role};",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_identifier(owner)} IN SCHEMA {name} "
            f"GRANT SELECT ON TABLES TO {quoted_role};",
        ]
    return "\n".join(lines)


def _identifier(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="postgres")


def _one_query(warehouse: Warehouse, sql: str) -> list[list[object]]:
    return warehouse.execute_readonly(sql, max_rows=1000, timeout_seconds=30).rows
