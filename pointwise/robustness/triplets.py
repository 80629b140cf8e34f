"""Triplet probabilities / distributional closeness (paper 001 App. C.10, Fig. 20; spec §3.9).

**Uncertain reading.** The paper gives no formula and defers to Mania & Sra (2020); only the
headline "99.8% of all triplet events are inside the cone" is stated. This module implements the
spec's *marked-uncertain* reading, with every free choice a parameter:

* For each triplet of models (i, j, k) the events are the 8 joint-correctness atoms
  E_abc = {c_i = a, c_j = b, c_k = c}, a, b, c ∈ {0, 1}; their probabilities are taken on the ID
  and on the OOD test set (each over its own examples).
* A ray through the origin, P_OOD = s · P_ID, is fitted by least squares over the reference
  events (default: all triplets; pass ``reference`` to fit it on testbed-only triplets).
* An event is "inside the cone" when s/(1 + rel_tol) ≤ P_OOD / P_ID ≤ s·(1 + rel_tol).
  ``rel_tol`` (default 0.5) is our choice — the paper does not give the cone's width.
* Events with P_ID ≤ min_prob and P_OOD ≤ min_prob (default: both 0) are not counted.

Check this against Mania & Sra (arXiv 2012.15483) before relying on it; it is P2 (optional) work.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np
import pandas as pd

#: bit patterns (a, b, c) in the order of the event index 4a + 2b + c.
PATTERNS = [tuple(int(b) for b in f"{e:03b}") for e in range(8)]


def _mat(c):
    c = np.asarray(c)
    if c.ndim != 2:
        raise ValueError("correctness must be [models, examples]")
    return c.astype(np.uint8)


def triplet_event_probabilities(correct, triplets: np.ndarray, batch: int = 256) -> np.ndarray:
    """P(E_abc) for each triplet (rows of ``triplets``, [K, 3] model indices): [K, 8] array,
    column 4a + 2b + c (see :data:`PATTERNS`)."""
    C = _mat(correct)
    triplets = np.asarray(triplets, dtype=np.int64).reshape(-1, 3)
    out = np.empty((len(triplets), 8))
    N = C.shape[1]
    for s in range(0, len(triplets), batch):
        t = triplets[s:s + batch]
        code = 4 * C[t[:, 0]] + 2 * C[t[:, 1]] + C[t[:, 2]]          # [B, N] in 0..7
        offs = (np.arange(len(t)) * 8)[:, None]
        out[s:s + len(t)] = np.bincount((code + offs).ravel(), minlength=8 * len(t)).reshape(-1, 8) / N
    return out


def all_triplets(n_models: int, max_triplets: int | None = None, seed: int = 0) -> np.ndarray:
    """All i < j < k triplets, or a random subset of ``max_triplets`` of them."""
    t = np.array(list(itertools.combinations(range(n_models), 3)), dtype=np.int64).reshape(-1, 3)
    if max_triplets is not None and len(t) > max_triplets:
        t = t[np.sort(np.random.default_rng(seed).choice(len(t), max_triplets, replace=False))]
    return t


def triplet_cone(correct_id, correct_ood, names: Sequence[str] | None = None,
                 rel_tol: float = 0.5, min_prob: float = 0.0, reference: Sequence[int] | None = None,
                 max_triplets: int | None = None, seed: int = 0) -> tuple[dict, pd.DataFrame]:
    """Fraction of triplet events inside the cone around the best-fit ray (uncertain reading).

    ``correct_id`` / ``correct_ood``: [models, N_id] / [models, N_ood] correctness, same model
    order. Returns ``(summary, per_model)``: summary = {slope, rel_tol, min_prob, n_triplets,
    n_events, frac_inside, frac_inside_reference}; per_model = model, n_events, frac_inside over
    the events of triplets that contain the model.
    """
    Ci, Co = _mat(correct_id), _mat(correct_ood)
    if Ci.shape[0] != Co.shape[0]:
        raise ValueError(f"{Ci.shape[0]} models on ID but {Co.shape[0]} on OOD")
    m = Ci.shape[0]
    if m < 3:
        raise ValueError("triplets need at least 3 models")
    names = [str(i) for i in range(m)] if names is None else list(names)
    trip = all_triplets(m, max_triplets, seed)
    p_id = triplet_event_probabilities(Ci, trip)
    p_ood = triplet_event_probabilities(Co, trip)
    counted = (p_id > min_prob) | (p_ood > min_prob)
    ref_trip = np.ones(len(trip), bool) if reference is None else \
        np.isin(trip, np.asarray(reference)).all(1)
    ref = counted & ref_trip[:, None]
    if not ref.any():
        raise ValueError("no reference events to fit the ray")
    slope = float((p_id[ref] * p_ood[ref]).sum() / (p_id[ref] ** 2).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(p_id > 0, p_ood / p_id, np.inf)
    inside = (ratio >= slope / (1 + rel_tol)) & (ratio <= slope * (1 + rel_tol)) & counted
    summary = {"slope": slope, "rel_tol": rel_tol, "min_prob": min_prob,
               "n_triplets": int(len(trip)), "n_events": int(counted.sum()),
               "frac_inside": float(inside.sum() / counted.sum()),
               "frac_inside_reference": float(inside[ref].sum() / ref.sum())}
    rows = []
    for i, name in enumerate(names):
        sel = (trip == i).any(1)
        n_ev = int(counted[sel].sum())
        rows.append({"model": name, "n_events": n_ev,
                     "frac_inside": float(inside[sel].sum() / n_ev) if n_ev else np.nan})
    return summary, pd.DataFrame(rows)
