"""Quantile transform to a standard normal (spec 003 §3.9 step 2):
z_{i,k} = Phi^{-1}((rank_{i,k} - 0.5) / N), ties averaged -- the exact-rank version of a
QuantileTransformer with normal output (sklearn's default interpolates between 1000 quantiles;
ranks are used here so the transform is exact and deterministic).
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from .ranks import rankdata


def quantile_normal(x, axis: int = 0) -> np.ndarray:
    """Normal scores of ``x`` along ``axis`` (each column of an [N, K] matrix separately by
    default). Monotone in x; without ties each column has mean exactly 0 and sd just below 1."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[axis]
    return ndtri((rankdata(x, axis=axis) - 0.5) / n)
