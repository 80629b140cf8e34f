"""ER through fine-tuning: per-checkpoint ER of several runs, binned over ID accuracy, max ER and
its two error-bar variants (paper 001 §5, App. B.5, Figs. 4a, 6, 7; spec §3.4–3.5).

Inputs are per-run sequences of accuracies at each evaluated checkpoint: either a 2-D array
[runs, eval points] or a list of 1-D arrays (runs may have different numbers of eval points).

Conventions (the paper is silent; spec §3.4–3.5):

* Runs are pooled, then ``scipy.stats.binned_statistic`` with 100 equal-width bins over
  [min x, max x] of the pooled ID accuracies gives per-bin mean, std (population std, ddof = 0,
  as scipy computes it) and count. Empty bins are dropped.
* Epoch 0 (the untrained head) is excluded from the pooled points when ``epochs`` are given and
  ``exclude_epoch0`` is true; without ``epochs`` every point is used.
* Max ER = the largest binned mean among bins with count ≥ ``min_count``. The default
  ``min_count=None`` means min(2, number of runs): 2 for multi-run configurations (spec's
  recommendation), 1 for single-run ones (the paper's difficulty and random-init BiT runs).
  If no bin qualifies, :func:`summarize_runs` falls back to all non-empty bins and says so
  (``min_count_used``).
* Error bars: ``max_std_all_bins`` = the largest per-bin std over all non-empty bins (Fig. 7a,
  the paper's reported "conservative" bar); ``std_at_max_bin`` = the std in the max-ER bin (Fig. 7b).
* Also a per-run statistic the paper does not use: each run's own max ER, mean ± std (ddof = 0).
"""
from __future__ import annotations


import numpy as np
import pandas as pd
from scipy.stats import binned_statistic

from .fit import LinearFit, effective_robustness


def _as_runs(a, name: str) -> list[np.ndarray]:
    if isinstance(a, np.ndarray) and a.ndim == 1:
        a = [a]
    runs = [np.asarray(r, dtype=np.float64).ravel() for r in a]
    if not runs:
        raise ValueError(f"{name}: no runs given")
    return runs


def _aligned(acc_id_runs, acc_ood_runs, epochs_runs=None):
    ids, oods = _as_runs(acc_id_runs, "acc_id"), _as_runs(acc_ood_runs, "acc_ood")
    if len(ids) != len(oods):
        raise ValueError(f"{len(ids)} runs of ID accuracies but {len(oods)} of OOD accuracies")
    eps = None if epochs_runs is None else _as_runs(epochs_runs, "epochs")
    if eps is not None and len(eps) != len(ids):
        raise ValueError(f"{len(ids)} runs of accuracies but {len(eps)} of epochs")
    for r, (x, y) in enumerate(zip(ids, oods)):
        if x.shape != y.shape or (eps is not None and eps[r].shape != x.shape):
            raise ValueError(f"run {r}: ID, OOD (and epoch) arrays differ in length")
    return ids, oods, eps


def run_er(acc_id_runs, acc_ood_runs, fit: LinearFit) -> list[np.ndarray]:
    """ρ_{r,e} = y_{r,e} − β(x_{r,e}) for every run r and checkpoint e (spec §3.4)."""
    ids, oods, _ = _aligned(acc_id_runs, acc_ood_runs)
    return [effective_robustness(x, y, fit) for x, y in zip(ids, oods)]


