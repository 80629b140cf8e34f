"""Assembling one run's 8 per-run scores (spec 003 §3.2) and stacking runs into the score cube
S[r, i, s] of spec §3.5 / §6.1 (``per_run.h5``: ``S`` in difficulty orientation, ``S_raw``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .forgetting import consistently_learned, first_learned, forgetting_events, never_learned
from .orientation import PER_RUN_SCORES, orient
from .outputs import eval_correct, trajectory_scores

PAPER_GRAD_EPOCH, PAPER_EPOCHS = 20, 160


def grad_epoch(epochs: int) -> int:
    """G = round(E * 20/160), rounding halves up, at least 1 (spec §3.1 item 4: epoch 20 of 160;
    E = 40 -> 5, E = 12 -> 2, E = 160 -> 20)."""
    return max(1, int(np.floor(epochs * PAPER_GRAD_EPOCH / PAPER_EPOCHS + 0.5)))


def per_run_scores(logits, labels, correct, *, grand20, el2n20, vog, rows=None,
                   forget_never_learned: str = "toneva", extras: bool = False
                   ) -> dict[str, np.ndarray]:
    """Raw-orientation scores of one run, keyed as in :data:`PER_RUN_SCORES`.

    logits: [K, N, C] per-epoch eval logits of the scored set; rows: the eval points counted as
    "over training" (see :func:`pointwise.scores.outputs.training_eval_rows`); correct: [P, N]
    minibatch-presentation correctness; grand20, el2n20, vog: [N] from the gradient passes.
    extras adds the §3.4 extras computable from these arrays (confidence, max_confidence,
    entropy, variability, first_learned, forget_eval, cl_eval) and ``never_learned`` (0/1)."""
    out_scores = ("loss", "acc", "aum") + (
        ("confidence", "max_confidence", "entropy", "variability") if extras else ())
    res = trajectory_scores(logits, labels, rows, out_scores)
    res["forget"] = forgetting_events(correct, forget_never_learned).astype(np.float64)
    res["cl"] = consistently_learned(correct).astype(np.float64)
    n = len(res["loss"])
    for key, val in (("grand20", grand20), ("el2n20", el2n20), ("vog", vog)):
        val = np.asarray(val, dtype=np.float64)
        if val.shape != (n,):
            raise ValueError(f"{key} has shape {val.shape}, expected ({n},)")
        res[key] = val
    if extras:
        res["first_learned"] = first_learned(correct).astype(np.float64)
        ev = eval_correct(logits, labels, rows)
        res["forget_eval"] = forgetting_events(ev, forget_never_learned).astype(np.float64)
        res["cl_eval"] = consistently_learned(ev).astype(np.float64)
        res["never_learned"] = never_learned(correct).astype(np.float64)
    ordered = [k for k in PER_RUN_SCORES] + [k for k in res if k not in PER_RUN_SCORES]
    return {k: res[k] for k in ordered}


def stack_runs(runs: Sequence[Mapping[str, np.ndarray]], keys: Sequence[str] = PER_RUN_SCORES
               ) -> tuple[np.ndarray, np.ndarray]:
    """(S_raw, S) of shape [R, N, len(keys)]: the runs' raw scores and the same in difficulty
    orientation (spec §3.5)."""
    raw = np.stack([np.stack([np.asarray(r[k], dtype=np.float64) for k in keys], axis=-1)
                    for r in runs])
    return raw, orient(raw, list(keys), axis=-1)
