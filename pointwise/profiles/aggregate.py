"""Run aggregation of per-checkpoint outputs (spec 000 §3.2 steps 1-2; paper App. A: "profiles ...
computed based on the evaluations of 50 independent runs").

For one configuration (R runs) and one eval set, at each eval point k and example i:

- correctness ``c[r,k,i] = 1[argmax q[r,k,i] = y_i]`` (first maximum on ties, as ``np.argmax``);
- ``acc[k,i] = mean_r c``          -- pointwise accuracy Acc_{z,T}(n_k) (paper §2);
- ``mean_softmax[k,i] = mean_r q`` -- the softmax profile's value S_z (Def. 2.2);
- ``mean_entropy[k,i] = mean_r H(q)``, H natural-log -- the *mean of per-model entropies*
  (spec §3.1), not the entropy of the mean softmax;
- ``soft_acc[k,i] = mean_softmax[k,i,y_i]`` (soft-accuracy profile, App. B);
- the global accuracy ``p_k = mean_{i in D} acc^D[k,i]`` of the reference set D
  (:func:`global_accuracy`).

Runs are accumulated one at a time (:class:`RunAccumulator`), in float64, so memory is
O(K N C) whatever R is; :func:`aggregate_runs` wraps it for an in-memory ``[R, K, N, C]`` array.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.special import log_softmax


@dataclass
class Aggregate:
    """Run-aggregated statistics of one eval set: ``[K, N]`` arrays (``mean_softmax`` ``[K, N, C]``).

    Only ``acc`` is required; the softmax statistics are None when the aggregate was built from
    correctness alone (:func:`aggregate_correct`)."""
    acc: np.ndarray
    labels: np.ndarray
    n_runs: int
    mean_softmax: np.ndarray | None = None
    mean_entropy: np.ndarray | None = None
    soft_acc: np.ndarray | None = None
    runs: tuple = field(default=())

    @property
    def K(self) -> int:
        return self.acc.shape[0]

    @property
    def N(self) -> int:
        return self.acc.shape[1]

    def select_points(self, k) -> "Aggregate":
        """The aggregate restricted to eval points ``k`` (indices or boolean mask)."""
        take = lambda a: None if a is None else a[k]  # noqa: E731
        return Aggregate(self.acc[k], self.labels, self.n_runs, take(self.mean_softmax),
                         take(self.mean_entropy), take(self.soft_acc), self.runs)


def run_outputs(logits, labels):
    """One run's per-checkpoint outputs: logits ``[K, N, C]`` -> (correct ``[K, N]`` bool,
    softmax ``[K, N, C]`` float64, entropy ``[K, N]`` float64, natural log)."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 3:
        raise ValueError(f"logits must be [K, N, C], got shape {z.shape}")
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (z.shape[1],):
        raise ValueError(f"{labels.shape[0]} labels for {z.shape[1]} examples")
    if labels.size and (labels.min() < 0 or labels.max() >= z.shape[2]):
        raise ValueError("labels out of range of the classes")
    logq = log_softmax(z, axis=-1)
    q = np.exp(logq)
    entropy = -(q * logq).sum(axis=-1)
    correct = z.argmax(axis=-1) == labels[None, :]
    return correct, q, entropy


