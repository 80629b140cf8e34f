"""Per-member example streams: each seed walks its own training subset in its own random order.

A stream concatenates fresh permutations of the member's subset, epoch after epoch, and hands out
fixed-size batches (a batch may straddle two epochs, so every member of an ensemble always has a
full batch and every example is presented exactly once per epoch). The state is a few integers
and a numpy generator state, so a resumed run continues the exact same order.
"""
from __future__ import annotations

import numpy as np


class Stream:
    def __init__(self, n: int, seed: int):
        self.n = n
        self.rng = np.random.default_rng(seed)
        self.epoch = 0
        self.pos = 0
        self.perm = self.rng.permutation(n)

    def next(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions (into the member's subset) of the next ``batch`` presentations, and the epoch
        (0-based) each belongs to."""
        pos_out, ep_out = [], []
        need = batch
        while need:
            take = min(need, self.n - self.pos)
            pos_out.append(self.perm[self.pos:self.pos + take])
            ep_out.append(np.full(take, self.epoch, dtype=np.int64))
            self.pos += take
            need -= take
            if self.pos == self.n:
                self.epoch += 1
                self.pos = 0
                self.perm = self.rng.permutation(self.n)
        return np.concatenate(pos_out), np.concatenate(ep_out)

    def state(self) -> dict:
        return {"n": self.n, "epoch": self.epoch, "pos": self.pos, "perm": self.perm.copy(),
                "rng": self.rng.bit_generator.state}

    @classmethod
    def from_state(cls, state: dict) -> "Stream":
        s = cls.__new__(cls)
        s.n, s.epoch, s.pos, s.perm = state["n"], state["epoch"], state["pos"], state["perm"]
        s.rng = np.random.default_rng()
        s.rng.bit_generator.state = state["rng"]
        return s
