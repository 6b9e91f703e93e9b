"""The anomaly detector: planted anomalies found, seasonal patterns and past outages left alone, clear refusals.

That each verdict comes from the past only, and any timestamps are accepted: tests/test_anomaly_online.py."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from demo.anomalies import PLANTED_ANOMALIES
from demo.load import ensure_demo_warehouse
from tools.anomalies import DEFAULT_SENSITIVITY, DetectionInputError, Finding, detect
from tools.anomalies.formatting import format_change
from tools.charts.anomaly_chart import anomaly_figure

MONDAY = date(2024, 1, 1)


def daily_series(
    days: int, *, noise: float, seed: int = 0, monday_factor: float = 1.8, start: date = MONDAY
) -> tuple[list[datetime], np.ndarray]:
    """A shop's daily orders: Mondays high, weekends low, growing 30% a year, multiplicative noise."""
    rng = np.random.default_rng(seed)
    weekly = np.array([monday_factor, 1.0, 1.0, 1.05, 1.1, 0.7, 0.6])
    times = [datetime(start.year, start.month, start.day) + timedelta(days=day) for day in range(days)]
    trend = 400 * (1 + 0.3 * np.arange(days) / 365)
    values = trend * weekly[[moment.weekday() for moment in times]] * (1 + rng.normal(0, noise, days))
    return times, values


def demo_daily(data_dir: Path, metric: str) -> tuple[list[datetime], list[float]]:
    """One column of the demo warehouse's daily_revenue, by day."""
    with duckdb.connect(str(ensure_demo_warehouse(data_dir)), read_only=True) as connection:
        rows = connection.execute(
            f'SELECT order_date, {metric} FROM "shop"."main"."daily_revenue" ORDER BY 1'
        ).fetchall()
    return [datetime(day.year, day.month, day.day) for day, _ in rows], [float(value) for _, value in rows]


def test_finds_every_anomaly_planted_in_the_demo_warehouse_on_each_metric_it_affects_and_nothing_else(
    demo_data_dir: Path,
) -> None:
    metrics = sorted({metric for planted in PLANTED_ANOMALIES for metric in planted.metrics_affected})
    assert metrics == ["failed_payments", "orders", "refunds", "revenue"]
    for metric in metrics:
        detection = detect(*demo_daily(demo_data_dir, metric))
        planted_here = {
            planted.day: planted for planted in PLANTED_ANOMALIES if metric in planted.metrics_affected
        }
        # One alarm (an incident) for each planted anomaly, at its day, and no other alarm in the 13 months.
        opened = {incident.start.date(): incident for incident in detection.incidents}
        assert sorted(opened) == sorted(planted_here), (
            metric,
            [f.explain(metric) for f in detection.findings],
        )
        for day, planted in planted_here.items():
            # More failed or refunded orders take (net) revenue down; orders and baskets move it their way.
            takes_revenue_down = metric == "revenue" and planted.metric in ("failed_payments", "refunds")
            assert opened[day].direction == ("below" if takes_revenue_down else planted.direction)


def test_the_demo_revenue_chart_labels_each_anomaly_within_its_axes(demo_data_dir: Path) -> None:
    detection = detect(*demo_daily(demo_data_dir, "revenue"))
    figure = anomaly_figure(detection, title="revenue by day", metric="revenue")
    axes = figure.axes[0]
    assert [label.get_text() for label in axes.texts] == [format_change(f.change) for f in detection.findings]
    assert len(axes.texts) == 5
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # lays the labels out as the PNG has them
    inside = axes.get_window_extent(canvas.get_renderer())
    for label in axes.texts:  # none cut off by the axes' edge (the lowest once was)
        extent = label.get_window_extent(canvas.get_renderer())
        assert inside.y0 <= extent.y0 and extent.y1 <= inside.y1, label.get_text()


def test_adding_a_day_to_the_demo_does_not_change_past_verdicts(demo_data_dir: Path) -> None:
    times, values = demo_daily(demo_data_dir, "revenue")
    for days in (200, 300, len(times) - 1):
        before, after = detect(times[:days], values[:days]), detect(times[: days + 1], values[: days + 1])
        assert before.findings == [finding for finding in after.findings if finding.at < times[days]]
        assert before.low == pytest.approx(after.low[:days], nan_ok=True)
        assert before.high == pytest.approx(after.high[:days], nan_ok=True)
    # A zero-revenue day (a broken load) is flagged itself, and leaves every earlier verdict as it was.
    broken = detect([*times, times[-1] + timedelta(days=1)], [*values, 0.0])
    assert broken.latest_findings()[0].value == 0.0
    assert broken.high[:-1] == pytest.approx(detect(times, values).high, nan_ok=True)


def test_a_clean_seasonal_series_with_high_mondays_has_no_anomalies() -> None:
    times, values = daily_series(730, noise=0.005)
    detection = detect(times, values.tolist())
    assert detection.grain == "day"
    assert detection.findings == []
    assert detection.judged_points > 700
    # The band follows the weekly pattern: Monday's expected value is far above Sunday's.
    last_monday = max(n for n, moment in enumerate(times) if moment.weekday() == 0)
    assert detection.expected[last_monday] > 2.5 * detection.expected[last_monday - 1]


