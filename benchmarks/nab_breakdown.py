"""Where the NAB score is lost, file by file: python -m benchmarks.nab_breakdown [threshold]

For each development file at one threshold (default: the per-point threshold NAB's optimiser picks on all 41
files, standard profile): its raw score, windows found, false alarms and the largest of them, and per window its
largest alarm score and the row (of the window's rows) that first passed the threshold ("-": missed). A
diagnostic for choosing what to work on next, not a benchmark (run_all does not run it); it tunes nothing.
"""

from __future__ import annotations

import sys

import numpy as np

from benchmarks.nab_corpus import load_corpus, nab_profiles
from benchmarks.nab_evaluation import SeriesScores, per_point_rows, score_series, tuned_threshold
from benchmarks.nab_scoring import OUTSIDE, score_rows
from benchmarks.shared_data import shared_data


def window_summary(item: SeriesScores, window: int, threshold: float) -> str:
    rows = [row for row, number in enumerate(item.series.labelled.window_of_row) if number == window]
    passed = [place for place, row in enumerate(rows) if item.scores[row] >= threshold]
    first = f"@{passed[0]}/{len(rows)}" if passed else "-"
    return f"{item.scores[rows].max():.1f}{first}"


def main() -> None:
    root = shared_data("nab")
    profiles = nab_profiles(root)
    standard = next(profile for profile in profiles if profile.name == "standard")
    scored = score_series(load_corpus(root, profiles))
    threshold = float(sys.argv[1]) if len(sys.argv) > 1 else tuned_threshold(scored, "per point", standard)
    print(f"Per point at threshold {threshold:.2f}, standard profile:")
    for item in scored:
        labelled = item.series.labelled
        result = score_rows(labelled, per_point_rows(item, threshold), standard)
        outside = np.array([number == OUTSIDE for number in labelled.window_of_row])
        false_alarms = item.scores[outside & (item.scores >= threshold)]
        worst = f"{false_alarms.max():.1f}" if false_alarms.size else "-"
        windows = ", ".join(
            window_summary(item, window, threshold) for window in range(labelled.window_count)
        )
        print(
            f"  {item.series.name[:52]:52} {result.score:6.2f}  found {result.detected_windows}/"
            f"{labelled.window_count}  false {result.false_positives:3d} (worst {worst})  windows [{windows}]"
        )


if __name__ == "__main__":
    main()
