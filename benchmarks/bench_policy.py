"""The policy check's overhead per query (resolve, qualify, verify, rewrite), p50/p95 on the demo and on a
generated 5,000-model project; and resolving one asker's access (once per asker, then cached)."""

from __future__ import annotations

import gc
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.bench_dbt_index import generate_manifest
from demo.load import DEMO_PROJECT_DIR
from tests.redteam.benign_statements import BENIGN
from tools.dbt.index import DbtIndex, load_index
from tools.errors import ToolInputError
from tools.policy import PolicyEngine, Principal
from tools.sql_guard import SqlRefused, check_read_only

MODELS = 5_000
ASKER = Principal("slack_channel", user_id="U1", email="ann@example.com", channel_id="C1", channel_name="web")
DEMO_POLICY = """
rules:
  - name: web
    match: {channels: ["#web"]}
    # Built from the filtered fct_orders, so withheld unless named (README): named, so the same queries run.
    allow: ["tag:mart", dim_customers, daily_revenue]
    deny_columns: [fct_orders.payment_method]
    row_filters: {fct_orders: "channel = {channel_name}"}
"""
DEMO_QUERIES = [
    "SELECT order_date, sum(revenue) AS revenue FROM daily_revenue GROUP BY 1 ORDER BY 1",
    "SELECT status, count(*) AS orders FROM fct_orders GROUP BY status",
    "SELECT * FROM dim_customers LIMIT 10",
    "SELECT c.country, sum(o.net_revenue) FROM fct_orders AS o JOIN dim_customers AS c USING (customer_id) GROUP BY 1",
    "WITH daily AS (SELECT order_date, count(*) AS n FROM fct_orders GROUP BY 1) SELECT avg(n) FROM daily",
    "SELECT category, sum(line_revenue) FROM fct_order_items GROUP BY 1 ORDER BY 2 DESC LIMIT 5",
    "SELECT order_date, sum(net_revenue) OVER (ORDER BY order_date) FROM fct_orders",
    "SELECT count(*) FROM fct_orders WHERE customer_id IN (SELECT customer_id FROM dim_customers WHERE country = 'DE')",
]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def measure(
    engine: PolicyEngine, index: DbtIndex, queries: list[str], rounds: int, *, guarded: bool = False
) -> tuple[float, float, float, int]:
    """Milliseconds per query for the whole check, as a turn runs it: p50 and p95 of every run, p95 over queries
    of each query's median run (steadier on a busy machine); and how many queries were refused. `guarded`: the
    policy is handed the SQL guard's rendering, as run_query does, so it reads the guard's tree (the guard's own
    time is bench_sql_guard's); otherwise it parses the text itself, as for SQL no guard has seen."""
    samples, refused = [], 0
    by_query: dict[str, list[float]] = {sql: [] for sql in queries}
    for _ in range(rounds):
        for sql in queries:
            policy = engine.tool_policy(ASKER, index)
            assert policy is not None
            text = _guarded(sql) if guarded else sql
            started = time.perf_counter()
            try:
                policy.enforce_sql(text, "duckdb")
            except ToolInputError:
                refused += 1
            samples.append((time.perf_counter() - started) * 1000)
            by_query[sql].append(samples[-1])
    p50, p95 = percentiles(samples)
    _, typical_p95 = percentiles([statistics.median(times) for times in by_query.values()])
    return p50, p95, typical_p95, refused // rounds


def _guarded(sql: str) -> str:
    try:
        return check_read_only(sql, "duckdb").sql
    except SqlRefused:
        return sql


def big_queries(index: DbtIndex, count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    nodes = index.nodes()
    queries = []
    for _ in range(count):
        left, right = rng.sample(nodes, 2)
        a, b = (column.name for column in rng.sample(left.columns, 2))
        c = right.columns[0].name
        queries.append(
            f"SELECT l.{a}, count(*) AS n FROM {left.identifier} AS l JOIN {right.identifier} AS r "
            f"ON l.{b} = r.{c} GROUP BY 1 ORDER BY n DESC LIMIT 20"
        )
    return queries


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        policy_file = Path(folder) / "policy.yml"
        policy_file.write_text(DEMO_POLICY)
        demo = load_index(DEMO_PROJECT_DIR)
        engine = PolicyEngine(policy_file, slack_default="allow")
        # As the Slack bot does at start (bot/slack/long_lived.py): the index is not rescanned by every collection.
        gc.collect()
        gc.freeze()
        p50, p95, typical, refused = measure(engine, demo, DEMO_QUERIES + BENIGN["duckdb"][:8], rounds=30)
        print(
            f"demo: policy check per query p50 {p50:.2f} ms, p95 {p95:.2f} ms (target p95 < 2 ms), "
            f"p95 of per-query medians {typical:.2f} ms; {refused} refused"
        )
        p50, p95, typical, _ = measure(
            engine, demo, DEMO_QUERIES + BENIGN["duckdb"][:8], rounds=30, guarded=True
        )
        print(
            f"demo, as run_query runs it (after the guard, reading its tree): policy check per query p50 "
            f"{p50:.2f} ms, p95 {p95:.2f} ms, p95 of per-query medians {typical:.2f} ms"
        )

        project = Path(folder) / "big"
        (project / "target").mkdir(parents=True)
        (project / "dbt_project.yml").write_text("name: big\nversion: '1.0'\nprofile: big\n")
        (project / "target" / "manifest.json").write_text(json.dumps(generate_manifest(MODELS)))
        big = load_index(project)
        gc.collect()
        gc.freeze()
        policy_file.write_text(
            "rules:\n  - name: marts\n    match: {everyone: true}\n    allow: ['fct_*', 'dim_*', 'mart_*']\n"
        )
        engine = PolicyEngine(policy_file, slack_default="allow")
        started = time.perf_counter()
        access = engine.access(ASKER, big)
        resolve_ms = (time.perf_counter() - started) * 1000
        queries = [sql for sql in big_queries(big, 400) if "stg_" not in sql and "int_" not in sql][:100]
        p50, p95, typical, refused = measure(engine, big, queries, rounds=5)
        print(
            f"{MODELS:,} models: resolving one asker's access {resolve_ms:,.0f} ms (once, then cached; "
            f"{len(access.allowed):,} models allowed); policy check per query p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
            f"p95 of per-query medians {typical:.2f} ms; "
            f"{refused} of {len(queries)} refused"
        )
        p50, p95, typical, _ = measure(engine, big, queries, rounds=5, guarded=True)
        print(
            f"{MODELS:,} models, as run_query runs it: policy check per query p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
            f"p95 of per-query medians {typical:.2f} ms"
        )
        # Row filters on every staging model: every model built from one is found (one walk down the graph).
        policy_file.write_text(
            "rules:\n  - name: marts\n    match: {everyone: true}\n    allow: ['fct_*', 'dim_*', 'mart_*']\n"
            "    row_filters: {'stg_*': 'true'}\n"
        )
        engine = PolicyEngine(policy_file, slack_default="allow")
        started = time.perf_counter()
        filtered = engine.access(ASKER, big)
        print(
            f"{MODELS:,} models, every staging model row-filtered: resolving one asker's access "
            f"{(time.perf_counter() - started) * 1000:,.0f} ms ({len(filtered.withheld):,} derived models withheld)"
        )


if __name__ == "__main__":
    main()
