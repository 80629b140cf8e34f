"""Spearman correlation matrices between scores (spec 003 §3.8, Figure 4; A7).

Scores in difficulty orientation; rho = Spearman, ties averaged. With S_a^{(r)} the run-r values
of per-run score a, S-bar_a their mean over the R runs (ensemble-only scores AGR/RET have only a
"mean"):
- left   L[a, b]  = rho(S-bar_a, S-bar_b)                                   (all K scores)
- centre Cn[a, b] = (1/R) sum_r rho(S-bar_a, S_b^{(r)}) - rho(S-bar_a, S-bar_b)
          rows: any score (mean); columns: per-run scores only (NaN for AGR/RET columns);
          diagonal = rho-bar(mean, run) - 1
- right  Rt[a, b] = (1/R) sum_r rho(S_a^{(r)}, S_b^{(r)}) - (1/R) sum_r rho(S-bar_a, S_b^{(r)})
          per-run scores only (NaN rows/columns for AGR/RET); diagonal = 1 - rho-bar(mean, run).
Implementation: standardised average ranks of every (run, score) and of the means; every rho is
then a mean of products (one einsum per matrix). ``loo=True`` uses the leave-one-out mean
S-bar^{(-r)} when it is paired with run r (centre and right); the default includes run r as the
paper's formula does.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .ranks import standardized_ranks


@dataclass
class CorrelationMatrices:
    names: list[str]
    mean_mean: np.ndarray        # L  [K, K]
    mean_run: np.ndarray         # (1/R) sum_r rho(S-bar_a, S_b^{(r)})  [K, K] (NaN cols for ensembles)
    run_run: np.ndarray          # (1/R) sum_r rho(S_a^{(r)}, S_b^{(r)}) [K, K] (NaN for ensembles)
    mean_run_delta: np.ndarray   # Cn
    run_run_delta: np.ndarray    # Rt

    def frames(self) -> dict[str, pd.DataFrame]:
        """The three figure matrices as labelled DataFrames (index = row score)."""
        mk = lambda a: pd.DataFrame(a, index=pd.Index(self.names, name="score"), columns=self.names)
        return {"mean_mean": mk(self.mean_mean), "mean_run_delta": mk(self.mean_run_delta),
                "run_run_delta": mk(self.run_run_delta)}


def correlation_matrices(per_run, names: Sequence[str], ensemble=None,
                         ensemble_names: Sequence[str] = (), loo: bool = False
                         ) -> CorrelationMatrices:
    """Figure 4 matrices. per_run: [R, N, Kr] per-run scores named ``names``; ensemble: [N, Ke]
    ensemble-only scores named ``ensemble_names`` (or None). Output order: names + ensemble_names."""
    S = np.asarray(per_run, dtype=np.float64)
    if S.ndim != 3 or S.shape[2] != len(names):
        raise ValueError(f"per_run must be [R, N, {len(names)}], got shape {S.shape}")
    r, n, kr = S.shape
    if ensemble is None:
        E = np.zeros((n, 0))
    else:
        E = np.asarray(ensemble, dtype=np.float64)
        E = E[:, None] if E.ndim == 1 else E
    if E.shape != (n, len(ensemble_names)):
        raise ValueError(f"ensemble must be [{n}, {len(ensemble_names)}], got shape {E.shape}")
    k = kr + E.shape[1]
    mean = S.mean(axis=0)
    z_mean = standardized_ranks(np.concatenate([mean, E], axis=1), axis=0)     # [N, K]
    z_run = standardized_ranks(S, axis=1)                                       # [R, N, Kr]
    L = np.einsum("na,nb->ab", z_mean, z_mean) / n
    if loo:
        if r < 2:
            raise ValueError("leave-one-out means need R >= 2")
        loo_mean = (S.sum(axis=0)[None] - S) / (r - 1)                         # [R, N, Kr]
        z_loo = standardized_ranks(loo_mean, axis=1)
        z_loo_all = np.concatenate(
            [z_loo, np.broadcast_to(z_mean[None, :, kr:], (r, n, k - kr))], axis=2)
        mr_runs = np.einsum("rna,rnb->ab", z_loo_all, z_run) / (n * r)          # [K, Kr]
    else:
        mr_runs = np.einsum("na,rnb->ab", z_mean, z_run) / (n * r)
    rr = np.einsum("rna,rnb->ab", z_run, z_run) / (n * r)                      # [Kr, Kr]
    mean_run = np.full((k, k), np.nan)
    mean_run[:, :kr] = mr_runs
    run_run = np.full((k, k), np.nan)
    run_run[:kr, :kr] = rr
    centre = mean_run - L
    right = np.full((k, k), np.nan)
    right[:kr, :kr] = rr - mr_runs[:kr]
    clip = lambda a: np.clip(a, -1.0, 1.0)
    return CorrelationMatrices(list(names) + list(ensemble_names), clip(L), clip(mean_run),
                               clip(run_run), centre, right)
