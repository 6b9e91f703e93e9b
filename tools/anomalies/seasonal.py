"""A causal, robust seasonal forecast: each point's expected value and noise scale from its past only.

Vectorised over the whole series with trailing windows, so checking every point of two years costs a few
milliseconds and a streaming evaluation (each point judged only from the past) is the same computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from tools.anomalies.timeline import cycles_to_forecast

FloatArray = NDArray[np.float64]

_MAD_TO_SIGMA = 1.4826  # times the median absolute deviation, estimates a normal standard deviation
# Errors further than this many MAD-sigmas from their median are left out of the spread (outages, spikes)...
_TRIM_AT = 3.0
# ...and the standard deviation of the rest, divided by this (a normal's share kept inside ±3σ), estimates σ.
_TRIMMED_SIGMA = 0.9866
_MIN_ERRORS_TO_TRIM = 20  # ...once this many errors are known (see _trimmed_spread)
# The trimmed standard deviation's statistical efficiency (82% in a simulation of 100 normal errors; the MAD
# alone: 37%). It sets the degrees of freedom of the band's Student-t widening.
_SPREAD_EFFICIENCY = 0.8
_RECENT_POINTS = 3  # without a seasonal cycle, the forecast is the median of this many last points
_ROWS_PER_CHUNK = 512  # trailing windows are summarised this many rows at a time, to bound memory


@dataclass(frozen=True)
class CausalSeasonalModel:
    """Seasonal-naive median corrected by the median past error, and a robust spread of past forecast errors."""

    period: int  # the seasonal cycle in points (7 for days in a week, 168 for hours)
    min_history: int = 14
    cycles: int = 6  # how many past cycles vote on a point's expected value
    scale_window_cycles: int = 26  # cycles of past errors that set the band (half a year of days)...
    max_scale_window: int = 1008  # ...but no more points than six weeks of hours
    min_errors: int = 7  # past forecast errors needed before the band's width is trusted
    occasion_points: int = 1  # points in one "occasion" for the routine rule (an hour of 5-minute points: 12)
    day_points: int = 1  # points in a day (24 for hours): the band waits for a whole day's errors
    routine_occasions: int = 5  # an error as large as ones seen on this many past occasions is no anomaly
    routine_days: int = 3  # ...or at about the same time of day on this many of the last `cycles` days
    min_scale: float = 0.01  # without a given floor, the noise scale is never below this share of the level

    def fit(
        self,
        values: FloatArray,
        *,
        sensitivity: float,
        scale_floor: float | None = None,
        first: int = 0,
        band_from: int = 0,
    ) -> tuple[FloatArray, FloatArray]:
        """Per point from `first` on: expected value, and from `band_from` on robust noise scale (NaN where the
        past is too short, or before `band_from`: a caller that needs only past expected values saves the work).

        The scale is widened while few past errors are known, so that `sensitivity` scale units keep the same
        false-alarm rate on a young series as on an old one. The scale is at least `scale_floor`, or without
        one `min_scale` times the series' level.
        """
        forecast, cycles_seen = self._seasonal_forecast(values)
        # A point is forecast from as many past cycles as its cycle needs (two weeks of days), but the errors of
        # forecasts from one cycle are learnt from before that: they err more than a two-cycle forecast, so the
        # first band is wide but honest, and a daily series is judged after two weeks, not three.
        errors = values - np.where(cycles_seen >= 1, forecast, np.nan)
        forecast = np.where(cycles_seen >= cycles_to_forecast(self.period), forecast, np.nan)
        # Before the day's cycle is known, a day of errors, so that the band has seen night and day; after, a
        # quarter of a day's (the same-hours spread keeps busy hours apart) widened by Student's t.
        needed = max(self.min_errors, self.day_points if self.period == 1 else self.day_points // 4)
        window = min(
            max(self.scale_window_cycles * self.period, 4 * self.min_errors, 2 * needed),
            self.max_scale_window,
        )
        bias, spread, routine, level = self._past_error_summaries(
            values, errors, window, first, max(first, band_from)
        )
        if self.day_points > 1:  # within a day, busy hours are noisier than the night
            same_hours_spread, same_hours_routine = self._same_hours_spread(errors, bias, first)
            spread = np.fmax(spread, same_hours_spread)
            routine = np.fmax(routine, same_hours_routine)
        error_count = _trailing_counts(~np.isnan(errors), window)
        centre = forecast + np.nan_to_num(bias)
        if scale_floor is None:
            floor = np.maximum(self.min_scale * np.abs(np.nan_to_num(level)), 1e-9)
        else:
            floor = np.full(len(values), scale_floor)
        # Neighbouring 5-minute errors move together (one slow hour is twelve large errors), so what the spread
        # was learnt from is counted in occasions, not points.
        independent = error_count / self.occasion_points
        scale = np.maximum(spread, floor) * small_sample_widening(sensitivity, independent)
        scale = np.maximum(scale, routine / sensitivity)
        known_before = np.concatenate(([0], np.cumsum(~np.isnan(values))[:-1]))
        # Noise differs between night and day, so a band learnt from the errors of a few hours is not trusted.
        judged = (error_count >= needed) & (known_before >= self.min_history) & ~np.isnan(forecast)
        return np.where(judged, centre, np.nan), np.where(judged, scale, np.nan)

    def _same_hours_spread(
        self, errors: FloatArray, bias: FloatArray, first: int
    ) -> tuple[FloatArray, FloatArray]:
        """The spread of past errors at the same time of day (within an hour) over the last `cycles` days, and
        the largest error at that time of day on `routine_days` of those days (on as large a share of the days
        known, while fewer than `cycles` are).

        The pooled spread averages busy hours with quiet nights, so alone it is too narrow for the afternoon;
        this one is NaN until a day of them is known. What recurs at about the same time on several days (a
        nightly job's spike, drifting by a few minutes) is a pattern: no point is an anomaly for matching it.
        """
        near = np.arange(-self.occasion_points, self.occasion_points + 1)
        days = np.arange(1, self.cycles + 1) * self.day_points
        source = np.arange(first, len(errors))[:, None] - _around(days, self.occasion_points)[None, :]
        same_hours = _lookup(errors, source)
        spread, mad = _trimmed_spread(np.abs(same_hours - bias[first:, None]))
        enough = np.count_nonzero(~np.isnan(same_hours), axis=1) >= len(near)  # a day of them
        result: FloatArray = np.full(len(errors), np.nan)
        result[first:] = np.where(enough & (mad > 0), spread, np.nan)
        by_day = np.abs(same_hours - bias[first:, None]).reshape(len(source), self.cycles, len(near))
        day_worst = np.nan_to_num(by_day, nan=0.0).max(axis=2)
        # On a young series, "three of the last six days" is half of the days seen so far (one of two).
        days_seen = np.count_nonzero(~np.isnan(by_day).all(axis=2), axis=1)
        needed = np.maximum(np.ceil(days_seen * self.routine_days / self.cycles), 1).astype(np.int64)
        rank = np.clip(self.cycles - needed, 0, self.cycles - 1)
        routine: FloatArray = np.full(len(errors), np.nan)
        routine[first:] = np.take_along_axis(np.sort(day_worst, axis=1), rank[:, None], axis=1)[:, 0]
        return result, routine

    def _seasonal_forecast(self, values: FloatArray) -> tuple[FloatArray, NDArray[np.int64]]:
        """Median of the same phase in the last cycles; a trend's lag is corrected later by the error bias.

        A weekly cycle of points hourly or finer is used once one week and a quarter are known, when one past
        week is one reading per phase, and alone it would echo last week's spike as this week's dip. So there the
        forecast is the median of three: that median, the median of the hour around the phase in the past weeks
        (which no short spike moves), and the median of the same time (within a step) on the last six days (a
        spike that recurs daily is expected). So a one-off spike last week is outvoted two to one, a quiet weekend
        is kept by the two weekly votes, and a daily spike or the sharp start of business hours by the other two.

        Hourly points vote too, but the hour around an hour is the hours either side, which differ wherever the
        day's curve bends or midnight turns a Sunday into a weekday Monday (late Sunday's hour around would expect
        weekday traffic every week). So there each vote weighs by its record at the phase in past weeks, and
        until all have one, the weekly median decides alone, as it did before the votes.
        """
        # Without a known cycle, only the last few points say where the series is (a slow wave moves on).
        cycles = self.cycles if self.period > 1 else _RECENT_POINTS
        lags = self.period * np.arange(1, cycles + 1)
        # An irregular sampler leaves holes in the grid; a past phase that fell in one takes the last value
        # before it within the same occasion (an hour of 5-minute points), so a series sampled every 4-11 minutes
        # is still compared with its past. Not for days or hours: the day before a missing Monday is a Sunday.
        carried = carry_forward(values, self.occasion_points - 1)
        rows = np.arange(len(values))[:, None]
        same_phase = _lookup(carried, rows - lags[None, :])
        forecast = _row_medians(same_phase)
        if 1 < self.day_points < self.period:
            # A neighbour after the phase is still at least a day less an hour before the point: the past only.
            hour_around = _row_medians(_lookup(carried, rows - _around(lags, self.occasion_points)[None, :]))
            days = self.day_points * np.arange(1, self.cycles + 1)
            same_time = _row_medians(_lookup(carried, rows - _around(days, 1)[None, :]))
            votes = np.stack((forecast, hour_around, same_time), axis=1)
            if self.occasion_points > 1:
                forecast = _row_medians(votes)
            else:  # hours: the neighbours of an hour are whole hours away, so they vote by their record
                forecast = _vote_by_record(values, votes, lags)
        return forecast, np.count_nonzero(~np.isnan(same_phase), axis=1)

    def _past_error_summaries(
        self, values: FloatArray, errors: FloatArray, window: int, first: int, band_from: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Per point, over the `window` errors before it: bias, robust spread, routine extreme; and value level
        (all but the bias only from `band_from` on).

        Within a day the summaries are renewed once per occasion (an hour of 5-minute points), from the errors
        before the occasion's first point: twelve times less work, and still from the past only.
        """
        count = len(values)
        stride = self.occasion_points
        first_block = first // stride  # rows before `first` are not wanted
        renewed_at = np.arange(first_block * stride, count, stride)
        bias, spread, routine, level = (np.full(len(renewed_at), np.nan) for _ in range(4))
        occasions = window // stride
        past_errors, past_values = _trailing_windows(errors, window), _trailing_windows(values, window)
        for start in range(0, len(renewed_at), _ROWS_PER_CHUNK):
            bias[start : start + _ROWS_PER_CHUNK] = _row_medians(
                past_errors[renewed_at[start : start + _ROWS_PER_CHUNK]]
            )
        band_start = band_from // stride - first_block  # the occasion that holds `band_from`
        for start in range(band_start, len(renewed_at), _ROWS_PER_CHUNK):
            rows = slice(start, start + _ROWS_PER_CHUNK)
            chunk = past_errors[renewed_at[rows]]
            centre = bias[rows]
            deviations = np.abs(chunk - centre[:, None])
            trimmed, mad = _trimmed_spread(deviations, _MIN_ERRORS_TO_TRIM)
            # Where most errors are exactly zero (a sparse count, a spiky load) the MAD is zero too, and only
            # the mean deviation says how large the usual bursts are. Elsewhere it would let past outages
            # widen the band, so it is not used there.
            spread[rows] = np.where(mad > 0, trimmed, _row_means(deviations))
            # What recurs on many occasions is a pattern (regular spikes), not news: the band reaches at least
            # the worst error of the `routine_occasions`-th worst past occasion. One outage is one or a few
            # occasions, so it cannot hide the next one.
            worst = np.nan_to_num(deviations, nan=0.0)[:, window - occasions * stride :]
            worst = worst.reshape(len(chunk), occasions, stride).max(axis=2)
            rank = occasions - min(self.routine_occasions, occasions)
            routine[rows] = np.partition(worst, rank, axis=1)[:, rank]
            level[rows] = _row_medians(past_values[renewed_at[rows]])
        block = np.arange(count) // stride - first_block
        wanted = block >= 0
        return tuple(  # type: ignore[return-value]
            np.where(wanted, summary[np.clip(block, 0, None)], np.nan)
            if len(summary)
            else np.full(count, np.nan)
            for summary in (bias, spread, routine, level)
        )


