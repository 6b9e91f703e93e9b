"""NAB's development split as read from ../shared/data/nab, and the check that our scorer is NAB's scorer.

The check replays two published detectors' outputs (reference/results) through benchmarks/nab_scoring.py and
compares every row's score S(t) under each profile, each file's score and counts, and the corpus totals, with what
NAB's own scorer wrote next to them.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from benchmarks.nab_scoring import (
    LabelledFile,
    Profile,
    label_file,
    load_profiles,
    normalised_score,
    score_detections,
)

REFERENCE_DETECTORS = ("numenta", "windowedGaussian")
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class NabSeries:
    """One NAB data file: where it lives, its rows, and its rows as the scorer sees them."""

    name: str  # category/file.csv, as in the label files
    category: str
    timestamps: list[datetime]
    values: list[float]
    labelled: LabelledFile


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def load_corpus(root: Path, profiles: list[Profile]) -> list[NabSeries]:
    """Every data file under root/data with its windows (sorted by name, so runs are repeatable)."""
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    corpus = []
    for path in sorted((root / "data").glob("*/*.csv")):
        name = f"{path.parent.name}/{path.name}"
        rows = read_rows(path)
        times = [datetime.fromisoformat(row["timestamp"]) for row in rows]
        limits = [
            (datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in windows[name]
        ]
        labelled = label_file(name, times, limits, profiles)
        corpus.append(
            NabSeries(name, path.parent.name, times, [float(row["value"]) for row in rows], labelled)
        )
    return corpus


def nab_profiles(root: Path) -> list[Profile]:
    return load_profiles(root / "config" / "profiles.json")


def check_against_reference(root: Path, corpus: list[NabSeries], profiles: list[Profile]) -> list[str]:
    """Every difference between our scoring and NAB's written results (empty when ours is exact)."""
    thresholds = json.loads((root / "config" / "thresholds.json").read_text())
    published = json.loads((root / "reference" / "final_results_dev41.json").read_text())
    window_count = sum(series.labelled.window_count for series in corpus)
    problems: list[str] = []
    for detector in REFERENCE_DETECTORS:
        results = root / "reference" / "results" / detector
        for profile in profiles:
            threshold = thresholds[detector][profile.name]["threshold"]
            written_rows = read_rows(results / f"{detector}_{profile.name}_scores.csv")
            expected = {row["File"] or row["Detector"]: row for row in written_rows}
            total = 0.0
            for series in corpus:
                category, file_name = series.name.split("/")
                rows = read_rows(results / category / f"{detector}_{file_name}")
                ours = series.labelled.sweep_scores[profile.name]
                for row_number, (row, mine) in enumerate(zip(rows, ours, strict=True)):
                    if abs(float(row[f"S(t)_{profile.name}"]) - mine) > _TOLERANCE:
                        problems.append(
                            f"{detector} {profile.name} {series.name} row {row_number}: S(t) differs"
                        )
                        break
                flagged = [float(row["anomaly_score"]) >= threshold for row in rows]
                score = score_detections(series.labelled, flagged, profile)
                written = expected[series.name]
                total += score.score
                mine_counts = (
                    score.true_positives,
                    score.true_negatives,
                    score.false_positives,
                    score.false_negatives,
                )
                theirs = tuple(int(written[key]) for key in ("TP", "TN", "FP", "FN"))
                if abs(score.score - float(written["Score"])) > _TOLERANCE or mine_counts != theirs:
                    problems.append(
                        f"{detector} {profile.name} {series.name}: ours {score.score:.6f} {mine_counts}, "
                        f"NAB's {float(written['Score']):.6f} {theirs}"
                    )
            if abs(total - float(expected["Totals"]["Score"])) > 1e-6:
                problems.append(
                    f"{detector} {profile.name}: total {total:.6f}, NAB's {expected['Totals']['Score']}"
                )
            normalised = normalised_score(total, window_count, profile)
            if abs(normalised - published[detector][profile.name]) > 1e-6:
                problems.append(
                    f"{detector} {profile.name}: normalised {normalised:.4f}, NAB's {published[detector][profile.name]}"
                )
    return problems
