"""Deterministic raw data for the demo shop: 13 months of orders with seasonality, growth and planted anomalies."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np

from demo.anomalies import PLANTED_ANOMALIES

SEED = 20240101
START = date(2024, 1, 1)
END = date(2025, 1, 31)
# About 150 orders a day at the start, growing by 80% over the 13 months: enough that a day's revenue (a sum of
# baskets) wanders by about a tenth, so the planted anomalies stand out in revenue as well as in their own metric.
BASE_DAILY_ORDERS = 150.0
EXISTING_CUSTOMERS = 1200
HOLIDAY_PEAK = (12, 8)  # month, day
HOLIDAY_LIFT = 0.25
HOLIDAY_RISE_DAYS = 35
HOLIDAY_FADE_DAYS = 30
# Monday first: weekends sell more, Mondays least.
WEEKDAY_FACTOR = np.array([0.82, 0.9, 0.95, 1.0, 1.08, 1.3, 1.22])
CATEGORIES = {
    "Coffee": (8.0, 24.0),
    "Tea": (5.0, 18.0),
    "Brewing gear": (18.0, 160.0),
    "Mugs": (9.0, 30.0),
    "Gift boxes": (25.0, 80.0),
}
COUNTRIES = ["US", "GB", "DE", "FR", "NL", "CA", "AU"]
FIRST_NAMES = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Ema",
    "Finn",
    "Gita",
    "Hugo",
    "Iris",
    "Jon",
    "Kai",
    "Lena",
    "Milo",
]
LAST_NAMES = ["Smith", "Okafor", "Novak", "Garcia", "Kim", "Larsen", "Rossi", "Dubois", "Singh", "Meyer"]
CHANNELS = ["web", "mobile", "marketplace"]
PAYMENT_METHODS = ["card", "paypal", "bank_transfer", "gift_card"]


@dataclass(frozen=True)
class PlantedQualityProblem:
    """Orders of one day whose customer_id breaks a test the demo project declares on fct_orders."""

    day: date
    orders: int
    test: Literal["not_null", "relationships"]
    story: str


# Found by the data quality check (`/quality fct_orders`): the first orders of each day, by order id, are changed
# after generation, so the random draws (and the planted anomalies) stay exactly as they were.
PLANTED_QUALITY_PROBLEMS: tuple[PlantedQualityProblem, ...] = (
    PlantedQualityProblem(date(2025, 1, 20), 3, "not_null", "a checkout bug dropped the customer"),
    PlantedQualityProblem(
        date(2025, 1, 27), 2, "relationships", "erased customer accounts left orders pointing at no customer"
    ),
)


@dataclass(frozen=True)
class RawTables:
    """Column names and rows of each raw table, ready to load."""

    tables: dict[str, tuple[list[str], list[tuple[object, ...]]]]


def days() -> list[date]:
    return [START + timedelta(days=offset) for offset in range((END - START).days + 1)]


def expected_daily_orders(day: date) -> float:
    """The order rate before noise: growth, weekly cycle and the holiday season."""
    progress = (day - START).days / (END - START).days
    growth = BASE_DAILY_ORDERS * (1.0 + 0.8 * progress)
    return growth * float(WEEKDAY_FACTOR[day.weekday()]) * holiday_lift(day)


def holiday_lift(day: date) -> float:
    """The holiday season's factor on orders: it builds for five weeks to its peak and fades over the next month.

    A smooth rise and fall, as a real season has: a step of a quarter overnight would be news to any detector
    that does not know the calendar, and rightly so.
    """
    peak = min(
        (date(year, *HOLIDAY_PEAK) for year in (day.year - 1, day.year)), key=lambda p: abs((day - p).days)
    )
    days_from_peak = (day - peak).days
    reach = min(1.0, abs(days_from_peak) / (HOLIDAY_RISE_DAYS if days_from_peak < 0 else HOLIDAY_FADE_DAYS))
    return 1.0 + HOLIDAY_LIFT * (0.5 + 0.5 * math.cos(math.pi * reach))


def generate(seed: int = SEED) -> RawTables:
    """Build every raw table from `seed`; the same call always returns the same rows (the demo's: SEED).

    Each day draws from its own stream (seeded by `seed` and the day), so changing what happens on one day, such
    as a planted anomaly's size, leaves the other days' draws as they were (only the ids after it move).
    """
    products = _products(np.random.default_rng([seed, 0]))
    customers = _existing_customers(np.random.default_rng([seed, 1]))
    orders: list[tuple[object, ...]] = []
    items: list[tuple[object, ...]] = []
    payments: list[tuple[object, ...]] = []
    for offset, day in enumerate(days()):
        _one_day(np.random.default_rng([seed, 2, offset]), day, customers, products, orders, items, payments)
    orders = _plant_quality_problems(orders, len(customers))
    return RawTables(
        {
            "raw_customers": (
                ["customer_id", "first_name", "last_name", "email", "signup_date", "country"],
                customers,
            ),
            "raw_products": (["product_id", "name", "category", "price"], products),
            "raw_orders": (["order_id", "customer_id", "order_date", "status", "channel"], orders),
            "raw_order_items": (["order_item_id", "order_id", "product_id", "quantity", "unit_price"], items),
            "raw_payments": (["payment_id", "order_id", "method", "amount", "status", "paid_at"], payments),
        }
    )


def _products(rng: np.random.Generator) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for category, (low, high) in CATEGORIES.items():
        for number in range(10):
            price = round(float(rng.uniform(low, high)), 2)
            rows.append((len(rows) + 1, f"{category} #{number + 1}", category, price))
    return rows


def _existing_customers(rng: np.random.Generator) -> list[tuple[object, ...]]:
    """The customers the shop already had on day one, signed up during the year before."""
    signups = [START - timedelta(days=int(back)) for back in rng.integers(1, 365, size=EXISTING_CUSTOMERS)]
    return _customers(rng, signups, first_id=1)


def _customers(rng: np.random.Generator, signups: list[date], first_id: int) -> list[tuple[object, ...]]:
    count = len(signups)
    first_names = rng.integers(len(FIRST_NAMES), size=count).tolist()
    last_names = rng.integers(len(LAST_NAMES), size=count).tolist()
    countries = np.minimum(rng.geometric(0.45, size=count) - 1, len(COUNTRIES) - 1).tolist()
    rows: list[tuple[object, ...]] = []
    for offset, (signup, first_index, last_index, country) in enumerate(
        zip(signups, first_names, last_names, countries, strict=True)
    ):
        customer_id = first_id + offset
        first, last = FIRST_NAMES[first_index], LAST_NAMES[last_index]
        email = f"{first}.{last}.{customer_id}@example.com".lower()
        rows.append((customer_id, first, last, email, signup, COUNTRIES[country]))
    return rows


def _one_day(
    rng: np.random.Generator,
    day: date,
    customers: list[tuple[object, ...]],
    products: list[tuple[object, ...]],
    orders: list[tuple[object, ...]],
    items: list[tuple[object, ...]],
    payments: list[tuple[object, ...]],
) -> None:
    """One day's new customers (about one for every three orders), orders, their items and payments, appended."""
    planted = {a.metric: a.factor for a in PLANTED_ANOMALIES if a.day == day}
    count = int(rng.poisson(expected_daily_orders(day) * planted.get("orders", 1.0)))
    new_customers = int(rng.binomial(count, 0.3))
    customers.extend(_customers(rng, [day] * new_customers, first_id=len(customers) + 1))
    buyers = rng.integers(0, len(customers), size=count).tolist()
    failed = rng.random(count) < planted.get("failed_payments", 0.012)
    refunded = ~failed & (rng.random(count) < planted.get("refunds", 0.02))
    channels = rng.choice(len(CHANNELS), size=count, p=[0.55, 0.35, 0.10]).tolist()
    methods = rng.choice(len(PAYMENT_METHODS), size=count, p=[0.62, 0.25, 0.08, 0.05]).tolist()
    minutes = rng.integers(0, 24 * 60, size=count).tolist()
    basket_factor = planted.get("revenue")  # bulk buying: one item more, each in three times the quantity
    item_counts = rng.integers(1, 4, size=count) + (1 if basket_factor else 0)
    line_products = rng.integers(len(products), size=int(item_counts.sum())).tolist()
    line_quantities = (rng.integers(1, 4, size=len(line_products)) * int(basket_factor or 1)).tolist()
    line = 0
    for position, buyer in enumerate(buyers):
        order_id = len(orders) + 1
        status, payment_status = "completed", "success"
        if failed[position]:
            status, payment_status = "cancelled", "failed"
        elif refunded[position]:
            status, payment_status = "returned", "refunded"
        orders.append((order_id, customers[buyer][0], day, status, CHANNELS[channels[position]]))
        total = 0.0
        for _ in range(int(item_counts[position])):
            product, quantity = products[line_products[line]], line_quantities[line]
            items.append((len(items) + 1, order_id, product[0], quantity, product[3]))
            total += quantity * float(product[3])
            line += 1
        hour, minute = divmod(minutes[position], 60)
        paid_at = f"{day.isoformat()} {hour:02d}:{minute:02d}:00"
        method = PAYMENT_METHODS[methods[position]]
        payments.append((len(payments) + 1, order_id, method, round(total, 2), payment_status, paid_at))


def _plant_quality_problems(
    orders: list[tuple[object, ...]], customer_count: int
) -> list[tuple[object, ...]]:
    """Null customer ids, and ids past the last customer, on the days PLANTED_QUALITY_PROBLEMS names."""
    changed = list(orders)
    missing_customer = customer_count
    for problem in PLANTED_QUALITY_PROBLEMS:
        positions = [i for i, order in enumerate(changed) if order[2] == problem.day][: problem.orders]
        for position in positions:
            order_id, _, day, status, channel = changed[position]
            customer: int | None = None
            if problem.test == "relationships":
                missing_customer += 1
                customer = missing_customer
            changed[position] = (order_id, customer, day, status, channel)
    return changed
