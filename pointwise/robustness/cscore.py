"""Example difficulty for the fine-tuning subsets: a C-score proxy from held-out runs, a
learning-speed proxy, class-balanced easy/hard/random subsets and the phase-out schedule
(paper 001 §5.3, App. C.9, Figs. 4c, 19; spec §3.10).

C-score (Jiang et al. 2020, external): C(x, y) = E_{D ∌ (x,y)} P[f(x; D) = y], the expected
held-out accuracy on (x, y) of models trained on i.i.d. subsets that exclude it. High = easy.

Proxy: K models, model k trained on the examples where ``trained_on[k]`` is true; the score of an
example is the mean of ``heldout[k, n]`` (0/1 correctness, or the softmax probability of the true
label) over the models that did not train on it. When the models were trained at several subset
ratios, pass ``ratio_of_model``: the score is then the mean over ratios of the per-ratio means
(each ratio weighted equally, as in Jiang et al.'s average over subset ratios), not a pooled mean
that would over-weight the small ratios (which hold out more examples).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def holdout_masks(n_examples: int, n_models: int, ratios=(0.25, 0.5, 0.75),
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random training subsets for the hold-out models: ``(trained_on [K, N] bool, ratio [K])``;
    model k uses ratio ``ratios[k % len(ratios)]`` and a uniform random subset of that size."""
    rng = np.random.default_rng(seed)
    ratios = np.asarray(ratios, dtype=np.float64)
    r = ratios[np.arange(n_models) % len(ratios)]
    m = np.zeros((n_models, n_examples), bool)
    for k in range(n_models):
        m[k, rng.choice(n_examples, int(round(r[k] * n_examples)), replace=False)] = True
    return m, r


def holdout_cscore(trained_on, heldout, ratio_of_model=None) -> tuple[np.ndarray, np.ndarray]:
    """Proxy C-score per example and the number of hold-out models behind it: ``(score, n)``.

    ``trained_on`` [K, N] bool; ``heldout`` [K, N] correctness or true-label probability of model
    k on example n (values where ``trained_on`` is true are ignored). Score is NaN where no model
    held the example out.
    """
    T = np.asarray(trained_on, dtype=bool)
    H = np.asarray(heldout, dtype=np.float64)
    if T.shape != H.shape or T.ndim != 2:
        raise ValueError(f"trained_on {T.shape} and heldout {H.shape} must both be [K, N]")
    out = ~T
    n = out.sum(0)
    if ratio_of_model is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, (H * out).sum(0) / n, np.nan), n
    r = np.asarray(ratio_of_model, dtype=np.float64)
    if r.shape != (T.shape[0],):
        raise ValueError("ratio_of_model needs one ratio per model")
    means = []
    for ratio in np.unique(r):
        sel = r == ratio
        cnt = out[sel].sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            means.append(np.where(cnt > 0, (H[sel] * out[sel]).sum(0) / cnt, np.nan))
    means = np.array(means)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(means).sum(0)
        score = np.where(valid > 0, np.nansum(means, 0) / np.maximum(valid, 1), np.nan)
    return score, n


def learning_speed(correct_by_epoch, first_epochs: int | None = None) -> np.ndarray:
    """Secondary proxy: mean training correctness per example over the (first) epochs.

    ``correct_by_epoch``: [E, N] or [runs, E, N] (e.g. ``train_stats.h5`` ``correct``).
    """
    c = np.asarray(correct_by_epoch, dtype=np.float64)
    if c.ndim == 2:
        c = c[None]
    if c.ndim != 3:
        raise ValueError("correct_by_epoch must be [E, N] or [runs, E, N]")
    if first_epochs is not None:
        c = c[:, :first_epochs]
    return c.mean((0, 1))


def _ranked_by_class(scores, labels, ascending: bool):
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if s.shape != y.shape:
        raise ValueError("scores and labels differ in length")
    out = {}
    for c in np.unique(y):
        idx = np.flatnonzero((y == c) & np.isfinite(s))
        key = s[idx] if ascending else -s[idx]
        out[c] = idx[np.lexsort((idx, key))]          # score order, ties by index
    return out


