"""Smoothing over checkpoints, the monotone global-accuracy axis, and interpolation onto a grid
(spec 000 §3.2 steps 3-5, §4.6; paper App. A: "Gaussian filter smoothing with σ = 2 and linear
interpolation on an equally spaced grid of length 50").

Order (spec §3.2, E11): smooth every run-aggregated sequence over the eval index k, smooth the
global accuracy p_k with the same (linear) filter, keep the eval points where the smoothed p̃
forms a strictly increasing axis, then linearly interpolate onto G = linspace(min p̃, max p̃, 50).
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

SIGMA = 2.0          # paper App. A, in units of evaluation index
MODE = "reflect"     # scipy default boundary handling (spec §3.2 step 3)
TRUNCATE = 4.0       # scipy default
N_GRID = 50          # paper App. A
AXIS_MODES = ("running_max", "sort")


def smooth(x, sigma: float = SIGMA, axis: int = 0, mode: str = MODE,
           truncate: float = TRUNCATE) -> np.ndarray:
    """Gaussian filter over the eval-index axis (``scipy.ndimage.gaussian_filter1d``), float64.

    The filter is linear with weights summing to one, so it commutes with the mean over examples
    (p̃_k = mean_i ã_{k,i}) and keeps softmax vectors on the simplex. ``sigma=0`` is the identity.
    Boundary: ``mode='reflect'`` (half-sample symmetric), so sequences are flattened within
    ~``truncate*sigma`` points of either end; a linear sequence stays exactly linear further in."""
    x = np.asarray(x, dtype=np.float64)
    if sigma == 0:
        return x.copy()
    return gaussian_filter1d(x, sigma=sigma, axis=axis, mode=mode, truncate=truncate)


def monotone_axis(p, mode: str = "running_max") -> np.ndarray:
    """Indices of eval points forming a strictly increasing global-accuracy axis (spec §3.2 step 4).

    ``running_max`` (default, "early stopping"): keep k iff p[k] > max(p[:k]); the first point is
    always kept; the indices are in eval order. ``sort``: all points ordered by p (stable), keeping
    the first of any exactly equal values so that the axis is strictly increasing."""
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise ValueError("p must be a non-empty 1-d array")
    if np.isnan(p).any():
        raise ValueError("global accuracy contains NaN")
    if mode == "running_max":
        prev_max = np.concatenate([[-np.inf], np.maximum.accumulate(p)[:-1]])
        return np.flatnonzero(p > prev_max)
    if mode == "sort":
        order = np.argsort(p, kind="stable")
        ps = p[order]
        keep = np.concatenate([[True], ps[1:] > ps[:-1]])
        return order[keep]
    raise ValueError(f"unknown axis mode {mode!r}; expected one of {AXIS_MODES}")


def make_grid(lo: float, hi: float, n: int = N_GRID) -> np.ndarray:
    """G = linspace(lo, hi, n): the equally spaced grid of the (partial) profile, spec §3.2 step 5."""
    if not hi >= lo:
        raise ValueError(f"empty accuracy range [{lo}, {hi}]")
    return np.linspace(lo, hi, n)


def common_range(*xs) -> tuple[float, float]:
    """The overlap [max of minima, min of maxima] of several accuracy axes (spec §3.5 G12).
    Raises ValueError when they do not overlap."""
    lo = max(float(np.min(x)) for x in xs)
    hi = min(float(np.max(x)) for x in xs)
    if hi < lo:
        raise ValueError(f"accuracy ranges do not overlap: [{lo:.4f}, {hi:.4f}]")
    return lo, hi


def interp_onto(x, y, grid, axis: int = 0) -> np.ndarray:
    """Linear interpolation of ``y`` (values at the strictly increasing ``x`` along ``axis``) onto
    ``grid``: the vectorised equivalent of ``np.interp`` applied to every other index of ``y``
    (including the clamp to the end values outside [x[0], x[-1]]). The grid axis replaces ``axis``.
    A single point (len(x) == 1) gives a constant."""
    x = np.asarray(x, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    y = np.moveaxis(np.asarray(y, dtype=np.float64), axis, 0)
    if y.shape[0] != x.size:
        raise ValueError(f"{x.size} abscissae for {y.shape[0]} values")
    if x.size > 1 and not np.all(np.diff(x) > 0):
        raise ValueError("x must be strictly increasing")
    if x.size == 1:
        out = np.broadcast_to(y[:1], (grid.size,) + y.shape[1:]).copy()
    else:
        j = np.clip(np.searchsorted(x, grid, side="right") - 1, 0, x.size - 2)
        w = np.clip((grid - x[j]) / (x[j + 1] - x[j]), 0.0, 1.0)
        w = w.reshape((-1,) + (1,) * (y.ndim - 1))
        out = y[j] * (1.0 - w) + y[j + 1] * w
    return np.moveaxis(out, 0, axis)
