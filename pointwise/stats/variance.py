"""Per-run variance of scores by difficulty bin (spec 003 §3.6, Figure 2; A13).

For one score with per-run values S[r, i] (difficulty orientation):
1. m_i = mean_r S[r, i];
2. order the examples by m ascending (easy on the left; ties by index);
3. cut the order into consecutive bins (paper: 1000 examples = 50 bins for N = 50,000; scaled
   down: N/50 per bin);
4. pool V_b = {S[r, i] : i in b, all r};
5. centre line mean(V_b) (also the median), band [q_0.05, q_0.95] of V_b (the 90% interval),
   against the bin's cumulative rank ``rank_hi``;
plus the between-run spread mean_{i in b} sd_r(S[r, i]) and the between-example spread
sd_{i in b}(m_i) (both ddof=1) for the claims check.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

COLUMNS = ["bin", "rank_lo", "rank_hi", "n_examples", "center_mean", "center_median", "q05", "q95",
           "between_run_sd", "between_example_sd"]


def bin_edges(n: int, n_bins: int | None = None, bin_size: int | None = None) -> np.ndarray:
    """Bin boundaries [n_bins + 1] over 0..n: ``bin_size`` consecutive examples per bin (the last
    bin takes the remainder), or ``n_bins`` bins whose sizes differ by at most one."""
    if (n_bins is None) == (bin_size is None):
        raise ValueError("give exactly one of n_bins and bin_size")
    if bin_size is not None:
        if bin_size < 1:
            raise ValueError("bin_size must be >= 1")
        return np.unique(np.r_[np.arange(0, n, bin_size), n])
    if not 1 <= n_bins <= n:
        raise ValueError(f"n_bins must be in 1..{n}, got {n_bins}")
    return np.round(np.linspace(0, n, n_bins + 1)).astype(np.int64)


def variance_bins(S, n_bins: int | None = 50, bin_size: int | None = None,
                  band: tuple[float, float] = (0.05, 0.95)) -> pd.DataFrame:
    """Figure 2 statistics of one score. S: [R, N] per-run values (R >= 2), difficulty
    orientation. One row per bin with the columns of :data:`COLUMNS` (``q05``/``q95`` hold the
    ``band`` quantiles)."""
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] < 2:
        raise ValueError(f"S must be [runs >= 2, N], got shape {S.shape}")
    if bin_size is not None:
        n_bins = None
    m = S.mean(axis=0)
    order = np.lexsort((np.arange(len(m)), m))
    Ss, ms = S[:, order], m[order]
    run_sd = Ss.std(axis=0, ddof=1)
    edges = bin_edges(S.shape[1], n_bins, bin_size)
    rows = []
    for b, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        pool = Ss[:, lo:hi].ravel()
        q = np.quantile(pool, band)
        rows.append((b, lo + 1, hi, hi - lo, pool.mean(), np.median(pool), q[0], q[1],
                     run_sd[lo:hi].mean(),
                     ms[lo:hi].std(ddof=1) if hi - lo > 1 else np.nan))
    return pd.DataFrame(rows, columns=COLUMNS)


def variance_bins_table(S, names: Sequence[str], **kwargs) -> pd.DataFrame:
    """:func:`variance_bins` for every score of a cube S [R, N, K]; a ``score`` column first."""
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 3 or S.shape[2] != len(names):
        raise ValueError(f"S must be [R, N, {len(names)}], got shape {S.shape}")
    frames = [variance_bins(S[:, :, k], **kwargs).assign(score=name)
              for k, name in enumerate(names)]
    df = pd.concat(frames, ignore_index=True)
    return df[["score"] + COLUMNS]