def test_noisy_seasonal_series_never_flag_mondays_and_rarely_anything() -> None:
    judged = false_alarms = textbook_alarms = 0
    for seed in range(20):
        times, values = daily_series(365, noise=0.05, seed=seed)
        detection = detect(times, values.tolist())
        assert not [finding for finding in detection.findings if finding.at.weekday() == 0]
        judged += detection.judged_points
        false_alarms += len(detection.findings)
        textbook_alarms += len(detect(times, values.tolist(), sensitivity=3).findings)
    # The default, four deviations: about one normal point in 16,000 (here 1 in ~6,900 judged days)...
    assert DEFAULT_SENSITIVITY == 4 and false_alarms <= 2
    # ...and three: about 0.3%, as for a normal distribution (the band is calibrated, not just wide).
    assert 0.001 < textbook_alarms / judged < 0.006


def test_a_drop_is_explained_in_one_line_and_reported_as_latest() -> None:
    times, values = daily_series(120, noise=0.03)
    values[-1] *= 0.6
    detection = detect(times, values.tolist())
    latest = detection.latest_findings()
    assert [finding.at for finding in latest] == [times[-1]]
    finding = latest[0]
    assert finding.direction == "below" and finding.change == pytest.approx(-0.4, abs=0.06)
    assert finding.low < finding.expected < finding.high and finding.value < finding.low
    assert finding.score > 3
    line = finding.explain("orders")
    assert line.startswith(f"orders on {times[-1]:%Y-%m-%d}: ") and "expected " in line and "–" in line
    assert line.endswith("%") and "−" in line
    assert detection.latest_findings(last_n=0) == []


def test_explain_formats_like_the_alert_posts() -> None:
    finding = Finding(datetime(2024, 3, 4), 312, 520, 480, 560, "below", -0.4, 5.1)
    assert finding.explain("orders") == "orders on 2024-03-04: 312, expected 480–560, −40%"
    hourly = Finding(datetime(2024, 3, 4, 14), 0.0812, 0.05, 0.04, 0.06, "above", 0.624, 4.0)
    assert hourly.explain("cpc") == "cpc on 2024-03-04 14:00: 0.0812, expected 0.04–0.06, +62%"


def test_a_past_outage_neither_widens_the_band_nor_hides_the_next_one() -> None:
    times, values = daily_series(300, noise=0.04)
    clean = detect(times, values.tolist())
    damaged = values.copy()
    damaged[200:203] *= 0.3  # a three-day outage
    damaged[250] *= 0.55  # and a drop seven weeks later
    detection = detect(times, damaged.tolist())
    width = [high - low for low, high in zip(detection.low, detection.high, strict=True)]
    clean_width = [high - low for low, high in zip(clean.low, clean.high, strict=True)]
    assert width[240] == pytest.approx(clean_width[240], rel=0.1)
    found = {finding.at for finding in detection.findings}
    assert {times[200], times[201], times[202], times[250]} <= found


def test_a_lasting_drop_is_flagged_then_becomes_the_new_normal() -> None:
    times, values = daily_series(300, noise=0.04)
    values[200:] *= 0.7  # a big customer left for good
    detection = detect(times, values.tolist())
    flagged = [finding.at for finding in detection.findings]
    assert flagged[0] == times[200]
    assert all(moment < times[214] for moment in flagged)


def test_hourly_series_learn_the_daily_and_weekly_cycle() -> None:
    rng = np.random.default_rng(3)
    hours = 24 * 7 * 6
    times = [datetime(2024, 1, 1) + timedelta(hours=hour) for hour in range(hours)]
    daily = 1 + 0.8 * np.sin((np.arange(hours) % 24 - 6) / 24 * 2 * math.pi)
    weekend = np.array([0.5 if moment.weekday() >= 5 else 1.0 for moment in times])
    values = 1000 * daily * weekend * (1 + rng.normal(0, 0.03, hours))
    values[-5] *= 0.5
    detection = detect(times, values.tolist())
    assert detection.grain == "hour"
    assert times[-5] in {finding.at for finding in detection.findings}
    # The first weekend is news to a detector that has seen five weekdays only; from the second on, weekends are
    # expected (the weekly cycle is taken up once one and a half weeks are known).
    later = [finding.at for finding in detection.findings if finding.at >= datetime(2024, 1, 8)]
    assert later == [times[-5]]


def test_a_one_off_hourly_spike_does_not_come_back_as_a_dip_the_next_week() -> None:
    # In the second week the weekly median of one Tuesday 14:00 is that spike; the third week's normal Tuesday
    # 14:00 would look like a collapse. The hour around it in past weeks and the same hour on the last days
    # outvote it (the weekly vote alone flagged the echo on all ten seeds).
    echoes = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        hours = 24 * 7 * 4
        times = [datetime(2024, 1, 1) + timedelta(hours=hour) for hour in range(hours)]
        daily = 1 + 0.8 * np.sin((np.arange(hours) % 24 - 6) / 24 * 2 * math.pi)
        weekend = np.array([0.5 if moment.weekday() >= 5 else 1.0 for moment in times])
        values = 1000 * daily * weekend * (1 + rng.normal(0, 0.03, hours))
        spike = times.index(datetime(2024, 1, 9, 14))
        values[spike] *= 3
        found = {finding.at for finding in detect(times, values.tolist()).findings}
        assert times[spike] in found
        echoes += times[spike + 24 * 7] in found
    assert echoes == 0


