"""Hostile-looking statements the guard lets through because they can do no harm: each must run (or fail in the
database) without changing anything, and without our process building more than the cut keeps.

Quoting that hides a second statement inside a literal or a comment, casts to a catalog's row type (a NULL row,
no catalog read), generators that never end (the row cap and the time limit stop them) and huge built values.
"""

from __future__ import annotations

HARMLESS_POSTGRES: list[str] = [
    "SELECT $$; DELETE FROM orders; $$ AS quoted",
    "SELECT $x$ $$ ; DELETE FROM orders; $$ $x$ AS tagged",
    "SELECT E'\\x27; DROP TABLE orders; --' AS escaped",
    "SELECT U&'\\0027; DROP TABLE orders; --' AS unicode_escaped",
    "SELECT 1 AS one /* /* */ ; DELETE FROM orders; /* */ */",
    "SELECT NULL::pg_authid AS no_row",
    "SELECT (NULL::pg_authid).rolpassword AS nothing",
    "SELECT * FROM json_populate_record(NULL::pg_authid, '{}')",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r",
    "SELECT * FROM generate_series(1, 1000000000000)",
    "SELECT repeat('x', 1100000000) AS over_a_gigabyte",
    "SELECT lpad('x', 1100000000, 'ab') AS padded",
    "SELECT pg_stat_reset FROM orders",
    "TABLE orders",
    "SELECT relname, relacl FROM pg_class WHERE relname = 'orders'",
    "SELECT * FROM information_schema.role_table_grants",
    # A second probe: a string that only looks like it ends early, catalog row types filled from our own JSON
    # (no catalog row is read), empty statements around one, and a sequence read as a relation.
    "SELECT E'\\\\'' , pg_sleep(1) --' AS one_string",
    'SELECT * FROM jsonb_populate_recordset(NULL::pg_shadow, \'[{"passwd": "x"}]\')',
    "SELECT (jsonb_populate_record(NULL::pg_settings, '{}')).*",
    ";SELECT 1 AS one;;",
    "SELECT last_value FROM orders_id_seq",
]

HARMLESS_DUCKDB: list[str] = [
    "SELECT $$; DROP TABLE orders; $$ AS quoted",
    "SELECT E'\\x27; DROP TABLE orders' AS escaped",
    "SELECT 'a' AS a -- ; DROP TABLE orders",
    "FROM orders",
    "SELECT * FROM sqlite_master",
    "SELECT * FROM system.information_schema.tables",
    "SELECT * FROM range(1000000000000) AS t(x)",
    "SELECT repeat('x', 2000000000) AS two_gigabytes",
    "SELECT lpad('x', 2000000000, 'y') AS padded, space(2000000000) AS blank",
    "SELECT COLUMNS('.*') FROM orders",
    "SELECT * FROM orders USING SAMPLE 10%",
    "SELECT getenv FROM orders",
    # A second probe: values DuckDB would build in our own process, stopped by its memory limit or refused
    # before they are built.
    "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r WHERE length(s) < 1000000000) "
    "SELECT max(length(s)) AS longest FROM r",
    "SELECT length(string_agg(CAST(x AS VARCHAR), ',')) AS n FROM range(1000000000) AS t(x)",
    "SELECT length(printf('%200000000s', 'x')) AS n",
    "SELECT length(format('{:>200000000}', 'x')) AS n",
    "SELECT length(replace(label, 'e', rpad('y', 30000, 'y'))) AS n FROM orders",
]
