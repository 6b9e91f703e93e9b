"""Correct analytic queries that the guard must allow, per dialect.

The PostgreSQL and DuckDB ones run against the tables made by SETUP (same names in both), so a test can prove
they are real, working queries and not just parseable text.
"""

from __future__ import annotations

SETUP = {
    "postgres": [
        "CREATE TABLE orders (id int PRIMARY KEY, customer_id int, amount numeric(10, 2), status text, "
        "created_at timestamp, data jsonb, tags text[])",
        "INSERT INTO orders SELECT g, mod(g, 7), g * 1.25, CASE WHEN mod(g, 3) = 0 THEN 'done' ELSE 'open' END, "
        "timestamp '2024-01-01' + g * interval '1 day', jsonb_build_object('channel', 'web', 'n', g), "
        "ARRAY['a', 'b'] FROM generate_series(1, 60) g",
        "CREATE TABLE customers (id int PRIMARY KEY, name text, email text)",
        "INSERT INTO customers SELECT g, 'Customer ' || g, 'c' || g || '@example.com' FROM generate_series(0, 6) g",
    ],
    "duckdb": [
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, amount DECIMAL(10, 2), status VARCHAR, "
        "created_at TIMESTAMP, data JSON, tags VARCHAR[])",
        "INSERT INTO orders SELECT g, g % 7, g * 1.25, CASE WHEN g % 3 = 0 THEN 'done' ELSE 'open' END, "
        "TIMESTAMP '2024-01-01' + g * INTERVAL 1 DAY, json_object('channel', 'web', 'n', g), ['a', 'b'] "
        "FROM range(1, 61) t(g)",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR, email VARCHAR)",
        "INSERT INTO customers SELECT g, 'Customer ' || g, 'c' || g || '@example.com' FROM range(0, 7) t(g)",
    ],
}

_SHARED = [
    "SELECT status, count(*) AS n, sum(amount) AS revenue FROM orders GROUP BY status ORDER BY n DESC",
    "WITH monthly AS (SELECT date_trunc('month', created_at) AS month, sum(amount) AS revenue FROM orders "
    "GROUP BY 1) SELECT month, revenue, lag(revenue) OVER (ORDER BY month) AS previous FROM monthly",
    "SELECT id, amount, row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC) AS recency, "
    "rank() OVER (ORDER BY amount DESC) AS amount_rank FROM orders",
    "SELECT customer_id, avg(amount) OVER (PARTITION BY customer_id ORDER BY created_at "
    "ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS rolling FROM orders",
    "SELECT ntile(4) OVER (ORDER BY amount) AS quartile, percent_rank() OVER (ORDER BY amount) FROM orders",
    "SELECT first_value(id) OVER w, last_value(id) OVER w, dense_rank() OVER w FROM orders "
    "WINDOW w AS (PARTITION BY status ORDER BY id)",
    "SELECT c.name, count(o.id) AS orders, coalesce(sum(o.amount), 0) AS total FROM customers c "
    "LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.name HAVING count(o.id) > 1",
    "SELECT upper(name), lower(email), length(name), substr(email, 1, 3), replace(name, 'Customer', 'C'), "
    "trim('  x  '), lpad(cast(id AS varchar), 4, '0'), concat(name, ' <', email, '>') FROM customers",
    "SELECT split_part(email, '@', 2) AS domain, count(*) FROM customers GROUP BY 1",
    "SELECT regexp_replace(email, '@.*', '') AS local_part, position('@' IN email) FROM customers",
    "SELECT round(avg(amount), 2), stddev(amount), min(amount), max(amount), abs(-1), ceil(1.2), floor(1.8) "
    "FROM orders",
    "SELECT extract(year FROM created_at) AS y, extract(month FROM created_at) AS m, count(*) FROM orders "
    "GROUP BY 1, 2",
    "SELECT created_at, created_at + INTERVAL '7 days' AS week_later, current_date - 30 AS cutoff FROM orders",
    "SELECT count(*) FILTER (WHERE status = 'done') * 100.0 / nullif(count(*), 0) AS done_share FROM orders",
    "SELECT CASE WHEN amount > 50 THEN 'large' WHEN amount > 20 THEN 'medium' ELSE 'small' END AS size, "
    "count(*) FROM orders GROUP BY 1",
    "SELECT * FROM orders WHERE created_at >= now() - INTERVAL '90 days' AND status IN ('done', 'open')",
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) AS median_amount FROM orders",
    "SELECT string_agg(name, ', ' ORDER BY name) FROM customers",
    "SELECT g FROM generate_series(1, 5) AS t(g)",
    "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_name = 'orders'",
    "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name IN ('orders', 'customers')",
    "SELECT a.id FROM orders a WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = a.customer_id)",
    "SELECT id FROM orders WHERE customer_id = 1 UNION SELECT id FROM orders WHERE customer_id = 2 ORDER BY 1",
    "SELECT greatest(amount, 10), least(amount, 10), cast(amount AS integer) FROM orders",
    "SELECT date_trunc('week', created_at) AS week, count(DISTINCT customer_id) FROM orders GROUP BY 1",
]

