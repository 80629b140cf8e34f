"""Pointwise accuracy-on-the-curve (paper App. B, Fig. 12; spec 000 §3.6).

d(p) = E_z |A_{z,T}(p) - A_{z,T'}(p)| on a common grid of global accuracies, with two baselines
added by the spec to make "much smaller than ... if ... uncorrelated" testable:

- permutation: E_z |A_{z,T}(p) - A_{π(z),T'}(p)| averaged over random permutations π (optionally
  within class); its exact expectation over uniform π is the all-pairs mean
  (1/N²) Σ_{i,j} |A_{i,T}(p) - A_{j,T'}(p)| (:func:`aoc_permutation_expected`);
- split-half floor: the same d(p) between two disjoint run halves of one procedure. It is the
  floor at R/2 runs per side; for pure binomial noise the full-R comparison's floor is about
  1/√2 of it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, rankdata

from .build import Smoothed, common_grid
from .smoothing import N_GRID, interp_onto


def aoc_curve(acc1, acc2) -> np.ndarray:
    """d(g) = mean_z |acc1[z, g] - acc2[z, g]| for profiles ``[N, G]`` on one grid -> ``[G]``."""
    a, b = np.asarray(acc1, np.float64), np.asarray(acc2, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"profile shapes differ: {a.shape} vs {b.shape}")
    return np.abs(a - b).mean(axis=0)


def _groups(n: int, labels):
    if labels is None:
        return [np.arange(n)]
    labels = np.asarray(labels)
    return [np.flatnonzero(labels == c) for c in np.unique(labels)]


def aoc_permutation(acc1, acc2, n_perm: int = 20, rng=None, labels=None) -> np.ndarray:
    """Permutation baseline: mean over ``n_perm`` random π of mean_z |acc1[z] - acc2[π(z)]|
    (π within each class when ``labels`` is given) -> ``[G]``."""
    a, b = np.asarray(acc1, np.float64), np.asarray(acc2, np.float64)
    rng = np.random.default_rng(rng)
    groups = _groups(a.shape[0], labels)
    total = np.zeros(a.shape[1])
    for _ in range(n_perm):
        perm = np.arange(a.shape[0])
        for g in groups:
            perm[g] = rng.permutation(g)
        total += np.abs(a - b[perm]).mean(axis=0)
    return total / n_perm


def _all_pairs_mean_abs(a, b) -> np.ndarray:
    """(1/(n m)) Σ_{i,j} |a_i - b_j| per column of a [n, G], b [m, G], in O((n + m) log m)."""
    out = np.empty(a.shape[1])
    for g in range(a.shape[1]):
        bs = np.sort(b[:, g])
        csum = np.concatenate([[0.0], np.cumsum(bs)])
        m = np.searchsorted(bs, a[:, g], side="right")
        below = a[:, g] * m - csum[m]
        above = (csum[-1] - csum[m]) - a[:, g] * (bs.size - m)
        out[g] = (below + above).sum() / (a.shape[0] * bs.size)
    return out


def aoc_permutation_expected(acc1, acc2, labels=None) -> np.ndarray:
    """Exact expectation of :func:`aoc_permutation` over uniform permutations (within class when
    ``labels`` is given): the (class-size weighted) all-pairs mean |acc1[i] - acc2[j]| -> ``[G]``."""
    a, b = np.asarray(acc1, np.float64), np.asarray(acc2, np.float64)
    groups = _groups(a.shape[0], labels)
    return sum(len(g) * _all_pairs_mean_abs(a[g], b[g]) for g in groups) / a.shape[0]


def rank_correlation_curve(acc1, acc2, method: str = "spearman") -> np.ndarray:
    """Universality check (spec §3.6): at each grid point the rank correlation across examples of
    acc1[:, g] and acc2[:, g] (``spearman`` or ``kendall`` tau-b) -> ``[G]``; NaN for a constant column."""
    a, b = np.asarray(acc1, np.float64), np.asarray(acc2, np.float64)
    if method == "kendall":
        return np.array([kendalltau(a[:, g], b[:, g]).statistic for g in range(a.shape[1])])
    if method != "spearman":
        raise ValueError(f"unknown method {method!r}")
    ra, rb = rankdata(a, axis=0), rankdata(b, axis=0)
    ra -= ra.mean(axis=0)
    rb -= rb.mean(axis=0)
    den = np.sqrt((ra ** 2).sum(axis=0) * (rb ** 2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ra * rb).sum(axis=0) / den


def pointwise_aoc(s1: Smoothed, s2: Smoothed, half_a: Smoothed | None = None,
                  half_b: Smoothed | None = None, n_grid: int = N_GRID, n_perm: int = 20,
                  rng=None, within_class: bool = False) -> pd.DataFrame:
    """The Fig. 12 table (spec §7.1 ``pointwise_aoc_*.csv``): columns ``p, d, d_perm,
    d_perm_expected`` and, when the two halves of one procedure are given, ``d_splithalf``.

    s1, s2: the two procedures (e.g. ResNet-18 and DenseNet-121, all runs) on the same eval set;
    the grid is the common range of every smoothing passed (so all columns share one grid)."""
    every = [s for s in (s1, s2, half_a, half_b) if s is not None]
    grid = common_grid(*every, n=n_grid)
    on = lambda s: np.moveaxis(interp_onto(s.x, s.acc, grid, axis=0), 0, 1)  # noqa: E731
    a, b = on(s1), on(s2)
    labels = s1.labels if within_class else None
    out = {"p": grid, "d": aoc_curve(a, b),
           "d_perm": aoc_permutation(a, b, n_perm, rng, labels),
           "d_perm_expected": aoc_permutation_expected(a, b, labels)}
    if half_a is not None and half_b is not None:
        out["d_splithalf"] = aoc_curve(on(half_a), on(half_b))
    return pd.DataFrame(out)
