"""Deterministic raw data for the demo shop: 13 months of orders with seasonality, growth and planted anomalies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np

from demo.anomalies import PLANTED_ANOMALIES

SEED = 20240101
START = date(2024, 1, 1)
END = date(2025, 1, 31)
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
    growth = 55.0 * (1.0 + 0.8 * progress)
    holiday = 1.35 if date(day.year, 11, 20) <= day <= date(day.year, 12, 22) else 1.0
    return growth * float(WEEKDAY_FACTOR[day.weekday()]) * holiday


def generate() -> RawTables:
    """Build every raw table from the fixed seed; the same call always returns the same rows."""
    rng = np.random.default_rng(SEED)
    products = _products(rng)
    calendar = days()
    order_factors = {a.day: a.factor for a in PLANTED_ANOMALIES if a.metric == "orders"}
    daily_counts = [
        int(rng.poisson(expected_daily_orders(day) * order_factors.get(day, 1.0))) for day in calendar
    ]
    customers = _customers(rng, calendar, daily_counts)
    orders, items, payments = _orders(rng, calendar, daily_counts, customers, products)
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


def _customers(
    rng: np.random.Generator, calendar: list[date], daily_counts: list[int]
) -> list[tuple[object, ...]]:
    """About one new customer for every three orders, signing up as the shop grows."""
    rows: list[tuple[object, ...]] = []
    for _ in range(400):  # The customers the shop already had on day one.
        rows.append(_customer(rng, len(rows) + 1, START - timedelta(days=int(rng.integers(1, 365)))))
    for day, count in zip(calendar, daily_counts, strict=True):
        for _ in range(int(rng.binomial(count, 0.3))):
            rows.append(_customer(rng, len(rows) + 1, day))
    return rows


def _customer(rng: np.random.Generator, customer_id: int, signup: date) -> tuple[object, ...]:
    first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
    last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
    country = COUNTRIES[min(int(rng.geometric(0.45)) - 1, len(COUNTRIES) - 1)]
    return (customer_id, first, last, f"{first}.{last}.{customer_id}@example.com".lower(), signup, country)


def _orders(
    rng: np.random.Generator,
    calendar: list[date],
    daily_counts: list[int],
    customers: list[tuple[object, ...]],
    products: list[tuple[object, ...]],
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[object, ...]]]:
    signups = np.array([(c[4] - START).days for c in customers])  # type: ignore[operator]
    payment_failure = {a.day: a.factor for a in PLANTED_ANOMALIES if a.metric == "failed_payments"}
    refund_rate = {a.day: a.factor for a in PLANTED_ANOMALIES if a.metric == "refunds"}
    basket_boost = {a.day: a.factor for a in PLANTED_ANOMALIES if a.metric == "revenue"}
    orders: list[tuple[object, ...]] = []
    items: list[tuple[object, ...]] = []
    payments: list[tuple[object, ...]] = []
    for offset, (day, count) in enumerate(zip(calendar, daily_counts, strict=True)):
        eligible = int(np.searchsorted(signups, offset, side="right"))
        buyers = rng.integers(0, eligible, size=count)
        for buyer in buyers:
            order_id = len(orders) + 1
            failed = rng.random() < payment_failure.get(day, 0.012)
            refunded = not failed and rng.random() < refund_rate.get(day, 0.02)
            status = "cancelled" if failed else ("returned" if refunded else "completed")
            channel = CHANNELS[int(rng.choice(3, p=[0.55, 0.35, 0.10]))]
            orders.append((order_id, customers[int(buyer)][0], day, status, channel))
            total = 0.0
            for _ in range(int(rng.integers(1, 4)) + (1 if day in basket_boost else 0)):
                product = products[int(rng.integers(len(products)))]
                quantity = int(rng.integers(1, 4)) * (3 if day in basket_boost else 1)
                items.append((len(items) + 1, order_id, product[0], quantity, product[3]))
                total += quantity * float(product[3])  # type: ignore[arg-type]
            method = PAYMENT_METHODS[int(rng.choice(4, p=[0.62, 0.25, 0.08, 0.05]))]
            payment_status = "failed" if failed else ("refunded" if refunded else "success")
            paid_at = f"{day.isoformat()} {int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}:00"
            payments.append((len(payments) + 1, order_id, method, round(total, 2), payment_status, paid_at))
    return orders, items, payments


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
