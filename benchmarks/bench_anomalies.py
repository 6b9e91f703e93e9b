"""Anomaly detection: NAB's 41 development files by NAB's rules, planted anomalies, the demo shop, speed.

Run as `python -m benchmarks.bench_anomalies`. Before any NAB figure, the scorer is checked against the row
scores and totals NAB's own scorer wrote for two published detectors; the benchmark stops if they differ.
The detector runs with its defaults on every file: no per-file parameters, labels used only for scoring.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np

from benchmarks.nab_corpus import check_against_reference, load_corpus, nab_profiles
from benchmarks.nab_evaluation import report, score_series
from benchmarks.shared_data import shared_data
from demo.anomalies import PLANTED_ANOMALIES
from demo.generate import SEED
from demo.load import DEMO_PROJECT_DIR, ensure_demo_warehouse, load_raw_tables, materialise_models
from tools.anomalies import DEFAULT_SENSITIVITY, detect

PUBLISHED_DEV41 = "Numenta HTM 75.5, Twitter ADVec 46.6, Etsy Skyline 46.5, windowed Gaussian 41.4, null 0"


def nab() -> None:
    root = shared_data("nab")
    profiles = nab_profiles(root)
    corpus = load_corpus(root, profiles)
    problems = check_against_reference(root, corpus, profiles)
    if problems:
        raise SystemExit(
            "The NAB scorer does not reproduce NAB's reference results:\n" + "\n".join(problems[:20])
        )
    print(
        f"NAB scorer reproduces NAB's row scores, file totals and normalised scores for numenta and "
        f"windowedGaussian on {len(corpus)} files ({sum(len(s.timestamps) for s in corpus)} rows), 3 profiles."
    )
    started = time.perf_counter()
    scored = score_series(corpus)
    elapsed = time.perf_counter() - started
    print(f"Detector over {len(corpus)} files in {elapsed:.1f} s, none refused.")
    report(scored, profiles)
    print(f"Published on these 41 files (standard, thresholds tuned on all 58): {PUBLISHED_DEV41}")


def planted(series_count: int = 200, per_series: int = 4) -> None:
    """Precision and recall on two years of daily data with weekly seasonality, trend, noise and planted jumps."""
    print(
        f"\nPlanted anomalies ({series_count} series × 730 days, random weekly pattern and trend, noise 5%, "
        f"{per_series} anomalies of ±25–60% each):"
    )
    generated = [planted_series(seed, per_series) for seed in range(series_count)]
    for sensitivity in sorted({3.0, DEFAULT_SENSITIVITY, 5.0}):
        found = false = missed = 0
        for times, values, anomalies in generated:
            # What people are alerted to: incidents (one message each, from its first point to its last). A
            # planted day is found when an incident covers it; an incident covering none is a false alarm.
            incidents = detect(times, values, sensitivity=sensitivity).incidents
            covered = {day for day in anomalies if any(i.start <= day <= i.end for i in incidents)}
            found += len(covered)
            missed += len(anomalies - covered)
            false += sum(1 for i in incidents if not any(i.start <= day <= i.end for day in anomalies))
        precision = found / (found + false) if found + false else 1.0
        recall = found / (found + missed)
        default = " (default)" if sensitivity == DEFAULT_SENSITIVITY else ""
        print(
            f"  sensitivity {sensitivity:g}{default}: precision {precision:.3f}, recall {recall:.3f} "
            f"({false} false alarms, {missed} missed)"
        )


def steady(seeds: int = 20) -> None:
    """How often alarms open on series with nothing to find: a daily cycle plus Gaussian noise, per step."""
    print(f"\nSteady series (a daily sine of ±40% plus Gaussian noise of 4%, {seeds} seeds), at the default:")
    for step_minutes, days in ((5, 14), (60, 60)):
        per_day = 1440 // step_minutes
        times = [datetime(2024, 5, 1) + timedelta(minutes=step_minutes * n) for n in range(days * per_day)]
        cycle = 50 + 20 * np.sin(np.arange(len(times)) / per_day * 2 * np.pi)
        incidents = changes = 0
        for seed in range(seeds):
            noise = np.random.default_rng(seed).normal(0, 2, len(times))
            detection = detect(times, (cycle + noise).tolist())
            incidents += len(detection.incidents)
            shifts = {change.at for change in detection.changes_in_behaviour}
            changes += sum(1 for incident in detection.incidents if incident.start in shifts)
        print(
            f"  {step_minutes}-minute points, {days} days each: {incidents} incidents "
            f"({changes} opened as changes in behaviour), one per {seeds * days / max(incidents, 1):.0f} days"
        )


def planted_series(seed: int, per_series: int) -> tuple[list[datetime], list[float], set[datetime]]:
    rng = np.random.default_rng(seed)
    days = 730
    start = datetime(2023, 1, 2)
    times = [start + timedelta(days=day) for day in range(days)]
    weekly = rng.uniform(0.6, 1.4, 7)
    trend = 1 + rng.uniform(-0.3, 0.8) * np.arange(days) / days
    values = rng.uniform(50, 5000) * trend * weekly[np.arange(days) % 7] * (1 + rng.normal(0, 0.05, days))
    chosen = rng.choice(np.arange(60, days), size=per_series, replace=False)
    for day in chosen:
        size = rng.uniform(0.25, 0.6)
        values[day] *= 1 + size if rng.random() < 0.5 else 1 - size
    return times, values.tolist(), {times[day] for day in chosen}


def demo() -> None:
    """Each planted anomaly of the demo shop found on every metric it shows in, and nothing else, at the default."""
    print("\nDemo shop at the default sensitivity (daily_revenue):")
    with tempfile.TemporaryDirectory() as data_dir:
        warehouse = ensure_demo_warehouse(Path(data_dir))
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            for metric, (planted_days, opened) in _demo_alarms(connection).items():
                other = sorted(opened - planted_days)
                print(
                    f"  {metric:16} planted found {len(planted_days & opened)}/{len(planted_days)}, "
                    f"other alarms {len(other)}" + (f" ({', '.join(map(str, other))})" if other else "")
                )


def demo_seeds(count: int) -> None:
    """The same check on the demo shop generated from other seeds: how often the shipped seed's result holds."""
    manifest = json.loads((DEMO_PROJECT_DIR / "target" / "manifest.json").read_text())
    exact, missed, other = 0, 0, 0
    for seed in range(SEED + 1, SEED + 1 + count):
        with duckdb.connect() as connection:
            connection.execute("ATTACH ':memory:' AS shop")  # the catalog the manifest's SQL names
            connection.execute("USE shop")
            load_raw_tables(connection, seed)
            materialise_models(connection, manifest)
            alarms = _demo_alarms(connection).values()
        missed += sum(len(planted_days - opened) for planted_days, opened in alarms)
        other += sum(len(opened - planted_days) for planted_days, opened in alarms)
        exact += all(planted_days == opened for planted_days, opened in alarms)
    planted_per_seed = sum(len(planted.metrics_affected) for planted in PLANTED_ANOMALIES)
    print(
        f"  generated from {count} other seeds: every planted anomaly found and no other alarm on {exact}; "
        f"{missed} of {count * planted_per_seed} planted (anomaly, metric) pairs missed, {other} other alarms"
    )


