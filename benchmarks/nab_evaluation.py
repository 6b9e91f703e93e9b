"""The detector on NAB's 41 development files, scored by NAB's rules (benchmarks/nab_scoring.py).

Each file is checked by one `detect` call with the product's defaults; every verdict in it is made from the rows
before it (the detector is online, see tests/test_anomaly_online.py), so this equals a streaming run. The row
scores are the detector's alarm scores (`Detection.alarm_scores`, tools/anomalies/alarm_scores.py: a departure
counts at the first row of its run, and a change in behaviour counts too). Two ways of raising alarms are scored:
- per point: every row whose alarm score passes the threshold is a detection (as NAB counts the published
  detectors);
- alert-style: one alarm per incident, at its first row (`tools.anomalies.findings.group_incidents`' rule).
The threshold is the product's default sensitivity, and also the one NAB's optimiser picks on these 41 files
(per point: every distinct score, exactly as NAB; alert-style: a grid of sensitivities). The cross-validated
figure picks the threshold without each category and scores that category with it (leave one category out).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.nab_corpus import NabSeries
from benchmarks.nab_scoring import LabelledFile, Profile, best_threshold, normalised_score, score_rows
from tools.anomalies import DEFAULT_SENSITIVITY, detect
from tools.anomalies.findings import quiet_period
from tools.anomalies.timeline import step_of

ALERT_GRID = tuple(float(value) for value in np.round(np.arange(2.0, 20.01, 0.25), 2))


@dataclass(frozen=True)
class SeriesScores:
    """One file's per-row alarm scores (0 where not judged) and what an incident's quiet period is in rows."""

    series: NabSeries
    scores: np.ndarray
    quiet_seconds: float
    # The rows where the product's own alerts open an incident at the default (Detection.incidents' starts).
    incident_rows: tuple[int, ...] = ()


def score_series(corpus: Sequence[NabSeries]) -> list[SeriesScores]:
    """Run the detector once per file, its verdicts put back in file row order."""
    result = []
    for series in corpus:
        detection = detect(series.timestamps, series.values)
        order = sorted(range(len(series.timestamps)), key=lambda row: series.timestamps[row])
        scores = np.zeros(len(order))
        scores[order] = np.nan_to_num(np.array(detection.alarm_scores), nan=0.0)
        quiet = quiet_period(step_of(detection.timestamps, detection.grain))
        first_row = {}
        for row in order:  # a repeated timestamp's incident is credited to its first row
            first_row.setdefault(series.timestamps[row], row)
        starts = tuple(sorted(first_row[incident.start] for incident in detection.incidents))
        result.append(SeriesScores(series, scores, quiet.total_seconds(), starts))
    return result


def incident_rows(scored: SeriesScores, _threshold: float) -> list[int]:
    """Where the product's alerts opened an incident, at the default sensitivity the file was checked with."""
    return list(scored.incident_rows)


def per_point_rows(scored: SeriesScores, threshold: float) -> list[int]:
    return [int(row) for row in np.flatnonzero(scored.scores >= threshold)]


def alert_rows(scored: SeriesScores, threshold: float) -> list[int]:
    """The first row of each incident: a row passing the threshold more than the quiet period after the last one."""
    times = scored.series.timestamps
    alarms, last = [], None
    for row in np.flatnonzero(scored.scores >= threshold):
        moment = times[row]
        if last is None or (moment - last).total_seconds() > scored.quiet_seconds:
            alarms.append(int(row))
        last = moment
    return alarms


Policy = Callable[[SeriesScores, float], list[int]]
POLICIES: dict[str, Policy] = {"per point": per_point_rows, "alert-style": alert_rows}


def corpus_score(scored: Sequence[SeriesScores], policy: Policy, threshold: float, profile: Profile) -> float:
    """The normalised NAB score of these files at one threshold."""
    raw = sum(score_rows(item.series.labelled, policy(item, threshold), profile).score for item in scored)
    return normalised_score(raw, sum(item.series.labelled.window_count for item in scored), profile)


def tuned_threshold(scored: Sequence[SeriesScores], policy_name: str, profile: Profile) -> float:
    """The threshold NAB's optimiser would pick on these files (per point: exact sweep; alert-style: the grid)."""
    if policy_name == "per point":
        labelled: list[LabelledFile] = [item.series.labelled for item in scored]
        threshold, _ = best_threshold(labelled, [item.scores.tolist() for item in scored], profile)
        return threshold if math.isfinite(threshold) else math.inf
    policy = POLICIES[policy_name]
    return max(ALERT_GRID, key=lambda threshold: corpus_score(scored, policy, threshold, profile))


def cross_validated(scored: Sequence[SeriesScores], policy_name: str, profile: Profile) -> float:
    """Leave one category out: each category scored at the threshold tuned on the other categories."""
    policy = POLICIES[policy_name]
    raw = 0.0
    for category in sorted({item.series.category for item in scored}):
        others = [item for item in scored if item.series.category != category]
        threshold = tuned_threshold(others, policy_name, profile)
        raw += sum(
            score_rows(item.series.labelled, policy(item, threshold), profile).score
            for item in scored
            if item.series.category == category
        )
    return normalised_score(raw, sum(item.series.labelled.window_count for item in scored), profile)


def report(scored: Sequence[SeriesScores], profiles: Sequence[Profile]) -> None:
    """Print the figures: per profile and policy, at the default and tuned thresholds, per category, and CV."""
    categories = sorted({item.series.category for item in scored})
    print(
        f"\n{'NAB dev41, normalised (null 0, perfect 100)':44} {'default':>8} {'tuned':>8} {'at':>6} {'CV':>6}"
    )
    for policy_name, policy in POLICIES.items():
        for profile in profiles:
            tuned = tuned_threshold(scored, policy_name, profile)
            print(
                f"  {policy_name + ', ' + profile.name:42} "
                f"{corpus_score(scored, policy, DEFAULT_SENSITIVITY, profile):8.1f} "
                f"{corpus_score(scored, policy, tuned, profile):8.1f} {tuned:6.2f} "
                f"{cross_validated(scored, policy_name, profile):6.1f}"
            )
    standard = next(profile for profile in profiles if profile.name == "standard")
    print(f"\nPer category, standard profile ({'default':>7} / tuned on all 41 files):")
    for policy_name, policy in POLICIES.items():
        tuned = tuned_threshold(scored, policy_name, standard)
        parts = []
        for category in categories:
            members = [item for item in scored if item.series.category == category]
            if not sum(item.series.labelled.window_count for item in members):
                continue
            default = corpus_score(members, policy, DEFAULT_SENSITIVITY, standard)
            parts.append(f"{category} {default:.1f}/{corpus_score(members, policy, tuned, standard):.1f}")
        print(f"  {policy_name:12} " + ", ".join(parts))
    # What the product's scheduled alerts and /anomalies open: incidents, each at an alarm (Detection.incidents),
    # grown by the findings after it; close to alert-style above, which groups the alarm scores alone.
    product = ", ".join(
        f"{profile.name} {corpus_score(scored, incident_rows, DEFAULT_SENSITIVITY, profile):.1f}"
        for profile in profiles
    )
    print(f"Incidents as the product's alerts open them (Detection.incidents, default): {product}")
    quiet = [item for item in scored if item.series.category == "artificialNoAnomaly"]
    for policy_name, policy in POLICIES.items():
        alarms = sum(
            score_rows(item.series.labelled, policy(item, DEFAULT_SENSITIVITY), standard).false_positives
            for item in quiet
        )
        print(f"False alarms on artificialNoAnomaly at the default, {policy_name} (target 0): {alarms}")
