"""Metric queries on the jaffle-shop fixture, each with hand-written gold SQL that runs on DuckDB and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

from tools.semantic_layer.requests import MetricRequest

ORDERS, ITEMS, CUSTOMERS = "jaffle.orders", "jaffle.order_items", "jaffle.customers"
LOCATIONS, PRODUCTS, SPINE = "jaffle.locations", "jaffle.products", "jaffle.metricflow_time_spine"


@dataclass(frozen=True)
class ParityCase:
    """A request, what it exercises, and the SQL a person would write for the same numbers."""

    id: str
    request: MetricRequest
    gold: str
    # Compare rows in order (an ORDER BY with LIMIT) rather than as a set.
    ordered: bool = False


def q(*metrics: str, by: tuple[str, ...] = (), where: tuple[str, ...] = (), **rest: object) -> MetricRequest:
    return MetricRequest(metrics=metrics, group_by=by, where=where, **rest)  # type: ignore[arg-type]


def month(column: str) -> str:
    return f"date_trunc('month', {column})"


CASES = [
    # Simple metrics, each aggregation, at each grain.
    ParityCase("orders_total", q("orders"), f"select count(*) from {ORDERS}"),
    ParityCase("order_total_by_month", q("order_total", by=("metric_time__month",)),
               f"select {month('ordered_at')}, sum(order_total) from {ORDERS} group by 1"),
    ParityCase("orders_by_day", q("orders", by=("metric_time__day",)),
               f"select date_trunc('day', ordered_at), count(*) from {ORDERS} group by 1"),
    ParityCase("orders_by_week", q("orders", by=("metric_time__week",)),
               f"select date_trunc('week', ordered_at), count(*) from {ORDERS} group by 1"),
    ParityCase("orders_by_quarter", q("orders", by=("metric_time__quarter",)),
               f"select date_trunc('quarter', ordered_at), count(*) from {ORDERS} group by 1"),
    ParityCase("revenue_by_year", q("revenue", by=("metric_time__year",)),
               f"select date_trunc('year', ordered_at), sum(product_price) from {ITEMS} group by 1"),
    ParityCase("distinct_customers_by_month", q("customers_with_orders", by=("metric_time__month",)),
               f"select {month('ordered_at')}, count(distinct customer_id) from {ORDERS} group by 1"),
    ParityCase("average_subtotal_by_month", q("average_subtotal", by=("metric_time__month",)),
               f"select {month('ordered_at')}, avg(subtotal) from {ORDERS} group by 1"),
    ParityCase("food_revenue_by_month", q("food_revenue", by=("metric_time__month",)),
               f"select {month('ordered_at')}, sum(case when is_food_item then product_price else 0 end) "
               f"from {ITEMS} group by 1"),
    ParityCase("new_customers_by_month", q("new_customers", by=("metric_time__month",)),
               f"select {month('first_ordered_at')}, count(distinct customer_id) from {CUSTOMERS} group by 1"),
    ParityCase("orders_by_own_dimension", q("orders", by=("order_id__is_food_order",)),
               f"select is_food_order, count(*) from {ORDERS} group by 1"),
    ParityCase("revenue_by_item_time_dimension", q("revenue", by=("order_item__ordered_at__month",)),
               f"select {month('ordered_at')}, sum(product_price) from {ITEMS} group by 1"),
    # Joins across semantic models.
    ParityCase("max_order_by_location", q("max_order_total", by=("location__location_name",)),
               f"select l.location_name, max(o.order_total) from {ORDERS} o "
               f"join {LOCATIONS} l on o.location_id = l.location_id group by 1"),
    ParityCase("tax_by_location_and_quarter", q("tax_paid", by=("location__location_name", "metric_time__quarter")),
               f"select l.location_name, date_trunc('quarter', o.ordered_at), sum(o.tax_paid) from {ORDERS} o "
               f"join {LOCATIONS} l on o.location_id = l.location_id group by 1, 2"),
    ParityCase("revenue_by_product_type", q("revenue", by=("product__product_type",)),
               f"select p.product_type, sum(i.product_price) from {ITEMS} i "
               f"join {PRODUCTS} p on i.product_id = p.product_id group by 1"),
    ParityCase("orders_by_customer_type", q("orders", by=("customer__customer_type",)),
               f"select c.customer_type, count(*) from {ORDERS} o "
               f"join {CUSTOMERS} c on o.customer_id = c.customer_id group by 1"),
    ParityCase("orders_by_customer_type_and_location", q("orders", by=("customer__customer_type", "location__location_name")),
               f"select c.customer_type, l.location_name, count(*) from {ORDERS} o "
               f"join {CUSTOMERS} c on o.customer_id = c.customer_id "
               f"join {LOCATIONS} l on o.location_id = l.location_id group by 1, 2"),
    # Filters: in the metric's definition and in the query.
    ParityCase("large_orders_by_month", q("large_orders", by=("metric_time__month",)),
               f"select {month('ordered_at')}, count(*) from {ORDERS} where order_total >= 30 group by 1"),
    ParityCase("food_orders_by_location", q("food_orders", by=("location__location_name",)),
               f"select l.location_name, count(*) from {ORDERS} o join {LOCATIONS} l "
               f"on o.location_id = l.location_id where o.is_food_order group by 1"),
    ParityCase("returning_customer_orders_by_month", q("returning_customer_orders", by=("metric_time__month",)),
               f"select {month('o.ordered_at')}, count(*) from {ORDERS} o join {CUSTOMERS} c "
               f"on o.customer_id = c.customer_id where c.customer_type = 'returning' group by 1"),
    ParityCase("jaffle_revenue_by_product",
               q("revenue", by=("product__product_name",), where=("{{ Dimension('product__product_type') }} = 'jaffle'",)),
               f"select p.product_name, sum(i.product_price) from {ITEMS} i join {PRODUCTS} p "
               f"on i.product_id = p.product_id where p.product_type = 'jaffle' group by 1"),
    ParityCase("orders_since_march_by_month",
               q("orders", by=("metric_time__month",), where=("{{ TimeDimension('metric_time', 'day') }} >= '2024-03-01'",)),
               f"select {month('ordered_at')}, count(*) from {ORDERS} where ordered_at >= '2024-03-01' group by 1"),
    ParityCase("new_customer_orders_by_year",
               q("orders", by=("metric_time__year",), where=("{{ Dimension('customer__customer_type') }} = 'new'",)),
               f"select date_trunc('year', o.ordered_at), count(*) from {ORDERS} o join {CUSTOMERS} c "
               f"on o.customer_id = c.customer_id where c.customer_type = 'new' group by 1"),
    ParityCase("two_metrics_two_locations",
               q("orders", "order_total", by=("location__location_name",),
                 where=("{{ Dimension('location__location_name') }} in ('Brooklyn', 'Chicago')",)),
               f"select l.location_name, count(*), sum(o.order_total) from {ORDERS} o join {LOCATIONS} l "
               f"on o.location_id = l.location_id where l.location_name in ('Brooklyn', 'Chicago') group by 1"),
    ParityCase("latest_three_months",
               q("orders", by=("metric_time__month",), order_by=("-metric_time__month",), limit=3),
               f"select {month('ordered_at')}, count(*) from {ORDERS} group by 1 order by 1 desc limit 3",
               ordered=True),
    # Ratios.
    ParityCase("average_order_value_by_month", q("average_order_value", by=("metric_time__month",)),
               f"select {month('ordered_at')}, sum(order_total) / count(*) from {ORDERS} group by 1"),
    ParityCase("average_order_value_by_location", q("average_order_value", by=("location__location_name",)),
               f"select l.location_name, sum(o.order_total) / count(*) from {ORDERS} o "
               f"join {LOCATIONS} l on o.location_id = l.location_id group by 1"),
    ParityCase("food_revenue_share_by_quarter", q("food_revenue_pct", by=("metric_time__quarter",)),
               f"select date_trunc('quarter', ordered_at), sum(case when is_food_item then product_price else 0 end)"
               f" / sum(product_price) from {ITEMS} group by 1"),
    # Derived metrics, across semantic models and over an offset window.
    ParityCase("gross_profit_by_month", q("order_gross_profit", by=("metric_time__month",)),
               f"select r.m, r.revenue - c.cost from (select {month('ordered_at')} m, sum(product_price) revenue "
               f"from {ITEMS} group by 1) r join (select {month('ordered_at')} m, sum(order_cost) cost "
               f"from {ORDERS} group by 1) c on r.m = c.m"),
    ParityCase("tax_share_by_location", q("tax_share_of_total", by=("location__location_name",)),
               f"select l.location_name, sum(o.tax_paid) / sum(o.order_total) from {ORDERS} o "
               f"join {LOCATIONS} l on o.location_id = l.location_id group by 1"),
    ParityCase("revenue_growth_month_over_month", q("revenue_growth_mom", by=("metric_time__month",)),
               f"with m as (select {month('ordered_at')} m, sum(product_price) r from {ITEMS} group by 1) "
               # A month shows when it or the month before has revenue; the growth is null where one is missing.
               f"select coalesce(this.m, prior.m + interval '1 month'), this.r - prior.r from m this "
               f"full outer join m prior on prior.m = this.m - interval '1 month'"),
    # Cumulative metrics: all time, a trailing window, to date within a grain.
    ParityCase("cumulative_revenue_by_day", q("cumulative_revenue", by=("metric_time__day",)),
               f"select s.date_day, sum(i.product_price) from {SPINE} s join {ITEMS} i "
               f"on date_trunc('day', i.ordered_at) <= s.date_day group by 1"),
    ParityCase("trailing_week_revenue_by_day", q("revenue_trailing_7d", by=("metric_time__day",)),
               f"select s.date_day, sum(i.product_price) from {SPINE} s join {ITEMS} i "
               f"on date_trunc('day', i.ordered_at) <= s.date_day "
               f"and date_trunc('day', i.ordered_at) > s.date_day - interval '7 days' group by 1"),
    ParityCase("month_to_date_revenue_by_day", q("revenue_mtd", by=("metric_time__day",)),
               f"select s.date_day, sum(i.product_price) from {SPINE} s join {ITEMS} i "
               f"on date_trunc('day', i.ordered_at) <= s.date_day "
               f"and date_trunc('day', i.ordered_at) >= date_trunc('month', s.date_day) group by 1"),
    # A saved query, run by name.
    ParityCase("saved_query_monthly_orders_by_location", MetricRequest(saved_query="monthly_orders_by_location"),
               f"select {month('o.ordered_at')}, l.location_name, count(*), sum(o.order_total) from {ORDERS} o "
               f"join {LOCATIONS} l on o.location_id = l.location_id group by 1, 2"),
]  # fmt: skip
