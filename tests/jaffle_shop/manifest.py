"""The jaffle-shop semantic layer as dbt writes it to target/semantic_manifest.json (the fields dbt emits).

Modelled on dbt-labs/jaffle-shop's semantic models and metrics, trimmed to what the parity queries need.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.jaffle_shop.data import SCHEMA

_CONFIG = {"meta": {}}


def _relation(table: str) -> dict[str, Any]:
    return {"alias": table, "database": None, "schema_name": SCHEMA, "relation_name": f'"{SCHEMA}"."{table}"'}


def _entity(name: str, kind: str, expr: str) -> dict[str, Any]:
    return {"name": name, "type": kind, "expr": expr, "role": None, "description": None, "label": None,
            "metadata": None, "config": _CONFIG}  # fmt: skip


def _dimension(name: str, expr: str | None = None, *, time: bool = False) -> dict[str, Any]:
    params = {"time_granularity": "day", "validity_params": None} if time else None
    return {"name": name, "type": "time" if time else "categorical", "expr": expr, "type_params": params,
            "is_partition": False, "description": None, "label": None, "metadata": None, "config": _CONFIG}  # fmt: skip


def _measure(name: str, agg: str, expr: str) -> dict[str, Any]:
    return {"name": name, "agg": agg, "expr": expr, "agg_params": None, "agg_time_dimension": None,
            "create_metric": False, "non_additive_dimension": None, "description": None, "label": None,
            "metadata": None, "config": _CONFIG}  # fmt: skip


def _semantic_model(
    name: str, table: str, time: str | None, entities: list[Any], dimensions: list[Any], measures: list[Any]
) -> dict[str, Any]:
    return {"name": name, "node_relation": _relation(table), "defaults": {"agg_time_dimension": time} if time else None,
            "entities": entities, "dimensions": dimensions, "measures": measures, "primary_entity": None,
            "description": None, "label": None, "metadata": None, "config": _CONFIG}  # fmt: skip


def _input(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "alias": None,
        "filter": None,
        "offset_window": None,
        "offset_to_grain": None,
        **extra,
    }


def _measure_input(name: str) -> dict[str, Any]:
    return {"name": name, "alias": None, "filter": None, "fill_nulls_with": None, "join_to_timespine": False}


def _where(template: str | None) -> dict[str, Any] | None:
    return {"where_filters": [{"where_sql_template": template}]} if template else None


def _metric(
    name: str, kind: str, measures: list[str], where: str | None = None, **params: Any
) -> dict[str, Any]:
    type_params = {"measure": None, "numerator": None, "denominator": None, "expr": None, "window": None,
                   "grain_to_date": None, "metrics": [], "conversion_type_params": None,
                   "cumulative_type_params": None, "input_measures": [_measure_input(m) for m in measures]}  # fmt: skip
    if kind in ("simple", "cumulative"):
        type_params["measure"] = _measure_input(measures[0])
    type_params.update(params)
    return {"name": name, "type": kind, "type_params": type_params, "filter": _where(where), "label": name,
            "description": f"The jaffle shop's {name.replace('_', ' ')}.", "time_granularity": None,
            "metadata": None, "config": _CONFIG}  # fmt: skip


def _cumulative(window: str | None, grain_to_date: str | None) -> dict[str, Any]:
    return {"window": _window(window), "grain_to_date": grain_to_date, "period_agg": "first"}


def _window(text: str | None) -> dict[str, Any] | None:
    count, _, unit = (text or "").partition(" ")
    return {"count": int(count), "granularity": unit} if text else None


def _conversion(
    name: str,
    base: str,
    conversion: str,
    *,
    window: str | None = None,
    calculation: str = "conversion_rate",
    constant_location: bool = False,
) -> dict[str, Any]:
    """A conversion metric from `base` events to `conversion` events of the same customer."""
    params = {
        "base_measure": _measure_input(base),
        "conversion_measure": _measure_input(conversion),
        "entity": "customer",
        "calculation": calculation,
        "window": _window(window),
        "constant_properties": [{"base_property": "location", "conversion_property": "location"}]
        if constant_location
        else None,
    }
    return _metric(name, "conversion", [base, conversion], conversion_type_params=params)


def semantic_manifest() -> dict[str, Any]:
    """The whole semantic manifest."""
    orders = _semantic_model(
        "orders", "orders", "ordered_at",
        [_entity("order_id", "primary", "order_id"), _entity("location", "foreign", "location_id"),
         _entity("customer", "foreign", "customer_id")],
        [_dimension("ordered_at", time=True), _dimension("order_total_dim", "order_total"),
         _dimension("is_food_order"), _dimension("is_drink_order")],
        [_measure("order_total", "sum", "order_total"), _measure("order_count", "sum", "1"),
         _measure("tax_paid", "sum", "tax_paid"), _measure("order_cost", "sum", "order_cost"),
         _measure("customers_with_orders", "count_distinct", "customer_id"),
         _measure("max_order_total", "max", "order_total"), _measure("average_subtotal", "average", "subtotal")],
    )  # fmt: skip
    order_items = _semantic_model(
        "order_items", "order_items", "ordered_at",
        [_entity("order_item", "primary", "order_item_id"), _entity("order_id", "foreign", "order_id"),
         _entity("product", "foreign", "product_id")],
        [_dimension("ordered_at", time=True), _dimension("is_food_item"), _dimension("is_drink_item")],
        [_measure("revenue", "sum", "product_price"),
         _measure("food_revenue", "sum", "case when is_food_item then product_price else 0 end"),
         _measure("drink_revenue", "sum", "case when is_drink_item then product_price else 0 end")],
    )  # fmt: skip
    customers = _semantic_model(
        "customers", "customers", "first_ordered_at",
        [_entity("customer", "primary", "customer_id")],
        [_dimension("customer_name"), _dimension("customer_type"), _dimension("first_ordered_at", time=True)],
        [_measure("customers", "count_distinct", "customer_id")],
    )  # fmt: skip
    locations = _semantic_model(
        "locations", "locations", "opened_at",
        [_entity("location", "primary", "location_id")],
        [_dimension("location_name"), _dimension("opened_at", time=True)],
        [_measure("average_tax_rate", "average", "tax_rate")],
    )  # fmt: skip
    products = _semantic_model(
        "products", "products", None,
        [_entity("product", "primary", "product_id")],
        [_dimension("product_name"), _dimension("product_type")],
        [],
    )  # fmt: skip
    visits = _semantic_model(
        "visits", "visits", "visited_at",
        [_entity("visit", "primary", "visit_id"), _entity("customer", "foreign", "customer_id"),
         _entity("location", "foreign", "location_id")],
        [_dimension("visited_at", time=True), _dimension("referrer")],
        [_measure("visits", "sum", "1"), _measure("visitors", "count_distinct", "customer_id")],
    )  # fmt: skip
    metrics = [
        _metric("order_total", "simple", ["order_total"]),
        _metric("orders", "simple", ["order_count"]),
        _metric("tax_paid", "simple", ["tax_paid"]),
        _metric("order_cost", "simple", ["order_cost"]),
        _metric("customers_with_orders", "simple", ["customers_with_orders"]),
        _metric("max_order_total", "simple", ["max_order_total"]),
        _metric("average_subtotal", "simple", ["average_subtotal"]),
        _metric("revenue", "simple", ["revenue"]),
        _metric("food_revenue", "simple", ["food_revenue"]),
        _metric("new_customers", "simple", ["customers"]),
        _metric(
            "large_orders", "simple", ["order_count"], "{{ Dimension('order_id__order_total_dim') }} >= 30"
        ),
        _metric(
            "food_orders", "simple", ["order_count"], "{{ Dimension('order_id__is_food_order') }} = true"
        ),
        _metric(
            "returning_customer_orders",
            "simple",
            ["order_count"],
            "{{ Dimension('customer__customer_type') }} = 'returning'",
        ),
        _metric(
            "average_order_value",
            "ratio",
            ["order_total", "order_count"],
            numerator=_input("order_total"),
            denominator=_input("orders"),
        ),
        _metric(
            "food_revenue_pct",
            "ratio",
            ["food_revenue", "revenue"],
            numerator=_input("food_revenue"),
            denominator=_input("revenue"),
        ),
        _metric(
            "order_gross_profit",
            "derived",
            ["revenue", "order_cost"],
            expr="revenue - order_cost",
            metrics=[_input("revenue"), _input("order_cost")],
        ),
        _metric(
            "tax_share_of_total",
            "derived",
            ["tax_paid", "order_total"],
            expr="tax_paid / order_total",
            metrics=[_input("tax_paid"), _input("order_total")],
        ),
        _metric(
            "revenue_growth_mom",
            "derived",
            ["revenue"],
            expr="revenue - revenue_prev_month",
            metrics=[
                _input("revenue"),
                _input(
                    "revenue", alias="revenue_prev_month", offset_window={"count": 1, "granularity": "month"}
                ),
            ],
        ),
        _metric(
            "cumulative_revenue", "cumulative", ["revenue"], cumulative_type_params=_cumulative(None, None)
        ),
        _metric(
            "revenue_trailing_7d",
            "cumulative",
            ["revenue"],
            cumulative_type_params=_cumulative("7 days", None),
        ),
        _metric("revenue_mtd", "cumulative", ["revenue"], cumulative_type_params=_cumulative(None, "month")),
        # Conversion metrics: a visit (base event) followed by an order (conversion event) of the same customer.
        _conversion("visit_to_order_rate", "visits", "order_count"),
        _conversion("visit_to_order_rate_7d", "visits", "order_count", window="7 days"),
        _conversion(
            "visit_to_order_conversions_7d",
            "visits",
            "order_count",
            window="7 days",
            calculation="conversions",
        ),
        _conversion("visitor_to_buyer_rate_7d", "visitors", "customers_with_orders", window="7 days"),
        _conversion(
            "same_location_conversions_7d",
            "visits",
            "order_count",
            window="7 days",
            calculation="conversions",
            constant_location=True,
        ),
    ]
    saved_queries = [
        {"name": "monthly_orders_by_location", "label": "Monthly orders by location", "description": None,
         "query_params": {"metrics": ["orders", "order_total"],
                          "group_by": ["TimeDimension('metric_time', 'month')", "Dimension('location__location_name')"],
                          "where": None, "order_by": [], "limit": None},
         "exports": [], "tags": [], "metadata": None},
    ]  # fmt: skip
    spine = {"column_name": "date_day", "grain": "day", "location": f'"{SCHEMA}"."metricflow_time_spine"'}
    return {
        "semantic_models": [orders, order_items, customers, locations, products, visits],
        "metrics": metrics,
        "saved_queries": saved_queries,
        "project_configuration": {
            "dsi_package_version": {"major_version": "0", "minor_version": "9", "patch_version": "0"},
            "metadata": None,
            "time_spine_table_configurations": [spine],
            "time_spines": [],
        },
    }


def write_project(project_dir: Path) -> Path:
    """A dbt-shaped project folder whose target/ holds the semantic manifest; returns the folder."""
    (project_dir / "target").mkdir(parents=True, exist_ok=True)
    (project_dir / "target" / "semantic_manifest.json").write_text(json.dumps(semantic_manifest(), indent=1))
    return project_dir