def test_five_minute_data_learn_that_busy_hours_are_noisier_than_the_night() -> None:
    # A load that is high and noisy from 8:00 to 20:00, low and steady at night; six days of 5-minute points.
    false_alarms = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        points = 288 * 6
        times = [datetime(2024, 3, 4) + timedelta(minutes=5 * n) for n in range(points)]
        busy = (np.arange(points) % 288 >= 8 * 12) & (np.arange(points) % 288 < 20 * 12)
        values = np.where(busy, 80.0, 20.0) + rng.normal(0, 1, points) * np.where(busy, 4.0, 0.5)
        outage = range(288 * 5 + 150, 288 * 5 + 162)  # an hour at half load on the last afternoon
        values[outage] -= 40
        detection = detect(times, values.tolist())
        found = {finding.at for finding in detection.findings}
        assert {times[n] for n in outage} <= found
        false_alarms += len(found - {times[n] for n in outage})
        # Judging waits for a day of history (the first day only makes forecasts and learns their errors).
        assert all(math.isnan(value) for value in detection.expected[:288])
    # A busy afternoon is compared with busy afternoons, not with the quiet night's narrow noise: at most the one
    # chance alarm that a 4σ band allows in ~14,000 judged points (judging starts after a day and a quarter).
    assert false_alarms <= 1


def test_small_counts_tolerate_chance_but_not_an_outage() -> None:
    rng = np.random.default_rng(7)
    times = [datetime(2024, 1, 1) + timedelta(days=day) for day in range(200)]
    refunds = rng.poisson(1.0, 200).astype(float)
    refunds[150] = 4  # bad luck, not an incident
    refunds[180] = 30
    detection = detect(times, refunds.tolist())
    found = {finding.at for finding in detection.findings}
    assert times[180] in found and times[150] not in found
    assert min(detection.low[100:]) >= 0  # a count's range never goes below zero
    for low, expected, high in zip(
        detection.low[30:], detection.expected[30:], detection.high[30:], strict=True
    ):
        assert low <= expected <= high


def test_missing_days_are_skipped_not_shifted() -> None:
    times, values = daily_series(200, noise=0.02)
    kept = [day for day in range(200) if day % 17 != 5]
    values[199] *= 1.6
    detection = detect([times[day] for day in kept], [float(values[day]) for day in kept])
    assert detection.grain == "day"
    assert [finding.at for finding in detection.findings] == [times[199]]


def test_monthly_series_are_placed_by_calendar_month_and_learn_the_year() -> None:
    rng = np.random.default_rng(0)
    times = [datetime(2018 + month // 12, month % 12 + 1, 1) for month in range(72)]
    december_peak = np.array([1, 0.9, 1, 1.1, 1.2, 1.1, 1, 0.9, 1, 1.1, 1.3, 1.8])
    values = (
        1000 * december_peak[np.arange(72) % 12] * (1 + np.arange(72) / 100) * (1 + rng.normal(0, 0.03, 72))
    )
    values[60] *= 0.6
    detection = detect(times, values.tolist())
    assert [finding.at for finding in detection.findings] == [times[60]]


def test_each_point_is_judged_from_its_past_only() -> None:
    times, values = daily_series(200, noise=0.05, seed=5)
    values[150] *= 2.5  # a spike later in the series must not change how earlier points were judged
    full = detect(times, values.tolist())
    for end in (40, 100, 150, 151):
        prefix = detect(times[:end], values[:end].tolist())
        assert prefix.expected[-1] == pytest.approx(full.expected[end - 1], rel=1e-12)
        assert prefix.high[-1] == pytest.approx(full.high[end - 1], rel=1e-12)
    assert full.latest_findings(last_n=50)[0].at == times[150]


def test_the_first_weeks_are_learned_from_not_judged() -> None:
    times, values = daily_series(40, noise=0.02)
    detection = detect(times, values.tolist())
    assert all(math.isnan(value) for value in detection.expected[:14])
    assert not math.isnan(detection.expected[-1])


@pytest.mark.parametrize(
    ("times", "values", "message"),
    [
        ([datetime(2024, 1, day) for day in range(1, 11)], [5.0] * 10, "Not enough history: 10 points"),
        (
            [datetime(2024, 1, 1) + timedelta(days=d) for d in range(20)],
            [1.0] * 19,
            "20 timestamps but 19 values",
        ),
        (
            [datetime(2024, 1, 1) + timedelta(days=d) for d in range(20)],
            ["web"] * 20,
            "Values must be numbers",
        ),
    ],
)
def test_bad_input_is_refused_with_what_to_change(
    times: list[datetime], values: list[object], message: str
) -> None:
    with pytest.raises(DetectionInputError, match=message):
        detect(times, values)  # type: ignore[arg-type]
