"""Prediction depth (paper 002 §2.1, A.6.1; spec §3.3).

PD(x) = min{ l in 0..L : h_m(x) = f(x) for every m >= l }, where h_0..h_L are the k-NN probe
predictions (probe 0 the input, probe L the softmax) and f(x) the network's prediction. Equivalently
PD = 1 + max{ l : h_l(x) != f(x) }, or 0 when every probe agrees. It is relative to the network's
prediction, not the label (a wrong prediction can have PD 0). When the softmax probe disagrees with
the network (h_L != f) no depth is assigned (A.6.1): NaN.
"""
from __future__ import annotations

import numpy as np


def prediction_depth(knn_pred, net_pred) -> np.ndarray:
    """PD float [...] from probe predictions [L+1, ...] (probe axis first) and the network's
    predictions [...]; NaN where the softmax probe h_L disagrees with the network."""
    h = np.asarray(knn_pred)
    f = np.asarray(net_pred)
    if h.ndim < 1 or h.shape[1:] != f.shape:
        raise ValueError(f"knn_pred {h.shape} must be [L+1, *net_pred.shape] ({f.shape})")
    L = h.shape[0] - 1
    disagree = h != f[None]
    # index of the last disagreeing probe (argmax on the reversed probe axis finds it)
    last = L - np.argmax(disagree[::-1], axis=0)
    pd = np.where(disagree.any(axis=0), last + 1, 0).astype(np.float64)
    pd[disagree[L]] = np.nan
    return pd


def rescaled_depth(pd, L: int) -> np.ndarray:
    """PD / L in [0, 1] for comparing architectures (Fig 2 right, C.13-C.16)."""
    return np.asarray(pd, dtype=np.float64) / float(L)


def softmax_disagreement(knn_pred, net_pred) -> int:
    """Number of points whose softmax probe disagrees with the network (PD undefined; A.6.1)."""
    return int((np.asarray(knn_pred)[-1] != np.asarray(net_pred)).sum())
