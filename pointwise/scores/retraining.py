"""HOLDOUT RETRAINING (Carlini et al. 2019 "ret"; spec 003 §3.3): how much a trained model's
output on an example moves when the model is fine-tuned further on held-out data that excludes
the example -- the symmetric KL between the model and its fine-tuned copy [C].

Substitute [I]: train on half A, fine-tune on half B, and for i in A
ret_i = KL(p_A || p_{A->B}) + KL(p_{A->B} || p_A) (eval mode, un-augmented); swap the halves for
the other half; average over seeds. Orientation +ret.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import log_softmax


def symmetric_kl(logits_p, logits_q) -> np.ndarray:
    """KL(p||q) + KL(q||p) = sum_c (p_c - q_c)(log p_c - log q_c) over the last axis (natural
    log), from logits [..., C]. Float64, >= 0."""
    lp = log_softmax(np.asarray(logits_p, dtype=np.float64), axis=-1)
    lq = log_softmax(np.asarray(logits_q, dtype=np.float64), axis=-1)
    return np.maximum(((np.exp(lp) - np.exp(lq)) * (lp - lq)).sum(axis=-1), 0.0)


def holdout_retraining(before: Sequence, after: Sequence, indices: Sequence, n: int) -> np.ndarray:
    """RET [n]: the symmetric KL of each scored example, averaged over every (seed, half) that
    scored it. ``before[j]``, ``after[j]``: logits [n_j, C] of the model trained on half j and of
    its fine-tuned copy, on the examples ``indices[j]`` (positions in 0..n-1). NaN where an
    example was never scored."""
    if not (len(before) == len(after) == len(indices)):
        raise ValueError("before, after and indices must have the same length")
    total = np.zeros(n)
    count = np.zeros(n)
    for b, a, idx in zip(before, after, indices):
        idx = np.asarray(idx, dtype=np.int64)
        kl = symmetric_kl(b, a)
        if kl.shape != idx.shape:
            raise ValueError(f"{kl.shape[0]} scored rows but {idx.shape[0]} indices")
        total += np.bincount(idx, weights=kl, minlength=n)
        count += np.bincount(idx, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)