def _vote_by_record(values: FloatArray, votes: FloatArray, lags: NDArray[np.int64]) -> FloatArray:
    """Per row, the median of the votes (columns; the first is the same phase's) weighted by how close each came at
    the same phase in the past cycles `lags` back: each weighs one over its median error there.

    Votes that did about as well there make the plain median; a vote wrong at this phase every cycle is
    outweighed. Until every vote has such a record, the first vote alone. Only past cycles' errors are used.
    """
    rows = np.arange(len(values))
    errors = np.abs(values[:, None] - votes)
    record = np.stack(
        [
            _row_medians(_lookup(errors[:, vote], rows[:, None] - lags[None, :]))
            for vote in range(votes.shape[1])
        ],
        axis=1,
    )
    recorded = ~np.isnan(record).any(axis=1) & ~np.isnan(votes).any(axis=1)
    weights = 1.0 / np.maximum(np.nan_to_num(record, nan=1.0), 1e-12)
    order = np.argsort(votes, axis=1)  # a recorded row's votes are all known
    ordered = np.take_along_axis(votes, order, axis=1)
    cumulative = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
    half = cumulative[:, -1:] / 2
    # The weighted median; where the weights split exactly in half (two equal votes), between the middle two.
    lower = np.argmax(cumulative >= half * (1 - 1e-9), axis=1)
    upper = np.argmax(cumulative > half * (1 + 1e-9), axis=1)
    median = (ordered[rows, lower] + ordered[rows, upper]) / 2
    return np.where(recorded, median, votes[:, 0])


