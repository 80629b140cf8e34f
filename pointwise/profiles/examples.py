"""Example points shown with their images (paper Figs. 2, 3, 6 middle, 13, 14; spec 000 §2).

The paper picks its examples by eye; the rules here are the spec's (§2 Fig. 3): per category the
point nearest its own template (for non-monotone the highest nmono), the zoom-in point of Fig. 2
is the most compatible one (compatible under every given model, smallest mean L2 distance to
f(p) = p), the Fig. 6 pretraining example the largest drop of nmono from scratch to pretrained,
and Figs. 13/14 a seeded uniform sample. All pickers take score tables
(:func:`pointwise.profiles.scores.score_table`) and return row positions.

The reproduction's readings of the remaining by-eye figures (spec §2 Figs. 7-9):

- Fig. 7(c), one Neg example: :func:`neg_pick`, the Neg point with the highest selection nmono;
- Fig. 8, "a variety of interesting behaviors": :func:`gallery_picks`, the ``k`` most
  non-monotone accuracy profiles, then the ``k`` most non-monotone negative-entropy profiles,
  then each category's prototype (:func:`taxonomy_picks`), every point once;
- Fig. 9, "global shape vs local features" (low-accuracy models predict one class, high-accuracy
  models another): :func:`switch_scores` / :func:`switch_pick` on the softmax profiles. The mean
  softmax over the lowest ``band`` of the accuracy axis names the low-accuracy models' class
  ``c_lo``, the mean over the highest ``band`` the high-accuracy models' class ``c_hi``; a point
  switches when they differ, scored by the product of the two masses (1 when both groups are
  unanimous). The pick is the best switching point whose late class is its label (the paper's
  mug: the high-accuracy models are right), else the best switching point.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .taxonomy import CATEGORIES


def _first_min(key, idx) -> int | None:
    """The position in ``idx`` of the smallest ``key`` (ties: lower position first)."""
    idx = np.asarray(idx)
    if idx.size == 0:
        return None
    return int(idx[np.lexsort((idx, np.asarray(key, np.float64)))][0])


def taxonomy_picks(scores: pd.DataFrame) -> dict[str, int]:
    """Category -> row of its prototype: the highest nmono_acc for non-monotone, otherwise the
    smallest L2 distance to the category's template (l2_easy / l2_hard / l2_compat). Empty
    categories are absent."""
    cats = scores["category"].to_numpy(dtype=object)
    cols = {"easy": "l2_easy", "hard": "l2_hard", "compatible": "l2_compat"}
    out = {}
    for c in CATEGORIES:
        idx = np.flatnonzero(cats == c)
        key = (-scores["nmono_acc"].to_numpy()[idx] if c == "non-monotone"
               else scores[cols[c]].to_numpy()[idx])
        pick = _first_min(key, idx)
        if pick is not None:
            out[c] = pick
    return out


def zoom_pick(scores: Sequence[pd.DataFrame]) -> int:
    """Fig. 2 point: among the rows compatible under every table (same eval set, same row order),
    the smallest mean l2_compat; when no row is compatible under all, the smallest mean l2_compat
    among the rows with a category under all."""
    cats = np.stack([s["category"].to_numpy(dtype=object) for s in scores])
    d = np.stack([s["l2_compat"].to_numpy(np.float64) for s in scores]).mean(0)
    idx = np.flatnonzero((cats == "compatible").all(0))
    if idx.size == 0:
        idx = np.flatnonzero(np.isin(cats, CATEGORIES).all(0))
    pick = _first_min(d[idx], idx)
    if pick is None:
        raise ValueError("no example has a profile under every model")
    return pick


def pretraining_pick(scratch: pd.DataFrame, pretrained: pd.DataFrame) -> int:
    """Fig. 6 middle point: the largest nmono_acc(scratch) - nmono_acc(pretrained) (ties: lower
    row first)."""
    drop = scratch["nmono_acc"].to_numpy(np.float64) - pretrained["nmono_acc"].to_numpy(np.float64)
    pick = _first_min(-np.nan_to_num(drop, nan=-np.inf), np.arange(drop.size))
    if pick is None:
        raise ValueError("empty score tables")
    return pick


def random_picks(n: int, k: int, seed: int = 0) -> np.ndarray:
    """``min(k, n)`` distinct positions out of ``n``, sorted, from a seeded generator."""
    return np.sort(np.random.default_rng(seed).choice(n, size=min(k, n), replace=False))


def top_distinct(key, k: int, exclude=()) -> list[int]:
    """Positions of the ``k`` largest finite values of ``key`` that are not in ``exclude``,
    largest first (ties: lower position first)."""
    key = np.asarray(key, np.float64)
    ok = np.isfinite(key)
    ok[np.asarray(list(exclude), dtype=np.int64)] = False
    idx = np.flatnonzero(ok)
    return [int(i) for i in idx[np.lexsort((idx, -key[idx]))][:max(int(k), 0)]]


def neg_pick(nmono) -> int:
    """Fig. 7(c) point: the position of the highest (selection-half) nmono among the Neg points
    (ties: lower position, i.e. lower rank, first)."""
    pick = top_distinct(nmono, 1)
    if not pick:
        raise ValueError("no Neg point with a finite nmono")
    return pick[0]


def gallery_picks(scores: pd.DataFrame, k: int) -> list[tuple[str, int]]:
    """Fig. 8 gallery as ``[(pick, row)]``: the ``k`` rows of highest nmono_acc
    (``"nmono_acc top i"``), then the ``k`` rows of highest nmono_negent not already shown
    (``"nmono_negent top i"``), then the prototype of each category (:func:`taxonomy_picks`,
    ``"prototype: <category>"``) not already shown; every row at most once."""
    out: list[tuple[str, int]] = []
    for col in ("nmono_acc", "nmono_negent"):
        for i, row in enumerate(top_distinct(scores[col].to_numpy(np.float64), k, [r for _, r in out])):
            out.append((f"{col} top {i + 1}", row))
    shown = {r for _, r in out}
    for cat, row in taxonomy_picks(scores).items():
        if row not in shown:
            out.append((f"prototype: {cat}", row))
            shown.add(row)
    return out


def band_masks(grid, band: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid positions in the lowest and the highest fraction ``band`` (0 < band <= 0.5) of the
    accuracy axis ``[min grid, max grid]`` (each holds at least its end point)."""
    if not 0 < band <= 0.5:
        raise ValueError(f"band must be in (0, 0.5], got {band}")
    g = np.asarray(grid, np.float64)
    lo_edge, hi_edge = g.min() + band * np.ptp(g), g.max() - band * np.ptp(g)
    return g <= lo_edge, g >= hi_edge


