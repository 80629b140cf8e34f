"""The four extremes of example difficulty (paper 002 §4, Fig 7; spec §3.8).

Axes: x = mPD_val (validation / held-out occurrences), y = mPD_train. Corners, in PD units:
- easy                    (0, 0)  low val, low train
- looks_like_different    (0, L)  low val, high train (mislabeled, visually confusing)
- ambiguous_unless_label  (L, 0)  high val, low train (Fig 8 / improvement experiment)
- ambiguous               (L, L)
Each group: the ``n`` (100) examples closest to its corner, Euclidean in PD units. Corners are the
theoretical {0, L}^2 (default) or the observed ranges of the two means (``corners='observed'``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

GROUPS = {"easy": (0, 0), "looks_like_different": (0, 1), "ambiguous_unless_label": (1, 0),
          "ambiguous": (1, 1)}


def corner_points(mpd_val, mpd_train, L: float, corners: str = "theoretical") -> dict:
    """{group: (x, y)} corner coordinates."""
    if corners == "theoretical":
        (x0, x1), (y0, y1) = (0.0, float(L)), (0.0, float(L))
    elif corners == "observed":
        x0, x1 = float(np.nanmin(mpd_val)), float(np.nanmax(mpd_val))
        y0, y1 = float(np.nanmin(mpd_train)), float(np.nanmax(mpd_train))
    else:
        raise ValueError(f"corners must be 'theoretical' or 'observed', got {corners!r}")
    return {g: (x1 if a else x0, y1 if b else y0) for g, (a, b) in GROUPS.items()}


def corner_distances(mpd_val, mpd_train, L: float, corners: str = "theoretical") -> pd.DataFrame:
    """Distance of every example to each corner: columns dist_<group> (NaN if a mean is NaN)."""
    x, y = np.asarray(mpd_val, np.float64), np.asarray(mpd_train, np.float64)
    pts = corner_points(x, y, L, corners)
    return pd.DataFrame({f"dist_{g}": np.hypot(x - cx, y - cy) for g, (cx, cy) in pts.items()})


def corner_groups(mpd_val, mpd_train, L: float, n: int = 100, ids=None,
                  corners: str = "theoretical") -> pd.DataFrame:
    """The ``n`` examples closest to each corner (examples lacking either mean are skipped; equal
    distances: lower position first). Rows: group, rank, index (position in the inputs),
    example_id, distance, mpd_val, mpd_train. An example may be in several groups."""
    x, y = np.asarray(mpd_val, np.float64), np.asarray(mpd_train, np.float64)
    ids = np.arange(len(x)) if ids is None else np.asarray(ids)
    dist = corner_distances(x, y, L, corners)
    frames = []
    for g in GROUPS:
        d = dist[f"dist_{g}"].to_numpy()
        ok = np.flatnonzero(~np.isnan(d))
        sel = ok[np.argsort(d[ok], kind="stable")[:n]]
        frames.append(pd.DataFrame({"group": g, "rank": np.arange(len(sel)), "index": sel,
                                    "example_id": ids[sel], "distance": d[sel],
                                    "mpd_val": x[sel], "mpd_train": y[sel]}))
    return pd.concat(frames, ignore_index=True)