def difficulty_subset(scores, labels, per_class: int, kind: str = "hard", seed: int = 0) -> np.ndarray:
    """Class-balanced subset of ``per_class`` examples per class (C.9: 500 per class):
    ``easy`` = highest scores, ``hard`` = lowest, ``random`` = uniform. Returns sorted indices.
    Examples with NaN scores are never chosen; raises if a class has too few."""
    if kind not in ("easy", "hard", "random"):
        raise ValueError("kind must be easy, hard or random")
    ranked = _ranked_by_class(scores, labels, ascending=(kind == "hard"))
    rng = np.random.default_rng(seed)
    picks = []
    for c, idx in ranked.items():
        if idx.size < per_class:
            raise ValueError(f"class {c} has {idx.size} scored examples, fewer than {per_class}")
        picks.append(rng.choice(idx, per_class, replace=False) if kind == "random" else idx[:per_class])
    return np.sort(np.concatenate(picks))


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder split of ``total`` proportional to ``weights`` (integers summing to total)."""
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(int)
    rem = total - base.sum()
    base[np.argsort(-(raw - base), kind="stable")[:rem]] += 1
    return base


@dataclass
class PhaseoutSchedule:
    """Per-epoch training subsets that drop the easiest examples (Fig. 19; spec §3.10).

    ``sizes[e]`` examples are kept at epoch e (linear from all at epoch 0 to ``n_final`` at the
    last epoch), split over classes in proportion to their sizes (class-balanced for a balanced
    set); within a class the hardest (lowest score) are kept. ``per_class[e, c]`` gives the split.
    The subsets are nested (a class's count never grows back), so a dropped example stays dropped
    and each example's last kept epoch (:meth:`last_epoch`) describes the whole schedule.
    """

    sizes: np.ndarray
    per_class: np.ndarray
    classes: np.ndarray
    ranking: dict

    def kept(self, epoch: int) -> np.ndarray:
        """Sorted indices of the examples trained on at ``epoch`` (0-based)."""
        return np.sort(np.concatenate([self.ranking[c][:k]
                                       for c, k in zip(self.classes, self.per_class[epoch])]))

    def last_epoch(self, n_examples: int) -> np.ndarray:
        """int [n_examples]: the last epoch at which each example is kept (-1: never, i.e. no
        score). The example of rank j in class c is kept while per_class[e, c] > j."""
        out = np.full(n_examples, -1, dtype=np.int64)
        for i, c in enumerate(self.classes):
            idx = self.ranking[c]
            counts = self.per_class[:, i]                  # non-increasing over epochs
            kept_epochs = (counts[None, :] > np.arange(idx.size)[:, None]).sum(1)
            out[idx] = kept_epochs - 1
        return out

    def to_dict(self) -> dict:
        return {"sizes": self.sizes.tolist(), "classes": self.classes.tolist(),
                "per_class": self.per_class.tolist(),
                "ranking": {str(c): v.tolist() for c, v in self.ranking.items()}}


def phaseout_schedule(scores, labels, n_epochs: int, n_final: int) -> PhaseoutSchedule:
    """Linear phase-out of the easiest examples down to ``n_final`` at the last epoch (C.9;
    linear decay and class balance are the spec's assumptions)."""
    ranked = _ranked_by_class(scores, labels, ascending=True)
    classes = np.array(sorted(ranked))
    avail = np.array([ranked[c].size for c in classes])
    total = int(avail.sum())
    if not 0 < n_final <= total:
        raise ValueError(f"n_final must lie in 1..{total}")
    if n_epochs < 1:
        raise ValueError("n_epochs must be >= 1")
    frac = np.linspace(0, 1, n_epochs) if n_epochs > 1 else np.ones(1)
    sizes = np.rint(total - (total - n_final) * frac).astype(int)
    per_class = np.array([np.minimum(_allocate(int(s), avail.astype(float)), avail) for s in sizes])
    per_class = np.minimum.accumulate(per_class, axis=0)      # nested: no class grows back
    return PhaseoutSchedule(per_class.sum(1), per_class, classes, ranked)