def pool_runs(acc_id_runs, acc_ood_runs, fit: LinearFit, epochs_runs=None,
              exclude_epoch0: bool = True) -> pd.DataFrame:
    """All (run, eval index, epoch, acc_id, acc_ood, er) points of a configuration, pooled.

    With ``epochs_runs`` and ``exclude_epoch0``, points at epoch 0 are dropped.
    """
    ids, oods, eps = _aligned(acc_id_runs, acc_ood_runs, epochs_runs)
    frames = []
    for r, (x, y) in enumerate(zip(ids, oods)):
        ep = eps[r] if eps is not None else np.full(x.shape, np.nan)
        df = pd.DataFrame({"run": r, "eval_index": np.arange(x.size), "epoch": ep,
                           "acc_id": x, "acc_ood": y, "er": effective_robustness(x, y, fit)})
        if eps is not None and exclude_epoch0:
            df = df[df["epoch"] > 0]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def binned_statistics(x, y, bins: int = 100, range: tuple[float, float] | None = None,
                      drop_empty: bool = True) -> pd.DataFrame:
    """Binned mean/std/count of ``y`` over ``x`` (``scipy.stats.binned_statistic``; App. B.5).

    Columns: bin_lo, bin_hi, centre, mean, std, count. ``range`` defaults to [min x, max x].
    Non-finite points are ignored.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError("x and y differ in length")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        return pd.DataFrame(columns=["bin_lo", "bin_hi", "centre", "mean", "std", "count"])
    stats = {}
    for stat in ("mean", "std", "count"):
        res = binned_statistic(x, y, statistic=stat, bins=bins, range=range)
        stats[stat] = res.statistic
    edges = res.bin_edges
    df = pd.DataFrame({"bin_lo": edges[:-1], "bin_hi": edges[1:],
                       "centre": 0.5 * (edges[:-1] + edges[1:]), "mean": stats["mean"],
                       "std": stats["std"], "count": stats["count"].astype(np.int64)})
    if drop_empty:
        df = df[df["count"] > 0].reset_index(drop=True)
    return df


def binned_er(acc_id_runs, acc_ood_runs, fit: LinearFit, bins: int = 100,
              range: tuple[float, float] | None = None, epochs_runs=None,
              exclude_epoch0: bool = True) -> pd.DataFrame:
    """Binned ER curve of a configuration: pooled (acc_id, ER) points, 100 bins (Figs. 3, 6)."""
    pts = pool_runs(acc_id_runs, acc_ood_runs, fit, epochs_runs, exclude_epoch0)
    return binned_statistics(pts["acc_id"], pts["er"], bins=bins, range=range)


def max_er(binned: pd.DataFrame, min_count: int = 2, fallback: bool = False) -> dict:
    """Max ER of a binned curve and both error-bar variants (Fig. 4a / Fig. 7a,b).

    Returns max_binned, centre_at_max, bin_lo_at_max, bin_hi_at_max, count_at_max,
    std_at_max_bin, max_std_all_bins, min_count, min_count_used, n_bins (non-empty),
    n_bins_eligible. When no bin has count ≥ min_count, ``max_binned`` is NaN — or, with
    ``fallback``, taken over all non-empty bins (then ``min_count_used`` = 1).
    """
    b = binned[binned["count"] > 0]
    elig = b[b["count"] >= min_count]
    used = int(min_count)
    if len(elig) == 0 and fallback:
        elig, used = b, 1
    out = {"min_count": int(min_count), "min_count_used": used, "n_bins": int(len(b)),
           "n_bins_eligible": int(len(elig)),
           "max_std_all_bins": float(b["std"].max()) if len(b) else np.nan}
    if len(elig) == 0:
        out.update(max_binned=np.nan, centre_at_max=np.nan, bin_lo_at_max=np.nan,
                   bin_hi_at_max=np.nan, count_at_max=0, std_at_max_bin=np.nan)
        return out
    row = elig.loc[elig["mean"].idxmax()]
    out.update(max_binned=float(row["mean"]), centre_at_max=float(row["centre"]),
               bin_lo_at_max=float(row["bin_lo"]), bin_hi_at_max=float(row["bin_hi"]),
               count_at_max=int(row["count"]), std_at_max_bin=float(row["std"]))
    return out


def summarize_runs(acc_id_runs, acc_ood_runs, fit: LinearFit, epochs_runs=None, bins: int = 100,
                   range: tuple[float, float] | None = None, min_count: int | None = None,
                   exclude_epoch0: bool = True, fallback: bool = True) -> tuple[pd.DataFrame, dict]:
    """Binned ER curve plus one summary row (``max_er.csv``) for a configuration of runs.

    ``fallback``: if no bin reaches ``min_count`` (sparse, e.g. tiny CI runs), take the max over
    all non-empty bins and record ``min_count_used`` = 1 (see :func:`max_er`).

    The summary holds :func:`max_er`'s keys and: n_runs; per_run_max_mean / per_run_max_std
    (each run's own max ER over its eligible checkpoints); per_run_argmax_epoch and
    per_run_argmax_acc_id (lists, one per run; epoch is NaN without ``epochs_runs``);
    final_er_mean / final_er_std (ER at each run's last checkpoint).
    """
    pts = pool_runs(acc_id_runs, acc_ood_runs, fit, epochs_runs, exclude_epoch0)
    n_runs = len(_as_runs(acc_id_runs, "acc_id"))
    binned = binned_statistics(pts["acc_id"], pts["er"], bins=bins, range=range)
    mc = min(2, n_runs) if min_count is None else int(min_count)
    summary = {"n_runs": n_runs, **max_er(binned, mc, fallback)}
    per_run = []
    for r, g in pts.groupby("run", sort=True):
        i = g["er"].to_numpy()
        if i.size == 0 or not np.isfinite(i).any():
            continue
        k = int(np.nanargmax(i))
        per_run.append((float(i[k]), float(g["epoch"].iloc[k]), float(g["acc_id"].iloc[k])))
    per_max = np.array([p[0] for p in per_run])
    summary.update(
        per_run_max_mean=float(per_max.mean()) if per_max.size else np.nan,
        per_run_max_std=float(per_max.std()) if per_max.size else np.nan,
        per_run_argmax_epoch=[p[1] for p in per_run],
        per_run_argmax_acc_id=[p[2] for p in per_run])
    final = np.array([e[-1] for e in run_er(acc_id_runs, acc_ood_runs, fit) if e.size])
    summary.update(final_er_mean=float(final.mean()) if final.size else np.nan,
                   final_er_std=float(final.std()) if final.size else np.nan)
    return binned, summary
