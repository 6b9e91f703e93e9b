"""The demo shop: deterministic data with growth, weekly seasonality and the planted anomalies."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from demo import load
from demo.anomalies import PLANTED_ANOMALIES
from demo.generate import generate


def fingerprint() -> str:
    return hashlib.sha256(repr(generate().tables).encode()).hexdigest()


def test_generation_is_deterministic() -> None:
    assert fingerprint() == fingerprint()


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_every_manifest_model_exists_with_its_columns(demo_data_dir: Path) -> None:
    path = load.ensure_demo_warehouse(demo_data_dir)
    manifest = json.loads((load.DEMO_PROJECT_DIR / "target" / "manifest.json").read_text())
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        columns = query(path, f"SELECT * FROM {node['relation_name']} LIMIT 0")
        with duckdb.connect(str(path), read_only=True) as connection:
            names = [
                d[0] for d in connection.execute(f"SELECT * FROM {node['relation_name']} LIMIT 0").description
            ]
        assert set(node["columns"]) <= set(names), node["name"]
        assert columns == []


def test_keys_hold_and_the_business_grows_with_weekly_seasonality(demo_data_dir: Path) -> None:
    path = load.ensure_demo_warehouse(demo_data_dir)
    assert query(
        path,
        "SELECT count(*) = count(DISTINCT order_id), count(*) FILTER (WHERE order_id IS NULL) FROM fct_orders",
    ) == [(True, 0)]
    first, last = query(
        path,
        "SELECT avg(orders) FILTER (WHERE order_date < '2024-03-01'), avg(orders) FILTER (WHERE order_date >= '2024-10-01' AND order_date < '2024-11-15') FROM daily_revenue",
    )[0]
    assert last > first * 1.3  # type: ignore[operator]
    weekday = dict(query(path, "SELECT isodow(order_date), avg(orders) FROM daily_revenue GROUP BY 1"))
    assert weekday[6] > weekday[1] * 1.3  # type: ignore[operator]


def test_planted_anomalies_stand_out_from_the_same_weekday(demo_data_dir: Path) -> None:
    path = load.ensure_demo_warehouse(demo_data_dir)
    for anomaly in PLANTED_ANOMALIES:
        metric = f"CAST({anomaly.metric} AS DOUBLE)"
        day = anomaly.day.isoformat()
        value, typical = query(
            path,
            f"SELECT max({metric}) FILTER (WHERE order_date = '{day}'), "
            f"median({metric}) FILTER (WHERE order_date <> '{day}') FROM daily_revenue "
            f"WHERE isodow(order_date) = isodow(DATE '{day}') AND abs(order_date - DATE '{day}') <= 35",
        )[0]
        if anomaly.direction == "above":
            assert value > typical * 1.6, anomaly  # type: ignore[operator]
        else:
            assert value < typical * 0.7, anomaly  # type: ignore[operator]


def test_the_demo_is_built_once_and_rebuilt_for_a_new_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = load.ensure_demo_warehouse(tmp_path)
    built = path.stat().st_mtime_ns
    assert load.ensure_demo_warehouse(tmp_path).stat().st_mtime_ns == built
    monkeypatch.setattr(load, "DEMO_VERSION", "next")
    assert load.ensure_demo_warehouse(tmp_path).stat().st_mtime_ns != built
    assert query(path, "SELECT version FROM _blueprintdata_demo") == [("next",)]
    assert not list(tmp_path.glob("demo/.building-*"))
