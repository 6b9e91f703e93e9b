"""Names checked before the warehouse: unknown tables and columns refused with where we looked and the closest
names (case, word forms, synonyms, descriptions, same part of the project), ambiguous columns named, and
correct queries (CTEs, subqueries, USING, aliases, correlated columns) never refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agent.events import EventList, ToolFinished
from agent.runtime import Runtime
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_use_reply
from tools.schema_check import KnownTable, NameProblem, find_name_problem
from tools.sql_guard import check_read_only

CATALOG = [
    KnownTable("customers", "db", "shop", "customers", ("id", "Name", "first_name", "middle_name", "city")),
    KnownTable(
        "orders",
        "db",
        "shop",
        "orders",
        ("id", "customer_id", "amount", "ordered_at"),
        descriptions={"ordered_at": "When the order was placed (order date)"},
        part="shop",
    ),
    KnownTable("order_items", "db", "shop", "order_items", ("order_id", "sku", "quantity"), part="shop"),
    KnownTable("patients", "db", "clinic", "patients", ("id", "given_name"), part="clinic"),
]


def problem(sql: str, dialect: str = "postgres") -> NameProblem | None:
    return find_name_problem(check_read_only(sql, dialect), CATALOG, source="the dbt catalog")


def test_a_misspelt_column_is_matched_ignoring_case() -> None:
    found = problem("SELECT nam FROM shop.customers")
    assert found is not None and found.kind == "column" and found.candidates[0] == "Name"
    assert "customers (the dbt catalog)" in found.message()


def test_synonyms_word_forms_and_descriptions_suggest_the_right_column() -> None:
    given = problem("SELECT given_name FROM shop.customers")
    assert given is not None and given.candidates[0] == "first_name"
    plural = problem("SELECT o.amounts FROM shop.orders o")
    assert plural is not None and plural.candidates[0] == "amount"
    described = problem("SELECT order_date FROM shop.orders")
    assert described is not None and "ordered_at" in described.candidates


def test_an_unknown_table_is_refused_with_tables_of_the_same_part_first() -> None:
    found = problem("SELECT o.id FROM shop.orders o JOIN shop.order_item i ON i.order_id = o.id")
    assert found is not None and found.kind == "table" and found.candidates[0] == "order_items"
    assert "schemas clinic, shop" in found.message()


def test_an_unqualified_name_several_schemas_share_is_not_checked_column_by_column() -> None:
    tables = [*CATALOG, KnownTable("orders", "db", "archive", "orders", ("id", "legacy_total"))]
    query = check_read_only("SELECT legacy_total FROM orders", "postgres")
    assert find_name_problem(query, tables, source="the dbt catalog") is None
    qualified = check_read_only("SELECT legacy_total FROM shop.orders", "postgres")
    assert find_name_problem(qualified, tables, source="the dbt catalog") is not None


def test_a_table_outside_the_catalog_that_resembles_nothing_is_left_to_the_warehouse() -> None:
    assert problem("SELECT * FROM analytics.web_sessions") is None


def test_quoted_names_follow_the_dialect_case_rules() -> None:
    wrong_case = problem('SELECT "name" FROM shop.customers')
    assert wrong_case is not None and wrong_case.candidates[0] == "Name"
    assert problem('SELECT "Name" FROM shop.customers') is None
    assert problem("SELECT AMOUNT FROM SHOP.ORDERS") is None  # unquoted: folded to lower case
    assert problem('SELECT "NAME" FROM shop.customers', "duckdb") is None  # DuckDB ignores case
    unquoted = problem("SELECT c.Name FROM shop.customers c")  # PostgreSQL reads it as name
    assert unquoted is not None and 'quote it as "Name"' in unquoted.message()


def test_an_ambiguous_column_names_the_tables_that_have_it() -> None:
    found = problem("SELECT id FROM shop.orders o JOIN shop.customers c ON o.customer_id = c.id")
    assert found is not None and found.kind == "ambiguous column"
    assert set(found.candidates) == {"o.id", "c.id"}


@pytest.mark.parametrize(
    "sql",
    [
        "WITH totals AS (SELECT customer_id, SUM(amount) AS total FROM shop.orders GROUP BY 1) "
        'SELECT c."Name", t.total FROM totals t JOIN shop.customers c ON c.id = t.customer_id ORDER BY total',
        "SELECT id FROM shop.customers WHERE id IN (SELECT customer_id FROM shop.orders WHERE amount > 10)",
        "SELECT c.city FROM shop.customers c WHERE EXISTS "
        "(SELECT 1 FROM shop.orders o WHERE o.customer_id = c.id AND city IS NOT NULL)",
        "SELECT order_id, SUM(quantity) AS q FROM shop.order_items GROUP BY order_id HAVING SUM(quantity) > 1",
        "SELECT s.n FROM (SELECT COUNT(*) AS n FROM shop.orders) AS s",
        "SELECT id, amount FROM shop.orders JOIN shop.order_items USING (id)",
        "SELECT x.* FROM shop.orders x",
        "SELECT DATE_TRUNC('month', ordered_at) AS month, COUNT(*) FROM shop.orders GROUP BY month",
    ],
)
def test_correct_queries_are_never_refused(sql: str) -> None:
    assert problem(sql) is None


@pytest.fixture
def runtime(fake_anthropic: FakeAnthropic, make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime(anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url)


def test_run_query_refuses_an_unknown_table_before_the_warehouse(
    runtime: Runtime, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        tool_use_reply("run_query", {"sql": 'SELECT sum(revenue) FROM "shop"."main"."daily_revenu"'}),
        text_reply("I could not find that table."),
    )
    events = EventList()
    runtime.agent().handle(runtime.store.open_session(source="cli").id, "Total revenue?", events)
    finished = events.of_type(ToolFinished)[0]
    assert finished.is_error and "daily_revenue" in finished.summary  # type: ignore[union-attr]
    assert "Not run: table" in fake_anthropic.requests[1].tool_results()[0]["content"]
