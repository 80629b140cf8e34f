"""Ranks and Spearman correlation (spec 003 §3.7 step 3, §3.8; ambiguity A6).

Ranks are 1..N. Ties: ``average`` (default; what Spearman's rho uses) or ``random`` (a uniformly
random order among tied values -- the optional tie-breaking for the discrete scores ACC, FORGET,
CL, the authors' "fuzz"). Spearman's rho is Pearson's correlation of average ranks, so a matrix
of correlations is one product of standardised rank matrices.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

TIES = ("average", "random")


def rankdata(x, axis: int = -1, ties: str = "average",
             rng: np.random.Generator | None = None) -> np.ndarray:
    """Ranks (float64, 1..n) of ``x`` along ``axis``."""
    x = np.asarray(x, dtype=np.float64)
    if ties == "average":
        return stats.rankdata(x, method="average", axis=axis)
    if ties != "random":
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    rng = np.random.default_rng() if rng is None else rng
    key = rng.random(x.shape)
    order = np.lexsort((key, x), axis=axis)      # primary: x; ties: random key
    ranks = np.empty_like(x)
    n = x.shape[axis]
    shape = [1] * x.ndim
    shape[axis] = n
    np.put_along_axis(ranks, order, np.arange(1, n + 1, dtype=np.float64).reshape(shape), axis)
    return ranks


def standardize(x, axis: int = 0) -> np.ndarray:
    """(x - mean) / population std along ``axis``; NaN where the std is 0."""
    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean(axis=axis, keepdims=True)
    sd = np.sqrt((xc ** 2).mean(axis=axis, keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sd > 0, xc / np.where(sd > 0, sd, 1.0), np.nan)


def standardized_ranks(x, axis: int = 0) -> np.ndarray:
    """Standardised average ranks along ``axis``: the mean over that axis of the product of two
    such arrays is their Spearman correlation."""
    return standardize(rankdata(x, axis=axis), axis=axis)


def spearman_matrix(x, y=None) -> np.ndarray:
    """Spearman correlations (ties averaged) between the columns of ``x`` [N, p] -> [p, p], or
    between the columns of ``x`` and of ``y`` [N, q] -> [p, q]. NaN for a constant column (as
    scipy.stats.spearmanr)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    zx = standardized_ranks(x, axis=0)
    if y is None:
        zy = zx
    else:
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 1:
            y = y[:, None]
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"x has {x.shape[0]} rows, y {y.shape[0]}")
        zy = standardized_ranks(y, axis=0)
    rho = zx.T @ zy / x.shape[0]
    return np.clip(rho, -1.0, 1.0)


def spearman(a, b) -> float:
    """Spearman's rho of two vectors (ties averaged)."""
    return float(spearman_matrix(np.asarray(a), np.asarray(b))[0, 0])
