"""Rank and median-split stability vs the number of runs (spec 003 §3.7, Figure 3; Figure 5
right with PCA 1 as the score; A6, A11).

For n runs and repetition t: a random permutation of the R runs gives disjoint sets P = pi[:n]
and Q = pi[n:2n]; per-example means m^P, m^Q; ranks rho^P, rho^Q (ties averaged by default);
Delta_i = |rho^P_i - rho^Q_i| / N. Reported: median_i Delta ("median |rank change|"), the 95th
percentile of Delta (the paper's "95% confidence interval", A11), and the fraction of examples
whose side of the 50% threshold tau_i = 1[rho_i > (N+1)/2] differs between P and Q.
The same permutations are used for every score so the curves are comparable.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .ranks import rankdata

DEFAULT_N_RUNS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20)
COLUMNS = ["score", "n_runs", "rep", "median_abs_rank", "q95_abs_rank", "split_disagree"]


def rank_change(a, b, ties: str = "average", rng=None) -> np.ndarray:
    """Delta [N, ...] = |rank(a) - rank(b)| / N along axis 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n = a.shape[0]
    return np.abs(rankdata(a, 0, ties, rng) - rankdata(b, 0, ties, rng)) / n


def split_disagreement(a, b, ties: str = "average", rng=None) -> np.ndarray:
    """Fraction of examples on different sides of the median split (rank > (N+1)/2) under
    scores ``a`` and ``b`` (along axis 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    half = (a.shape[0] + 1) / 2
    ta = rankdata(a, 0, ties, rng) > half
    tb = rankdata(b, 0, ties, rng) > half
    return (ta != tb).mean(axis=0)


def _stats(ma, mb, ties, rng):
    ra, rb = rankdata(ma, 0, ties, rng), rankdata(mb, 0, ties, rng)
    n = ma.shape[0]
    delta = np.abs(ra - rb) / n
    half = (n + 1) / 2
    return (np.median(delta, axis=0), np.quantile(delta, 0.95, axis=0),
            ((ra > half) != (rb > half)).mean(axis=0))


def rank_stability(S, names: Sequence[str] | None = None,
                   n_runs: Sequence[int] = DEFAULT_N_RUNS, reps: int = 20, seed: int = 0,
                   ties: str = "average",
                   combine: Callable[[np.ndarray], np.ndarray] | None = None,
                   combine_name: str = "pca1") -> pd.DataFrame:
    """Figure 3 table: one row per (score, n, rep) with the columns of :data:`COLUMNS`.

    S: [R, N] (one score) or [R, N, K] (K scores named ``names``), difficulty orientation.
    n_runs: values of n, those above R // 2 dropped. combine: maps the [N, K] subset means to
    one [N] score (e.g. :func:`pointwise.stats.pca.pc1_combiner`), reported as ``combine_name``.
    ties: ``average`` or ``random``. Deterministic given ``seed``."""
    S = np.asarray(S, dtype=np.float64)
    if S.ndim == 2:
        S = S[:, :, None]
    if S.ndim != 3:
        raise ValueError(f"S must be [R, N] or [R, N, K], got shape {S.shape}")
    r_total, _, k = S.shape
    if combine is None:
        names = [f"score{j}" for j in range(k)] if names is None else list(names)
        if len(names) != k:
            raise ValueError(f"{len(names)} names for {k} scores")
    else:
        names = [combine_name]
    ns = [int(n) for n in n_runs if 1 <= n <= r_total // 2]
    if not ns:
        raise ValueError(f"no n in {list(n_runs)} fits twice into R = {r_total} runs")
    rng = np.random.default_rng(seed)
    rows = []
    for n in ns:
        for t in range(reps):
            perm = rng.permutation(r_total)
            mp, mq = S[perm[:n]].mean(axis=0), S[perm[n:2 * n]].mean(axis=0)   # [N, K]
            if combine is not None:
                mp, mq = np.asarray(combine(mp))[:, None], np.asarray(combine(mq))[:, None]
            med, q95, split = _stats(mp, mq, ties, rng)
            rows.extend((names[j], n, t, med[j], q95[j], split[j]) for j in range(len(names)))
    return pd.DataFrame(rows, columns=COLUMNS)


def summarize_stability(df: pd.DataFrame, band: tuple[float, float] = (0.025, 0.975)
                        ) -> pd.DataFrame:
    """Mean over repetitions and the ``band`` quantiles (spec §3.7 step 6) per (score, n_runs)."""
    metrics = ["median_abs_rank", "q95_abs_rank", "split_disagree"]
    g = df.groupby(["score", "n_runs"], sort=False)[metrics]
    out = g.mean()
    lo, hi = g.quantile(band[0]), g.quantile(band[1])
    for m in metrics:
        out[f"{m}_lo"] = lo[m]
        out[f"{m}_hi"] = hi[m]
    return out.reset_index()
