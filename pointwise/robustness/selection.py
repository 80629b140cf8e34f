"""Choosing the analysed checkpoints of a run: "max ER" and "converged" (paper 001 §5.4, Fig. 5;
spec §3.12).

* Max ER = argmax_e ρ_e over the raw per-checkpoint curve of one designated run (seed 0 by
  convention of the caller), not the binned curve. Epoch 0 is skipped when ``epochs`` are given
  (spec §3.4). Ties go to the earliest checkpoint.
* Converged = the final checkpoint.
"""
from __future__ import annotations

import numpy as np

from .fit import LinearFit, effective_robustness


def _point(i, epochs, acc_id, acc_ood, er) -> dict:
    return {"index": int(i), "epoch": float(epochs[i]) if epochs is not None else float("nan"),
            "acc_id": float(acc_id[i]), "acc_ood": float(acc_ood[i]), "er": float(er[i])}


def _prep(acc_id, acc_ood, epochs):
    acc_id = np.asarray(acc_id, dtype=np.float64).ravel()
    acc_ood = np.asarray(acc_ood, dtype=np.float64).ravel()
    ep = None if epochs is None else np.asarray(epochs, dtype=np.float64).ravel()
    if acc_id.shape != acc_ood.shape or (ep is not None and ep.shape != acc_id.shape):
        raise ValueError("acc_id, acc_ood (and epochs) must have the same length")
    if acc_id.size == 0:
        raise ValueError("empty run")
    return acc_id, acc_ood, ep


def max_er_checkpoint(acc_id, acc_ood, fit: LinearFit, epochs=None,
                      exclude_epoch0: bool = True) -> dict:
    """The checkpoint with the highest ER: {index, epoch, acc_id, acc_ood, er}."""
    acc_id, acc_ood, ep = _prep(acc_id, acc_ood, epochs)
    er = effective_robustness(acc_id, acc_ood, fit)
    cand = np.where(np.isfinite(er), er, -np.inf)
    if ep is not None and exclude_epoch0:
        cand = np.where(ep > 0, cand, -np.inf)
    if not np.isfinite(cand).any():
        raise ValueError("no eligible checkpoint (all at epoch 0 or non-finite)")
    return _point(int(np.argmax(cand)), ep, acc_id, acc_ood, er)


def converged_checkpoint(acc_id, acc_ood, fit: LinearFit, epochs=None) -> dict:
    """The final checkpoint: {index, epoch, acc_id, acc_ood, er}."""
    acc_id, acc_ood, ep = _prep(acc_id, acc_ood, epochs)
    er = effective_robustness(acc_id, acc_ood, fit)
    return _point(acc_id.size - 1, ep, acc_id, acc_ood, er)


def special_checkpoints(acc_id, acc_ood, fit: LinearFit, epochs=None,
                        exclude_epoch0: bool = True) -> dict:
    """{"max_er": ..., "converged": ...} for one run (``special_models.json``)."""
    return {"max_er": max_er_checkpoint(acc_id, acc_ood, fit, epochs, exclude_epoch0),
            "converged": converged_checkpoint(acc_id, acc_ood, fit, epochs)}