class RunAccumulator:
    """Streaming mean over runs of (correctness, softmax, entropy); ``add`` one run at a time.

    A run may come with per-example weights ``[N]`` (0/1: whether the run counts for that example,
    e.g. only runs that held the example out); each example's mean is then over its own runs, NaN
    where no run counts."""

    def __init__(self, labels, with_softmax: bool = True):
        self.labels = np.asarray(labels, dtype=np.int64)
        self.with_softmax = with_softmax
        self.n = 0
        self._acc = self._sm = self._ent = None
        self._wsum = np.zeros(self.labels.size)
        self.runs: list = []

    def add(self, logits, run_id=None, block: int = 8, weight=None) -> None:
        """Add one run's logits ``[K, N, C]`` (processed ``block`` eval points at a time, so the
        float64 temporaries stay small), optionally with per-example weights ``[N]``."""
        logits = np.asarray(logits)
        if logits.ndim != 3:
            raise ValueError(f"logits must be [K, N, C], got shape {logits.shape}")
        if not self.with_softmax:
            if logits.shape[1] != self.labels.size:
                raise ValueError(f"{self.labels.size} labels for {logits.shape[1]} examples")
            self.add_correct(logits.argmax(axis=-1) == self.labels[None, :], run_id, weight)
            return
        K, N, C = logits.shape
        self._init((K, N), C)
        w = self._weight(weight, N)
        for k in range(0, K, block):
            c, q, ent = run_outputs(logits[k:k + block], self.labels)
            self._acc[k:k + block] += c * w
            self._sm[k:k + block] += q * w[:, None]
            self._ent[k:k + block] += ent * w
        self._count(run_id, w)

    def add_correct(self, correct, run_id=None, weight=None) -> None:
        """Add one run's correctness ``[K, N]`` only (accuracy-only accumulator)."""
        if self.with_softmax:
            raise ValueError("this accumulator needs logits (with_softmax=True)")
        self.add_outputs(np.asarray(correct, dtype=bool), None, None, run_id, weight)

    def add_outputs(self, correct, q=None, entropy=None, run_id=None, weight=None) -> None:
        """Add one run's precomputed correctness ``[K, N]`` (and, with softmax, its softmax
        ``[K, N, C]`` and entropy ``[K, N]``)."""
        c = np.asarray(correct, dtype=np.float64)
        if self.with_softmax and (q is None or entropy is None):
            raise ValueError("this accumulator needs softmax and entropy")
        self._init(c.shape, None if q is None else np.shape(q)[-1])
        w = self._weight(weight, c.shape[1])
        self._acc += c * w
        if self.with_softmax:
            self._sm += np.asarray(q) * w[:, None]
            self._ent += np.asarray(entropy) * w
        self._count(run_id, w)

    def _weight(self, weight, n) -> np.ndarray:
        if weight is None:
            return np.ones(n)
        w = np.asarray(weight, dtype=np.float64)
        if w.shape != (n,):
            raise ValueError(f"weights of shape {w.shape} for {n} examples")
        return w

    def _init(self, shape, n_classes) -> None:
        if self._acc is None:
            self._acc = np.zeros(shape)
            if self.with_softmax:
                self._sm = np.zeros(tuple(shape) + (n_classes,))
                self._ent = np.zeros(shape)
        if tuple(shape) != self._acc.shape:
            raise ValueError(f"run of shape {tuple(shape)} does not match {self._acc.shape}")
        if self.with_softmax and n_classes is not None and n_classes != self._sm.shape[-1]:
            raise ValueError(f"{n_classes} classes, expected {self._sm.shape[-1]}")

    def _count(self, run_id, w) -> None:
        self._wsum += w
        self.n += 1
        self.runs.append(run_id if run_id is not None else self.n - 1)

    def result(self) -> Aggregate:
        if self.n == 0:
            raise ValueError("no runs were added")
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.where(self._wsum > 0, self._wsum, np.nan)           # [N]: runs per example
            acc = self._acc / d
            if not self.with_softmax:
                return Aggregate(acc, self.labels, self.n, runs=tuple(self.runs))
            sm = self._sm / d[:, None]
            soft = np.take_along_axis(sm, self.labels[None, :, None], axis=-1)[..., 0]
            return Aggregate(acc, self.labels, self.n, sm, self._ent / d, soft, tuple(self.runs))


def aggregate_runs(logits, labels, runs: Sequence[int] | None = None) -> Aggregate:
    """Aggregate ``logits`` ``[R, K, N, C]`` over the runs ``runs`` (default: all), spec §3.2 step 2."""
    acc = RunAccumulator(labels)
    for r in (range(len(logits)) if runs is None else runs):
        acc.add(logits[r], run_id=int(r))
    return acc.result()


def aggregate_correct(correct, labels=None, runs: Sequence[int] | None = None) -> Aggregate:
    """Accuracy-only aggregate from correctness ``[R, K, N]`` (bool or 0/1)."""
    correct = np.asarray(correct)
    labels = np.zeros(correct.shape[-1], dtype=np.int64) if labels is None else labels
    acc = RunAccumulator(labels, with_softmax=False)
    for r in (range(len(correct)) if runs is None else runs):
        acc.add_correct(correct[r], run_id=int(r))
    return acc.result()


def global_accuracy(reference: Aggregate | np.ndarray) -> np.ndarray:
    """p_k = mean_i acc^D[k, i] of the reference set D (spec §3.2 step 2): ``[K]`` float64.
    Equal to the mean over runs of each run's accuracy on D."""
    acc = reference.acc if isinstance(reference, Aggregate) else np.asarray(reference, np.float64)
    return acc.mean(axis=-1)


def run_halves(n_runs: int, equal: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint run halves (spec §3.5: "runs 1..R/2" and "R/2+1..R", in the given run order).

    ``equal=True`` gives both halves floor(R/2) runs (an odd R leaves its last run out), so the
    two halves have the same finite-R noise; ``equal=False`` gives the second half the
    remaining ceil(R/2) runs."""
    if n_runs < 2:
        raise ValueError("need at least 2 runs for two halves")
    h = n_runs // 2
    a = np.arange(h)
    b = np.arange(h, 2 * h if equal else n_runs)
    return a, b
