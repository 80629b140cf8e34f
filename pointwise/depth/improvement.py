"""Accuracy-improvement experiment (paper 002 §4; spec §3.9).

For G_LR, the examples closest to the (L, 0) corner of (mPD_val, mPD_train) ("ambiguous unless the
label is given"), compare on their held-out occurrences the network's accuracy 1[f_r(x) = y] with
the k-NN probe's 1[h_{r,l}(x) = y] at every layer l (the paper: layer 4, 25% -> 98%). Reported
pooled over (run, example) pairs and as the mean of per-example accuracies.

Selection bias: in-sample selection uses the same held-out occurrences it evaluates. The held-out
variant selects G_LR with one half of the runs and evaluates on the other half's occurrences, in
both directions, pooled.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .aggregate import TRAIN, VAL_CODES, mean_pd
from .correlation import run_halves
from .corners import corner_groups


def group_accuracy(cols, net_pred_runs, knn_pred_runs, labels, mask) -> pd.DataFrame:
    """Network vs k-NN accuracy on the examples ``cols`` over the occurrences ``mask`` [R, n].
    net_pred_runs [R, n], knn_pred_runs [R, L+1, n], labels [n]. Rows per layer l: n_pairs,
    n_examples, net_acc_pooled, knn_acc_pooled, net_acc_per_example, knn_acc_per_example."""
    cols = np.asarray(cols, dtype=np.int64)
    y = np.asarray(labels)[cols]
    m = np.asarray(mask, bool)[:, cols]                                     # [R, g]
    net_hit = (np.asarray(net_pred_runs)[:, cols] == y[None]) & m
    knn_hit = (np.asarray(knn_pred_runs)[:, :, cols] == y[None, None]) & m[:, None]   # [R, L+1, g]
    n_occ = m.sum(0)                                                        # per example
    has = n_occ > 0
    n_pairs = int(n_occ.sum())
    L1 = knn_hit.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        net_pooled = net_hit.sum() / n_pairs if n_pairs else np.nan
        net_per = float(np.mean(net_hit.sum(0)[has] / n_occ[has])) if has.any() else np.nan
        knn_pooled = knn_hit.sum((0, 2)) / n_pairs if n_pairs else np.full(L1, np.nan)
        knn_per = (knn_hit.sum(0)[:, has] / n_occ[has]).mean(1) if has.any() else np.full(L1, np.nan)
    return pd.DataFrame({"layer": np.arange(L1), "n_pairs": n_pairs, "n_examples": int(has.sum()),
                         "net_acc_pooled": net_pooled, "knn_acc_pooled": knn_pooled,
                         "net_acc_per_example": net_per, "knn_acc_per_example": knn_per})


def _select(pd_runs, split_runs, runs, L, n, corner, corners, val_codes):
    sr = np.where(runs[:, None], split_runs, -1)
    va = mean_pd(pd_runs, sr, val_codes)["mean"]
    tr = mean_pd(pd_runs, sr, (TRAIN,))["mean"]
    g = corner_groups(va, tr, L, n=n, corners=corners)
    return g.loc[g["group"] == corner, "index"].to_numpy()


def improvement(pd_runs, split_runs, net_pred_runs, knn_pred_runs, labels, L: int, n: int = 100,
                corner: str = "ambiguous_unless_label", corners: str = "theoretical",
                halves=None, seed: int | None = 0, val_codes=VAL_CODES) -> pd.DataFrame:
    """The layer sweep for G_LR with in-sample and held-out selection (column ``selection``).
    Matrices are run x example ([R, n]; knn_pred_runs [R, L+1, n]); split codes as in knn.h5."""
    pd_runs = np.asarray(pd_runs, np.float64)
    split_runs = np.asarray(split_runs)
    R = pd_runs.shape[0]
    val = np.isin(split_runs, val_codes)
    frames = []
    cols = _select(pd_runs, split_runs, np.ones(R, bool), L, n, corner, corners, val_codes)
    frames.append(group_accuracy(cols, net_pred_runs, knn_pred_runs, labels, val).assign(selection="in_sample"))

    h = run_halves(R, seed) if halves is None else np.asarray(halves, bool)
    parts = []
    for sel_runs in (h, ~h):                  # select on one half, evaluate on the other
        c = _select(pd_runs, split_runs, sel_runs, L, n, corner, corners, val_codes)
        parts.append((c, val & ~sel_runs[:, None]))
    # pool both directions: stack them as separate "examples"
    cols2 = np.concatenate([c for c, _ in parts])
    masks = [m[:, c] for c, m in parts]
    mask2 = np.concatenate(masks, axis=1)
    net2 = np.concatenate([np.asarray(net_pred_runs)[:, c] for c, _ in parts], axis=1)
    knn2 = np.concatenate([np.asarray(knn_pred_runs)[:, :, c] for c, _ in parts], axis=2)
    y2 = np.asarray(labels)[cols2]
    frames.append(group_accuracy(np.arange(len(cols2)), net2, knn2, y2, mask2).assign(selection="held_out"))
    return pd.concat(frames, ignore_index=True)
