"""The examples paper 002 shows as images (spec §2 figure inventory), picked from the per-example
table of one model:

- Fig 1 left: per class, the training examples the model's runs predict earliest and latest (the
  ``n`` lowest and highest mean training PD: at the input, PD = 0, and at the softmax, PD = L);
- Fig 7 (its images): per corner group, the ``n`` examples closest to the corner, optionally of
  one class (the paper shows CIFAR-10 "bird" images with their consensus class).

Rows: figure, row (class or group), side (``input`` / ``softmax`` for Fig 1, ``corner`` for
Fig 7), rank, example_id, label, consensus, mpd_train, mpd_val (and distance for Fig 7). Equal
values keep the lower example id first, so the picks are deterministic.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .corners import corner_groups

COLUMNS = ["figure", "row", "side", "rank", "example_id", "label", "consensus", "mpd_train", "mpd_val",
           "distance"]


def fig1_picks(per_example: pd.DataFrame, n: int, classes=None) -> pd.DataFrame:
    """Fig 1 left: for each class of ``classes`` (default: the first ten labels present), the ``n``
    examples with the lowest (side ``input``) and the highest (side ``softmax``) mean training PD,
    lowest / highest first."""
    ex = per_example[np.isfinite(per_example["mpd_train"])].sort_values("example_id", kind="stable")
    if classes is None:
        classes = sorted(ex["label"].unique())[:10]
    frames = []
    for c in classes:
        s = ex[ex["label"] == c]
        low = s.sort_values("mpd_train", kind="stable").head(n)
        high = s.sort_values("mpd_train", ascending=False, kind="stable").head(n)
        for side, t in (("input", low), ("softmax", high)):
            frames.append(t.assign(figure="fig1_left", row=str(int(c)), side=side, rank=np.arange(len(t)),
                                   distance=np.nan))
    return _columns(frames)


def corner_picks(per_example: pd.DataFrame, L: int, n: int, corners: str = "theoretical",
                 label=None) -> pd.DataFrame:
    """Fig 7 images: the ``n`` examples closest to each corner (:func:`corner_groups`), among the
    examples of class ``label`` when given."""
    ex = per_example if label is None else per_example[per_example["label"] == label]
    ex = ex.reset_index(drop=True)
    g = corner_groups(ex["mpd_val"], ex["mpd_train"], L, n=n, ids=ex["example_id"].to_numpy(), corners=corners)
    rows = ex.iloc[g["index"].to_numpy()].reset_index(drop=True)
    t = rows.assign(figure="fig7", row=g["group"].to_numpy(), side="corner", rank=g["rank"].to_numpy(),
                    distance=g["distance"].to_numpy())
    return _columns([t])


def _columns(frames) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)[COLUMNS]
