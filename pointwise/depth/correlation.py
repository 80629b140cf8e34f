"""Consistency of prediction depth across seeds and architectures (paper 002 §2.2, Fig 2, C.1;
spec §3.10): Spearman rank correlations of per-example mean PD; and the Pearson correlation of
mean PD with the log of a margin (§3.3, Fig 6, C.28-C.31).

- off-diagonal cells: Spearman(mPD of arch A, mPD of arch B) over examples with both defined;
- diagonal cells, split-half (default): the runs are split into two disjoint halves, mPD is
  computed on each, and the two are correlated;
- diagonal cells, alternative: the mean pairwise Spearman between single runs' PDs.
"""
from __future__ import annotations

import numpy as np
from scipy import stats


def spearman(a, b) -> tuple[float, int]:
    """(Spearman rho, number of examples) over the entries where both are finite."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return float("nan"), int(ok.sum())
    return float(stats.spearmanr(a[ok], b[ok]).statistic), int(ok.sum())


def log_pearson(x, margin) -> tuple[float, int]:
    """(Pearson(x, log margin), n) over the entries where both are finite and the margin > 0: the
    paper's "correlation between the prediction depth and the logarithm of the margin" (§3.3,
    Fig 6; the log's base does not change it)."""
    x = np.asarray(x, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        lm = np.log(np.asarray(margin, np.float64).clip(min=0))
    ok = np.isfinite(lm) & np.isfinite(x)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(lm[ok]) == 0:
        return float("nan"), int(ok.sum())
    return float(stats.pearsonr(x[ok], lm[ok]).statistic), int(ok.sum())


def _masked_mean(pd_runs, mask):
    v = np.where(mask, np.asarray(pd_runs, np.float64), np.nan)
    cnt = (~np.isnan(v)).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, np.nansum(v, 0) / np.maximum(cnt, 1), np.nan)


def run_halves(n_runs: int, seed: int | None = 0) -> np.ndarray:
    """bool [R]: a random half of the runs (seed None: even-indexed runs)."""
    h = np.zeros(n_runs, dtype=bool)
    if seed is None:
        h[::2] = True
    else:
        h[np.random.default_rng(seed).permutation(n_runs)[: n_runs // 2]] = True
    return h


def split_half_spearman(pd_runs, mask=None, halves=None, seed: int | None = 0) -> tuple[float, int]:
    """Spearman between the per-example mean PD over one half of the runs and over the other half.
    ``mask`` [R, n]: which occurrences count (e.g. split == train); ``halves`` bool [R]."""
    p = np.asarray(pd_runs, np.float64)
    m = np.ones(p.shape, bool) if mask is None else np.asarray(mask, bool)
    h = run_halves(p.shape[0], seed) if halves is None else np.asarray(halves, bool)
    return spearman(_masked_mean(p, m & h[:, None]), _masked_mean(p, m & ~h[:, None]))


def pairwise_run_spearman(pd_runs, mask=None) -> tuple[float, np.ndarray]:
    """Mean and all pairwise Spearman correlations between single runs' PDs (alternative
    diagonal, e.g. on the FULL ensemble's test points)."""
    p = np.asarray(pd_runs, np.float64)
    if mask is not None:
        p = np.where(np.asarray(mask, bool), p, np.nan)
    R = p.shape[0]
    rhos = np.array([spearman(p[i], p[j])[0] for i in range(R) for j in range(i + 1, R)])
    return (float(np.nanmean(rhos)) if rhos.size and not np.isnan(rhos).all() else float("nan")), rhos
