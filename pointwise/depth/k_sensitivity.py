"""k sensitivity of the k-NN probes (paper 002 A.4; spec §5.3, §6.2 claim 13).

The runs are probed once at the largest k. ``neighbour_labels`` are stored nearest first, equal
distances by support index, so the k nearest neighbours of a K-NN search (k <= K) are exactly its
first k: every smaller k is derived without a second search (:func:`derived_knn_pred`). For each k:
k-NN accuracy by layer, and the per-example mean PD, ranked against the reference k (30).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pointwise.probes.knn import vote

from .aggregate import TRAIN
from .correlation import spearman
from .prediction_depth import prediction_depth


def derived_knn_pred(neighbour_labels, k: int, num_classes: int, tie: str) -> np.ndarray:
    """k-NN predictions [..] at k from neighbour labels [.., K >= k] sorted nearest first: the k
    nearest of a K-NN search are its first k (ties in distance broken by support index in both)."""
    nb = np.asarray(neighbour_labels)
    if not 1 <= k <= nb.shape[-1]:
        raise ValueError(f"k={k} needs 1 <= k <= {nb.shape[-1]} stored neighbours")
    return vote(nb[..., :k], num_classes, tie)


def k_sensitivity(knn_runs, ks, ref_k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A.4 (spec §6.2 claim 13) from ``knn.h5`` contents (``read_knn``, with neighbour labels) of
    runs probed at the largest k: (accuracy, ranking) tables.

    accuracy: k, split (train / held_out / test), layer, knn_accuracy (against the given label,
    pooled over the runs' queries), n_pairs. ranking: k, split (train / val), spearman_vs_ref
    (Spearman of the per-example mean PD over the runs at k against that at ``ref_k``), n,
    mean_pd, pd_undefined_fraction."""
    acc_rows, long = [], []
    for r, d in enumerate(knn_runs):
        nb, C, tie = d["neighbour_labels"], int(d["attrs"]["num_classes"]), d["attrs"]["tie"]
        split, lab = d["query_split"], d["labels"]
        frame = {"run": r, "example_id": d["query_ids"], "split": np.where(split == TRAIN, "train", "val")}
        for k in ks:
            kp = derived_knn_pred(nb, k, C, tie)                                    # [L+1, q]
            frame[k] = prediction_depth(kp, d["net_pred"])
            for c, sname in enumerate(("train", "held_out", "test")):
                sel = split == c
                acc_rows.append(pd.DataFrame({"k": k, "split": sname, "layer": np.arange(len(kp)),
                                              "hits": (kp[:, sel] == lab[sel][None]).sum(1),
                                              "n_pairs": int(sel.sum())}))
        long.append(pd.DataFrame(frame))
    acc = pd.concat(acc_rows).groupby(["k", "split", "layer"], sort=False, as_index=False).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        acc["knn_accuracy"] = acc["hits"] / acc["n_pairs"]
    acc = acc.drop(columns="hits")
    allpd = pd.concat(long, ignore_index=True)
    mpd = allpd.groupby(["split", "example_id"])[list(ks)].mean()
    rows = []
    for sname in ("train", "val"):
        if sname not in mpd.index.get_level_values(0):
            continue
        m, a = mpd.loc[sname], allpd[allpd["split"] == sname]
        for k in ks:
            rho, n = spearman(m[k].to_numpy(), m[ref_k].to_numpy())
            rows.append({"k": k, "split": sname, "spearman_vs_ref": rho, "n": n, "ref_k": ref_k,
                         "mean_pd": float(a[k].mean()), "pd_undefined_fraction": float(a[k].isna().mean())})
    return acc, pd.DataFrame(rows)
