"""The red team against the policy: every attempt to read a denied model, a hidden column or rows outside a row
filter is refused or comes back without them, on real DuckDB, through the real tools."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from agent.events import EventList
from agent.governance.asker import asking_as
from agent.runtime import Runtime
from demo.load import DEMO_PROJECT_DIR
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_use_reply
from tests.postgres_demo import copy_demo_tables
from tests.postgres_roles import read_only_role
from tests.redteam.policy_attempts import all_attempts, derived_model_attempts
from tools.policy import Principal
from tools.registry import ToolOutput

# dim_customers is built from fct_orders (lifetime orders and revenue count every channel), so the row filter
# would withhold it; it is allowed by name, accepting those totals, so that the column routes on it are tried.
# daily_revenue, also built from fct_orders, is not named: it stays withheld (the derived-model route).
POLICY = """
rules:
  - name: sales channel
    match: {channels: ["#sales"]}
    allow: ["tag:mart", dim_customers]
    deny: [dim_products]
    deny_columns: [fct_orders.payment_method]
    row_filters:
      fct_orders: "channel = {channel_name}"
"""
# The asker's channel is called `web`: the row filter keeps fct_orders to web orders.
ASKER = Principal("slack_channel", user_id="U1", email="ann@example.com", channel_id="C1", channel_name="web")
RED_TEAM_POLICY = POLICY.replace("#sales", "#web")


@pytest.fixture
def policed(make_runtime: Callable[..., Runtime], tmp_path: Path) -> Iterator[Runtime]:
    policy = tmp_path / "policy.yml"
    policy.write_text(RED_TEAM_POLICY)
    yield make_runtime(policy_file=policy)


@pytest.fixture(scope="module")
def secrets(demo_data_dir: Path) -> set[str]:
    """Every value the asker must never see: names, emails, payment methods, product names, other channels."""
    database = next(demo_data_dir.rglob("*.duckdb"))
    connection = duckdb.connect(str(database), read_only=True)
    queries = [
        "SELECT email FROM main.dim_customers",
        "SELECT first_name FROM main.dim_customers",
        "SELECT last_name FROM main.dim_customers",
        "SELECT DISTINCT payment_method FROM main.fct_orders",
        "SELECT product_name FROM main.dim_products",
        "SELECT DISTINCT channel FROM main.fct_orders WHERE channel <> 'web'",
    ]
    values = {str(row[0]) for query in queries for row in connection.execute(query).fetchall()}
    connection.close()
    return values


def run(runtime: Runtime, tool: str, arguments: dict[str, Any], principal: Principal = ASKER) -> ToolOutput:
    with asking_as(principal):
        context = runtime.tool_context(None)
    return runtime.registry.execute(tool, arguments, context).output


def leaks(output: ToolOutput, secrets: set[str]) -> list[str]:
    """Hidden values found in what a tool returned: in its table's cells, or as a CSV cell in its content."""
    found = []
    if output.table is not None:
        found += [str(cell) for row in output.table.rows for cell in row if str(cell) in secrets]
        found += [c.name for c in output.table.columns if c.name.lower() in HIDDEN_COLUMNS]
    cells = {cell.strip() for line in output.content.splitlines() for cell in line.split(",")}
    found += sorted(cells & secrets)
    if "@" in output.content:
        found.append("an email address")
    return found


HIDDEN_COLUMNS = {"email", "first_name", "last_name", "payment_method", "product_name"}


def test_the_corpus_is_large_enough() -> None:
    assert len(all_attempts()) >= 100


@pytest.mark.parametrize("sql", all_attempts())
def test_no_attempt_leaks_on_duckdb(policed: Runtime, secrets: set[str], sql: str) -> None:
    output = run(policed, "run_query", {"sql": sql})
    assert not leaks(output, secrets), (sql, output.content[:500])


@pytest.mark.parametrize("sql", derived_model_attempts())
def test_a_model_built_from_a_filtered_one_is_refused_naming_the_filter(policed: Runtime, sql: str) -> None:
    output = run(policed, "run_query", {"sql": sql})
    assert output.is_error, (sql, output.content[:300])
    assert "daily_revenue is built from fct_orders" in output.content and "sales channel" in output.content


def test_derived_models_are_withheld_from_every_tool(policed: Runtime) -> None:
    described = run(policed, "describe_model", {"name": "daily_revenue"})
    assert described.is_error and "built from fct_orders" in described.content
    quality = run(policed, "check_data_quality", {"model": "daily_revenue"})
    assert quality.is_error and "built from fct_orders" in quality.content
    found = run(policed, "search_models", {"query": "daily revenue orders per day", "limit": 25})
    assert "daily_revenue" not in _words(found.content)
    # The terminal, under no filter, reads it (the refusal is the filter's doing, not a missing model).
    assert not run(
        policed, "run_query", {"sql": "SELECT * FROM daily_revenue"}, Principal.terminal()
    ).is_error


