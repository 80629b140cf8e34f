"""Example points shown with their images (paper Figs. 2, 3, 6 middle, 13, 14; spec 000 §2).

The paper picks its examples by eye; the rules here are the spec's (§2 Fig. 3): per category the
point nearest its own template (for non-monotone the highest nmono), the zoom-in point of Fig. 2
is the most compatible one (compatible under every given model, smallest mean L2 distance to
f(p) = p), the Fig. 6 pretraining example the largest drop of nmono from scratch to pretrained,
and Figs. 13/14 a seeded uniform sample. All pickers take score tables
(:func:`pointwise.profiles.scores.score_table`) and return row positions.
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


def image_rows(images, ids, wanted) -> pd.DataFrame:
    """id, channels, height, width and uint8 pixels (space-separated, C order) of the examples
    ``wanted`` of an image array ``images`` ``[N, C, H, W]`` whose ids are ``ids``."""
    ids, wanted = np.asarray(ids), np.asarray(wanted)
    order = np.argsort(ids)
    pos = order[np.searchsorted(ids, wanted, sorter=order).clip(0, ids.size - 1)]
    if not np.array_equal(ids[pos], wanted):
        raise ValueError(f"examples {sorted(set(wanted.tolist()) - set(ids.tolist()))[:5]} not in the dataset")
    c, h, w = images.shape[1:]
    return pd.DataFrame({"id": wanted, "channels": c, "height": h, "width": w,
                         "pixels": [" ".join(map(str, images[p].reshape(-1))) for p in pos]})


def decode_pixels(row) -> np.ndarray:
    """An image row of :func:`image_rows` back to ``[H, W]`` (grey) or ``[H, W, C]``."""
    img = np.array(str(row["pixels"]).split(), dtype=np.uint8).reshape(
        int(row["channels"]), int(row["height"]), int(row["width"]))
    return img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
