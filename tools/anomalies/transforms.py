"""Which scale a series is modelled on, so that its noise is about the same size at every level."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# Below this median, counts are small enough for Poisson noise to dominate (3 refunds where 1 is usual).
_SMALL_COUNT = 30.0


@dataclass(frozen=True)
class Transform:
    """A variance-stabilising map to model space and back, and the smallest noise scale there."""

    name: str
    forward: Callable[[FloatArray], FloatArray]
    backward: Callable[[FloatArray], FloatArray]
    # The noise scale's floor in model space; None: 1% of the series' level (additive series).
    scale_floor: float | None


def _anscombe(values: FloatArray) -> FloatArray:
    return np.asarray(2.0 * np.sqrt(values + 0.375), dtype=np.float64)


def _anscombe_inverse(values: FloatArray) -> FloatArray:
    return np.asarray(np.maximum(np.square(np.maximum(values, 0.0) / 2.0) - 0.375, 0.0), dtype=np.float64)


def _identity(values: FloatArray) -> FloatArray:
    return values


def _log(values: FloatArray) -> FloatArray:
    return np.asarray(np.log(values), dtype=np.float64)


def _exp(values: FloatArray) -> FloatArray:
    return np.asarray(np.exp(values), dtype=np.float64)


# Small counts: Anscombe's square root makes Poisson noise about 1 at any level, so 1 is also the floor.
SMALL_COUNTS = Transform("small counts", _anscombe, _anscombe_inverse, scale_floor=1.0)
# Positive amounts: business metrics grow and vary in proportion to their level (Monday's noise is larger than
# Sunday's), so in logs the seasonality and the band are relative; the floor is a 1% change.
RELATIVE = Transform("relative", _log, _exp, scale_floor=0.01)
ADDITIVE = Transform("additive", _identity, _identity, scale_floor=None)


def choose_transform(values: FloatArray) -> Transform:
    """Small counts, positive amounts or anything else (values may hold NaN for missing points)."""
    known = values[~np.isnan(values)]
    if (
        known.size
        and np.all(known >= 0)
        and np.all(known == np.round(known))
        and np.median(known) < _SMALL_COUNT
    ):
        return SMALL_COUNTS
    if known.size and np.all(known > 0):
        return RELATIVE
    return ADDITIVE
