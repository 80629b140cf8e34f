"""Consistency score, consensus class, consensus-consistency and prediction entropy
(paper 002 §3.1 Eqs. 1-3, A.6.2, C.2; spec §3.4), from the held-out predictions of an ensemble.

For an example x with label y and the runs R_val(x) that held it out, v_c = #{r : f_r(x) = c}:
- consistency score  C^(x) = v_y / |R_val|                         (Eq. 1)
- consensus class    y^(x) = argmax_c v_c; ties: y if y is tied, else the lowest index (A.6.2)
- consensus-consistency C*(x) = v_y^ / |R_val|                      (Eq. 2)
- prediction entropy S(x) = -sum_c p_c log p_c, p_c = v_c / |R_val|, natural log (Eq. 3)
Hence C^ = C* when y^ = y and C^ <= 1 - C* otherwise. Examples with no held-out run give NaN
(consensus -1).
"""
from __future__ import annotations

import numpy as np


def vote_counts_runs(preds, num_classes: int, mask=None) -> np.ndarray:
    """v_c: int64 [n, C] counts of predictions [R, n] over the runs where ``mask`` [R, n] is True
    (e.g. the example was held out; default every run). Entries < 0 are ignored."""
    p = np.asarray(preds, dtype=np.int64)
    if p.ndim != 2:
        raise ValueError(f"preds must be [runs, n], got {p.shape}")
    valid = p >= 0
    if mask is not None:
        valid &= np.asarray(mask, dtype=bool)
    if (p[valid] >= num_classes).any():
        raise ValueError(f"predictions outside 0..{num_classes - 1}")
    n = p.shape[1]
    cols = np.broadcast_to(np.arange(n), p.shape)[valid]
    flat = cols * num_classes + p[valid]
    return np.bincount(flat, minlength=n * num_classes).reshape(n, num_classes)


def _totals(counts):
    c = np.asarray(counts)
    return c, c.sum(1)


def consistency_score(counts, labels) -> np.ndarray:
    """C^(x) = v_y / |R_val| (Eq. 1); NaN without votes."""
    c, tot = _totals(counts)
    vy = np.take_along_axis(c, np.asarray(labels, dtype=np.int64)[:, None], 1)[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, vy / np.maximum(tot, 1), np.nan)


def consensus_class(counts, prefer=None) -> np.ndarray:
    """argmax_c v_c with the A.6.2 tie rule: the ``prefer`` class (the ground-truth label) when it
    is among the tied classes, else the lowest tied index (``prefer=None``: always the lowest).
    int64 [n], -1 without votes."""
    c, tot = _totals(counts)
    out = c.argmax(1)                                   # first (lowest) maximum
    if prefer is not None:
        pf = np.asarray(prefer, dtype=np.int64)
        ok = (pf >= 0) & (pf < c.shape[1])
        vp = np.take_along_axis(c, np.clip(pf, 0, c.shape[1] - 1)[:, None], 1)[:, 0]
        out = np.where(ok & (vp == c.max(1)), pf, out)
    return np.where(tot > 0, out, -1)


def consensus_consistency(counts, labels=None) -> np.ndarray:
    """C*(x) = v_y^ / |R_val| (Eq. 2). (The tie rule does not change C*: any tied class has the
    same count.) NaN without votes."""
    c, tot = _totals(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, c.max(1) / np.maximum(tot, 1), np.nan)


def prediction_entropy(counts) -> np.ndarray:
    """S(x) = -sum_c p_c ln p_c of the normalised vote histogram (Eq. 3, natural log); NaN without
    votes."""
    c, tot = _totals(counts)
    p = c / np.maximum(tot, 1)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return np.where(tot > 0, terms.sum(1), np.nan)


def ensemble_scores(preds, labels, num_classes: int, mask=None) -> dict:
    """All four per-example scores of predictions [R, n] over the masked (held-out) runs:
    {'n_votes', 'consistency', 'consensus', 'cstar', 'entropy'}."""
    counts = vote_counts_runs(preds, num_classes, mask)
    return {"n_votes": counts.sum(1), "consistency": consistency_score(counts, labels),
            "consensus": consensus_class(counts, labels), "cstar": consensus_consistency(counts),
            "entropy": prediction_entropy(counts)}


def leave_one_out(preds, labels, num_classes: int, mask=None) -> dict:
    """Fig 4 middle / C.21 (spec §3.5): for each model m0 of an ensemble (e.g. the 25 FULL runs on
    the test set) C*, consensus and entropy of the *other* models' predictions.

    preds [M, n]; returns {'cstar', 'entropy', 'consensus', 'n_votes'} arrays [M, n] (row m0 =
    without model m0)."""
    p = np.asarray(preds, dtype=np.int64)
    M, n = p.shape
    valid = p >= 0 if mask is None else (p >= 0) & np.asarray(mask, dtype=bool)
    total = vote_counts_runs(p, num_classes, valid)
    out = {k: np.empty((M, n)) for k in ("cstar", "entropy")}
    out["consensus"] = np.empty((M, n), dtype=np.int64)
    out["n_votes"] = np.empty((M, n), dtype=np.int64)
    rows = np.arange(n)
    for m in range(M):                      # M models (not examples): vectorised over examples
        c = total.copy()
        v = valid[m]
        c[rows[v], p[m, v]] -= 1
        out["cstar"][m] = consensus_consistency(c)
        out["entropy"][m] = prediction_entropy(c)
        out["consensus"][m] = consensus_class(c, labels)
        out["n_votes"][m] = c.sum(1)
    return out
