"""Per-member example streams: each seed walks its own training subset in its own random order.

A stream concatenates fresh permutations of the member's subset, epoch after epoch, and hands out
fixed-size batches (a batch may straddle two epochs, so every member of an ensemble always has a
full batch and every example is presented exactly once per epoch). With a ``schedule`` (bool
[epochs, n], paper 001's phase-out) epoch e permutes only the examples row e keeps (the last row
for later epochs), so epochs shrink as the schedule drops examples. The state is a few integers,
the current permutation, the schedule and a numpy generator state, so a resumed run continues the
exact same order.
"""
from __future__ import annotations

import numpy as np


class Stream:
    def __init__(self, n: int, seed: int, schedule: np.ndarray | None = None):
        self.n = n
        self.rng = np.random.default_rng(seed)
        self.schedule = None if schedule is None else np.asarray(schedule, dtype=bool)
        if self.schedule is not None and (self.schedule.ndim != 2 or self.schedule.shape[1] != n
                                          or not self.schedule.any(1).all()):
            raise ValueError(f"schedule must be bool [epochs, {n}] keeping >= 1 example per epoch")
        self.epoch = 0
        self.pos = 0
        self.perm = self._permutation()

    def _permutation(self) -> np.ndarray:
        if self.schedule is None:
            return self.rng.permutation(self.n)
        kept = np.flatnonzero(self.schedule[min(self.epoch, len(self.schedule) - 1)])
        return kept[self.rng.permutation(len(kept))]

    def next(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions (into the member's subset) of the next ``batch`` presentations, and the epoch
        (0-based) each belongs to."""
        pos_out, ep_out = [], []
        need = batch
        while need:
            take = min(need, len(self.perm) - self.pos)
            pos_out.append(self.perm[self.pos:self.pos + take])
            ep_out.append(np.full(take, self.epoch, dtype=np.int64))
            self.pos += take
            need -= take
            if self.pos == len(self.perm):
                self.epoch += 1
                self.pos = 0
                self.perm = self._permutation()
        if not pos_out:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(pos_out), np.concatenate(ep_out)

    def state(self) -> dict:
        return {"n": self.n, "epoch": self.epoch, "pos": self.pos, "perm": self.perm.copy(),
                "rng": self.rng.bit_generator.state, "schedule": self.schedule}

    @classmethod
    def from_state(cls, state: dict) -> "Stream":
        s = cls.__new__(cls)
        s.n, s.epoch, s.pos, s.perm = state["n"], state["epoch"], state["pos"], state["perm"]
        s.schedule = state.get("schedule")
        s.rng = np.random.default_rng()
        s.rng.bit_generator.state = state["rng"]
        return s
