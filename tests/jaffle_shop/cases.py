"""Metric queries on the jaffle-shop fixture, each with hand-written gold SQL that runs on DuckDB and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

from tools.semantic_layer.requests import MetricRequest

ORDERS, ITEMS, CUSTOMERS = "jaffle.orders", "jaffle.order_items", "jaffle.customers"
LOCATIONS, PRODUCTS, SPINE = "jaffle.locations", "jaffle.products", "jaffle.metricflow_time_spine"
VISITS = "jaffle.visits"


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


def converted(window_days: int | None, *, same_location: bool = False, visits_where: str = "true") -> str:
    """CTEs `v` (the base events: visits, with their day `d`) and `converted` (each order with the visit it
    converted), as dbt documents conversion metrics: an order converts the same customer's visit nearest
    before it, on the order's day or up to `window_days` - 1 days earlier (`visit day > order day - window`;
    no window: any time before), days compared, not times; with a constant property the visit's location
    must be the order's. Every order counts once, a visit may be credited with several orders. Opportunities
    are all visits matching the filter; groups are the credited visit's."""
    window = f" and v.d > o.d - interval '{window_days} days'" if window_days else ""
    location = " and v.location_id = o.location_id" if same_location else ""
    return (
        f"v as (select *, date_trunc('day', visited_at) d from {VISITS} where {visits_where}), "
        f"o as (select *, date_trunc('day', ordered_at) d from {ORDERS}), "
        "credited as (select o.order_id, o.customer_id buyer, v.d, v.referrer, v.location_id, row_number() over "
        "(partition by o.order_id order by v.d desc, v.visit_id desc) nearest "
        f"from o join v on v.customer_id = o.customer_id and v.d <= o.d{window}{location}), "
        "converted as (select * from credited where nearest = 1)"
    )


def conversion_rate(
    window_days: int | None, group: str, *, count: str = "count(*)", visits_where: str = "true"
) -> str:
    """Conversions over opportunities per group (a SQL expression over `d` and the visit's columns)."""
    return (
        f"with {converted(window_days, visits_where=visits_where)}, "
        f"opportunities as (select {group} g, {count.replace('buyer', 'customer_id')} n from v group by 1), "
        f"conversions as (select {group} g, {count} c from converted group by 1) "
        "select coalesce(opportunities.g, conversions.g), cast(conversions.c as double precision) / "
        "nullif(opportunities.n, 0) from opportunities full outer join conversions on opportunities.g = conversions.g"
    )


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
    # Conversion metrics: visits converted by the same customer's orders, with and without a window, as a rate
    # and as a count, holding the location constant, filtered (filters apply to the base events).
    ParityCase("visit_to_order_rate_by_month", q("visit_to_order_rate", by=("metric_time__month",)),
               conversion_rate(None, month("d"))),
    ParityCase("visit_to_order_rate_7d_by_month", q("visit_to_order_rate_7d", by=("metric_time__month",)),
               conversion_rate(7, month("d"))),
    ParityCase("visit_to_order_rate_7d_by_referrer", q("visit_to_order_rate_7d", by=("visit__referrer",)),
               conversion_rate(7, "referrer")),
    ParityCase("visit_to_order_rate_7d_overall", q("visit_to_order_rate_7d"),
               f"with {converted(7)} select cast((select count(*) from converted) as double precision) / "
               "nullif((select count(*) from v), 0)"),
    ParityCase("visitor_to_buyer_rate_7d_by_month", q("visitor_to_buyer_rate_7d", by=("metric_time__month",)),
               conversion_rate(7, month("d"), count="count(distinct buyer)")),
    ParityCase("visit_to_order_conversions_7d_by_week",
               q("visit_to_order_conversions_7d", by=("metric_time__week",)),
               f"with {converted(7)}, weeks as (select distinct date_trunc('week', d) g from v), "
               "conversions as (select date_trunc('week', d) g, count(*) c from converted group by 1) "
               "select coalesce(weeks.g, conversions.g), conversions.c from weeks "
               "full outer join conversions on weeks.g = conversions.g"),
    ParityCase("same_location_conversions_7d_by_location",
               q("same_location_conversions_7d", by=("location__location_name",)),
               f"with {converted(7, same_location=True)}, places as (select distinct l.location_name g from v "
               f"left join {LOCATIONS} l on v.location_id = l.location_id), conversions as (select l.location_name g, "
               f"count(*) c from converted left join {LOCATIONS} l on converted.location_id = l.location_id "
               "group by 1) select coalesce(places.g, conversions.g), conversions.c from places "
               "full outer join conversions on places.g = conversions.g"),
    ParityCase("search_visit_to_order_rate_7d_by_month",
               q("visit_to_order_rate_7d", by=("metric_time__month",),
                 where=("{{ Dimension('visit__referrer') }} = 'search'",)),
               conversion_rate(7, month("d"), visits_where="referrer = 'search'")),
    # A saved query, run by name.
    ParityCase("saved_query_monthly_orders_by_location", MetricRequest(saved_query="monthly_orders_by_location"),
               f"select {month('o.ordered_at')}, l.location_name, count(*), sum(o.order_total) from {ORDERS} o "
               f"join {LOCATIONS} l on o.location_id = l.location_id group by 1, 2"),
]  # fmt: skip
