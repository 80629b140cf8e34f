"""EL2N (Paul et al. 2021; spec 003 §3.2): E_i = ||softmax(z_i) - onehot(y_i)||_2 at epoch G
(paper: epoch 20 of 160; scaled runs G = round(E*20/160)).

The per-run value should come from the float logits of the epoch-G checkpoint (computed alongside
GraNd by :func:`pointwise.scores.grand.grand_el2n`); this function works on any logits array, e.g.
the fp16 logits of ``logits.h5`` at the eval point of epoch G.
"""
from __future__ import annotations

import numpy as np
from scipy.special import softmax


def el2n(logits, labels) -> np.ndarray:
    """||softmax(z) - onehot(y)||_2 over the last axis. logits [..., N, C], labels [N] (or
    broadcastable to logits.shape[:-1]). Float64, values in [0, sqrt(2)]."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.broadcast_to(np.asarray(labels, dtype=np.int64), z.shape[:-1])
    err = softmax(z, axis=-1)
    np.put_along_axis(err, y[..., None], np.take_along_axis(err, y[..., None], -1) - 1.0, -1)
    return np.sqrt((err ** 2).sum(axis=-1))