def test_refusals_name_what_is_not_allowed(policed: Runtime) -> None:
    email = run(policed, "run_query", {"sql": "SELECT c.email FROM dim_customers AS c"})
    assert email.is_error and "email" in email.content and "dim_customers" in email.content
    products = run(policed, "run_query", {"sql": "SELECT * FROM dim_products"})
    assert products.is_error and "dim_products" in products.content
    payment = run(policed, "run_query", {"sql": "SELECT payment_method FROM fct_orders"})
    assert payment.is_error and "payment_method" in payment.content and "denied" in payment.content


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT emial FROM dim_customers",
        "SELECT payment_methd FROM fct_orders",
        "SELECT prodct_name FROM dim_products",
    ],
)
def test_hints_for_misspelt_names_never_name_what_is_hidden(policed: Runtime, sql: str) -> None:
    output = run(policed, "run_query", {"sql": sql})
    assert output.is_error
    assert not {"email", "payment_method", "product_name", "first_name"} & set(
        output.content.replace(",", " ").split()
    )


def test_row_filter_counts_only_the_askers_rows(policed: Runtime, secrets: set[str]) -> None:
    output = run(
        policed,
        "run_query",
        {"sql": "SELECT count(*) AS n FROM fct_orders AS a, fct_orders AS b WHERE a.order_id = b.order_id"},
    )
    unfiltered = policed.warehouse().execute_readonly(
        "SELECT count(*) FILTER (WHERE channel = 'web'), count(*) FROM main.fct_orders",
        max_rows=1,
        timeout_seconds=10,
    )
    web, everything = unfiltered.rows[0]
    assert output.table is not None and output.table.rows[0][0] == web < everything


def test_select_star_expands_to_allowed_columns(policed: Runtime) -> None:
    output = run(policed, "run_query", {"sql": "SELECT * FROM dim_customers LIMIT 3"})
    assert not output.is_error and output.table is not None
    names = output.table.column_names()
    assert "customer_id" in names and "country" in names and not set(names) & HIDDEN_COLUMNS


def test_describe_and_search_see_only_allowed_models_and_columns(policed: Runtime, secrets: set[str]) -> None:
    assert run(policed, "describe_model", {"name": "dim_products"}).is_error
    assert run(policed, "describe_model", {"name": "stg_customers"}).is_error
    customers = run(policed, "describe_model", {"name": "dim_customers"})
    assert "country" in customers.content and not {"email", "first_name", "last_name"} & _words(
        customers.content
    )
    orders = run(policed, "describe_model", {"name": "fct_orders"})
    assert "payment_method" not in orders.content and "stg_orders" not in orders.content
    for query in ("products names", "customer email", "payments method", "staging orders"):
        found = run(policed, "search_models", {"query": query, "limit": 25})
        assert not {"dim_products", "stg_customers", "stg_payments", "raw_customers"} & _words(found.content)
        listed = found.content.replace(repr(query), "")  # The heading repeats the question.
        assert "email" not in listed and "payment_method" not in listed


def test_quality_anomalies_and_charts_obey_the_policy(policed: Runtime, secrets: set[str]) -> None:
    assert run(policed, "check_data_quality", {"model": "dim_products"}).is_error
    quality = run(policed, "check_data_quality", {"model": "dim_customers"})
    assert not leaks(quality, secrets) and "email" not in quality.content
    anomalies = run(policed, "detect_anomalies", {"metric": "order_count"})
    assert not leaks(anomalies, secrets)
    # A result kept by another session (another asker) is not reachable by its id.
    terminal = run(
        policed, "run_query", {"sql": "SELECT product_name FROM main.dim_products"}, Principal.terminal()
    )
    assert terminal.table is not None
    chart = run(policed, "make_chart", {"result_id": terminal.table.result_id, "kind": "bar"})
    assert chart.is_error


def test_a_masked_column_never_reaches_the_model(
    policed: Runtime,
    fake_anthropic: FakeAnthropic,
    make_runtime: Callable[..., Runtime],
    tmp_path: Path,
    secrets: set[str],
) -> None:
    runtime = make_runtime(
        anthropic_api_key="test-key",
        anthropic_base_url=fake_anthropic.base_url,
        policy_file=tmp_path / "policy.yml",
    )
    fake_anthropic.enqueue(
        tool_use_reply("search_models", {"query": "customers email"}),
        tool_use_reply("describe_model", {"name": "dim_customers"}),
        tool_use_reply("run_query", {"sql": "SELECT * FROM dim_customers LIMIT 20"}),
        tool_use_reply("run_query", {"sql": "SELECT email FROM dim_customers LIMIT 20"}),
        text_reply("Here are the customers."),
    )
    session = runtime.store.open_session(source="slack", external_key="T1:C1:1.0")
    with asking_as(ASKER):
        runtime.agent().handle(session.id, "Show me customers and their emails", EventList())
    sent = json.dumps([request.body for request in fake_anthropic.requests])
    assert len(fake_anthropic.requests) == 5
    assert "@" not in sent.replace("ann@example.com", "")
    assert not {
        value for value in secrets if (len(value) > 3 and f'"{value}"' in sent) or f",{value}" in sent
    }