BENIGN: dict[str, list[str]] = {
    "postgres": [
        *_SHARED,
        "SELECT data ->> 'channel' AS channel, (data -> 'n')::int AS n FROM orders WHERE data ? 'channel'",
        "SELECT jsonb_extract_path_text(data, 'channel'), jsonb_typeof(data -> 'n') FROM orders",
        "SELECT key, count(*) FROM orders, jsonb_each_text(data) GROUP BY key",
        "SELECT jsonb_build_object('id', id, 'amount', amount), to_jsonb(tags) FROM orders LIMIT 5",
        "SELECT unnest(tags) AS tag, count(*) FROM orders GROUP BY 1",
        "SELECT id, tag FROM orders CROSS JOIN LATERAL unnest(tags) AS tag",
        "SELECT array_length(tags, 1), array_to_string(tags, '|'), cardinality(tags) FROM orders",
        "SELECT generate_series(date '2024-01-01', date '2024-03-01', interval '1 month')::date AS month",
        "SELECT age(created_at, timestamp '2024-01-01'), to_char(created_at, 'YYYY-MM'), "
        "date_part('dow', created_at) FROM orders",
        "SELECT created_at::date, make_date(2024, 1, 1), date_bin('1 hour', created_at, timestamp '2024-01-01') "
        "FROM orders",
        "SELECT initcap(name), md5(email), split_part(email, '@', 1), regexp_matches(email, '[0-9]+') "
        "FROM customers",
        "SELECT relname FROM pg_catalog.pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public'",
        "SELECT pg_typeof(amount), format('%s-%s', id, status) FROM orders LIMIT 1",
        "SELECT mode() WITHIN GROUP (ORDER BY status), bool_or(amount > 70), array_agg(id ORDER BY id) FROM orders",
        "SELECT ROW(id, amount), coalesce(status, 'n/a') FROM orders LIMIT 3",
    ],
    "duckdb": [
        *_SHARED,
        "SELECT data ->> '$.channel' AS channel, json_extract(data, '$.n') FROM orders",
        "SELECT json_extract_string(data, '$.channel'), json_keys(data) FROM orders LIMIT 5",
        "SELECT tag, count(*) FROM (SELECT unnest(tags) AS tag FROM orders) GROUP BY ALL",
        "SELECT list_transform(tags, t -> upper(t)), len(tags), list_contains(tags, 'a') FROM orders",
        "SELECT * FROM range(5) t(i)",
        "SELECT strftime(created_at, '%Y-%m'), date_diff('day', created_at, TIMESTAMP '2025-01-01'), "
        "dayname(created_at) FROM orders",
        "SELECT time_bucket(INTERVAL '1 week', created_at) AS week, count(*) FROM orders GROUP BY ALL",
        "SELECT arg_max(id, amount), max_by(status, amount), approx_count_distinct(customer_id) FROM orders",
        "SELECT * FROM orders QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC) = 1",
        "SELECT struct_pack(a := 1, b := 'x') AS s, [1, 2, 3] AS l, {'k': 1} AS m",
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'",
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'orders'",
        "SELECT regexp_extract(email, '([0-9]+)', 1), string_split(email, '@')[1] FROM customers",
        "SELECT epoch(created_at), make_date(2024, 1, 1), last_day(created_at::date) FROM orders LIMIT 3",
        "SELECT list(id ORDER BY id), histogram(status) FROM orders",
    ],
    "bigquery": [
        "SELECT status, COUNT(*) AS n FROM `p.d.orders` GROUP BY status",
        "WITH m AS (SELECT DATE_TRUNC(DATE(created_at), MONTH) AS month, SUM(amount) AS revenue "
        "FROM `p.d.orders` GROUP BY 1) SELECT month, revenue, LAG(revenue) OVER (ORDER BY month) FROM m",
        "SELECT id, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY created_at DESC) FROM `p.d.orders`",
        "SELECT JSON_VALUE(data, '$.channel'), JSON_EXTRACT_SCALAR(data, '$.n'), TO_JSON_STRING(STRUCT(id)) "
        "FROM `p.d.orders`",
        "SELECT tag, COUNT(*) FROM `p.d.orders`, UNNEST(tags) AS tag GROUP BY tag",
        "SELECT d FROM UNNEST(GENERATE_DATE_ARRAY('2024-01-01', '2024-03-01', INTERVAL 1 MONTH)) AS d",
        "SELECT x FROM UNNEST(GENERATE_ARRAY(1, 10)) AS x",
        "SELECT DATE_DIFF(CURRENT_DATE(), DATE(created_at), DAY), FORMAT_DATE('%Y-%m', DATE(created_at)), "
        "TIMESTAMP_TRUNC(created_at, WEEK) FROM `p.d.orders`",
        "SELECT UPPER(name), REGEXP_EXTRACT(email, r'@(.+)'), SPLIT(email, '@')[OFFSET(1)], STARTS_WITH(name, 'C') "
        "FROM `p.d.customers`",
        "SELECT SAFE_DIVIDE(SUM(amount), COUNT(*)), APPROX_QUANTILES(amount, 4), COUNTIF(status = 'done') "
        "FROM `p.d.orders`",
        "SELECT table_name, column_name FROM `p.d.INFORMATION_SCHEMA.COLUMNS` WHERE table_name = 'orders'",
        "SELECT * FROM `p.d.orders` QUALIFY ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY amount DESC) = 1",
        "SELECT ARRAY_AGG(id ORDER BY id LIMIT 5), STRING_AGG(status, ','), LOGICAL_OR(amount > 10) "
        "FROM `p.d.orders`",
        "SELECT PARSE_DATE('%Y%m%d', '20240101'), UNIX_SECONDS(CURRENT_TIMESTAMP()), GENERATE_UUID()",
        "SELECT IF(amount > 10, 'big', 'small'), IFNULL(status, 'n/a'), CAST(amount AS INT64) FROM `p.d.orders`",
    ],
}
