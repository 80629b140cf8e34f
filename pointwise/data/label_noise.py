"""Fixed label noise: paper 002's NOISE40 (spec 002 §3.11) and its noise sweeps.

A seeded choice of exactly round(fraction * n) examples of one split gets a new label, drawn once
and kept for the whole of training. ``other_class`` (the spec's recommendation) draws it uniformly
from the C-1 other classes, so exactly that many labels are wrong; ``uniform`` draws from all C
classes (about 1/C of the chosen keep their label). ``flipped`` always means label != original.
"""
from __future__ import annotations

import numpy as np

from pointwise.data.store import ImageDataset

MODES = ("other_class", "uniform")


def noisy_labels(labels: np.ndarray, num_classes: int, fraction: float, mode: str = "other_class",
                 rng: np.random.Generator | int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels with exactly round(fraction * n) entries resampled; returns (new labels, resampled mask)."""
    if mode not in MODES:
        raise ValueError(f"label noise mode must be one of {MODES}, got {mode!r}")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"label noise fraction must be in [0, 1], got {fraction}")
    if num_classes < 2:
        raise ValueError(f"label noise needs at least 2 classes, got {num_classes}")
    rng = np.random.default_rng(rng)
    labels = np.asarray(labels, dtype=np.int64)
    k = round(fraction * len(labels))
    rows = rng.choice(len(labels), size=k, replace=False)
    new = labels.copy()
    if mode == "other_class":
        new[rows] = (labels[rows] + rng.integers(1, num_classes, size=k)) % num_classes
    else:
        new[rows] = rng.integers(0, num_classes, size=k)
    chosen = np.zeros(len(labels), dtype=bool)
    chosen[rows] = True
    return new, chosen


def add_label_noise(ds: ImageDataset, fraction: float, mode: str = "other_class", split: str = "train",
                    seed: int = 0, name: str | None = None) -> ImageDataset:
    """A copy of ``ds`` whose ``split`` labels carry fixed noise; other splits are untouched.

    Extras: ``labels_orig`` (the clean labels; a parent's own ``labels_orig`` is kept, so noise on
    noise still refers to the ground truth) and ``flipped`` = labels != labels_orig. Ids, class
    names and splits are the parent's."""
    rows = ds.split_index(split)
    new, chosen = noisy_labels(ds.labels[rows], ds.num_classes, fraction, mode, seed)
    out = ds.subset(np.arange(len(ds)), name=name)
    out.labels[rows] = new
    orig = np.asarray(ds.extras.get("labels_orig", ds.labels), dtype=np.int64)
    out.extras["labels_orig"] = orig.copy()
    out.extras["flipped"] = out.labels != orig
    out.attrs = {"derive": "label_noise", "fraction": float(fraction), "mode": mode, "split": split,
                 "seed": int(seed), "n_resampled": int(chosen.sum()),
                 "n_flipped": int(out.extras["flipped"][rows].sum()), "parent_attrs": ds.attrs}
    return out
