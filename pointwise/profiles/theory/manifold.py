"""Manifold partition model (Sharma & Kaplan 2020; Bahri et al. 2021; paper App. D; spec 000 §6.2).

Target: a Lipschitz f: [0,1]^d -> R, here a sum of low-frequency sinusoids. T(n): the
piecewise-constant (value at the cell centre) or multilinear (interpolating the cell's 2^d
vertices) approximation on a grid of n = C^d cubes of side 1/C, randomised by a uniform grid
offset u ∈ [0, 1/C)^d per run (so T(n) is a distribution over models).

Closed form (the pointwise scaling law): every vertex used for x lies within √d / C of x, so
sup_x |f̂_n(x) - f(x)| <= L √d / C = L √d n^{-1/d} for both kinds, pointwise and for every
offset. The absolute-error exponent is 1/d for piecewise-constant fits; multilinear fits of a
smooth f reach 2/d (the simulation reports the fitted exponent). Classification: y = sign f(x),
pointwise accuracy = Pr_u[sign f̂_n(x) = y]. Non-nested grids (C not a power of 2) can make
pointwise accuracy non-monotone in n: the scaling law does not imply monotonicity.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..nmono import nmono


@dataclass
class SmoothFunction:
    """f(x) = Σ_j a_j sin(2π ω_j·x + φ_j) with integer frequencies ω_j; ``lipschitz`` is the bound
    Σ_j |a_j| 2π ‖ω_j‖₂ on ‖∇f‖₂."""
    amp: np.ndarray     # [J]
    freq: np.ndarray    # [J, d]
    phase: np.ndarray   # [J]

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, np.float64)
        return np.sin(2 * np.pi * x @ self.freq.T + self.phase) @ self.amp

    @property
    def lipschitz(self) -> float:
        return float((np.abs(self.amp) * 2 * np.pi * np.linalg.norm(self.freq, axis=1)).sum())


def random_smooth_function(dim: int, n_terms: int = 4, max_freq: int = 2, rng=None) -> SmoothFunction:
    """A random sum of ``n_terms`` sinusoids with non-zero integer frequencies in
    [-max_freq, max_freq]^d and amplitudes N(0, 1/n_terms)."""
    rng = np.random.default_rng(rng)
    freq = np.zeros((n_terms, dim))
    for j in range(n_terms):
        while not freq[j].any():
            freq[j] = rng.integers(-max_freq, max_freq + 1, dim)
    return SmoothFunction(rng.normal(0, 1 / np.sqrt(n_terms), n_terms), freq,
                          rng.uniform(0, 2 * np.pi, n_terms))


def grid_approximation(f, x, cells: int, offset, kind: str = "constant") -> np.ndarray:
    """f̂(x) of the grid model with ``cells`` = C cells per axis shifted by ``offset`` [d] (or
    [R, d] for R runs at once -> [R, M])."""
    x = np.asarray(x, np.float64)
    u = np.atleast_2d(np.asarray(offset, np.float64))           # [R, d]
    t = (x[None, :, :] - u[:, None, :]) * cells                  # [R, M, d]
    cell = np.floor(t)
    frac = t - cell
    if kind == "constant":
        out = f((u[:, None, :] + (cell + 0.5) / cells).reshape(-1, x.shape[1]))
        out = out.reshape(u.shape[0], x.shape[0])
    elif kind == "multilinear":
        out = np.zeros((u.shape[0], x.shape[0]))
        for b in itertools.product((0, 1), repeat=x.shape[1]):
            b = np.asarray(b, np.float64)
            w = np.prod(np.where(b == 1, frac, 1 - frac), axis=-1)
            v = f((u[:, None, :] + (cell + b) / cells).reshape(-1, x.shape[1]))
            out += w * v.reshape(u.shape[0], x.shape[0])
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return out if np.ndim(offset) == 2 else out[0]


def error_bound(lipschitz: float, dim: int, n) -> np.ndarray:
    """Pointwise scaling law bound L √d n^{-1/d} (spec §6.2)."""
    return lipschitz * np.sqrt(dim) * np.asarray(n, np.float64) ** (-1.0 / dim)


def fit_exponent(n, err) -> float:
    """α of err ≈ c n^{-α}: minus the least-squares slope of log err on log n."""
    slope = np.polyfit(np.log(np.asarray(n, float)), np.log(np.asarray(err, float)), 1)[0]
    return float(-slope)


def simulate_manifold(dim: int, cells, n_points: int = 2000, n_runs: int = 20, rng=None, *,
                      kind: str = "constant", f: SmoothFunction | None = None,
                      threshold: float = 0.05, shared_offset: bool = False) -> dict:
    """Spec §6.2 simulation over C in ``cells`` with R random offsets and M uniform test points.

    Returns ``n`` = C^d, ``err`` [len(C), M] (mean over offsets of |f̂ - f|), ``max_err`` [len(C), M]
    (worst offset), ``global_err`` and ``max_pointwise_err`` per C, ``bound``, ``acc``
    [len(C), M] (Pr_u[sign f̂ = sign f]), fitted exponents, and the fractions of points whose
    accuracy (``frac_nonmono_acc``) or error (``frac_nonmono_err``, error rising with n) has
    nmono over n above ``threshold`` (the R-offset Monte Carlo noise counts too: compare runs
    with different R or with ``shared_offset``).

    shared_offset: one offset per run, drawn in [0, 1/min C) and used for every C, so grids
    with C a power of 2 are nested partitions (the default draws a fresh offset per C)."""
    rng = np.random.default_rng(rng)
    f = random_smooth_function(dim, rng=rng) if f is None else f
    x = rng.random((n_points, dim))
    y = np.sign(f(x))
    cells = np.asarray(cells, int)
    err, worst, acc = [], [], []
    shared = rng.random((n_runs, dim)) / cells.min()
    for c in cells:
        u = shared if shared_offset else rng.random((n_runs, dim)) / c
        fh = grid_approximation(f, x, int(c), u, kind)
        e = np.abs(fh - f(x)[None, :])
        err.append(e.mean(axis=0))
        worst.append(e.max(axis=0))
        acc.append((np.sign(fh) == y[None, :]).mean(axis=0))
    err, worst, acc = np.array(err), np.array(worst), np.array(acc)
    n = cells.astype(float) ** dim
    g, m = err.mean(axis=1), err.max(axis=1)
    return {"cells": cells, "n": n, "err": err, "max_err": worst, "acc": acc,
            "global_err": g, "max_pointwise_err": m, "bound": error_bound(f.lipschitz, dim, n),
            "alpha_global": fit_exponent(n, g), "alpha_pointwise": fit_exponent(n, m),
            "frac_nonmono_acc": float((nmono(acc.T) > threshold).mean()),
            "frac_nonmono_err": float((nmono(-err.T) > threshold).mean()),
            "function": f, "lipschitz": f.lipschitz}
