"""Class-balanced subsets, e.g. spec 002 §5.3's stratified Fashion-MNIST pool (1,000 train images
per class plus a balanced test subset) and spec 003's small scales.

Rows keep the parent's order, ids, splits and extras; splits not named in ``per_class`` are
dropped (their name stays in ``split_names`` so split codes keep their meaning).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from pointwise.data.store import ImageDataset


def balanced_rows(labels: np.ndarray, num_classes: int, count: int, rng: np.random.Generator,
                  where: str = "") -> np.ndarray:
    """Sorted positions of ``count`` randomly chosen examples of every class in ``labels``."""
    have = np.bincount(labels, minlength=num_classes)
    short = np.flatnonzero(have < count)
    if len(short):
        raise ValueError(f"balanced subset{where}: {count} per class requested but class(es) "
                         + ", ".join(f"{c} has {have[c]}" for c in short))
    keys = rng.random(len(labels))                 # random order within each class
    order = np.lexsort((keys, labels))             # by class, then by random key
    starts = np.concatenate([[0], np.cumsum(have)[:-1]])
    take = (starts[:, None] + np.arange(count)[None, :]).ravel()
    return np.sort(order[take])


def balanced_subset(ds: ImageDataset, per_class: Mapping[str, int], seed: int = 0,
                    name: str | None = None) -> ImageDataset:
    """Keep exactly ``per_class[split]`` examples of every class in each named split (seeded)."""
    unknown = set(per_class) - set(ds.split_names)
    if unknown:
        raise ValueError(f"balanced subset of '{ds.name}': unknown split(s) {sorted(unknown)}; "
                         f"splits are {ds.split_names}")
    rng = np.random.default_rng(seed)
    keep = []
    for split in ds.split_names:                   # fixed order: the result depends on seed only
        if split in per_class:
            rows = ds.split_index(split)
            pos = balanced_rows(ds.labels[rows], ds.num_classes, int(per_class[split]), rng,
                                where=f" of '{ds.name}' split '{split}'")
            keep.append(rows[pos])
    out = ds.subset(np.sort(np.concatenate(keep)), name=name)
    out.attrs = {"derive": "balanced_subset", "per_class": {k: int(v) for k, v in per_class.items()},
                 "seed": int(seed), "parent_attrs": ds.attrs}
    return out
