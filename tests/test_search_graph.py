"""Search over the project as a graph: the tables a question needs together (bridges included) from one
connected part of the project, how they join, values, compounds and abbreviations, never sensitive values."""

from __future__ import annotations

from typing import Any

import pytest

from agent.settings import Settings
from agent.tool_config import tool_limits
from tools.dbt.artifacts import DbtArtifacts
from tools.dbt.index import DbtIndex
from tools.registry import ToolContext
from tools.results import ResultStore
from tools.search_models import SearchModelsInput, search_models


def _model(schema: str, name: str, columns: dict[str, str], description: str = "") -> dict[str, Any]:
    return {
        "resource_type": "model",
        "name": name,
        "description": description,
        "relation_name": f'"db"."{schema}"."{name}"',
        "database": "db",
        "schema": schema,
        "alias": name,
        "original_file_path": f"models/{schema}/{name}.sql",
        "columns": {c: {"name": c, "description": d} for c, d in columns.items()},
        "depends_on": {"nodes": []},
    }


def _test(name: str, node: str, column: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        "resource_type": "test",
        "attached_node": node,
        "column_name": column,
        "test_metadata": {"name": name, "kwargs": {"column_name": column, **kwargs}},
        "depends_on": {"nodes": [node]},
    }


def _index(models: list[dict[str, Any]], tests: dict[str, dict[str, Any]] | None = None) -> DbtIndex:
    nodes = {f"model.p.{m['schema']}__{m['name']}": m for m in models} | (tests or {})
    manifest = {"metadata": {"project_name": "p", "adapter_type": "postgres"}, "nodes": nodes, "sources": {}}
    return DbtIndex(DbtArtifacts(manifest, None, None))


def _project() -> DbtIndex:
    """Two unrelated schemas: a school (students, their pets through has_pet) and a library (its own author)."""
    models = [
        _model("school", "student", {"stuid": "", "lname": "", "age": "", "city_code": ""}, "Students."),
        _model("school", "has_pet", {"stuid": "", "petid": ""}),
        _model("school", "pets", {"petid": "", "pettype": "Kind of animal", "pet_age": ""}),
        _model("school", "highschooler", {"id": "", "grade": "", "label": ""}),
        _model("school", "customer_profiles", {"cust_id": "", "first_name": "", "segment": ""}),
        _model("library", "author", {"author_id": "", "author_name": ""}, "Authors of the books."),
        _model("library", "book", {"book_id": "", "author_id": "", "title": ""}, "Books on loan."),
        _model("school", "author", {"author_id": "", "essay_count": ""}, "Student authors of essays."),
    ]
    tests = {
        "test.p.pet_kinds": _test(
            "accepted_values", "model.p.school__pets", "pettype", {"values": ["dog", "cat"]}
        ),
        "test.p.first_names": _test(
            "accepted_values", "model.p.school__customer_profiles", "first_name", {"values": ["Rexford"]}
        ),
    }
    return _index(models, tests)


def test_a_question_gets_the_tables_it_needs_together_with_the_bridge_between_them() -> None:
    hits = _project().search("Which students have a dog?", 5)
    top = [(hit.node.schema, hit.node.name) for hit in hits[:3]]
    assert set(top) == {("school", "student"), ("school", "has_pet"), ("school", "pets")}
    bridge = next(hit for hit in hits if hit.node.name == "has_pet")
    assert any("on stuid" in sentence for hit in hits for sentence in hit.joins)
    assert any("on petid" in sentence for sentence in bridge.joins) or bridge.bridge


def test_same_named_tables_rank_by_the_part_of_the_project_the_question_is_about() -> None:
    index = _project()
    books = index.search("authors and the titles of their books", 3)
    assert (books[0].node.schema, books[0].node.name) in {("library", "author"), ("library", "book")}
    assert {hit.node.schema for hit in books[:2]} == {"library"}
    essays = index.search("authors with the most essays", 3)
    assert (essays[0].node.schema, essays[0].node.name) == ("school", "author")


def test_compounds_abbreviations_and_values_reach_their_models() -> None:
    index = _project()
    assert index.search("high school grades", 1)[0].node.name == "highschooler"
    assert index.search("customer segment", 1)[0].node.name == "customer_profiles"  # cust_id
    assert index.search("how old are the dogs", 1)[0].node.name == "pets"


def test_a_value_is_read_as_data_not_as_an_abbreviation() -> None:
    # "cat" (a pet's kind) is no short "category", though "cat" in a column name would be.
    assert "pets" not in [hit.node.name for hit in _project().search("sales by category", 5)]


def test_values_of_sensitive_columns_are_never_searchable() -> None:
    assert [hit.node.name for hit in _project().search("Rexford", 5)] == []


@pytest.mark.parametrize("share_rows", [True, False])
def test_search_models_says_how_the_tables_join_and_which_column_holds_a_value(share_rows: bool) -> None:
    index = _project()
    context = ToolContext(
        limits=tool_limits(Settings(send_result_rows_to_model=share_rows)),
        warehouse_provider=lambda: None,  # type: ignore[arg-type, return-value]
        dbt_provider=lambda: index,
        results=ResultStore(),
        artifacts=None,  # type: ignore[arg-type]
    )
    output = search_models(context, SearchModelsInput(query="Which students have a dog?", limit=4))
    assert "joins" in output.content and "has_pet" in output.content
    # The value is data: shown (in quotes) only where the settings let rows reach the model.
    assert ('values: pettype holds "dog"' in output.content) is share_rows


def test_a_column_named_for_a_role_and_a_model_joins_that_models_key() -> None:
    models = [
        _model(
            "air", "flight", {"flight_id": "", "from_airport": "", "to_airport": "", "departure_time": ""}
        ),
        _model("air", "airport", {"airport_code": "", "airport_name": "", "city": ""}),
        _model("air", "fare", {"fare_id": "", "one_way_cost": ""}),
    ]
    hits = _index(models).search("flights departing from airports in a city", 3)
    assert {hit.node.name for hit in hits[:2]} == {"flight", "airport"}
    sentences = [sentence for hit in hits for sentence in hit.joins]
    assert sentences == ["airport joins flight on airport.airport_code = flight.from_airport"]


def test_a_flag_or_a_count_named_for_a_model_joins_nothing() -> None:
    # is_first_order says yes or no, new_customers counts rows: neither holds the order's or customer's key.
    models = [
        _model("shop", "orders", {"order_id": "", "customer_id": "", "is_first_order": ""}),
        _model("shop", "customer", {"customer_id": "", "country": ""}),
        _model("shop", "daily_revenue", {"revenue_date": "", "new_customers": "", "has_order": ""}),
        _model("shop", "order", {"order_code": "", "status": ""}),
    ]
    hits = _index(models).search("new customers and first orders by country", 4)
    sentences = [sentence for hit in hits for sentence in hit.joins]
    assert not [s for s in sentences if "is_first_order" in s or "new_customers" in s or "has_order" in s]
    assert "customer joins orders on customer_id" in sentences


def test_an_irregular_verb_reaches_the_table_named_by_its_verb() -> None:
    # Two link tables join authors and papers: only the verb says which one the question means.
    models = [
        _model("lib", "author", {"aid": "", "name": ""}),
        _model("lib", "reviews", {"aid": "", "pid": ""}),
        _model("lib", "writes", {"aid": "", "pid": ""}),
        _model("lib", "paper", {"pid": "", "title": ""}),
    ]
    hits = _index(models).search("titles of papers written by each author", 4)
    assert {hit.node.name for hit in hits[:3]} == {"author", "writes", "paper"}
