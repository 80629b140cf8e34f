"""Fingerprinting an architecture from a few model-sensitive examples (spec 003 §3.11, Figure 1;
A9).

1. The example sensitivity lambda (:func:`pointwise.stats.bias.example_sensitivity`) is computed
   from the t-tests of all model pairs on the **selection (fitting) runs only** -- runs 1-20 of the
   two base models and all runs of the variants -- so the held-out runs never influence which
   examples are chosen (the "all runs" source is available by passing all runs as selection).
2. For each score s and each selection sigma in {top-k, bottom-k, random-k (T draws)}: one run
   gives one sample x_r = (S[r, i, s])_{i in sigma}, labelled by its model (A = 0, B = 1);
   unregularised logistic regression (:mod:`pointwise.stats.logistic`) is fit on the fitting runs
   of the two models and scored (accuracy) on their held-out runs.
Extension: ``concat=True`` adds the classifier on all scores' features together (score "all").
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .bias import example_sensitivity, pairwise_pvalues
from .logistic import fit_logistic
from .ttest import DEFAULT_FLOOR

COLUMNS = ["score", "selection", "draw", "n_examples", "train_acc", "test_acc"]


def classify_runs(fit_a, fit_b, test_a, test_b, **fit_kwargs) -> tuple[float, float]:
    """(train accuracy, test accuracy) of a logistic regression telling model A's runs (label 0)
    from model B's (label 1). Each argument: features [runs, d]."""
    x_fit = np.vstack([fit_a, fit_b])
    y_fit = np.r_[np.zeros(len(fit_a), np.int64), np.ones(len(fit_b), np.int64)]
    x_test = np.vstack([test_a, test_b])
    y_test = np.r_[np.zeros(len(test_a), np.int64), np.ones(len(test_b), np.int64)]
    model = fit_logistic(x_fit, y_fit, **fit_kwargs)
    return model.accuracy(x_fit, y_fit), model.accuracy(x_test, y_test)


def fingerprint_table(S_a, S_b, fit_a, test_a, fit_b, test_b, selections: Mapping[str, Sequence],
                      names: Sequence[str], concat: bool = False, **fit_kwargs) -> pd.DataFrame:
    """Accuracies of every (score, selection). S_a, S_b: [R, N, K] per-run scores of models A and
    B; fit_*/test_*: run indices; selections: name -> example indices, or a list of index arrays
    for repeated draws (e.g. random). Columns: :data:`COLUMNS`."""
    S_a, S_b = np.asarray(S_a, dtype=np.float64), np.asarray(S_b, dtype=np.float64)
    if S_a.ndim != 3 or S_a.shape[1:] != S_b.shape[1:] or S_a.shape[2] != len(names):
        raise ValueError(f"S_a {S_a.shape} and S_b {S_b.shape} must be [R, N, {len(names)}]")
    fit_a, test_a, fit_b, test_b = (np.asarray(v, dtype=np.int64) for v in (fit_a, test_a, fit_b, test_b))
    if np.intersect1d(fit_a, test_a).size or np.intersect1d(fit_b, test_b).size:
        raise ValueError("fitting and test runs overlap")
    rows = []
    for sel_name, sel in selections.items():
        draws = [np.asarray(sel, dtype=np.int64)] if np.ndim(sel[0]) == 0 else \
            [np.asarray(s, dtype=np.int64) for s in sel]
        for d, idx in enumerate(draws):
            feats = [(name, S_a[:, idx, j], S_b[:, idx, j]) for j, name in enumerate(names)]
            if concat:
                feats.append(("all", S_a[:, idx].reshape(len(S_a), -1),
                              S_b[:, idx].reshape(len(S_b), -1)))
            for name, fa, fb in feats:
                tr, te = classify_runs(fa[fit_a], fb[fit_b], fa[test_a], fb[test_b], **fit_kwargs)
                rows.append((name, sel_name, d, len(idx), tr, te))
    return pd.DataFrame(rows, columns=COLUMNS)


def random_selections(n: int, k: int, draws: int, seed: int = 0) -> list[np.ndarray]:
    """``draws`` sets of k distinct uniform random example indices (the random-k baseline;
    the same draws serve every score)."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(n, size=k, replace=False)) for _ in range(draws)]


def fingerprint(per_run: Mapping[str, np.ndarray], select_runs: Mapping[str, Sequence[int]],
                pair: tuple[str, str], test_runs: Mapping[str, Sequence[int]],
                names: Sequence[str], k: int = 8, n_random: int = 20, seed: int = 0,
                difficulty=None, equal_var: bool = False, floor: float | None = DEFAULT_FLOOR,
                concat: bool = False, **fit_kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Figure 1 end to end. per_run: model -> S [R, N, K] (difficulty orientation) for all
    models of the t-test scan; select_runs: model -> the selection runs (they also serve as the
    classifier's fitting runs for the two models of ``pair``); test_runs: the held-out runs of the
    two models of ``pair``. Returns (results table, example sensitivity table)."""
    sel = {m: np.asarray(per_run[m])[np.asarray(select_runs[m], dtype=np.int64)] for m in per_run}
    pv = pairwise_pvalues(sel, equal_var=equal_var, floor=floor)
    sens = example_sensitivity(pv["neglogp"], difficulty=difficulty, k=k)
    n = len(sens)
    selections = {"top": sens.index[sens["is_top"]].to_numpy(),
                  "bottom": sens.index[sens["is_bottom"]].to_numpy(),
                  "random": random_selections(n, k, n_random, seed)}
    a, b = pair
    table = fingerprint_table(per_run[a], per_run[b], select_runs[a], test_runs[a],
                              select_runs[b], test_runs[b], selections, names, concat=concat,
                              **fit_kwargs)
    return table, sens
