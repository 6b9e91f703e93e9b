"""Which scale a series is modelled on, so that its noise is about the same size at every level.

The scale is chosen from the history seen so far, so a value that does not fit it may arrive later (a zero in
a series of positive amounts). Such values are clipped to the scale's domain rather than refused: a zero revenue
day maps to a 99% drop from the level seen when the scale was chosen, which is what it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# Below this median, counts are small enough for Poisson noise to dominate (3 refunds where 1 is usual).
_SMALL_COUNT = 30.0
# In logs, values are clipped at this share of the level seen when the scale was chosen (a 99% drop).
_LOG_CLIP_SHARE = 0.01


@dataclass(frozen=True)
class Transform:
    """A variance-stabilising map to model space and back, and the smallest noise scale there."""

    name: Literal["small counts", "relative", "additive"]
    # The noise scale's floor in model space; None: 1% of the series' level (additive series).
    scale_floor: float | None
    clip: float = 0.0  # in logs, the smallest value modelled (see the module docstring)

    def forward(self, values: FloatArray) -> FloatArray:
        """To model space (NaN stays NaN)."""
        if self.name == "small counts":  # Anscombe's root: Poisson noise about 1 at any level
            return np.asarray(2.0 * np.sqrt(np.fmax(values, 0.0) + 0.375), dtype=np.float64)
        if self.name == "relative":
            return np.asarray(np.log(np.fmax(values, self.clip)), dtype=np.float64)
        return values

    def backward(self, values: FloatArray) -> FloatArray:
        """From model space back to the metric's units."""
        if self.name == "small counts":
            return np.asarray(
                np.maximum(np.square(np.maximum(values, 0.0) / 2.0) - 0.375, 0.0), dtype=np.float64
            )
        if self.name == "relative":
            return np.asarray(np.exp(values), dtype=np.float64)
        return values


# Small counts: Anscombe's square root makes Poisson noise about 1 at any level, so 1 is also the floor.
SMALL_COUNTS = Transform("small counts", scale_floor=1.0)
ADDITIVE = Transform("additive", scale_floor=None)


def choose_transform(values: FloatArray) -> Transform:
    """Small counts, positive amounts (modelled in logs, so changes are relative) or anything else.

    `values` is the history seen so far and may hold NaN for missing points.
    """
    known = values[~np.isnan(values)]
    if not known.size:
        return ADDITIVE
    if np.all(known >= 0) and np.all(known == np.round(known)) and np.median(known) < _SMALL_COUNT:
        return SMALL_COUNTS
    if np.all(known > 0):
        # Business metrics grow and vary in proportion to their level (Monday's noise is larger than Sunday's),
        # so in logs the seasonality and the band are relative; the floor is a 1% change.
        return Transform("relative", scale_floor=0.01, clip=float(_LOG_CLIP_SHARE * np.median(known)))
    return ADDITIVE
