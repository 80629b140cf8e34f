"""Quantities against integer prediction depth (spec §3.5; Figs 4 right, 4 middle, 5 left, C.19-21).

Pooled over (run, example) occurrences selected by ``mask`` (e.g. held-out occurrences):
- mass(d) = #{PD = d} / #{PD defined}                     (marker size)
- acc(d)  = #{PD = d, f = y} / #{PD = d}                   (Fig 4 right)
- mean(d) = mean of a per-occurrence value over PD = d     (IL_resc: Fig 5 left; C*_-m0: Fig 4 mid)
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .consistency import leave_one_out


def _select(pd_runs, mask):
    p = np.asarray(pd_runs, dtype=np.float64)
    m = ~np.isnan(p)
    if mask is not None:
        m &= np.asarray(mask, dtype=bool)
    return p, m


def mean_by_depth(pd_runs, values, mask=None, L: int | None = None, name: str = "mean") -> pd.DataFrame:
    """Rows depth 0..L: count, mass and the mean (and sd) of ``values`` (same shape as pd_runs)
    over the selected occurrences at that depth. NaN values are left out of the mean only."""
    p, m = _select(pd_runs, mask)
    v = np.broadcast_to(np.asarray(values, dtype=np.float64), p.shape)
    d = p[m].astype(np.int64)
    vals = v[m]
    if L is None:
        L = int(d.max()) if d.size else 0
    if d.size and (d.min() < 0 or d.max() > L):
        raise ValueError(f"depths outside 0..{L}")
    count = np.bincount(d, minlength=L + 1)
    ok = ~np.isnan(vals)
    nv = np.bincount(d[ok], minlength=L + 1)
    s1 = np.bincount(d[ok], weights=vals[ok], minlength=L + 1)
    s2 = np.bincount(d[ok], weights=vals[ok] ** 2, minlength=L + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(nv > 0, s1 / np.maximum(nv, 1), np.nan)
        var = np.where(nv > 1, (s2 - nv * mean ** 2) / np.maximum(nv - 1, 1), np.nan)
    total = count.sum()
    return pd.DataFrame({"depth": np.arange(L + 1), "count": count,
                         "mass": count / total if total else np.zeros(L + 1),
                         name: mean, f"{name}_sd": np.sqrt(np.maximum(var, 0))})


def accuracy_by_depth(pd_runs, correct, mask=None, L: int | None = None) -> pd.DataFrame:
    """acc(d) and mass(d) (spec §3.5): rows depth, count, mass, accuracy (+ accuracy_sd)."""
    return mean_by_depth(pd_runs, np.asarray(correct, dtype=np.float64), mask, L, name="accuracy")


def loo_by_depth(pd_runs, preds, labels, num_classes: int, mask=None, L: int | None = None) -> pd.DataFrame:
    """Fig 4 middle and C.21 (spec §3.5): PD of x in a held-out model m0 against C* and entropy
    of the *other* models' predictions, rotating m0 over all M models and pooling.

    pd_runs, preds [M, n] (e.g. the FULL ensemble on the test set). Rows depth 0..L: count, mass,
    cstar, entropy (pooled means with their sd over occurrences) and cstar_between_sd /
    entropy_between_sd, the sd over m0 of the per-model means (the spread of single models)."""
    p = np.asarray(pd_runs, dtype=np.float64)
    loo = leave_one_out(preds, labels, num_classes, mask)
    c = mean_by_depth(p, loo["cstar"], mask, L, name="cstar")
    L = len(c) - 1
    e = mean_by_depth(p, loo["entropy"], mask, L, name="entropy")
    out = c.join(e[["entropy", "entropy_sd"]])
    for key in ("cstar", "entropy"):
        per = np.stack([mean_by_depth(p[m:m + 1], loo[key][m:m + 1],
                                      None if mask is None else np.asarray(mask)[m:m + 1], L,
                                      name=key)[key].to_numpy() for m in range(p.shape[0])])
        with warnings.catch_warnings():                    # depths no single model reaches
            warnings.simplefilter("ignore", RuntimeWarning)
            out[f"{key}_between_sd"] = np.nanstd(per, axis=0, ddof=1) if p.shape[0] > 1 else np.nan
    return out