def _demo_alarms(connection: duckdb.DuckDBPyConnection) -> dict[str, tuple[set[date], set[date]]]:
    """Per daily_revenue metric: the days of the anomalies planted in it, and the days incidents opened on."""
    result = {}
    for metric in sorted({name for planted in PLANTED_ANOMALIES for name in planted.metrics_affected}):
        rows = connection.execute(
            f'SELECT order_date, {metric} FROM "shop"."main"."daily_revenue" ORDER BY 1'
        ).fetchall()
        times = [datetime(day.year, day.month, day.day) for day, _ in rows]
        opened = {incident.start.date() for incident in detect(times, [value for _, value in rows]).incidents}
        result[metric] = ({a.day for a in PLANTED_ANOMALIES if metric in a.metrics_affected}, opened)
    return result


def speed(repeats: int = 20) -> None:
    times, values, _ = planted_series(0, 4)
    wall, cpu = _median_ms(times, values, repeats)
    print(
        f"\nTime to check two years of daily data (target < 20 ms): median {wall:.1f} ms ({cpu:.1f} ms CPU)"
    )
    rng = np.random.default_rng(1)
    count = 20_000
    five_minutes = [datetime(2024, 1, 1) + timedelta(minutes=5 * n) for n in range(count)]
    daily_cycle = 50 + 20 * np.sin(np.arange(count) / 288 * 2 * np.pi)
    load = (daily_cycle + rng.normal(0, 2, count)).tolist()
    wall, cpu = _median_ms(five_minutes, load, 3)
    print(
        f"Time to judge 20,000 five-minute points, each from the points before it (one call; its verdicts equal a "
        f"point-by-point run, see tests/test_anomaly_online.py; target < 1 s): median {wall:.0f} ms ({cpu:.0f} ms CPU)"
    )


def _median_ms(times: list[datetime], values: list[float], repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of one check (CPU time is what a busy machine distorts least)."""
    detect(times, values)
    wall, cpu = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        detect(times, values)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    nab()
    planted()
    steady()
    demo()
    demo_seeds(20)
    speed()


if __name__ == "__main__":
    main()
