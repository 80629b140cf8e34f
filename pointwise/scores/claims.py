"""Paper 003's claims Q1-Q12 (spec 003 §6.3) measured on the workflow's analysis tables.

Each claim is one or more rows of ``claims/scores.csv`` (:mod:`pointwise.claims`): a statistic
computed from the tables, the spec's operational threshold, PASS/FAIL. Multi-part claims are
split into lettered rows (Q2a, Q2b, ...); the fingerprint claims are reported for both selection
sources (leak-free ``select_runs`` and ``all_runs``). Nothing is asserted: a FAIL is a finding.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pointwise.claims import Claim, write_claims
from pointwise.io import read_csv
from pointwise.provenance import provenance
from pointwise.stats import spearman

from .orientation import PER_RUN_SCORES

METRICS = ("median_abs_rank", "q95_abs_rank", "split_disagree")
Q5_PAIRS = (("loss", "acc"), ("forget", "cl"), ("grand20", "el2n20"))


def _matrix(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("score")


def _offdiag(m: pd.DataFrame) -> pd.Series:
    """Off-diagonal, non-NaN entries of a square labelled matrix, indexed by (row, column)."""
    vals = m.to_numpy(dtype=np.float64)
    keep = ~np.eye(len(m), m.shape[1], dtype=bool) & ~np.isnan(vals)
    r, c = np.nonzero(keep)
    return pd.Series(vals[r, c], index=pd.MultiIndex.from_arrays([m.index[r], m.columns[c]]))


def _curves(stab: pd.DataFrame) -> pd.DataFrame:
    """Mean over repetitions per (score, n_runs)."""
    return stab.groupby(["score", "n_runs"], sort=True)[list(METRICS)].mean().reset_index()


def _at_n(curves: pd.DataFrame, n: int) -> tuple[pd.DataFrame, int]:
    """Rows of ``curves`` at n (or the largest n available below it)."""
    avail = sorted(curves["n_runs"].unique())
    use = max([v for v in avail if v <= n], default=avail[0])
    return curves[curves["n_runs"] == use].set_index("score"), int(use)


def claims(t: Mapping[str, pd.DataFrame], s: Mapping) -> list[Claim]:
    """Claims from the tables ``t``: fig2, fig3, corr_mean_mean, corr_mean_run, corr_run_run,
    loadings, explained, pca1, by_score, by_pair, capacity, fig1, sensitivity, examples.
    ``s``: the ``papers.scores`` settings."""
    out: list[Claim] = []
    names = list(PER_RUN_SCORES)

    # ---- Q1 (H1): harder examples vary more between runs
    f2 = t["fig2"]
    rho_run = {sc: spearman(g["bin"], g["between_run_sd"]) for sc, g in f2.groupby("score", sort=False)}
    rho_ex = {sc: spearman(g["bin"], g["between_example_sd"].fillna(0)) for sc, g in f2.groupby("score", sort=False)}
    out.append(Claim("Q1a", "Harder examples vary more between runs (Fig 2)",
                     "number of the 8 scores with Spearman(bin difficulty rank, between-run sd) > 0",
                     ">= 6", sum(v > 0 for v in rho_run.values()),
                     "rho by score: " + ", ".join(f"{k} {v:+.2f}" for k, v in rho_run.items())
                     + f"; CL (the paper's exception) {rho_run.get('cl', np.nan):+.2f}"))
    out.append(Claim("Q1b", "Between-example spread rises with difficulty (Fig 2)",
                     "number of the 8 scores with Spearman(bin difficulty rank, between-example sd) > 0",
                     ">= 5", sum(v > 0 for v in rho_ex.values()),
                     ", ".join(f"{k} {v:+.2f}" for k, v in rho_ex.items())))

    # ---- Q2 (H2): rankings are unstable with few runs
    n = int(s["claim_n"])
    curves = _curves(t["fig3"])
    at, used = _at_n(curves, n)
    at = at.loc[[c for c in names if c in at.index]]
    note_n = f"read at n = {used}" + ("" if used == n else f" (n = {n} needs {2 * n} runs)")
    for cid, metric, thr, paper in (("Q2a", "median_abs_rank", 0.02, "3-10%"),
                                    ("Q2b", "q95_abs_rank", 0.08, "10-40%"),
                                    ("Q2c", "split_disagree", 0.03, "5-20%")):
        vals = at[metric]
        out.append(Claim(cid, f"Rankings are unstable with few runs: {metric} (Fig 3)",
                         f"number of the 8 scores with {metric} >= {thr} between two disjoint sets of n runs",
                         ">= 5", int((vals >= thr).sum()),
                         f"{note_n}; values {', '.join(f'{k} {v:.3f}' for k, v in vals.items())}; paper {paper}"))
    mono, slopes = [], []
    for sc, g in curves[curves["score"].isin(names)].groupby("score", sort=False):
        g = g.sort_values("n_runs")
        for m in METRICS:
            v = g[m].to_numpy()
            mono.append(bool(np.all(np.diff(v) <= 0)))
            if m == "median_abs_rank" and len(v) > 1 and (v > 0).all():
                slopes.append(np.polyfit(np.log(g["n_runs"]), np.log(v), 1)[0])
    out.append(Claim("Q2d", "All three stability measures fall with the number of runs (Fig 3)",
                     "fraction of the 24 curves (8 scores x 3 measures, mean over repetitions) that never rise with n",
                     ">= 1", float(np.mean(mono)) if mono else np.nan,
                     f"median log-log slope of median |rank change| vs n: "
                     f"{np.median(slopes):+.2f} (extension: about -0.5)" if slopes else ""))

    # ---- Q3 (H3): mean scores correlate
    mm = _matrix(t["corr_mean_mean"])
    off = _offdiag(mm)
    pairs = {tuple(sorted(k)): v for k, v in off.items()}
    lo_pair = min(pairs, key=pairs.get)
    by_score_min = {sc: min(v for k, v in pairs.items() if sc in k) for sc in mm.index}
    lowest = min(by_score_min, key=by_score_min.get)
    out.append(Claim("Q3a", "All mean scores correlate positively after orientation (Fig 4 left)",
                     "minimum off-diagonal Spearman rho between mean scores (10 x 10)",
                     "> 0", float(off.min()),
                     f"minimum at {lo_pair[0]}-{lo_pair[1]}; score with the lowest correlations: {lowest} "
                     f"(paper: AGR, rho > 0.6)"))
    out.append(Claim("Q3b", "Mean scores correlate strongly (Fig 4 left)",
                     "median off-diagonal Spearman rho between mean scores", ">= 0.6",
                     float(np.median(list(pairs.values())))))

    # ---- Q4 (H4): predicting runs from a mean lowers correlation
    cn = _offdiag(_matrix(t["corr_mean_run"]))
    out.append(Claim("Q4", "A mean score predicts single runs worse than another mean (Fig 4 centre)",
                     "maximum off-diagonal entry of the mean-run minus mean-mean matrix", "< 0",
                     float(cn.max()), f"{int((cn < 0).sum())} of {len(cn)} entries negative"))

    # ---- Q5 (H5): related pairs correlate better within a run
    rt = _matrix(t["corr_run_run"])
    rt_off = _offdiag(rt)
    q75 = float(np.quantile(rt_off.to_numpy(), 0.75))
    ok = [(a, b, float(rt.loc[a, b])) for a, b in Q5_PAIRS]
    out.append(Claim("Q5", "Related pairs correlate better within a run (Fig 4 right)",
                     "number of (loss, acc), (forget, cl), (grand20, el2n20) whose run-run minus mean-run "
                     "entry is positive or in the top quartile of the matrix",
                     ">= 3", sum(v > 0 or v >= q75 for _, _, v in ok),
                     ", ".join(f"{a}-{b} {v:+.3f}" for a, b, v in ok) + f"; top quartile from {q75:+.3f}"))

    # ---- Q6 (H6): one difficulty direction
    ld = t["loadings"].set_index("score")
    ex = t["explained"]
    w1 = ld["PC1"].to_numpy()
    k = len(w1)
    out.append(Claim("Q6a", "PC 1 of the quantile-normal mean scores dominates (Fig 5 left)",
                     "explained-variance ratio of PC 1", "> 0.5", float(ex["ratio"].iloc[0]), "paper: about 0.85"))
    out.append(Claim("Q6b", "PC 1 weights every score with the same sign (Fig 5 left)",
                     "fraction of PC 1 loadings with the sign of their sum", ">= 1",
                     float(np.mean(np.sign(w1) == np.sign(w1.sum())))))
    dev = np.abs(np.log2(np.abs(w1) * np.sqrt(k)))
    out.append(Claim("Q6c", "PC 1 weights the scores almost equally (Fig 5 left)",
                     "max over scores of |log2(|loading| * sqrt(K))| (within [0.5, 2] x 1/sqrt(K) <=> <= 1)",
                     "<= 1", float(dev.max()),
                     "loadings: " + ", ".join(f"{n} {v:+.2f}" for n, v in zip(ld.index, w1))))
    n6 = min(6, len(ex))
    dominant = [f"PC{j + 1}: {ld[f'PC{j + 1}'].abs().idxmax()}" for j in range(1, n6)]
    out.append(Claim("Q6d", "Six PCs hold nearly all the variance (Fig 5 left)",
                     "cumulative explained-variance ratio of PCs 1-6", ">= 0.95",
                     float(ex["cumulative"].iloc[n6 - 1]),
                     "largest loading of " + "; ".join(dominant) + " (paper: AGR, RET, FORGET, VOG)"))

    # ---- Q7 (H7): PCA 1 as a score is not markedly more stable
    p_at, _ = _at_n(_curves(t["pca1"]), n)
    mean8 = at[list(METRICS)].mean()
    rel = {m: float(p_at[m].iloc[0] / mean8[m] - 1) for m in METRICS}
    out.append(Claim("Q7", "PCA 1 as a score is not markedly more stable than single scores (Fig 5 right)",
                     "max over the 3 measures of |PCA-1 value / mean of the 8 single-score values - 1| at n",
                     "<= 0.25", max(abs(v) for v in rel.values()),
                     f"{note_n}; relative differences " + ", ".join(f"{m} {v:+.2f}" for m, v in rel.items())))

    # ---- Q8 (H8): significance by score
    bs = t["by_score"].set_index("score")
    out.append(Claim("Q8a", "Architectures change difficulty significantly for some examples (Fig 6)",
                     "fraction of (score, pair, example) tests above the Bonferroni line",
                     "> 0", float((bs["frac_tests_above"]).mean()),
                     f"line at -ln P = {float(bs['threshold'].iloc[0]):.2f}"))
    order = bs["mean_neglogp"].sort_values(ascending=False)
    out.append(Claim("Q8b", "AREA UNDER MARGIN is the most significant score (Fig 6 left)",
                     "rank of aum among the 8 scores by mean -ln P (1 = highest)", "<= 2",
                     int(list(order.index).index("aum")) + 1,
                     "order: " + ", ".join(f"{k} {v:.2f}" for k, v in order.items())))
    out.append(Claim("Q8c", "LOSS and ACCURACY are less significant than AUM (Fig 6 left)",
                     "max(mean -ln P of loss, acc) - mean -ln P of aum", "< 0",
                     float(max(bs.loc["loss", "mean_neglogp"], bs.loc["acc", "mean_neglogp"])
                           - bs.loc["aum", "mean_neglogp"])))

    # ---- Q9 (H8): big changes are more significant
    bp = t["by_pair"].set_index("pair")
    cross = bp[bp["cross_family"]]["mean_neglogp"].mean()
    within = bp[~bp["cross_family"]]["mean_neglogp"].mean()
    out.append(Claim("Q9a", "Cross-family pairs (ResNet x VGG) differ more than within-family pairs (Fig 6 centre)",
                     "mean -ln P over cross-family pairs - over within-family pairs", "> 0",
                     float(cross - within), f"cross {cross:.2f}, within {within:.2f}"))
    large, small = s["compare_pairs"]["large"], s["compare_pairs"]["small"]

    def pair_value(p):
        for lab in (f"{p[0]}-{p[1]}", f"{p[1]}-{p[0]}"):
            if lab in bp.index:
                return float(bp.loc[lab, "mean_neglogp"])
        raise KeyError(f"pair {p} not in the Fig 6 table")
    out.append(Claim("Q9b", "A big architectural change is more significant than a small one (Fig 6 centre)",
                     f"mean -ln P of {large[0]}-{large[1]} minus {small[0]}-{small[1]}", "> 0",
                     pair_value(large) - pair_value(small)))

    # ---- Q10 (H8): weak dependence on parameter ratio (descriptive)
    cap = t["capacity"]
    rho = spearman(cap["param_ratio"], cap["mean_neglogp"])
    med = cap["mean_neglogp"].median()
    similar = cap[(cap["param_ratio"] < 2) & (cap["mean_neglogp"] > med)]
    out.append(Claim("Q10a", "Significance rises weakly with the parameter-count ratio (Fig 6 right)",
                     "Spearman(param ratio, mean -ln P) over the model pairs", "> 0", rho,
                     "descriptive (paper: weakly positive)"))
    out.append(Claim("Q10b", "Some similarly sized pairs are very significant (Fig 6 right)",
                     "number of pairs with parameter ratio < 2 above the median significance", ">= 1",
                     len(similar), ", ".join(similar["pair"]) or "none",))

    # ---- Q11 (H9): fingerprinting
    f1 = t["fig1"]
    for source, suffix in (("select_runs", ""), ("all_runs", " [all runs]")):
        g = f1[(f1["selection_source"] == source) & f1["score"].isin(names)]
        acc = g.groupby(["selection", "score"])["test_acc"].mean().unstack(0)
        note = f"selection from {source}" + (" (leak-free)" if source == "select_runs" else " (held-out runs included)")
        out.append(Claim(f"Q11a{suffix}", "The top-k examples fingerprint the architecture (Fig 1 right)",
                         "number of the 8 scores with held-out accuracy of the top-k classifier >= 0.9",
                         ">= 5", int((acc["top"] >= 0.9).sum()),
                         note + "; top-k: " + ", ".join(f"{k} {v:.2f}" for k, v in acc["top"].items())))
        out.append(Claim(f"Q11b{suffix}", "Top-k beats random-k (Fig 1 right)",
                         "number of the 8 scores where top-k accuracy exceeds the mean over random-k draws",
                         ">= 6", int((acc["top"] > acc["random"]).sum()),
                         note + "; random-k: " + ", ".join(f"{k} {v:.2f}" for k, v in acc["random"].items())))
        out.append(Claim(f"Q11c{suffix}", "Bottom-k does no better than chance (Fig 1 right)",
                         "mean over the 8 scores of the bottom-k held-out accuracy", "<= 0.7",
                         float(acc["bottom"].mean()), note + "; chance 0.5"))

    # ---- Q12 (H9): the top examples are harder
    sens = t["sensitivity"]
    exm = t["examples"].set_index("id")
    top_ids, bot_ids = sens.loc[sens["is_top"], "id"], sens.loc[sens["is_bottom"], "id"]
    d_pc1 = exm.loc[top_ids, "pc1"].mean() - exm.loc[bot_ids, "pc1"].mean()
    d_loss = exm.loc[top_ids, "loss"].mean() - exm.loc[bot_ids, "loss"].mean()
    out.append(Claim("Q12", "The most model-sensitive examples are harder than the least (Fig 1 left)",
                     "mean PC 1 difficulty of the top-k minus the bottom-k examples", "> 0", float(d_pc1),
                     f"mean loss difference {d_loss:+.3f}"))
    return out


TABLE_KEYS = ("fig2", "fig3", "corr_mean_mean", "corr_mean_run", "corr_run_run", "loadings",
              "explained", "pca1", "by_score", "by_pair", "capacity", "fig1", "sensitivity", "examples")


def write_scores_claims(tables: Mapping[str, str], out: str, s: Mapping,
                        config: Mapping | None = None) -> pd.DataFrame:
    """Read the analysis tables (``tables``: key of :data:`TABLE_KEYS` -> CSV path) and write
    ``claims/scores.csv``."""
    missing = [k for k in TABLE_KEYS if k not in tables]
    if missing:
        raise KeyError(f"claims need the tables {missing}")
    t = {k: read_csv(tables[k]) for k in TABLE_KEYS}
    return write_claims(claims(t, s), out, provenance(config, inputs=[tables[k] for k in TABLE_KEYS]))