def _words(text: str) -> set[str]:
    return {word.strip(".,:;()[]") for word in text.split()}


# PostgreSQL: the demo's marts copied into a fresh database, the same corpus through the same tools. ---------

_PG_TABLES = ("fct_orders", "dim_customers", "dim_products", "fct_order_items", "daily_revenue")


@pytest.fixture
def policed_postgres(
    postgres_url: str, demo_data_dir: Path, make_runtime: Callable[..., Runtime], tmp_path: Path
) -> Iterator[Runtime]:
    # postgres_url is a fresh database, so the demo's own schema name is free; the relations then carry the
    # names the unchanged demo project gives them (main.fct_orders).
    copy_demo_tables(next(demo_data_dir.rglob("*.duckdb")), postgres_url, "main", _PG_TABLES)
    policy = tmp_path / "policy.yml"
    policy.write_text(RED_TEAM_POLICY)
    # As a read-only role, as the product requires (it refuses to serve as the test server's superuser).
    with read_only_role(postgres_url, ["main"]) as reader_url:
        yield make_runtime(
            policy_file=policy,
            dbt_project_dir=DEMO_PROJECT_DIR,
            warehouse_url=f"{reader_url}?options=-csearch_path%3Dmain",
        )


@pytest.mark.postgres
def test_no_attempt_leaks_on_postgres(policed_postgres: Runtime, secrets: set[str]) -> None:
    """One test for the whole corpus: a database per attempt would take minutes."""
    answered = 0
    for sql in all_attempts():
        output = run(policed_postgres, "run_query", {"sql": sql})
        assert not leaks(output, secrets), (sql, output.content[:500])
        answered += not output.is_error
    derived_refused = 0
    for sql in derived_model_attempts():
        output = run(policed_postgres, "run_query", {"sql": sql})
        # Refused by name, or (a quoted upper-case name, case-sensitive on PostgreSQL) as no model at all.
        assert output.is_error and "Not allowed" in output.content, (sql, output.content[:300])
        derived_refused += "built from fct_orders" in output.content
    assert derived_refused >= len(derived_model_attempts()) - 1
    filtered = run(policed_postgres, "run_query", {"sql": "SELECT DISTINCT channel FROM fct_orders AS o"})
    assert filtered.table is not None and [list(row) for row in filtered.table.rows] == [["web"]]
    assert answered > 20  # The policy refuses what it must, not everything.


# Alerts and the system prompt. -----------------------------------------------------------------------------

ALERT_POLICY = """
rules:
  - name: alerts read the daily mart
    match: {alerts: true}
    allow: [daily_revenue]
"""


@pytest.mark.parametrize(
    "source",
    [
        {"model": "fct_orders", "time_column": "order_date", "measure": "count(*)"},
        {"model": "dim_customers", "time_column": "signup_date", "measure": "count(DISTINCT email)"},
        {"sql": "SELECT order_date AS t, count(*) AS v FROM fct_orders GROUP BY 1"},
        {"sql": "SELECT signup_date AS t, count(email) AS v FROM main.dim_customers GROUP BY 1"},
    ],
)
def test_alerts_obey_the_policy(
    make_runtime: Callable[..., Runtime], tmp_path: Path, source: dict[str, str]
) -> None:
    from agent.alerts.definitions import AlertDefinition
    from agent.alerts.evaluate import AlertEvaluationError
    from agent.alerts.runner import AlertRunner

    policy = tmp_path / "policy.yml"
    policy.write_text(ALERT_POLICY)
    runtime = make_runtime(policy_file=policy)
    alert = AlertDefinition.model_validate(
        {"name": "probe", "schedule": "0 8 * * *", "channel": "#x", **source}
    )
    with pytest.raises(AlertEvaluationError, match="Not allowed"):
        AlertRunner(runtime).evaluate(alert)
    allowed = AlertDefinition.model_validate(
        {"name": "ok", "schedule": "0 8 * * *", "channel": "#x", "model": "daily_revenue",
         "time_column": "order_date", "measure": "sum(orders)"}
    )  # fmt: skip
    assert AlertRunner(runtime).evaluate(allowed).series is not None


def test_the_system_prompt_names_only_allowed_models(policed: Runtime) -> None:
    with asking_as(ASKER):
        prompt = policed.system_prompt()
    # The main models listed (the glossary, written by the team, may still name a model in its prose).
    assert "- dim_products:" not in prompt and "- fct_orders:" in prompt
    assert "- dim_products:" in policed.system_prompt()  # The terminal (no asker) sees the whole project.
