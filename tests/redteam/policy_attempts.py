"""Attempts to read what the red-team policy hides: denied models, hidden columns, rows outside a filter.

The policy (tests/test_policy_redteam.py): marts only, dim_products denied, fct_orders.payment_method denied,
sensitive columns masked (names, emails), fct_orders filtered to the asker's channel ('web'), so daily_revenue
(an aggregate of every fct_orders row) is withheld; dim_customers, also built from fct_orders, is allowed by name.
"""

from __future__ import annotations

# (table, hidden column) pairs: masked for sensitivity, or denied by a rule.
_HIDDEN = [
    ("dim_customers", "email"),
    ("dim_customers", "first_name"),
    ("dim_customers", "last_name"),
    ("fct_orders", "payment_method"),
]

# Routes to a hidden column {c} of {t}; each is tried on every pair above.
_COLUMN_ROUTES = [
    "SELECT {c} FROM {t}",
    "SELECT x.{c} FROM {t} AS x",
    'SELECT "{c}" FROM {t}',
    "SELECT {C} FROM {T}",
    "SELECT {c} FROM main.{t}",
    'SELECT "{C}" FROM "main"."{t}"',
    "WITH c AS (SELECT * FROM {t}) SELECT {c} FROM c",
    "WITH c AS (SELECT {c} AS v FROM {t}) SELECT v FROM c",
    "SELECT v FROM (SELECT {c} AS v FROM {t}) AS s",
    "SELECT row_number() OVER (PARTITION BY {c}) AS r FROM {t}",
    "SELECT max({c}) OVER () AS v FROM {t}",
    "SELECT {c} FROM {t} UNION ALL SELECT 'x'",
    "SELECT 'x' AS v UNION SELECT {c} FROM {t}",
    "SELECT (SELECT max({c}) FROM {t}) AS v",
    "SELECT z.v FROM fct_orders o, LATERAL (SELECT {c} AS v FROM {t} LIMIT 1) AS z",
    "SELECT count(*) FROM {t} WHERE {c} LIKE '%a%'",
    "SELECT string_agg({c}, ',') FROM {t}",
    "SELECT 1 AS k FROM {t} ORDER BY {c}",
    "SELECT {c}, count(*) FROM {t} GROUP BY {c}",
    "SELECT CASE WHEN {c} IS NULL THEN 'none' ELSE {c} END AS v FROM {t}",
    "SELECT v FROM {t}, unnest([{c}]) AS u(v)",
    "SELECT x.* FROM {t} AS x(a, b, c, d)",
    "SELECT a, b, c, d FROM {t} AS x(a, b, c, d)",
    "SELECT y.{c} FROM (SELECT * FROM {t}) AS y",
    "SELECT lower({c}) AS v FROM {t} WHERE true",
]

# Routes that read every column at once, or reach a whole row.
_WHOLE_ROUTES = [
    "SELECT * FROM {t}",
    "SELECT x.* FROM {t} AS x",
    "SELECT {t} FROM {t}",
    "SELECT x FROM {t} AS x",
    "SELECT to_json(x) FROM {t} AS x",
    "SELECT struct_pack(x.*) FROM {t} AS x",
    "SELECT COLUMNS('.*') FROM {t}",
    "SELECT * FROM {t} JOIN fct_order_items USING (order_id)",
    "SELECT * FROM (SELECT * FROM {t}) AS s",
    "WITH a AS (SELECT * FROM {t}) SELECT * FROM a",
    "SELECT * FROM {t} NATURAL JOIN daily_revenue",
    "SELECT * EXCLUDE (order_date) FROM {t}",
    "SELECT #2, #3, #4 FROM {t}",
    "SELECT 1 AS k FROM {t} ORDER BY #4",
    "SELECT * LIKE '%a%' FROM {t}",
    "SELECT x.* SIMILAR TO '.*' FROM {t} AS x",
    "SELECT {{'row': x.*}} AS r FROM {t} AS x",
    "SELECT * RENAME (order_date AS d) FROM {t}",
    "FROM {t}",
    "FROM {t} SELECT *",
    "SELECT (x).* FROM {t} AS x",
    "SELECT x::text FROM {t} AS x",
    "SELECT row_to_json(x.*) FROM {t} AS x",
    "PIVOT {t} ON order_date USING count(*)",
    "SELECT * FROM {t} UNPIVOT (v FOR k IN (customer_id, order_date))",
    "SELECT * FROM query_table('{t}')",
]

