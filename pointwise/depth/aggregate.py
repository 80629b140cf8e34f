"""Per-run tables and per-example aggregates over runs (spec §3.3 "per-example means", §6.1).

A per-run table has one row per query of one run (from ``knn.h5``): example_id, split (code:
0 train, 1 held_out, 2 test), label, net_pred, correct, pd (NaN if undefined), knn_pred_0..L.
Analyses work on run x example matrices aligned to one id list: :func:`stack_runs` builds them
(NaN / -1 where an example is not a query of a run).

"Validation" occurrences (mPD_val, consistency scores) are the held-out *and* test occurrences
(codes 1 and 2): a SPLIT ensemble holds pool examples out, a FULL ensemble evaluates test
examples; an example is never both.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .consistency import ensemble_scores
from .prediction_depth import prediction_depth

TRAIN, HELD_OUT, TEST = 0, 1, 2
VAL_CODES = (HELD_OUT, TEST)


def run_table(knn: dict) -> pd.DataFrame:
    """The per-run table of one ``knn.h5`` (as returned by ``pointwise.probes.run_probes.read_knn``)."""
    kp = knn["knn_pred"]
    net = knn["net_pred"]
    pdv = prediction_depth(kp, net)
    df = pd.DataFrame({
        "example_id": knn["query_ids"], "split": knn["query_split"].astype(np.int8),
        "label": knn["labels"], "label_orig": knn.get("labels_orig", knn["labels"]),
        "net_pred": net.astype(np.int64), "correct": net == knn["labels"], "pd": pdv,
        "pd_defined": ~np.isnan(pdv),
    })
    for l in range(kp.shape[0]):
        df[f"knn_pred_{l}"] = kp[l].astype(np.int64)
    return df


def stack_runs(tables, column: str, ids=None, fill=np.nan) -> tuple[np.ndarray, np.ndarray]:
    """Matrix [R, n] of ``column`` from per-run tables, aligned to ``ids`` (default: the sorted
    union of their example ids); ``fill`` where an example is absent from a run."""
    if ids is None:
        ids = np.unique(np.concatenate([np.asarray(t["example_id"]) for t in tables]))
    ids = np.asarray(ids)
    order = np.argsort(ids)
    dtype = np.float64 if isinstance(fill, float) else np.asarray(tables[0][column]).dtype
    out = np.full((len(tables), len(ids)), fill, dtype=np.result_type(dtype, np.asarray(fill).dtype))
    for r, t in enumerate(tables):
        tid = np.asarray(t["example_id"])
        pos = np.searchsorted(ids[order], tid)
        pos = np.minimum(pos, len(ids) - 1)
        ok = ids[order][pos] == tid
        out[r, order[pos[ok]]] = np.asarray(t[column])[ok]
    return out, ids


def _mean_sd_count(values, mask):
    v = np.where(mask, values, np.nan)
    cnt = np.sum(mask & ~np.isnan(v), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.nansum(v, axis=0)
        mean = np.where(cnt > 0, s / np.maximum(cnt, 1), np.nan)
        var = np.where(cnt > 1, np.nansum((v - mean) ** 2, axis=0) / np.maximum(cnt - 1, 1), np.nan)
    return mean, np.sqrt(var), cnt


def mean_pd(pd_runs, split_runs, codes) -> dict:
    """mPD over the runs whose split code is in ``codes`` and PD is defined:
    {'mean', 'sd', 'n' (defined occurrences), 'n_occ' (all occurrences), 'n_undefined'}."""
    pdm = np.asarray(pd_runs, dtype=np.float64)
    occ = np.isin(np.asarray(split_runs), codes)
    mean, sd, n = _mean_sd_count(pdm, occ)
    n_occ = occ.sum(0)
    return {"mean": mean, "sd": sd, "n": n, "n_occ": n_occ, "n_undefined": n_occ - n}


def per_example(pd_runs, split_runs, ids, labels=None, net_pred_runs=None, num_classes=None,
                extra: dict | None = None, val_codes=VAL_CODES) -> pd.DataFrame:
    """Per-example aggregate table from run x example matrices (see :func:`stack_runs`):
    n_train, n_val, mpd_train, sd_train, mpd_val, sd_val, undefined counts; with ``labels``,
    ``net_pred_runs`` and ``num_classes`` also the held-out scores consistency, consensus, cstar,
    entropy (Eqs. 1-3) over the validation occurrences. ``extra``: name -> [R, n] matrices whose
    means over train and val occurrences are added as ``<name>_train`` / ``<name>_val``."""
    split_runs = np.asarray(split_runs)
    tr = mean_pd(pd_runs, split_runs, (TRAIN,))
    va = mean_pd(pd_runs, split_runs, tuple(val_codes))
    df = pd.DataFrame({
        "example_id": np.asarray(ids),
        "n_train": tr["n_occ"], "n_val": va["n_occ"],
        "mpd_train": tr["mean"], "sd_train": tr["sd"], "n_pd_undefined_train": tr["n_undefined"],
        "mpd_val": va["mean"], "sd_val": va["sd"], "n_pd_undefined_val": va["n_undefined"],
    })
    if labels is not None:
        df.insert(1, "label", np.asarray(labels))
    if net_pred_runs is not None and labels is not None and num_classes is not None:
        mask = np.isin(split_runs, val_codes)
        sc = ensemble_scores(net_pred_runs, labels, num_classes, mask)
        for key in ("consistency", "consensus", "cstar", "entropy"):
            df[key] = sc[key]
        df["accuracy_val"] = _mean_sd_count(
            (np.asarray(net_pred_runs) == np.asarray(labels)[None]).astype(float), mask)[0]
    for name, mat in (extra or {}).items():
        m = np.asarray(mat, dtype=np.float64)
        df[f"{name}_train"] = _mean_sd_count(m, split_runs == TRAIN)[0]
        df[f"{name}_val"] = _mean_sd_count(m, np.isin(split_runs, val_codes))[0]
    return df
