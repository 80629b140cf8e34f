"""Probit scaling (spec 000 §3.8; Miller et al.'s accuracy-on-the-line axes).

probit(a) = Φ⁻¹(clip(a, 1e-4, 1 - 1e-4)). Monotone, so correlation signs are unchanged.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri   # Φ and Φ⁻¹ (lighter to import than scipy.stats)

PROBIT_EPS = 1e-4


def probit(a, eps: float = PROBIT_EPS) -> np.ndarray:
    """Φ⁻¹ of accuracies clipped to [eps, 1 - eps]."""
    return ndtri(np.clip(np.asarray(a, dtype=np.float64), eps, 1.0 - eps))


def inverse_probit(z) -> np.ndarray:
    """Φ(z), the inverse of :func:`probit` inside the clipping range."""
    return ndtr(np.asarray(z, dtype=np.float64))
