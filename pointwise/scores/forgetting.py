"""Scores of the per-presentation accuracy sequence (spec 003 §3.1 item 2, §3.2): FORGETTING
(Toneva et al. 2019), CONSISTENTLY LEARNED ("iteration learned", Baldock et al. 2021; Siddiqui
et al. 2022) and the optional first-learned presentation (§3.4).

Input: ``correct`` [P, N], the correctness a^{(k)}_i of example i at its k-th presentation
(k = 1..P, rows in presentation order) -- the ``correct`` array of ``train_stats.h5``, whose
``[epoch, example]`` layout is presentation order because every example is presented exactly once
per epoch (docs/training.md). :func:`presentation_sequence` checks that with the ``step`` array.
Paper: "the number of times an example is forgotten (changes from correct to incorrectly
classified) over successive minibatches" and "the first time an example is learned without
further forgetting".
"""
from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger("pointwise.scores")

NEVER_LEARNED_MODES = ("zero", "toneva")


def _as_bool(correct) -> np.ndarray:
    a = np.asarray(correct)
    if a.ndim != 2:
        raise ValueError(f"correct must be [presentations, examples], got shape {a.shape}")
    if a.shape[0] < 1:
        raise ValueError("no presentations")
    return a.astype(bool)


def presentation_sequence(correct, step) -> np.ndarray:
    """``correct`` [P, N] as bool after checking it is a complete presentation sequence: every
    entry presented (``step`` >= 0; -1 marks an epoch that was never reached) and steps strictly
    increasing along the presentation axis. ValueError otherwise."""
    a = _as_bool(correct)
    step = np.asarray(step)
    if step.shape != a.shape:
        raise ValueError(f"step shape {step.shape} != correct shape {a.shape}")
    missing = int((step < 0).sum())
    if missing:
        raise ValueError(f"{missing} presentations were never made (step = -1): incomplete run")
    if a.shape[0] > 1 and not (np.diff(step, axis=0) > 0).all():
        raise ValueError("presentations are not in increasing step order along axis 0")
    return a


def never_learned(correct) -> np.ndarray:
    """Boolean [N]: examples never correct at any presentation."""
    return ~_as_bool(correct).any(axis=0)


def forgetting_events(correct, never_learned_mode: str = "toneva") -> np.ndarray:
    """FORGETTING F_i = sum_{k=2..P} 1[a^{(k-1)} = 1 and a^{(k)} = 0] (spec §3.2; the
    "start at zero" convention a^{(0)} := 0 adds no event).

    ``never_learned_mode`` (config ``forget_never_learned``, ambiguity A4) for examples that are
    never correct: ``zero`` -> F = 0 (the paper's definition and the authors' code); ``toneva``
    (spec default) -> F = max_i F_i + 1 over the examples of ``correct`` (Toneva et al. rank them
    as most forgettable), so ``correct`` must hold the whole scored set of one run.
    Returns int64 [N]."""
    if never_learned_mode not in NEVER_LEARNED_MODES:
        raise ValueError(f"never_learned_mode must be one of {NEVER_LEARNED_MODES}, "
                         f"got {never_learned_mode!r}")
    a = _as_bool(correct)
    f = (a[:-1] & ~a[1:]).sum(axis=0).astype(np.int64)
    if never_learned_mode == "toneva":
        never = ~a.any(axis=0)
        if never.any():
            f[never] = f[~never].max(initial=0) + 1
            log.info("forgetting (toneva): %d of %d examples never learned, set to %d",
                     int(never.sum()), len(f), int(f[never][0]))
    return f


def consistently_learned(correct) -> np.ndarray:
    """CONSISTENTLY LEARNED CL_i = max{k in 0..P : a^{(k)} = 0} with a^{(0)} := 0 (spec §3.2):
    0 if correct at every presentation, P if wrong at the last one, otherwise the number of
    presentations before the final unbroken run of correct ones. Returns int64 [N]."""
    a = _as_bool(correct)
    p = a.shape[0]
    wrong = ~a
    from_end = np.argmax(wrong[::-1], axis=0)   # 0 when the last presentation is wrong
    return np.where(wrong.any(axis=0), p - from_end, 0).astype(np.int64)


def first_learned(correct) -> np.ndarray:
    """First correct presentation min{k : a^{(k)} = 1} (1-based; P + 1 if never correct),
    an optional extra of spec §3.4. Returns int64 [N]."""
    a = _as_bool(correct)
    return np.where(a.any(axis=0), np.argmax(a, axis=0) + 1, a.shape[0] + 1).astype(np.int64)
