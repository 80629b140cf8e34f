"""CIFAR-10-Neg construction and its held-out evaluation (paper §4; spec 000 §3.7).

1. Pool: the OOD candidates (CINIC-10 test, ImageNet-origin files only, E14) -> ``exclude`` mask.
2. Filter: keep the points a strong model (the paper: fine-tuned CLIP) predicts correctly
   (:func:`filter_eligible`).
3. Scores: nmono of each candidate's accuracy profile under the scratch runs, with the CIFAR-10
   test global accuracy on the x-axis (§3.2-§3.3).
4. Selection (:func:`select_neg`): within each class, sort by nmono descending, ties by lower
   final accuracy, then lower index; take the top ``per_class`` (paper: 100 x 10 classes).
5. Evaluation (:func:`neg_split_half`): to avoid regression to the mean, select on one half of
   the runs and report the accuracy-on-the-line summary (:mod:`.aol`) on the other half.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .aggregate import aggregate_correct, global_accuracy
from .aol import aol_summary
from .build import smooth_aggregate
from .nmono import nmono


def filter_eligible(filter_pred, labels, exclude=None) -> np.ndarray:
    """Boolean mask of pool points the strong model classifies correctly and that are not
    ``exclude``-d (e.g. CIFAR-origin CINIC files, E14)."""
    keep = np.asarray(filter_pred) == np.asarray(labels)
    if exclude is not None:
        keep &= ~np.asarray(exclude, dtype=bool)
    return keep


def select_neg(scores, labels, eligible=None, final_acc=None, per_class: int = 100,
               classes: Sequence[int] | None = None, allow_short: bool = False) -> np.ndarray:
    """Class-balanced top-``per_class`` selection by non-monotonicity (spec §3.7 step 4).

    scores: nmono_acc [M]; labels [M]; eligible: mask [M] (default all); final_acc [M]: tie-break
    (lower first; default none). Returns pool indices grouped by class (in ``classes`` order,
    default the sorted labels present), each group in rank order. A class with fewer than
    ``per_class`` eligible points raises unless ``allow_short`` (then it gives all it has)."""
    scores = np.asarray(scores, np.float64)
    labels = np.asarray(labels)
    m = scores.size
    eligible = np.ones(m, bool) if eligible is None else np.asarray(eligible, bool)
    eligible = eligible & np.isfinite(scores)
    tie = np.zeros(m) if final_acc is None else np.asarray(final_acc, np.float64)
    classes = np.unique(labels) if classes is None else classes
    out = []
    for c in classes:
        idx = np.flatnonzero(eligible & (labels == c))
        if idx.size < per_class and not allow_short:
            raise ValueError(f"class {c} has {idx.size} eligible points, fewer than {per_class}")
        order = np.lexsort((idx, tie[idx], -scores[idx]))
        out.append(idx[order][:per_class])
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def subset_accuracy(correct, indices) -> np.ndarray:
    """Per-run, per-checkpoint accuracy on ``indices`` of correctness ``[R, K, M]`` -> ``[R, K]``."""
    return np.asarray(correct)[..., np.asarray(indices)].mean(axis=-1, dtype=np.float64)


def pool_nmono(pool_correct, ref_correct, runs=None, **smoothing) -> tuple[np.ndarray, np.ndarray]:
    """nmono of every pool point's accuracy profile from the runs ``runs`` (x-axis: the same runs'
    reference-set accuracy), and the final (last eval point, unsmoothed) pointwise accuracy."""
    agg = aggregate_correct(pool_correct, runs=runs)
    p = global_accuracy(aggregate_correct(ref_correct, runs=runs))
    prof = smooth_aggregate(agg, p, **smoothing).on_grid(stats=("acc",))
    return nmono(prof.acc), agg.acc[-1]


def neg_split_half(pool_correct, ref_correct, labels, selection_runs, eval_runs, eligible=None,
                   per_class: int = 100, at=(0.6, 0.8), allow_short: bool = False,
                   **smoothing) -> dict:
    """Select Neg on ``selection_runs`` and evaluate accuracy-on-the-line on ``eval_runs``.

    pool_correct [R, K, M] and ref_correct [R, K, N_ref]: correctness of the same R runs at the same
    K eval points on the pool and on the reference (CIFAR-10 test) set. Returns ``indices``,
    ``nmono`` and ``final_acc`` (selection runs), ``heldout`` and ``in_sample`` :func:`aol_summary`
    dicts, and the per-run curves ``x_heldout``, ``y_heldout`` ``[R_eval, K]``."""
    sel = np.asarray(selection_runs)
    ev = np.asarray(eval_runs)
    if np.intersect1d(sel, ev).size:
        raise ValueError("selection and evaluation runs overlap")
    scores, final = pool_nmono(pool_correct, ref_correct, runs=sel, **smoothing)
    idx = select_neg(scores, labels, eligible, final, per_class, allow_short=allow_short)
    ref = np.asarray(ref_correct)
    x = ref.mean(axis=-1, dtype=np.float64)
    y = subset_accuracy(pool_correct, idx)
    return {"indices": idx, "nmono": scores, "final_acc": final,
            "heldout": aol_summary(x[ev], y[ev], at), "in_sample": aol_summary(x[sel], y[sel], at),
            "x_heldout": x[ev], "y_heldout": y[ev]}