def _around(lags: NDArray[np.int64], near: int) -> NDArray[np.int64]:
    """The lags and the `near` lags either side of each, flattened."""
    return (lags[:, None] - np.arange(-near, near + 1)[None, :]).ravel()


def _lookup(values: FloatArray, source: NDArray[np.int64]) -> FloatArray:
    """values[source], NaN where the source is before the start."""
    return np.where(source >= 0, values[np.clip(source, 0, None)], np.nan)


def carry_forward(values: FloatArray, limit: int) -> FloatArray:
    """Each gap filled with the last known value before it, for at most `limit` points (longer gaps stay NaN).

    Only earlier values are used, so a lookup into the result is as causal as one into `values`.
    """
    if limit <= 0:
        return values
    positions = np.arange(len(values))
    last_known = np.maximum.accumulate(np.where(np.isnan(values), -1, positions))
    usable = (last_known >= 0) & (positions - last_known <= limit)
    return np.where(usable, values[np.maximum(last_known, 0)], np.nan)


def _trimmed_spread(deviations: FloatArray, min_to_trim: int = 0) -> tuple[FloatArray, FloatArray]:
    """Per row: the standard deviation of the errors within three MADs of their centre, and the MAD (as σ).

    The MAD only guards against outliers (outages, spikes). The spread itself is the trimmed standard deviation:
    as precise as a plain one from 80% as many errors, where the MAD alone needs 2.7 times as many, and
    a loose spread means a loose band (see small_sample_widening).
    """
    mad = _MAD_TO_SIGMA * _row_medians(deviations)
    # A MAD of a handful of errors is too unsure to trust as a cut: of seven, five may agree to a fraction of the
    # noise by chance and the other two be cut as outliers, a band several times too narrow. So while few errors
    # are known, only the largest may be cut (one outage), and only beyond three MADs.
    enough = np.count_nonzero(~np.isnan(deviations), axis=1) >= min_to_trim
    beyond = deviations > _TRIM_AT * mad[:, None]
    largest = deviations == np.nanmax(np.where(np.isnan(deviations), -np.inf, deviations), axis=1)[:, None]
    kept = np.where(beyond & (enough[:, None] | largest), np.nan, deviations)
    rms = np.sqrt(_row_means(np.square(kept)))
    return np.where(enough, rms / _TRIMMED_SIGMA, rms), mad


