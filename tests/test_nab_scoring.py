"""NAB's scoring rules as benchmarks/nab_scoring.py applies them, on small files made here.

(The benchmark itself checks the scorer against NAB's own written results on the shared NAB data.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from benchmarks.nab_scoring import (
    PROBATION,
    Profile,
    best_threshold,
    label_file,
    normalised_score,
    scaled_sigmoid,
    score_detections,
    score_rows,
)

STANDARD = Profile("standard", tp_weight=1.0, fp_weight=0.11, fn_weight=1.0)
LOW_FN = Profile("reward_low_FN_rate", tp_weight=1.0, fp_weight=0.11, fn_weight=2.0)
TIMES = [datetime(2024, 1, 1) + timedelta(minutes=5 * row) for row in range(1000)]
WINDOW = (TIMES[400], TIMES[499])  # rows 400–499, after the 150-row probation


def test_a_window_rewards_its_earliest_detection_and_a_miss_costs_the_fn_weight() -> None:
    labelled = label_file("f.csv", TIMES, [WINDOW], [STANDARD, LOW_FN])
    assert labelled.window_of_row[149] == PROBATION and labelled.window_of_row[150] != PROBATION
    assert score_rows(labelled, [400], STANDARD).score == pytest.approx(1.0)  # the first row: the full reward
    late = score_rows(labelled, [450, 499], STANDARD)
    assert late.score == pytest.approx(scaled_sigmoid(-50 / 100) / scaled_sigmoid(-1.0))
    assert (late.true_positives, late.detected_windows, late.false_negatives) == (2, 1, 98)
    assert score_rows(labelled, [], STANDARD).score == -1.0
    assert score_rows(labelled, [], LOW_FN).score == -2.0
    assert score_rows(labelled, [10], STANDARD).score == -1.0  # probation rows are not scored


def test_false_positives_cost_less_soon_after_a_window() -> None:
    labelled = label_file("f.csv", TIMES, [WINDOW], [STANDARD])
    before = score_rows(labelled, [400, 300], STANDARD).score - 1.0
    assert before == pytest.approx(-0.11)
    just_after = score_rows(labelled, [400, 510], STANDARD).score - 1.0
    assert just_after == pytest.approx(0.11 * scaled_sigmoid(11 / 99))
    far_after = score_rows(labelled, [400, 900], STANDARD).score - 1.0
    assert far_after == pytest.approx(-0.11)
    assert -0.11 < just_after < 0


def test_the_optimiser_finds_the_best_threshold_that_a_full_search_finds() -> None:
    rng = np.random.default_rng(0)
    files = [label_file(f"{n}.csv", TIMES, [WINDOW], [STANDARD]) for n in range(3)]
    scores = [rng.random(len(TIMES)).round(2) for _ in files]
    for scored in scores:
        scored[420] = 0.995  # one early, confident detection in each window
    threshold, best = best_threshold(files, [list(row) for row in scores], STANDARD)
    candidates = sorted({float(value) for row in scores for value in row})
    searched = max(
        sum(score_detections(f, list(row >= t), STANDARD).score for f, row in zip(files, scores, strict=True))
        for t in candidates
    )
    assert best == pytest.approx(searched)
    assert best == pytest.approx(
        sum(
            score_detections(f, list(row >= threshold), STANDARD).score
            for f, row in zip(files, scores, strict=True)
        )
    )
    assert normalised_score(best, 3, STANDARD) == pytest.approx(100 * (best + 3) / 6)