def band_means(grid, softmax, band: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean softmax profile ``[N, G, C]`` (or ``[G, C]``) over the low and the high band of the
    accuracy axis (:func:`band_masks`) -> two arrays ``[N, C]`` (or ``[C]``)."""
    lo, hi = band_masks(grid, band)
    sm = np.asarray(softmax, np.float64)
    return sm[..., lo, :].mean(-2), sm[..., hi, :].mean(-2)


def switch_scores(grid, softmax, band: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point of softmax profiles ``[N, G, C]``: the low-band class ``c_lo``, the high-band
    class ``c_hi`` (argmax of the band means) and the switch score ``lo[c_lo] * hi[c_hi]`` when
    they differ, else 0 (NaN for a point without a profile)."""
    lo, hi = band_means(grid, softmax, band)
    bad = ~(np.isfinite(lo).all(-1) & np.isfinite(hi).all(-1))
    lo, hi = np.where(bad[:, None], 0.0, lo), np.where(bad[:, None], 0.0, hi)
    c_lo, c_hi = lo.argmax(-1), hi.argmax(-1)
    rows = np.arange(lo.shape[0])
    score = np.where(c_lo != c_hi, lo[rows, c_lo] * hi[rows, c_hi], 0.0)
    return c_lo, c_hi, np.where(bad, np.nan, score)


def switch_pick(grid, softmax, labels, band: float) -> int | None:
    """Fig. 9 point: the highest switch score (:func:`switch_scores`) among the points whose
    high-band class is their label, else among all switching points (ties: lower position
    first); None when no point switches."""
    c_lo, c_hi, score = switch_scores(grid, softmax, band)
    switching = np.nan_to_num(score, nan=0.0) > 0
    for cand in (switching & (c_hi == np.asarray(labels)), switching):
        idx = np.flatnonzero(cand)
        if idx.size:
            return _first_min(-score[idx], idx)
    return None
