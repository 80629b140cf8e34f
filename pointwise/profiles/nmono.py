"""Non-monotonicity score (paper App. B; spec 000 §3.3) and its survival curve (Figs. 6 right, 10).

nmono(P) = ∫ max{0, -dP/dp} dp, the total negative variation of the profile. For the
piecewise-linear interpolant through the grid values it is exactly
``sum_k max(0, P(g_k) - P(g_{k+1}))``, independent of the grid spacing, so no dp normalisation.
Properties: >= 0; 0 iff P is non-decreasing; <= b - a for a profile with range [a, b]; invariant
under any increasing reparametrisation of the x-axis (so it may be computed against n instead of p).
"""
from __future__ import annotations

import numpy as np

NMONO_THRESHOLD = 0.1   # paper §3.1: "non-monotonicity score greater than 0.1"


def nmono(profile, axis: int = -1) -> np.ndarray:
    """Total negative variation along ``axis`` (default: the last, i.e. the grid of ``[N, G]``)."""
    p = np.asarray(profile, dtype=np.float64)
    drops = -np.diff(p, axis=axis)
    return np.maximum(drops, 0.0).sum(axis=axis)


def survival(scores, thresholds) -> np.ndarray:
    """1 - CDF as plotted in Fig. 6 right (E2): the fraction of points with score >= t, per t."""
    s = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    t = np.asarray(thresholds, dtype=np.float64)
    if s.size == 0:
        return np.full(t.shape, np.nan)
    return 1.0 - np.searchsorted(s, t, side="left") / s.size
