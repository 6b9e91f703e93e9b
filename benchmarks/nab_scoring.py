"""The Numenta Anomaly Benchmark's scoring rules (standard profile), written from their description.

Per file: the first 15% of rows (at most 750) are a probation period whose detections are not scored. Each
labelled window rewards only its earliest detection, by a scaled sigmoid of where it falls (near 1 at the
window's start, 0 at its end); a window without a detection costs A_FN. A detection outside every window costs
A_FP, softened by the same sigmoid when it comes soon after a window (a late but related alarm). The corpus score
is normalised so that detecting nothing scores 0 and detecting every window at its start scores 100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

A_TP, A_FP, A_FN = 1.0, -0.11, -1.0
PROBATION_SHARE, PROBATION_CAP = 0.15, 750


@dataclass(frozen=True)
class Window:
    """A labelled anomaly window as row positions, both ends included."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass(frozen=True)
class FileScore:
    """One file's raw score and its parts."""

    raw: float
    null: float
    perfect: float
    true_positives: int
    false_positives: int
    missed_windows: int


def scaled_sigmoid(position: float) -> float:
    """2/(1+e^(5y)) - 1: 0.987 at a window's start (y=-1), 0 at its end (y=0), towards -1 after it."""
    if position > 3.0:  # far past a window: a plain false positive (and no overflow in exp)
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_rows(row_count: int) -> int:
    """The rows at the start of a file whose detections are not scored."""
    return min(math.floor(PROBATION_SHARE * row_count), PROBATION_CAP)


def score_file(row_count: int, windows: Sequence[Window], detections: Sequence[int]) -> FileScore:
    """Score detections (row positions) against a file's windows under the standard profile."""
    ordered = sorted(windows, key=lambda window: window.start)
    probation = probation_rows(row_count)
    detected: dict[int, int] = {}  # window number -> its earliest detection
    raw, false_positives = 0.0, 0
    for row in sorted(set(detections)):
        if row < probation:
            continue
        inside = next(
            (number for number, window in enumerate(ordered) if window.start <= row <= window.end), None
        )
        if inside is not None:
            detected.setdefault(inside, row)
            continue
        false_positives += 1
        before = [window for window in ordered if window.end < row]
        if before:
            previous = before[-1]
            raw += -A_FP * scaled_sigmoid((row - previous.end) / previous.length)
        else:
            raw += A_FP
    for number, row in detected.items():
        window = ordered[number]
        raw += A_TP * scaled_sigmoid(-(window.end - row + 1) / window.length)
    missed = len(ordered) - len(detected)
    raw += A_FN * missed
    perfect = sum(A_TP * scaled_sigmoid(-1.0) for _ in ordered)
    return FileScore(raw, A_FN * len(ordered), perfect, len(detected), false_positives, missed)


def normalised_score(scores: Sequence[FileScore]) -> float:
    """100 × (raw − null) / (perfect − null), summed over files: null detector 0, perfect detector 100."""
    raw = sum(score.raw for score in scores)
    null = sum(score.null for score in scores)
    perfect = sum(score.perfect for score in scores)
    return 100.0 * (raw - null) / (perfect - null)
