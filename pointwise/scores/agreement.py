"""ENSEMBLE AGREEMENT (Carlini et al. 2019 "agr"; spec 003 §3.3): the Jensen-Shannon divergence
between the outputs of an ensemble.

Substitute for Carlini's precomputed file [I]: a dedicated ensemble of K runs of the base
architecture (seeds disjoint from the scoring runs). Default formula, natural log:

    agr_i = (1/E) sum_{e=1..E} [ H((1/K) sum_k p_{k,e,i}) - (1/K) sum_k H(p_{k,e,i}) ]

(generalised JSD, averaged over training because final-epoch outputs are near one-hot and
tie-heavy). Options: the mean pairwise JSD, and the final eval point only (pass ``rows=[-1]``).
Orientation +agr (more disagreement = harder).
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
from scipy.special import log_softmax, logsumexp

from .outputs import resolve_rows


def _entropy(logp: np.ndarray) -> np.ndarray:
    return -(np.exp(logp) * logp).sum(axis=-1)


def jensen_shannon(logits, pairwise: bool = False) -> np.ndarray:
    """JSD among members for one eval point: logits [K, N, C] -> [N] (natural log).
    ``pairwise=False``: H(mean_k p_k) - mean_k H(p_k); ``True``: the mean over member pairs
    a < b of H((p_a + p_b)/2) - (H(p_a) + H(p_b))/2."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 3 or z.shape[0] < 2:
        raise ValueError(f"logits must be [members >= 2, N, C], got shape {z.shape}")
    logp = log_softmax(z, axis=-1)
    h = _entropy(logp)                                   # [K, N]
    if not pairwise:
        log_mean = logsumexp(logp, axis=0) - np.log(z.shape[0])
        return _entropy(log_mean) - h.mean(axis=0)
    a, b = np.array(list(combinations(range(z.shape[0]), 2))).T
    log_mid = np.logaddexp(logp[a], logp[b]) - np.log(2.0)
    return (_entropy(log_mid) - 0.5 * (h[a] + h[b])).mean(axis=0)


def ensemble_agreement(member_logits: Sequence, rows=None, pairwise: bool = False) -> np.ndarray:
    """AGR [N]: the JSD of :func:`jensen_shannon` averaged over the eval points ``rows`` (default
    all; use :func:`pointwise.scores.outputs.training_eval_rows` for e = 1..E).
    member_logits: one [K, N, C] array (or h5py dataset) per ensemble member, same eval points."""
    if len(member_logits) < 2:
        raise ValueError("an ensemble needs at least 2 members")
    rows = resolve_rows(member_logits[0], rows)
    total = None
    for r in rows:
        j = jensen_shannon(np.stack([np.asarray(m[r]) for m in member_logits]), pairwise)
        total = j if total is None else total + j
    return total / len(rows)
