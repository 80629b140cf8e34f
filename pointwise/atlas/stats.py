"""Cross-lens statistics of the atlas: rank agreement, mislabel detection, hard-set overlap and
taxonomy agreement.

Every function takes per-example arrays already oriented "higher = harder" (see
:mod:`pointwise.atlas.lenses`) and ignores examples where an input is missing (NaN), so lenses that
measure different subsets of a dataset are compared on the examples they share.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata


def _complete(*arrays):
    arrays = [np.asarray(a, np.float64) for a in arrays]
    ok = np.logical_and.reduce([~np.isnan(a) for a in arrays])
    return [a[ok] for a in arrays]


def weighted_mid_ranks(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mid-ranks of ``x`` in the multiset where example i appears ``weights[b, i]`` times.

    x: [n]; weights: [B, n] non-negative integer counts (a bootstrap resample is one row).
    Returns [B, n]: the rank each example's copies get in resample b (ties share the mean rank),
    exactly what ranking the resampled values would give, without materialising the resample."""
    x = np.asarray(x, np.float64)
    w = np.asarray(weights, np.float64)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    group_of = np.cumsum(np.r_[True, xs[1:] != xs[:-1]]) - 1           # sorted position -> tie group
    counts = np.add.reduceat(w[:, order], starts, axis=1)             # [B, G]
    before = np.cumsum(counts, axis=1) - counts
    group_rank = before + (counts + 1) / 2
    ranks = np.empty_like(w)
    ranks[:, order] = group_rank[:, group_of]
    return ranks


def _weighted_pearson(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    sw = w.sum(axis=1, keepdims=True)
    ma, mb = (w * a).sum(1, keepdims=True) / sw, (w * b).sum(1, keepdims=True) / sw
    da, db = a - ma, b - mb
    cov = (w * da * db).sum(1)
    den = np.sqrt((w * da * da).sum(1) * (w * db * db).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / den


def spearman_bootstrap(x, y, n_boot: int = 200, level: float = 0.95, rng=None) -> dict:
    """Spearman's rho of the examples where both are present, with a percentile bootstrap
    interval over examples (``n_boot`` resamples with replacement; rho re-ranked in each).

    Returns {rho, lo, hi, n}; NaN where fewer than 3 shared examples or a constant input."""
    x, y = _complete(x, y)
    n = x.size
    if n < 3:
        return {"rho": np.nan, "lo": np.nan, "hi": np.nan, "n": n}
    ones = np.ones((1, n))
    rho = float(_weighted_pearson(weighted_mid_ranks(x, ones), weighted_mid_ranks(y, ones), ones)[0])
    rng = np.random.default_rng(rng)
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)
    boot = _weighted_pearson(weighted_mid_ranks(x, w), weighted_mid_ranks(y, w), w)
    boot = boot[~np.isnan(boot)]
    alpha = (1 - level) / 2
    lo, hi = (np.quantile(boot, [alpha, 1 - alpha]) if boot.size else (np.nan, np.nan))
    return {"rho": rho, "lo": float(lo), "hi": float(hi), "n": n}


def spearman_matrix(df: pd.DataFrame, columns, n_boot: int = 200, level: float = 0.95,
                    seed: int = 0) -> pd.DataFrame:
    """Long table of Spearman's rho with bootstrap intervals for every pair of ``columns``
    (both orders, diagonal rho = 1): a, b, rho, lo, hi, n."""
    rows = []
    cols = list(columns)
    for i, a in enumerate(cols):
        for j, b in enumerate(cols):
            if j < i:
                continue
            if i == j:
                n = int(df[a].notna().sum())
                r = {"rho": 1.0 if n >= 3 else np.nan, "lo": np.nan, "hi": np.nan, "n": n}
            else:
                r = spearman_bootstrap(df[a], df[b], n_boot, level, rng=[seed, i, j])
            rows.append({"a": a, "b": b, **r})
            if i != j:
                rows.append({"a": b, "b": a, **r})
    return pd.DataFrame(rows, columns=["a", "b", "rho", "lo", "hi", "n"])


def auroc(score, flag) -> float:
    """Area under the ROC curve of ``score`` (higher = predicted positive) for the boolean
    ``flag``: the Mann-Whitney probability that a flagged example outscores an unflagged one,
    ties counting one half. NaN when either class is empty."""
    s = np.asarray(score, np.float64)
    f = np.asarray(flag, np.float64)
    s, f = _complete(s, f)
    pos = f > 0.5
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return np.nan
    r = rankdata(s)
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def top_set(score, ids, fraction: float) -> set:
    """Ids of the top ``fraction`` (ceil) of examples by ``score`` (higher = harder), ties at the
    cut broken by the lower id; NaN scores never selected."""
    s, ids = np.asarray(score, np.float64), np.asarray(ids)
    ok = ~np.isnan(s)
    s, ids = s[ok], ids[ok]
    k = int(np.ceil(fraction * s.size))
    order = np.lexsort((ids, -s))
    return set(ids[order[:k]].tolist())


def jaccard_top(a, b, ids, fraction: float) -> dict:
    """Jaccard index |A ∩ B| / |A ∪ B| of the top-``fraction`` hard sets of two measures, both
    taken among the examples that both measure. Returns {jaccard, n, k}."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ids = np.asarray(ids)
    ok = ~np.isnan(a) & ~np.isnan(b)
    n = int(ok.sum())
    if n == 0:
        return {"jaccard": np.nan, "n": 0, "k": 0}
    A, B = top_set(a[ok], ids[ok], fraction), top_set(b[ok], ids[ok], fraction)
    return {"jaccard": len(A & B) / len(A | B), "n": n, "k": len(A)}


def cramers_v(table: np.ndarray) -> float:
    """Cramér's V of an r x c contingency table: sqrt(chi² / (n (min(r, c) - 1))), in [0, 1]
    (0: independent, 1: one classification determines the other). Empty rows/columns dropped."""
    t = np.asarray(table, np.float64)
    t = t[t.sum(1) > 0][:, t.sum(0) > 0]
    n = t.sum()
    if n == 0 or min(t.shape) < 2:
        return np.nan
    expected = t.sum(1, keepdims=True) * t.sum(0, keepdims=True) / n
    chi2 = ((t - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / (n * (min(t.shape) - 1))))


def adjusted_rand(table: np.ndarray) -> float:
    """Adjusted Rand index (Hubert & Arabie) of two partitions given as their contingency table."""
    t = np.asarray(table, np.float64)
    comb = lambda v: v * (v - 1) / 2  # noqa: E731
    n = t.sum()
    sum_ij, sum_a, sum_b = comb(t).sum(), comb(t.sum(1)).sum(), comb(t.sum(0)).sum()
    expected = sum_a * sum_b / comb(n) if n > 1 else 0.0
    top = (sum_a + sum_b) / 2 - expected
    return float((sum_ij - expected) / top) if top != 0 else np.nan