# Models and sources the policy does not allow, and the system catalogs.
_DENIED_RELATIONS = [
    "SELECT * FROM dim_products",
    "SELECT product_name FROM dim_products",
    'SELECT * FROM "DIM_PRODUCTS"',
    "SELECT * FROM main.dim_products",
    "SELECT * FROM shop.main.dim_products",
    "WITH p AS (SELECT * FROM dim_products) SELECT * FROM p",
    "SELECT o.order_id, p.product_name FROM fct_order_items o JOIN dim_products p USING (product_id)",
    "SELECT category FROM fct_order_items UNION SELECT product_name FROM dim_products",
    "SELECT (SELECT max(product_name) FROM dim_products) AS v",
    "SELECT * FROM stg_customers",
    "SELECT email FROM stg_customers",
    "SELECT * FROM stg_payments",
    "SELECT * FROM raw.raw_customers",
    "SELECT name FROM raw.raw_products",
    "SELECT * FROM stg_products",
    "SELECT * FROM information_schema.columns",
    "SELECT table_name FROM information_schema.tables",
    "SELECT * FROM pg_catalog.pg_tables",
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM fct_orders AS dim_products, dim_products AS fct_orders",
    "WITH dim_customers AS (SELECT * FROM dim_products) SELECT * FROM dim_customers",
    "SELECT * FROM (SELECT * FROM dim_products) AS fct_orders",
    "SELECT * FROM secret_schema.fct_orders",
    "SELECT * FROM 'demo.duckdb'",
    "SELECT * FROM query_table('dim_products')",
    "FROM dim_products SELECT product_name",
    "SELECT * FROM dim_products POSITIONAL JOIN fct_orders",
    "DESCRIBE dim_products",
    "SUMMARIZE dim_customers",
    "SELECT * FROM duckdb_columns()",
]

# Attempts to read fct_orders rows outside the asker's channel.
_ROW_FILTER_ESCAPES = [
    "SELECT channel, count(*) FROM fct_orders GROUP BY channel",
    "SELECT DISTINCT channel FROM fct_orders AS o",
    "SELECT DISTINCT b.channel FROM fct_orders AS a JOIN fct_orders AS b ON a.order_id <> b.order_id LIMIT 50",
    "WITH fct AS (SELECT * FROM fct_orders) SELECT DISTINCT channel FROM fct",
    "SELECT DISTINCT channel FROM (SELECT * FROM fct_orders) AS fct_orders",
    "SELECT DISTINCT channel FROM main.fct_orders",
    "SELECT DISTINCT channel FROM shop.main.fct_orders",
    "SELECT DISTINCT channel FROM fct_orders WHERE 1 = 1 OR true",
    "SELECT channel FROM fct_orders UNION SELECT channel FROM fct_orders",
    "SELECT DISTINCT z.channel FROM daily_revenue d, LATERAL (SELECT channel FROM fct_orders) AS z",
    "SELECT DISTINCT first_value(channel) OVER (PARTITION BY status) AS channel FROM fct_orders",
    'SELECT DISTINCT "CHANNEL" FROM "FCT_ORDERS"',
    "SELECT DISTINCT channel FROM fct_orders AS fct_orders_unfiltered",
    "SELECT (SELECT string_agg(DISTINCT channel, ',') FROM fct_orders) AS channels",
    "SELECT DISTINCT channel FROM fct_orders AS o WHERE o.order_id IN (SELECT order_id FROM fct_order_items)",
]

# Attempts to read daily_revenue, built from fct_orders: its totals count the rows the filter hides.
_DERIVED_MODEL_ESCAPES = [
    "SELECT * FROM daily_revenue",
    "SELECT sum(orders) AS n FROM daily_revenue",
    "SELECT sum(revenue) FROM main.daily_revenue",
    'SELECT * FROM "DAILY_REVENUE"',
    "SELECT count(*) FROM shop.main.daily_revenue",
    "WITH d AS (SELECT * FROM daily_revenue) SELECT sum(orders) FROM d",
    "SELECT n FROM (SELECT sum(orders) AS n FROM daily_revenue) AS fct_orders",
    "SELECT (SELECT sum(orders) FROM daily_revenue) AS n",
    "SELECT o.order_date, d.orders FROM fct_orders AS o JOIN daily_revenue AS d USING (order_date)",
    "SELECT order_date FROM fct_orders UNION SELECT order_date FROM daily_revenue",
    "SELECT sum(orders) FROM daily_revenue AS fct_orders",
    "SELECT * FROM fct_orders AS daily_revenue, daily_revenue AS fct_orders LIMIT 1",
    "SELECT z.n FROM fct_orders AS o, LATERAL (SELECT sum(orders) AS n FROM daily_revenue) AS z",
    "SELECT count(*) FROM fct_orders WHERE order_date IN (SELECT order_date FROM daily_revenue WHERE orders > 5)",
    "SELECT max(revenue) OVER () AS v FROM daily_revenue",
    "FROM daily_revenue SELECT sum(gross_revenue)",
]


def column_attempts() -> list[str]:
    """Every column route on every hidden column."""
    attempts = []
    for table, column in _HIDDEN:
        for route in _COLUMN_ROUTES:
            attempts.append(route.format(c=column, C=column.upper(), t=table, T=table.upper()))
    return attempts


def whole_row_attempts() -> list[str]:
    return [route.format(t=table) for route in _WHOLE_ROUTES for table in ("dim_customers", "fct_orders")]


def relation_attempts() -> list[str]:
    return list(_DENIED_RELATIONS)


def row_filter_attempts() -> list[str]:
    return list(_ROW_FILTER_ESCAPES)


def derived_model_attempts() -> list[str]:
    return list(_DERIVED_MODEL_ESCAPES)


def all_attempts() -> list[str]:
    return list(
        dict.fromkeys(
            column_attempts()
            + whole_row_attempts()
            + relation_attempts()
            + row_filter_attempts()
            + derived_model_attempts()
        )
    )