def _row_medians(matrix: FloatArray) -> FloatArray:
    """Each row's median ignoring NaN (NaN for an empty row); sorting is far faster than np.nanmedian here."""
    ordered = np.sort(matrix, axis=1)  # NaN sorts last
    known = np.count_nonzero(~np.isnan(matrix), axis=1)
    rows = np.arange(len(matrix))
    lower = ordered[rows, np.maximum((known - 1) // 2, 0)]
    upper = ordered[rows, np.maximum(known // 2, 0)]
    return np.where(known > 0, (lower + upper) / 2, np.nan)


def _row_means(matrix: FloatArray) -> FloatArray:
    """Each row's mean ignoring NaN, NaN for an empty row, without np.nanmean's warning.

    (Silencing warnings with warnings.catch_warnings is not thread-safe, and the bot runs tools in threads.)
    """
    known = np.count_nonzero(~np.isnan(matrix), axis=1)
    totals = np.nansum(matrix, axis=1)
    means: FloatArray = np.full(len(matrix), np.nan)
    np.divide(totals, known, out=means, where=known > 0)
    return means


def small_sample_widening(
    sensitivity: float, error_count: FloatArray, efficiency: float = _SPREAD_EFFICIENCY
) -> FloatArray:
    """Student's t quantile over the normal one at `sensitivity`, by the Cornish-Fisher expansion.

    A scale estimated from n errors is uncertain, so the band needs t's wider tails. The trimmed standard
    deviation is about 80% as efficient as a plain one (the default `efficiency`), hence the slightly reduced
    degrees of freedom.
    """
    freedom = np.maximum(efficiency * error_count - 1, 1.0)
    z = sensitivity
    quantile = z + (z**3 + z) / (4 * freedom) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * freedom**2)
    return np.asarray(quantile / z, dtype=np.float64)


def _trailing_windows(values: FloatArray, width: int) -> FloatArray:
    """Row t holds the `width` values before t (NaN before the start); t itself is never included. A view."""
    padded = np.concatenate((np.full(width, np.nan), values))
    return sliding_window_view(padded, width)[: len(values)]


def _trailing_counts(flags: NDArray[np.bool_], width: int) -> NDArray[np.int64]:
    """How many flags are set among the `width` points before each point."""
    running = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))
    ends = np.arange(len(flags))
    return running[ends] - running[np.maximum(ends - width, 0)]
