"""Accuracy-on-the-line summaries of Fig. 7 (spec 000 §3.7 step 5): CIFAR-10 test accuracy (x)
against CIFAR-10-Neg accuracy (y) over checkpoints and runs of one model family.

Reported: least-squares slope / intercept / Pearson r in linear and probit space (§3.8), fitted
both on the run-averaged curve (one point per checkpoint) and on all per-run points; Neg accuracy
at CIFAR accuracy 0.6 and 0.8 interpolated on the run-averaged curve (NaN outside its range), and
Δ = Neg(0.8) - Neg(0.6) (paper: Δ ≈ -0.20 for scratch ResNet-18).
"""
from __future__ import annotations

import numpy as np

from .probit import probit
from .smoothing import monotone_axis


def fit_line(x, y) -> dict:
    """Least-squares y = slope x + intercept and Pearson r (NaN when x or y is constant)."""
    x = np.asarray(x, np.float64).ravel()
    y = np.asarray(y, np.float64).ravel()
    if x.size < 2 or np.ptp(x) == 0:
        return {"slope": np.nan, "intercept": np.nan, "r": np.nan}
    xc, yc = x - x.mean(), y - y.mean()
    slope = (xc * yc).sum() / (xc ** 2).sum()
    sy = np.sqrt((yc ** 2).sum())
    r = (xc * yc).sum() / (np.sqrt((xc ** 2).sum()) * sy) if sy > 0 else np.nan
    return {"slope": float(slope), "intercept": float(y.mean() - slope * x.mean()), "r": float(r)}


def value_at(x, y, at, axis_mode: str = "running_max") -> np.ndarray:
    """y interpolated at x = ``at`` on a curve over checkpoints, after keeping a strictly
    increasing x axis (:func:`monotone_axis`, as for profiles); NaN outside the kept x range."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    keep = monotone_axis(x, axis_mode)
    xs, ys = x[keep], y[keep]
    at = np.atleast_1d(np.asarray(at, np.float64))
    out = np.interp(at, xs, ys)
    out[(at < xs[0]) | (at > xs[-1])] = np.nan
    return out


def aol_summary(acc_x, acc_y, at=(0.6, 0.8)) -> dict:
    """Summary of per-run accuracies ``acc_x``, ``acc_y`` ``[R, K]`` (or ``[K]`` for one curve)."""
    x = np.atleast_2d(np.asarray(acc_x, np.float64))
    y = np.atleast_2d(np.asarray(acc_y, np.float64))
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {y.shape}")
    xm, ym = x.mean(axis=0), y.mean(axis=0)
    out = {"n_runs": int(x.shape[0]), "n_points": int(x.shape[1])}
    for space, f in (("linear", lambda a: a), ("probit", probit)):
        for which, (u, v) in (("mean", (xm, ym)), ("runs", (x, y))):
            for key, val in fit_line(f(u), f(v)).items():
                out[f"{key}_{space}_{which}"] = val
    vals = value_at(xm, ym, at)
    for a, v in zip(np.atleast_1d(at), vals):
        out[f"neg_at_{a:g}"] = float(v)
    out["delta"] = float(vals[-1] - vals[0]) if len(vals) >= 2 else np.nan
    return out
