"""Scores that average the model's outputs over the per-epoch eval passes (spec 003 §3.2):
LOSS, ACCURACY, AREA UNDER MARGIN, plus the optional extras of §3.4 (confidence,
max-confidence, entropy, variability).

Input: the logits of one run on the scored (training) set at its eval points, ``[K, N, C]`` --
the ``logits`` dataset of one eval group in ``logits.h5`` (docs/training.md), a numpy array or an
h5py dataset. "Over training" means the eval points after epochs 1..E (spec §3.1: e = 0 is
excluded); :func:`training_eval_rows` picks them from the file's ``epochs``. The arrays are
streamed one eval point at a time (memory O(N C)) and computed in float64.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
from scipy.special import log_softmax

OUTPUT_SCORES = ("loss", "acc", "aum", "confidence", "max_confidence", "entropy", "variability")


def training_eval_rows(epochs) -> np.ndarray:
    """Rows of a ``logits.h5`` file that count as "over training": every eval point at a
    positive epoch (the optional step-0 evaluation is excluded, spec §3.1)."""
    epochs = np.asarray(epochs, dtype=np.float64)
    return np.flatnonzero(epochs > 0)


def resolve_rows(logits, rows) -> list[int]:
    """The eval-point rows to read from ``logits`` [K, ...]: all when ``rows`` is None, negative
    rows counted from the end (h5py datasets do not accept negative indices)."""
    k = len(logits)
    rows = range(k) if rows is None else [int(r) for r in np.asarray(rows).reshape(-1)]
    rows = [r + k if r < 0 else r for r in rows]
    if not rows:
        raise ValueError("no eval points selected")
    if min(rows) < 0 or max(rows) >= k:
        raise IndexError(f"eval rows out of range for {k} eval points")
    return rows


def _check_labels(z: np.ndarray, labels: np.ndarray) -> None:
    if z.ndim != 2 or z.shape[0] != labels.shape[0]:
        raise ValueError(f"logits of shape {z.shape} do not match {labels.shape[0]} labels")
    if labels.min(initial=0) < 0 or labels.max(initial=0) >= z.shape[1]:
        raise ValueError("labels out of range of the classes")


def pointwise_outputs(z, labels) -> dict[str, np.ndarray]:
    """Per-example quantities of one eval point: logits ``z`` [N, C] -> dict of [N] float64:
    ``loss`` = -log p_y, ``correct`` = 1[argmax z = y] (first maximum on ties),
    ``margin`` = p_y - max_{c!=y} p_c (softmax probabilities, spec §3.2 AUM note), ``p_y``,
    ``p_max``, ``entropy`` = -sum p log p (natural log)."""
    z = np.asarray(z, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    _check_labels(z, labels)
    n = z.shape[0]
    ar = np.arange(n)
    logp = log_softmax(z, axis=1)
    p = np.exp(logp)
    p_y = p[ar, labels]
    other = p.copy()
    other[ar, labels] = -np.inf
    return {
        "loss": -logp[ar, labels],
        "correct": (z.argmax(axis=1) == labels).astype(np.float64),
        "margin": p_y - other.max(axis=1),
        "p_y": p_y,
        "p_max": p.max(axis=1),
        "entropy": -(p * logp).sum(axis=1),
    }


def trajectory_scores(logits, labels, rows: Iterable[int] | None = None,
                      scores: Sequence[str] = ("loss", "acc", "aum")) -> dict[str, np.ndarray]:
    """Means over the eval points ``rows`` (default: all) of a run's outputs (spec §3.2):

    - ``loss``: L_i = (1/E) sum_e -log p_{e,i,y_i};
    - ``acc``: A_i = (1/E) sum_e 1[argmax_c z_{e,i,c} = y_i];
    - ``aum``: M_i = (1/E) sum_e (p_{e,i,y_i} - max_{c!=y_i} p_{e,i,c}) in [-1, 1], softmax
      probabilities as the paper says ("probability after softmax");
    - extras (§3.4): ``confidence`` (mean p_y), ``max_confidence`` (mean max_c p_c),
      ``entropy`` (mean H(p)), ``variability`` (population std over eval points of p_y).

    logits: [K, N, C] (array or h5py dataset); labels: [N]. Returns raw orientation, float64."""
    unknown = set(scores) - set(OUTPUT_SCORES)
    if unknown:
        raise ValueError(f"unknown output scores {sorted(unknown)} (valid: {OUTPUT_SCORES})")
    labels = np.asarray(labels, dtype=np.int64)
    rows = resolve_rows(logits, rows)
    src = {"loss": "loss", "acc": "correct", "aum": "margin", "confidence": "p_y",
           "max_confidence": "p_max", "entropy": "entropy", "variability": "p_y"}
    sums = {s: np.zeros(len(labels)) for s in scores}
    sq = np.zeros(len(labels)) if "variability" in scores else None
    for r in rows:
        out = pointwise_outputs(np.asarray(logits[r]), labels)
        for s in scores:
            sums[s] += out[src[s]]
        if sq is not None:
            sq += out["p_y"] ** 2
    k = len(rows)
    res = {s: sums[s] / k for s in scores}
    if sq is not None:
        mean = res["variability"]
        res["variability"] = np.sqrt(np.maximum(sq / k - mean ** 2, 0.0))
    return res


def eval_correct(logits, labels, rows: Iterable[int] | None = None) -> np.ndarray:
    """Boolean [K', N]: 1[argmax z = y] at each selected eval point -- the sequence for the
    epoch-eval variants of forgetting and CL (spec §3.4)."""
    labels = np.asarray(labels, dtype=np.int64)
    rows = resolve_rows(logits, rows)
    return np.stack([np.asarray(logits[r]).argmax(axis=1) == labels for r in rows])


def mean_loss(logits, labels, rows=None) -> np.ndarray:
    """LOSS of spec §3.2 (see :func:`trajectory_scores`)."""
    return trajectory_scores(logits, labels, rows, ("loss",))["loss"]


def mean_accuracy(logits, labels, rows=None) -> np.ndarray:
    """ACCURACY of spec §3.2 (see :func:`trajectory_scores`)."""
    return trajectory_scores(logits, labels, rows, ("acc",))["acc"]


def area_under_margin(logits, labels, rows=None) -> np.ndarray:
    """AREA UNDER MARGIN of spec §3.2, softmax-probability margin (see :func:`trajectory_scores`)."""
    return trajectory_scores(logits, labels, rows, ("aum",))["aum"]
