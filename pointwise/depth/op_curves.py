"""Choosing the MLP depth (paper 002 Fig A.9): k-NN probe accuracy after each operation of MLPs of
several depths trained on the label-noise data, on the subsets of Fig 5 right.

The runs are probed like any other (``knn.h5``), on an MLP built with ``probe_every_op: true``:
probes ``input``, ``fc1``, ``relu1``, .., ``fc{d}``, ``relu{d}``, ``softmax``, so the operation index
runs 0..2d+1. For each arch, probe and subset (clean training examples, flipped training examples
against the given and the original label, held-out and test examples): the k-NN accuracy of each
run, then the mean and sd over runs.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .aggregate import HELD_OUT, TEST, TRAIN

COLUMNS = ["arch", "depth", "op", "probe", "kind", "subset", "against", "knn_accuracy",
           "knn_accuracy_sd", "n_runs", "n_queries"]


def probe_kind(name: str) -> str:
    """``input``, ``dense`` (fc*), ``relu`` (relu*), ``softmax`` or ``other``."""
    if name in ("input", "softmax"):
        return name
    if name.startswith("fc"):
        return "dense"
    if name.startswith("relu"):
        return "relu"
    return "other"


def noise_subsets(split, label, label_orig) -> dict:
    """Boolean masks over the queries: clean / flipped training, held-out and test examples."""
    split = np.asarray(split)
    flipped = np.asarray(label) != np.asarray(label_orig)
    return {"train_clean": (split == TRAIN) & ~flipped, "train_flipped": (split == TRAIN) & flipped,
            "held_out": split == HELD_OUT, "test": split == TEST}


def run_op_accuracy(knn: dict) -> pd.DataFrame:
    """k-NN accuracy per probe, subset and label (given / original) of one run (``read_knn``
    contents: knn_pred [L+1, n], labels, labels_orig (optional), query_split, attrs)."""
    names = list(knn["attrs"]["probe_names"])
    pred = np.asarray(knn["knn_pred"])
    lab = np.asarray(knn["labels"]).astype(np.int64)
    orig = np.asarray(knn.get("labels_orig", lab)).astype(np.int64)
    rows = []
    for sub, mask in noise_subsets(knn["query_split"], lab, orig).items():
        n = int(mask.sum())
        for against, y in (("given", lab), ("original", orig)):
            acc = (pred[:, mask] == y[mask][None]).mean(1) if n else np.full(len(names), np.nan)
            rows.append(pd.DataFrame({"op": np.arange(len(names)), "probe": names, "subset": sub,
                                      "against": against, "knn_accuracy": acc, "n_queries": n}))
    return pd.concat(rows, ignore_index=True)


def op_curves(knn_by_arch: dict) -> pd.DataFrame:
    """Fig A.9 table (``COLUMNS``) from {arch: [read_knn contents of each run]}; ``depth`` is the
    number of dense hidden layers (probes ``fc*``)."""
    out = []
    for arch, runs in knn_by_arch.items():
        if not runs:
            raise ValueError(f"no runs for arch {arch!r}")
        per_run = [run_op_accuracy(r) for r in runs]
        names = per_run[0]["probe"].tolist()
        if any(p["probe"].tolist() != names for p in per_run):
            raise ValueError(f"the runs of {arch!r} have different probe lists")
        long = pd.concat(per_run, ignore_index=True)
        g = long.groupby(["subset", "against", "op", "probe"], sort=False)
        t = g.agg(knn_accuracy=("knn_accuracy", "mean"), knn_accuracy_sd=("knn_accuracy", "std"),
                  n_runs=("knn_accuracy", "count"), n_queries=("n_queries", "mean")).reset_index()
        probes = list(dict.fromkeys(names))
        t.insert(0, "arch", arch)
        t.insert(1, "depth", sum(probe_kind(p) == "dense" for p in probes))
        t.insert(4, "kind", t["probe"].map(probe_kind))
        out.append(t)
    return pd.concat(out, ignore_index=True)[COLUMNS]
