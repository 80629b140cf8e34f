"""Taxonomy of accuracy profiles (paper §3.1, Figs. 3-5; spec 000 §3.4).

1. nmono(A_z) > 0.1 -> ``non-monotone``;
2. otherwise the nearest template in L2 over the grid G: ``easy`` f(p) = 1, ``hard`` f(p) = 0,
   ``compatible`` f(p) = p (the raw grid values), with
   L2(A_z, f) = sqrt(mean_k (A_z(g_k) - f(g_k))^2);
3. exact ties go to the first of easy < hard < compatible (spec §3.4 item 3).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .nmono import NMONO_THRESHOLD, nmono

CATEGORIES = ("non-monotone", "easy", "hard", "compatible")
TEMPLATES = ("easy", "hard", "compatible")     # also the tie-break order


def template_values(grid) -> np.ndarray:
    """The three templates on ``grid`` [G] -> ``[3, G]`` in :data:`TEMPLATES` order."""
    g = np.asarray(grid, dtype=np.float64)
    return np.stack([np.ones_like(g), np.zeros_like(g), g])


def template_distances(acc, grid) -> np.ndarray:
    """L2 distances of accuracy profiles ``acc`` [N, G] to the templates: ``[N, 3]`` (easy, hard,
    compatible), normalised by the grid length (spec §3.4; the normalisation leaves the argmin)."""
    a = np.asarray(acc, dtype=np.float64)
    t = template_values(grid)
    return np.sqrt(((a[:, None, :] - t[None, :, :]) ** 2).mean(axis=-1))


def classify(acc, grid, threshold: float = NMONO_THRESHOLD, scores=None) -> np.ndarray:
    """Category of every accuracy profile ``acc`` [N, G]: an object array of :data:`CATEGORIES`.
    ``scores``: precomputed nmono(acc) (computed if None)."""
    a = np.asarray(acc, dtype=np.float64)
    nm = nmono(a) if scores is None else np.asarray(scores, dtype=np.float64)
    nearest = np.asarray(TEMPLATES, dtype=object)[template_distances(a, grid).argmin(axis=1)]
    return np.where(nm > threshold, "non-monotone", nearest).astype(object)


def taxonomy_fractions(categories) -> pd.DataFrame:
    """Counts and fractions of every category (all four rows, zeros included), Figs. 4-5."""
    cats = np.asarray(categories, dtype=object)
    unknown = set(cats) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown categories {sorted(unknown)}")
    counts = np.array([(cats == c).sum() for c in CATEGORIES])
    frac = counts / max(cats.size, 1)
    return pd.DataFrame({"category": CATEGORIES, "count": counts, "fraction": frac})


def prototypes(acc, grid, categories=None, scores=None, k: int = 1) -> dict[str, np.ndarray]:
    """Indices of the ``k`` most prototypical points per category (spec §2 Fig. 3 rule): the
    smallest L2 distance to the category's own template; for non-monotone the highest nmono.
    Categories with fewer than ``k`` members return fewer indices (ties: lower index first)."""
    a = np.asarray(acc, dtype=np.float64)
    nm = nmono(a) if scores is None else np.asarray(scores, dtype=np.float64)
    cats = classify(a, grid, scores=nm) if categories is None else np.asarray(categories, object)
    dist = template_distances(a, grid)
    out = {}
    for c in CATEGORIES:
        idx = np.flatnonzero(cats == c)
        key = -nm[idx] if c == "non-monotone" else dist[idx, TEMPLATES.index(c)]
        out[c] = idx[np.lexsort((idx, key))][:k]
    return out
