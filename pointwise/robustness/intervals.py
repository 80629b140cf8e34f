"""95% Clopper–Pearson intervals for testbed accuracies (paper 001 App. B.5; spec §3.3).

lower = Beta⁻¹(α/2; k, n − k + 1) (0 if k = 0), upper = Beta⁻¹(1 − α/2; k + 1, n − k) (1 if k = n).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import beta


def clopper_pearson(k, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial interval for ``k`` successes out of ``n``, vectorised over arrays.

    Returns ``(lower, upper)`` as float arrays (0-d for scalar input). ``alpha=0.05`` gives the
    paper's 95% level. Raises ``ValueError`` unless 0 <= k <= n and n >= 1.
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if np.any(n < 1) or np.any(k < 0) or np.any(k > n):
        raise ValueError("Clopper-Pearson needs n >= 1 and 0 <= k <= n")
    if not 0 < alpha < 1:
        raise ValueError("alpha must lie in (0, 1)")
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k == 0, 0.0, beta.ppf(alpha / 2, k, n - k + 1))
        hi = np.where(k == n, 1.0, beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def accuracy_interval(correct, alpha: float = 0.05) -> tuple[float, float, float, int, int]:
    """From a boolean correctness vector: ``(acc, lower, upper, k, n)``."""
    c = np.asarray(correct, dtype=bool)
    n, k = int(c.size), int(c.sum())
    lo, hi = clopper_pearson(k, n, alpha)
    return k / n, float(lo), float(hi), k, n
