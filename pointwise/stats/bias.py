"""Inductive bias, GWAS style (spec 003 §3.10, Figure 6; A9, A10).

Examples are loci, architectures are phenotype groups: for every unordered pair of models
pi = (A, B), every score s and every example i, a two-sided unpaired t-test (Welch by default)
between {S[r, i, s]}_{r in A} and {S[r, i, s]}_{r in B}. l_{s,pi,i} = -ln P (natural log; ln P is
kept so that the base can be changed). Summaries:
- by score: lbar_{s,i} = mean_pi l_{s,pi,i} (Fig 6 left);
- by pair: mean_s l_{s,pi,i} (Fig 6 centre);
- the Bonferroni line -ln(alpha / m), alpha = 0.01, m = N tests per score and pair by default;
- capacity: per pair, geometric-mean P = exp(-mean_{s,i} l) vs the parameter-count ratio
  max/min (Fig 6 right), with the Spearman correlation of ratio and mean l;
- example sensitivity lambda_i = mean_{s,pi} l_{s,pi,i} (= -ln of the geometric-mean P); the
  top-k / bottom-k examples of Figure 1.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from .ranks import spearman
from .ttest import DEFAULT_FLOOR, ttest_logp


def model_pairs(models: Sequence[str]) -> list[tuple[str, str]]:
    """All unordered pairs in the given order (6 models -> 15 pairs)."""
    return list(combinations(list(models), 2))


def pair_label(pair: tuple[str, str]) -> str:
    return f"{pair[0]}-{pair[1]}"


def pairwise_pvalues(per_run: Mapping[str, np.ndarray], pairs: Sequence[tuple[str, str]] | None = None,
                     equal_var: bool = False, floor: float | None = DEFAULT_FLOOR) -> dict:
    """Per-example t-tests for every model pair. per_run: model -> S [R_model, N, K] (difficulty
    orientation, the runs to use -- the selection runs). Returns {"pairs": [(A, B)], "t": [P, K, N],
    "logp": [P, K, N] (ln P), "neglogp": -logp}; t > 0 where model A's mean is higher (harder)."""
    models = list(per_run)
    pairs = model_pairs(models) if pairs is None else [tuple(p) for p in pairs]
    arrays = {m: np.asarray(per_run[m], dtype=np.float64) for m in models}
    shapes = {a.shape[1:] for a in arrays.values()}
    if len(shapes) != 1:
        raise ValueError(f"models disagree on [N, K]: {sorted(shapes)}")
    ts, lps = [], []
    for a, b in pairs:
        t, lp = ttest_logp(arrays[a], arrays[b], axis=0, equal_var=equal_var, floor=floor)
        ts.append(t.T)
        lps.append(lp.T)
    logp = np.stack(lps)
    return {"pairs": pairs, "t": np.stack(ts), "logp": logp, "neglogp": -logp}


def bonferroni_threshold(alpha: float = 0.01, m: int = 1) -> float:
    """-ln(alpha / m): the Bonferroni-corrected significance line in -ln P units."""
    return float(-np.log(alpha / m))


def by_score(neglogp: np.ndarray, scores: Sequence[str], threshold: float) -> pd.DataFrame:
    """Fig 6 left summary: per score, the mean/median of lbar_{s,i} = mean over pairs, the
    fraction of examples with lbar above ``threshold`` and the fraction of single (pair, example)
    tests above it."""
    nl = np.asarray(neglogp)                  # [P, K, N]
    lbar = nl.mean(axis=0)                    # [K, N]
    return pd.DataFrame({"score": list(scores), "mean_neglogp": lbar.mean(axis=1),
                         "median_neglogp": np.median(lbar, axis=1),
                         "frac_examples_above": (lbar > threshold).mean(axis=1),
                         "frac_tests_above": (nl > threshold).mean(axis=(0, 2))})


def by_pair(neglogp: np.ndarray, pairs: Sequence[tuple[str, str]], threshold: float) -> pd.DataFrame:
    """Fig 6 centre summary: per pair, statistics of mean_s l_{s,pi,i} over examples."""
    nl = np.asarray(neglogp)
    per = nl.mean(axis=1)                     # [P, N]
    return pd.DataFrame({"pair": [pair_label(p) for p in pairs],
                         "model_a": [p[0] for p in pairs], "model_b": [p[1] for p in pairs],
                         "mean_neglogp": per.mean(axis=1), "median_neglogp": np.median(per, axis=1),
                         "frac_examples_above": (per > threshold).mean(axis=1),
                         "frac_tests_above": (nl > threshold).mean(axis=(1, 2))})


def param_ratio(n_a: int, n_b: int) -> float:
    """max / min of two parameter counts."""
    return float(max(n_a, n_b) / min(n_a, n_b))


def capacity(neglogp: np.ndarray, pairs: Sequence[tuple[str, str]],
             n_params: Mapping[str, int]) -> tuple[pd.DataFrame, float]:
    """Fig 6 right: (table pair, model_a, model_b, param_ratio, mean_neglogp, geomean_p;
    Spearman(param_ratio, mean_neglogp) over the pairs)."""
    mean_l = np.asarray(neglogp).mean(axis=(1, 2))
    ratio = np.array([param_ratio(n_params[a], n_params[b]) for a, b in pairs])
    df = pd.DataFrame({"pair": [pair_label(p) for p in pairs], "model_a": [p[0] for p in pairs],
                       "model_b": [p[1] for p in pairs], "param_ratio": ratio,
                       "mean_neglogp": mean_l, "geomean_p": np.exp(-mean_l)})
    rho = spearman(ratio, mean_l) if len(pairs) > 1 else float("nan")
    return df, rho


def example_sensitivity(neglogp: np.ndarray, difficulty=None, k: int = 8) -> pd.DataFrame:
    """lambda_i = mean_{pi,s} l_{s,pi,i} and the top-k / bottom-k selection [I]:
    top = largest lambda, bottom = smallest lambda; ties in either broken by lower mean
    ``difficulty`` (e.g. mean PC 1 or mean loss; optional), then by lower index.
    Columns: idx, lambda, rank (1 = most sensitive), is_top, is_bottom."""
    lam = np.asarray(neglogp, dtype=np.float64).mean(axis=(0, 1))
    n = lam.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n}, got {k}")
    idx = np.arange(n)
    diff = np.zeros(n) if difficulty is None else np.asarray(difficulty, dtype=np.float64)
    top_order = np.lexsort((idx, diff, -lam))
    bottom_order = np.lexsort((idx, diff, lam))
    rank = np.empty(n, dtype=np.int64)
    rank[top_order] = np.arange(1, n + 1)
    is_top = np.zeros(n, bool)
    is_top[top_order[:k]] = True
    is_bottom = np.zeros(n, bool)
    is_bottom[bottom_order[:k]] = True
    return pd.DataFrame({"idx": idx, "lambda": lam, "rank": rank, "is_top": is_top,
                         "is_bottom": is_bottom})
