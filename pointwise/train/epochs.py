"""Per-epoch training subsets (paper 001 Fig 19: the phase-out schedule, spec §3.10).

A design file may carry ``epoch_mask`` bool [epochs, pool] next to ``train_mask``: at epoch e a
seed trains on the examples of its training subset that row e keeps (the last row holds for any
later epoch). Epochs then differ in length, so steps and epochs convert through the cumulative
epoch sizes (:class:`EpochClock`); without a mask the engine keeps its constant-length epochs.
"""
from __future__ import annotations

import math

import h5py
import numpy as np

MASK_KEY = "epoch_mask"


def read_epoch_mask(design_path) -> np.ndarray | None:
    """The design's ``epoch_mask`` [epochs, pool], or None when it has none."""
    with h5py.File(design_path, "r") as f:
        return f[MASK_KEY][()].astype(bool) if MASK_KEY in f else None


def member_mask(epoch_mask: np.ndarray, train_row: np.ndarray, pool_rows: np.ndarray) -> np.ndarray:
    """bool [epochs, n]: the epoch mask over one seed's training examples, in the order of
    ``np.sort(pool_rows[train_row])`` (the engine's member rows). Raises if an epoch is empty."""
    sel = np.flatnonzero(train_row)
    order = np.argsort(pool_rows[sel], kind="stable")
    m = np.asarray(epoch_mask, dtype=bool)[:, sel[order]]
    empty = np.flatnonzero(~m.any(1))
    if empty.size:
        raise ValueError(f"the epoch schedule keeps no training example at epoch(s) {empty.tolist()}")
    return m


class EpochClock:
    """Steps <-> epochs for epochs of ``sizes[e]`` examples at ``batch`` per step (the last size
    repeats after the schedule ends)."""

    def __init__(self, sizes, batch: int):
        self.sizes = np.asarray(sizes, dtype=np.float64)
        if self.sizes.ndim != 1 or not len(self.sizes) or (self.sizes <= 0).any():
            raise ValueError("epoch sizes must be a non-empty list of positive counts")
        self.batch = int(batch)
        self.bounds = np.concatenate([[0.0], np.cumsum(self.sizes)]) / self.batch   # step at each epoch start

    def step_at(self, epoch):
        """The (fractional) step at which (fractional) ``epoch`` is reached."""
        e = np.asarray(epoch, dtype=np.float64)
        n = len(self.sizes)
        inside = np.interp(np.minimum(e, n), np.arange(n + 1), self.bounds)
        return inside + np.maximum(e - n, 0.0) * self.sizes[-1] / self.batch

    def epoch_at(self, step):
        """The (fractional) epoch reached after ``step`` steps."""
        s = np.asarray(step, dtype=np.float64)
        n = len(self.sizes)
        inside = np.interp(np.minimum(s, self.bounds[-1]), self.bounds, np.arange(n + 1))
        return inside + np.maximum(s - self.bounds[-1], 0.0) * self.batch / self.sizes[-1]

    def total_steps(self, epochs: float) -> int:
        return max(1, math.ceil(float(self.step_at(epochs)) - 1e-9))
