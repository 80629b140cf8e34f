"""Iteration learned (paper 002 §3.2, footnote 6; spec §3.6), adapted from Toneva et al. (2019).

With the network's predictions f_t(x) at checkpoints t_0 = 0 < t_1 < ... < t_M = T:
IL(x) = t_{m*}, m* = min{ m : f_{t_j}(x) = f_T(x) for all j >= m }. It is relative to the final
prediction, not the label, and always defined; IL = 0 when the prediction at initialisation and at
every checkpoint equals the final one (t_0 must be the step-0 evaluation for that to hold).
Rescaled: IL / q95, with q95 the 95th percentile of IL over the model's points (init 0, q95 1).
"""
from __future__ import annotations

import warnings

import numpy as np


def iteration_learned(preds, steps) -> np.ndarray:
    """IL float [n] from predictions [M+1, n] at the (increasing) checkpoint ``steps`` [M+1]."""
    p = np.asarray(preds)
    s = np.asarray(steps, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != len(s) or len(s) == 0:
        raise ValueError(f"preds {p.shape} must be [len(steps)={len(s)}, n]")
    if np.any(np.diff(s) <= 0):
        raise ValueError("steps must be strictly increasing")
    M = p.shape[0] - 1
    differ = p != p[M][None]
    last = M - np.argmax(differ[::-1], axis=0)             # last checkpoint that differs
    m_star = np.where(differ.any(axis=0), last + 1, 0)
    return s[m_star]


def rescale_iteration_learned(il, q: float = 0.95, pool=None) -> np.ndarray:
    """IL / quantile(IL[pool], q) (footnote 6: the 95th percentile at 1.0, initialisation at 0).
    ``pool``: bool mask or indices of the points the percentile is taken over (default all:
    spec §3.6 recommendation). NaN everywhere (with a warning) if that percentile is 0."""
    il = np.asarray(il, dtype=np.float64)
    ref = il if pool is None else il[pool]
    qv = float(np.nanquantile(ref, q))
    if not qv > 0:
        warnings.warn(f"the {q:.0%} percentile of iteration learned is {qv}: cannot rescale")
        return np.full(il.shape, np.nan)
    return il / qv


def preds_from_logits(logits) -> np.ndarray:
    """argmax predictions int64 [..., n] of logits [..., n, C] (e.g. logits.h5's [K, N, C])."""
    return np.asarray(logits).argmax(-1)
