"""The Numenta Anomaly Benchmark's scoring rules, as NAB's own scorer (nab/sweeper.py) applies them.

Per file, every row gets a "sweep score": the score it would earn if it were a detection. Inside a window it is
the scaled sigmoid of its position (1 at the window's first row, falling towards 0 at its end), times the TP
weight; outside every window it is −1 × the FP weight before the first window, and after a window the sigmoid of
its distance past that window's end (counted in the window's width minus one) times the FP weight. The first 15%
of rows (at most 750) are probation: neither scored nor counted. A window scores its best (earliest) detection,
or −FN weight if it has none; every detection outside windows adds its (negative) sweep score. The corpus score
is normalised so that detecting nothing scores 0 and detecting every window at its first row scores 100.

`check_against_reference` proves this reproduces the row scores and per-file totals that NAB wrote for two
published detectors; the benchmark refuses to print figures when it does not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PROBATION_SHARE, PROBATION_CAP_ROWS = 0.15, 5000
OUTSIDE, PROBATION = -1, -2  # window numbers of rows that are in no window / in the probation period


@dataclass(frozen=True)
class Profile:
    """A NAB scoring profile: the weights of true positives, false positives and missed windows."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


@dataclass(frozen=True)
class LabelledFile:
    """A NAB file's rows as NAB's scorer sees them: each row's window number and sweep score per profile."""

    name: str
    window_of_row: list[int]  # window number, OUTSIDE, or PROBATION
    window_count: int  # windows with at least one scorable row
    sweep_scores: dict[str, list[float]]  # profile name -> per row
    rows_inside: int  # scorable rows inside windows
    rows_outside: int  # scorable rows outside every window


@dataclass(frozen=True)
class FileScore:
    """One file's raw NAB score and NAB's row counts (probation rows excluded)."""

    score: float
    true_positives: int
    true_negatives: int
    false_positives: int
    false_negatives: int
    detected_windows: int
    missed_windows: int


def load_profiles(path: Path) -> list[Profile]:
    """NAB's config/profiles.json."""
    raw = json.loads(path.read_text())
    return [
        Profile(
            name,
            costs["CostMatrix"]["tpWeight"],
            costs["CostMatrix"]["fpWeight"],
            costs["CostMatrix"]["fnWeight"],
        )
        for name, costs in raw.items()
    ]


def scaled_sigmoid(position: float) -> float:
    """2/(1+e^(5y)) − 1: 0.987 at a window's start (y=−1), 0 at its end (y=0), towards −1 past it."""
    if position > 3.0:  # far past a window: a plain false positive
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_rows(row_count: int) -> float:
    """Rows before this index are probation (NAB compares the index with min(floor(15% of rows), 750))."""
    return min(math.floor(PROBATION_SHARE * row_count), PROBATION_SHARE * PROBATION_CAP_ROWS)


def label_file(
    name: str,
    timestamps: Sequence[datetime],
    windows: Sequence[tuple[datetime, datetime]],
    profiles: Sequence[Profile],
) -> LabelledFile:
    """Walk the rows as NAB's sweeper does (windows are entered and left at the first row with their timestamp)."""
    pending = list(windows)
    max_tp = scaled_sigmoid(-1.0)
    probation = probation_rows(len(timestamps))
    window_of_row: list[int] = []
    unweighted: list[tuple[bool, float]] = []  # (inside a window, sigmoid value)
    current: tuple[datetime, datetime] | None = None
    number = right = -1
    width = previous_right = previous_width = -1.0
    for row, moment in enumerate(timestamps):
        if pending and moment == pending[0][0]:
            current = pending.pop(0)
            number += 1
            right = timestamps.index(current[1])
            width = float(right - timestamps.index(current[0]) + 1)
        if current is not None:
            unweighted.append((True, scaled_sigmoid(-(right - row + 1) / width)))
        elif previous_right < 0:
            unweighted.append((False, -1.0))
        else:
            unweighted.append((False, scaled_sigmoid(abs(previous_right - row) / (previous_width - 1))))
        inside = number if current is not None else OUTSIDE
        window_of_row.append(inside if row >= probation else PROBATION)
        if current is not None and moment == current[1]:
            previous_right, previous_width, current = float(row), width, None
    sweep_scores = {
        profile.name: [
            value * profile.tp_weight / max_tp if inside else value * profile.fp_weight
            for inside, value in unweighted
        ]
        for profile in profiles
    }
    scorable_windows = {window for window in window_of_row if window >= 0}
    inside = sum(1 for window in window_of_row if window >= 0)
    outside = sum(1 for window in window_of_row if window == OUTSIDE)
    return LabelledFile(name, window_of_row, len(scorable_windows), sweep_scores, inside, outside)


def score_detections(labelled: LabelledFile, flagged: Sequence[bool], profile: Profile) -> FileScore:
    """Score one file's detections (a flag per row) under a profile."""
    return score_rows(labelled, [row for row, flag in enumerate(flagged) if flag], profile)


def score_rows(labelled: LabelledFile, detections: Sequence[int], profile: Profile) -> FileScore:
    """Score one file's detections (the rows flagged, each once) under a profile."""
    sweep = labelled.sweep_scores[profile.name]
    best: dict[int, float] = {}
    true_positives = false_positives = 0
    false_positive_score = 0.0
    for row in detections:
        window = labelled.window_of_row[row]
        if window >= 0:
            true_positives += 1
            best[window] = max(best.get(window, -math.inf), sweep[row])
        elif window == OUTSIDE:
            false_positives += 1
            false_positive_score += sweep[row]
    missed = labelled.window_count - len(best)
    score = sum(best.values()) + false_positive_score - missed * profile.fn_weight
    return FileScore(
        score,
        true_positives,
        labelled.rows_outside - false_positives,
        false_positives,
        labelled.rows_inside - true_positives,
        len(best),
        missed,
    )


def normalised_score(raw_total: float, window_count: int, profile: Profile) -> float:
    """NAB's normalisation: 100 × (raw − null) / (perfect − null), null = −FN weight and perfect = TP weight per window."""
    null = -profile.fn_weight * window_count
    perfect = profile.tp_weight * window_count
    return 100.0 * (raw_total - null) / (perfect - null)


def best_threshold(
    files: Sequence[LabelledFile], anomaly_scores: Sequence[Sequence[float]], profile: Profile
) -> tuple[float, float]:
    """NAB's optimiser: the threshold (flag rows scoring at least it) with the highest corpus score, and that score.

    Every distinct anomaly score is tried, as NAB's sweeper does, by adding rows in descending score order.
    """
    rows = [
        (score, labelled.window_of_row[row], labelled.sweep_scores[profile.name][row], number)
        for number, (labelled, scores) in enumerate(zip(files, anomaly_scores, strict=True))
        for row, score in enumerate(scores)
        if labelled.window_of_row[row] != PROBATION
    ]
    rows.sort(key=lambda item: -item[0])
    total = -profile.fn_weight * sum(labelled.window_count for labelled in files)
    best_in_window: dict[tuple[int, int], float] = {}
    best_score, best_at = total, math.inf
    for index, (score, window, sweep, number) in enumerate(rows):
        if window >= 0:
            key = (number, window)
            earlier = best_in_window.get(key)
            if earlier is None:
                total += sweep + profile.fn_weight
                best_in_window[key] = sweep
            elif sweep > earlier:
                total += sweep - earlier
                best_in_window[key] = sweep
        else:
            total += sweep
        last_of_tie = index + 1 == len(rows) or rows[index + 1][0] != score
        if last_of_tie and total > best_score:
            best_score, best_at = total, score
    return best_at, best_score
