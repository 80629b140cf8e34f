"""Appendix D quantities: the no-gap reference, ER as a share of the accuracy gap, the gap's peak
and crossover, and the mixed classifier (paper 001 App. D, D.1; spec §3.7).

* gap(x) = x − β(x): the OOD accuracy a model loses "by the line". A model with a_out = a_in
  (the y = x line, "No Accuracy Gap") has ER_nogap(x) = gap(x).
* φ(f) = 100 · ρ(f) / gap(a_in) in %, masked (NaN) where gap(a_in) < ``min_gap`` (default 1 pp),
  which also covers the region below the crossover where the gap is negative (spec §3.7).
* Mixed classifier (D.1): f_lo with probability α, else f_hi; its expected accuracies are the
  convex combinations on both axes and ER(α) = a_out(α) − β(a_in(α)).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize_scalar

from .fit import LinearFit, baseline, effective_robustness


def accuracy_gap(acc_id, fit: LinearFit) -> np.ndarray:
    """x − β(x); equals the ER of a model with no accuracy gap (a_out = a_in), Fig. 24 left."""
    x = np.asarray(acc_id, dtype=np.float64)
    return x - baseline(x, fit)


no_gap_er = accuracy_gap


def gap_fraction(acc_id, acc_ood, fit: LinearFit, min_gap: float = 0.01) -> np.ndarray:
    """ER as a percentage of the gap, 100·ρ/(x − β(x)) (Fig. 24 right); NaN where the gap < min_gap."""
    x = np.asarray(acc_id, dtype=np.float64)
    g = accuracy_gap(x, fit)
    rho = effective_robustness(x, acc_ood, fit)
    out = np.full(np.broadcast(x, rho).shape, np.nan)
    ok = np.broadcast_to(g >= min_gap, out.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        vals = 100.0 * rho / g
    out[ok] = np.broadcast_to(vals, out.shape)[ok]
    return out


def gap_peak(fit: LinearFit, lo: float = 1e-4, hi: float = 1 - 1e-4) -> tuple[float, float]:
    """(x*, gap(x*)): where the no-gap ER curve peaks (spec §3.2: CIFAR 0.716 → 14.26 pp)."""
    res = minimize_scalar(lambda x: -float(accuracy_gap(x, fit)), bounds=(lo, hi),
                          method="bounded", options={"xatol": 1e-9})
    return float(res.x), float(-res.fun)


def crossover(fit: LinearFit, lo: float = 1e-9, hi: float | None = None) -> float:
    """The accuracy x (below the gap peak) where β(x) = x (spec §3.2: CIFAR ≈ 0.0565).

    Raises ``ValueError`` if β − x does not change sign on [lo, peak].
    """
    hi = gap_peak(fit)[0] if hi is None else hi
    f = lambda x: float(accuracy_gap(x, fit))  # noqa: E731
    if f(lo) * f(hi) > 0:
        raise ValueError("no crossover of β(x) = x in the bracket")
    return float(brentq(f, lo, hi, xtol=1e-12))


def mixed_classifier(acc_lo: tuple[float, float], acc_hi: tuple[float, float], fit: LinearFit,
                     alphas=None) -> pd.DataFrame:
    """Expected accuracies and ER of the α-mixture of two models (App. D.1).

    ``acc_lo``/``acc_hi`` = (a_in, a_out) of the two models; ``alphas`` default 0…1 in 21 steps.
    Columns: alpha, acc_id, acc_ood, er.
    """
    alphas = np.linspace(0, 1, 21) if alphas is None else np.asarray(alphas, dtype=np.float64)
    a_in = alphas * acc_lo[0] + (1 - alphas) * acc_hi[0]
    a_out = alphas * acc_lo[1] + (1 - alphas) * acc_hi[1]
    return pd.DataFrame({"alpha": alphas, "acc_id": a_in, "acc_ood": a_out,
                         "er": effective_robustness(a_in, a_out, fit)})
