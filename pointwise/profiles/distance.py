"""Profile distances between training procedures (paper App. B "Profile Distance", Figs. 6 left,
11; spec 000 §3.5).

D_d(T1, T2) = Ê_z ∫ d(P_{z,T1}(p), P_{z,T2}(p)) dp, with P the softmax profile by default and
d one of

- ``tv``:  ½ Σ_y |p_y - q_y|  (Sec. 3.2 says "L1"; TV per App. B, E3);
- ``kl``:  KL(p‖q) = Σ_y p_y ln(p_y / q_y), q clipped at >= 1e-12, 0 ln 0 = 0; asymmetric, row = T1;
- ``cos``: 1 - p·q / (‖p‖₂ ‖q‖₂).

Both procedures' *smoothed* sequences are re-interpolated onto the common grid
G12 = linspace(max(pmin1, pmin2), min(pmax1, pmax2), 50), and ∫ dp is the mean over G12 (the
integral normalised by the length of the common range). Scalar profiles (``acc``, ``softacc``)
are compared as Bernoulli distributions (1 - a, a), so e.g. TV = |a - b|.

Noise floor (spec §3.5): :func:`distance_matrix` takes the procedures' half-A and half-B
smoothings, so entry (i, j) compares T_i's runs 1..R/2 with T_j's runs R/2+1..R and the diagonal
is the finite-R floor instead of 0.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.special import xlogy

from .build import Smoothed, common_grid
from .smoothing import N_GRID, interp_onto

KL_CLIP = 1e-12
METRICS = ("tv", "kl", "cos")


def tv(p, q) -> np.ndarray:
    """Total variation ½ Σ |p - q| over the last axis."""
    return 0.5 * np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64)).sum(axis=-1)


def kl(p, q, clip: float = KL_CLIP) -> np.ndarray:
    """KL(p‖q) = Σ p ln(p / max(q, clip)) over the last axis (natural log; terms with p = 0 are 0)."""
    p = np.asarray(p, np.float64)
    q = np.maximum(np.asarray(q, np.float64), clip)
    return (xlogy(p, p) - xlogy(p, q)).sum(axis=-1)


def cosine(p, q) -> np.ndarray:
    """Cosine distance 1 - p·q / (‖p‖ ‖q‖) over the last axis."""
    p = np.asarray(p, np.float64)
    q = np.asarray(q, np.float64)
    den = np.linalg.norm(p, axis=-1) * np.linalg.norm(q, axis=-1)
    return 1.0 - (p * q).sum(axis=-1) / den


def pointwise_distance(p, q, metric: str) -> np.ndarray:
    """d(p, q) over the last axis for ``metric`` in :data:`METRICS`."""
    if metric == "tv":
        return tv(p, q)
    if metric == "kl":
        return kl(p, q)
    if metric in ("cos", "cosine"):
        return cosine(p, q)
    raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")


def as_distribution(values, stat: str) -> np.ndarray:
    """Profile values as distributions over labels: softmax as is; a scalar probability a as the
    Bernoulli vector (1 - a, a)."""
    v = np.asarray(values, dtype=np.float64)
    if stat == "softmax":
        return v
    if stat in ("acc", "softacc"):
        return np.stack([1.0 - v, v], axis=-1)
    raise ValueError(f"profile distances need a distribution-valued statistic, not {stat!r}")


def profile_distance_on_grid(P1, P2, metric: str, stat: str = "softmax") -> float:
    """mean over examples and grid points of d(P1, P2) for profiles already on a common grid
    (``[N, G, C]`` softmax or ``[N, G]`` scalar)."""
    d = pointwise_distance(as_distribution(P1, stat), as_distribution(P2, stat), metric)
    return float(d.mean())


def profile_distance(s1: Smoothed, s2: Smoothed, metric: str = "tv", stat: str = "softmax",
                     n_grid: int = N_GRID, grid=None) -> float:
    """D_d(T1, T2) of spec §3.5 from two smoothings of the same eval set (same examples, order).
    ``grid`` defaults to the common grid of the two accuracy ranges."""
    if s1.acc.shape[1] != s2.acc.shape[1]:
        raise ValueError("the two procedures were evaluated on different example sets")
    g = common_grid(s1, s2, n=n_grid) if grid is None else np.asarray(grid, np.float64)
    a = interp_onto(s1.x, getattr(s1, stat), g, axis=0)
    b = interp_onto(s2.x, getattr(s2, stat), g, axis=0)
    return profile_distance_on_grid(a, b, metric, stat)


def distance_matrix(first: Sequence[Smoothed], second: Sequence[Smoothed] | None = None,
                    metric: str = "tv", stat: str = "softmax", n_grid: int = N_GRID
                    ) -> np.ndarray:
    """M[i, j] = D_d(first[i], second[j]) (row = T1, column = T2; KL is not symmetric).

    Pass every procedure's half-A smoothing as ``first`` and its half-B smoothing as ``second``
    for the split-half version of spec §3.5 (diagonal = finite-R floor); ``second=None`` compares
    ``first`` with itself (diagonal exactly 0)."""
    second = first if second is None else second
    if len(first) != len(second):
        raise ValueError("first and second must list the same procedures")
    m = np.empty((len(first), len(second)))
    for i, s1 in enumerate(first):
        for j, s2 in enumerate(second):
            m[i, j] = profile_distance(s1, s2, metric, stat, n_grid)
    return m


def symmetrise(m) -> np.ndarray:
    """(M + Mᵀ) / 2, e.g. the symmetrised KL matrix (spec §3.5: the paper does not say which)."""
    m = np.asarray(m, dtype=np.float64)
    return 0.5 * (m + m.T)
