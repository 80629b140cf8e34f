"""Dominance probability (Mania & Sra 2020) between models (paper 001 §5.4, App. C.10, Eq. 5,
Figs. 5a,b and 21; spec §3.8).

For models i, j with ID accuracies μ_i ≤ μ_j:

    DP(i, j) = P({f_i(x) = y} ∩ {f_j(x) ≠ y}) = (1/N) Σ_n c_i[n] (1 − c_j[n])     (Eq. 5)

the probability that the *less* accurate model is right where the more accurate one is wrong.
Ties μ_i = μ_j are unambiguous: then P(i right, j wrong) = P(j right, i wrong).

Input everywhere is a correctness matrix ``C`` [models, examples] of bools (row m = model m's
per-example correctness on the ID test set), e.g. ``Predictions.sets["id"].correct``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def _as_matrix(correct) -> np.ndarray:
    C = np.asarray(correct)
    if C.ndim != 2:
        raise ValueError("correctness must be a [models, examples] matrix")
    if C.shape[1] == 0:
        raise ValueError("no examples")
    return C.astype(bool)


def dominance_probability(correct_a, correct_b) -> float:
    """DP between two models, ordered by their own accuracies (Eq. 5)."""
    a = np.asarray(correct_a, dtype=bool).ravel()
    b = np.asarray(correct_b, dtype=bool).ravel()
    if a.shape != b.shape:
        raise ValueError(f"correctness vectors differ in length ({a.size} vs {b.size})")
    lo, hi = (a, b) if a.mean() <= b.mean() else (b, a)
    return float(np.mean(lo & ~hi))


def right_wrong_matrix(correct) -> np.ndarray:
    """R[a, b] = P(model a right, model b wrong) for all ordered pairs, [M, M]."""
    C = _as_matrix(correct).astype(np.float64)
    return C @ (1.0 - C).T / C.shape[1]


def dominance_matrix(correct) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric heatmap M[a, b] = DP(lower-accuracy of a,b; higher-accuracy of a,b) (Fig. 5b/21).

    Returns ``(M, order)``: M in the input model order with a zero diagonal, and ``order``, the
    indices sorting models by increasing ID accuracy (stable), for plotting ``M[order][:, order]``.
    """
    C = _as_matrix(correct)
    mu = C.mean(1)
    R = right_wrong_matrix(C)
    M = np.where(mu[:, None] <= mu[None, :], R, R.T)
    np.fill_diagonal(M, 0.0)
    return M, np.argsort(mu, kind="stable")


def dominance_pairs(correct, names: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per unordered pair (Fig. 5a): model_lo, model_hi (ordered by ID accuracy),
    acc_lo, acc_hi, acc_diff = acc_hi − acc_lo, dp (Eq. 5), dp_independent = μ_lo (1 − μ_hi) (the
    value under independent errors), p_hi_right_lo_wrong = dp + acc_diff (identity, spec §3.8).

    All values are fractions (×100 for pp / %).
    """
    C = _as_matrix(correct)
    M_models = C.shape[0]
    names = [str(i) for i in range(M_models)] if names is None else list(names)
    if len(names) != M_models:
        raise ValueError(f"{len(names)} names for {M_models} models")
    mu = C.mean(1)
    R = right_wrong_matrix(C)
    a, b = np.triu_indices(M_models, k=1)
    swap = mu[a] > mu[b]
    lo = np.where(swap, b, a)
    hi = np.where(swap, a, b)
    dp = R[lo, hi]
    return pd.DataFrame({
        "model_lo": [names[i] for i in lo], "model_hi": [names[i] for i in hi],
        "acc_lo": mu[lo], "acc_hi": mu[hi], "acc_diff": mu[hi] - mu[lo], "dp": dp,
        "dp_independent": mu[lo] * (1 - mu[hi]), "p_hi_right_lo_wrong": R[hi, lo],
    })


def mean_dominance(correct, against: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """Per model, the mean DP against the models in ``against`` (default: all others), excluding
    itself — the "average dominance probability" compared in App. C.10."""
    M, _ = dominance_matrix(correct)
    m = M.shape[0]
    idx = np.arange(m) if against is None else np.asarray(against)
    out = np.empty(m)
    for i in range(m):
        others = idx[idx != i]
        out[i] = M[i, others].mean() if others.size else np.nan
    return out
