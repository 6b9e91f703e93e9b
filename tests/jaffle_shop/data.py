"""Generated jaffle-shop data (seeded, so every run has the same rows), loaded into the `jaffle` schema."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

SCHEMA = "jaffle"
FIRST_DAY, LAST_DAY = date(2024, 1, 1), date(2024, 6, 30)
# The time spine runs past the last order so that cumulative metrics have days with no new orders.
SPINE_LAST_DAY = date(2024, 7, 31)

_PRODUCTS = [
    ("JAF-001", "nutellaphone who dis?", "jaffle", 11.0),
    ("JAF-002", "doctor stew", "jaffle", 11.0),
    ("JAF-003", "the krautback", "jaffle", 12.0),
    ("JAF-004", "flame impala", "jaffle", 14.0),
    ("BEV-001", "tangaroo", "beverage", 6.0),
    ("BEV-002", "chai and mighty", "beverage", 5.0),
    ("BEV-003", "vanilla ice", "beverage", 6.0),
    ("BEV-004", "for richer or pourover", "beverage", 7.0),
]
_LOCATIONS = [
    (1, "Philadelphia", date(2023, 9, 1), 0.06),
    (2, "Brooklyn", date(2023, 11, 15), 0.04),
    (3, "Chicago", date(2024, 2, 1), 0.0625),
    (4, "San Francisco", date(2024, 4, 10), 0.075),
]


@dataclass
class JaffleData:
    """Rows of every table, by table name, in column order."""

    columns: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)


def generate(seed: int = 16) -> JaffleData:
    """Customers, locations, products, orders and their items over the first half of 2024."""
    rng = random.Random(seed)
    data = JaffleData()
    data.columns["locations"] = ["location_id", "location_name", "opened_at", "tax_rate"]
    data.rows["locations"] = list(_LOCATIONS)
    data.columns["products"] = ["product_id", "product_name", "product_type", "product_price", "is_food_item",
                                "is_drink_item"]  # fmt: skip
    data.rows["products"] = [
        (sku, name, kind, price, kind == "jaffle", kind == "beverage") for sku, name, kind, price in _PRODUCTS
    ]
    orders: list[tuple[Any, ...]] = []
    items: list[tuple[Any, ...]] = []
    first_order: dict[int, datetime] = {}
    order_counts: dict[int, int] = {}
    day = FIRST_DAY
    while day <= LAST_DAY:
        for _ in range(rng.randint(3, 12)):
            location = rng.choice([loc for loc in _LOCATIONS if loc[2] <= day])
            customer = rng.randint(1, 80)
            moment = datetime(day.year, day.month, day.day, rng.randint(7, 20), rng.randint(0, 59))
            order_id = len(orders) + 1
            subtotal, cost, food, drink = 0.0, 0.0, False, False
            for _ in range(rng.randint(1, 4)):
                sku, _name, kind, price = rng.choice(_PRODUCTS)
                items.append(
                    (len(items) + 1, order_id, sku, price, kind == "jaffle", kind == "beverage", moment)
                )
                subtotal += price
                cost += round(price * 0.3, 2)
                food, drink = food or kind == "jaffle", drink or kind == "beverage"
            tax = round(subtotal * location[3], 2)
            orders.append(
                (
                    order_id,
                    customer,
                    location[0],
                    moment,
                    subtotal + tax,
                    subtotal,
                    tax,
                    round(cost, 2),
                    food,
                    drink,
                )
            )
            first_order.setdefault(customer, moment)
            order_counts[customer] = order_counts.get(customer, 0) + 1
        day += timedelta(days=1)
    data.columns["orders"] = ["order_id", "customer_id", "location_id", "ordered_at", "order_total", "subtotal",
                              "tax_paid", "order_cost", "is_food_order", "is_drink_order"]  # fmt: skip
    data.rows["orders"] = orders
    data.columns["order_items"] = ["order_item_id", "order_id", "product_id", "product_price", "is_food_item",
                                   "is_drink_item", "ordered_at"]  # fmt: skip
    data.rows["order_items"] = items
    data.columns["customers"] = ["customer_id", "customer_name", "customer_type", "first_ordered_at", "count_lifetime_orders"]  # fmt: skip
    data.rows["customers"] = [
        (
            customer,
            f"Customer {customer}",
            "returning" if order_counts[customer] > 1 else "new",
            first_order[customer],
            order_counts[customer],
        )
        for customer in sorted(first_order)
    ]
    data.columns["visits"] = ["visit_id", "customer_id", "location_id", "referrer", "visited_at"]
    data.rows["visits"] = _visits(orders, random.Random(seed + 1))
    spine = [FIRST_DAY - timedelta(days=31) + timedelta(days=n) for n in range(0, 400)]
    data.columns["metricflow_time_spine"] = ["date_day"]
    data.rows["metricflow_time_spine"] = [(d,) for d in spine if d <= SPINE_LAST_DAY]
    return data


def _visits(orders: list[tuple[Any, ...]], rng: random.Random) -> list[tuple[Any, ...]]:
    """Visits to the shop's site: the base events of the conversion metrics, orders being the conversions.

    Most orders follow a visit 0-10 days before (some the same day but later, which still counts: MetricFlow
    compares days), mostly to the page of the location ordered from; other visits lead nowhere. A customer
    visits at most once a day, so "the visit nearest before an order" is always one visit (MetricFlow breaks
    a tie between two same-day visits arbitrarily).
    """
    seen: set[tuple[int, date]] = set()
    visits: list[tuple[Any, ...]] = []

    def visit(customer: int, day: date, location: int) -> None:
        if (customer, day) in seen:
            return
        seen.add((customer, day))
        moment = datetime(day.year, day.month, day.day, rng.randint(7, 22), rng.randint(0, 59))
        referrer = rng.choice(["search", "social", "email", "direct"])
        visits.append((len(visits) + 1, customer, location, referrer, moment))

    for _order_id, customer, location, moment, *_ in orders:
        if rng.random() < 0.5:
            other = rng.choice([loc[0] for loc in _LOCATIONS])
            visit(customer, moment.date() - timedelta(days=rng.randint(0, 10)),
                  location if rng.random() < 0.7 else other)  # fmt: skip
    for _ in range(300):
        day = FIRST_DAY - timedelta(days=20) + timedelta(days=rng.randint(0, 200))
        visit(rng.randint(1, 90), day, rng.choice(_LOCATIONS)[0])
    return visits


_TYPES = {
    bool: "BOOLEAN",
    int: "INTEGER",
    float: "DOUBLE PRECISION",
    str: "VARCHAR",
    datetime: "TIMESTAMP",
    date: "DATE",
}


def load(engine: sa.Engine, data: JaffleData) -> None:
    """Create the `jaffle` schema's tables and insert the rows (types read from the first row)."""
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        for table, columns in data.columns.items():
            first = data.rows[table][0]
            typed = ", ".join(
                f"{name} {_TYPES[type(value)]}" for name, value in zip(columns, first, strict=True)
            )
            connection.execute(sa.text(f"CREATE TABLE {SCHEMA}.{table} ({typed})"))
            placeholders = ", ".join(f":{name}" for name in columns)
            connection.execute(
                sa.text(f"INSERT INTO {SCHEMA}.{table} VALUES ({placeholders})"),
                [dict(zip(columns, row, strict=True)) for row in data.rows[table]],
            )
