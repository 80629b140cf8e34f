"""PCA of the mean difficulty scores and PCA 1 as a score (spec 003 §3.9, Figure 5; A8).

1. X [N, K]: mean scores in difficulty orientation (8 per-run means + AGR + RET);
2. quantile-transform every column to a standard normal;
3. centre the columns (no scaling);
4. SVD: loadings W (columns = PCs), explained-variance ratios lambda_k / sum lambda;
5. sign of each PC fixed so that its loadings sum to > 0 (on an exact 0, the largest-|loading|
   entry is made positive).
PCA 1 as a score [I]: w1 fitted on the quantile-transformed means of the 8 per-run scores only;
for a run subset P, s^P = quantile_normal(m^P) @ w1 (:func:`pc1_combiner` feeds
:func:`pointwise.stats.stability.rank_stability`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .quantile import quantile_normal


@dataclass
class PCAResult:
    loadings: np.ndarray            # [K, M] columns = principal directions (unit norm)
    explained_variance: np.ndarray  # [M] eigenvalues of the covariance (ddof=1)
    explained_ratio: np.ndarray     # [M] lambda_k / sum(lambda)
    scores: np.ndarray              # [N, M] projections of the centred data
    mean: np.ndarray                # [K] column means removed before the SVD

    def equal_weighting(self, component: int = 0) -> dict:
        """How evenly PC ``component`` weights the K inputs: max/min |loading| and the cosine
        with the uniform direction 1/sqrt(K) (spec §3.9 step 6)."""
        w = self.loadings[:, component]
        k = len(w)
        a = np.abs(w)
        return {"max_over_min_abs": float(a.max() / a.min()) if a.min() > 0 else float("inf"),
                "cosine_uniform": float(w.sum() / np.sqrt(k) / np.linalg.norm(w)),
                "same_sign": bool((w > 0).all() or (w < 0).all())}


def _fix_signs(w: np.ndarray) -> np.ndarray:
    s = w.sum(axis=0)
    tie = np.isclose(s, 0.0, atol=1e-12)
    big = w[np.abs(w).argmax(axis=0), np.arange(w.shape[1])]
    sign = np.where(tie, np.sign(big), np.sign(s))
    sign[sign == 0] = 1.0
    return sign


def pca(x) -> PCAResult:
    """PCA of ``x`` [N, K] by SVD of the column-centred matrix, signs fixed (see module)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"x must be [N >= 2, K], got shape {x.shape}")
    mean = x.mean(axis=0)
    xc = x - mean
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    w = vt.T
    sign = _fix_signs(w)
    w = w * sign
    scores = u * s * sign
    var = s ** 2 / (x.shape[0] - 1)
    total = var.sum()
    ratio = var / total if total > 0 else np.full_like(var, np.nan)
    return PCAResult(w, var, ratio, scores, mean)


def difficulty_pca(mean_scores) -> PCAResult:
    """Figure 5 left: PCA of the quantile-normal-transformed mean scores [N, K]."""
    return pca(quantile_normal(mean_scores, axis=0))


def pc1_weights(mean_scores) -> np.ndarray:
    """w1 [K]: the PC 1 loading of :func:`difficulty_pca` (fit on the per-run scores' means)."""
    return difficulty_pca(mean_scores).loadings[:, 0]


def pc1_score(mean_scores, w1) -> np.ndarray:
    """PCA 1 as a score [N]: quantile_normal(mean_scores) @ w1."""
    return quantile_normal(mean_scores, axis=0) @ np.asarray(w1, dtype=np.float64)


def pc1_combiner(w1):
    """A function [N, K] subset means -> [N] PCA-1 score, for rank_stability(combine=...)."""
    w1 = np.asarray(w1, dtype=np.float64)
    return lambda m: pc1_score(m, w1)
