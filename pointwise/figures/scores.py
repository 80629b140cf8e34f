"""Figures of paper 003 (Kwok et al. 2024; spec 003 §2), one function per figure, each reading the
analysis tables of :mod:`pointwise.scores.analyses` and returning a matplotlib Figure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pointwise.data.image_table import decode_pixels
from pointwise.scores.orientation import PER_RUN_SCORES, SCORES

METRICS = (("median_abs_rank", "median |rank change| / N"),
           ("q95_abs_rank", "95th percentile |rank change| / N"),
           ("split_disagree", "median-split disagreement"))
SELECTION_COLORS = {"top": "#c0392b", "random": "#7f8c8d", "bottom": "#2c7fb8"}


# the paper's short names; GRAND/EL2N are taken at epoch G (20 of 160 in the paper)
SHORT = {"loss": "LOSS", "acc": "ACC", "aum": "AUM", "forget": "FORGET", "cl": "CL",
         "grand20": "GRAND (ep G)", "el2n20": "EL2N (ep G)", "vog": "VOG", "agr": "AGR", "ret": "RET"}


def _label(key: str) -> str:
    return SHORT.get(key, SCORES[key].label if key in SCORES else key.upper())


def _score_colors(names):
    cmap = plt.get_cmap("tab10")
    return {n: cmap(i % 10) for i, n in enumerate(names)}


def fig1_fingerprint(results: pd.DataFrame, examples: pd.DataFrame):
    """Figure 1. Left: the top-k and bottom-k examples by sensitivity to inductive bias (mean
    -ln P over scores and model pairs, annotated). Right: held-out accuracy of the per-score
    logistic classifiers of the two base architectures from the top-k, random-k (mean and sd over
    draws) and bottom-k examples; filled bars = leak-free selection (selection runs only),
    markers = selection on all runs."""
    top = examples[examples["group"] == "top"]
    bottom = examples[examples["group"] == "bottom"]
    k = max(len(top), len(bottom), 1)
    ncol = min(k, 4)
    nrow = int(np.ceil(k / ncol))
    fig = plt.figure(figsize=(13, 0.9 + 1.15 * 2 * nrow))
    outer = fig.add_gridspec(1, 2, width_ratios=[1.0, 1.6], wspace=0.15)
    left = outer[0].subgridspec(2 * nrow, ncol, hspace=0.55, wspace=0.1)
    for g, (name, sub) in enumerate((("top", top), ("bottom", bottom))):
        for j, (_, r) in enumerate(sub.iterrows()):
            ax = fig.add_subplot(left[g * nrow + j // ncol, j % ncol])
            img = decode_pixels(r)
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_title(f"{r['lambda']:.1f} (y={int(r['label'])})", fontsize=7)
            if j == 0:
                ax.set_ylabel(f"{name} {len(sub)}", fontsize=8, color=SELECTION_COLORS[name])
    ax = fig.add_subplot(outer[1])
    src = results[results["selection_source"] == "select_runs"]
    alls = results[results["selection_source"] == "all_runs"]
    scores = [s for s in PER_RUN_SCORES if s in set(results["score"])]
    x = np.arange(len(scores))
    width = 0.26
    for i, sel in enumerate(("top", "random", "bottom")):
        g = src[src["selection"] == sel].groupby("score")["test_acc"]
        mean, sd = g.mean().reindex(scores), g.std().reindex(scores).fillna(0)
        ax.bar(x + (i - 1) * width, mean, width, yerr=sd if sel == "random" else None,
               color=SELECTION_COLORS[sel], label=f"{sel}", capsize=2)
        ga = alls[alls["selection"] == sel].groupby("score")["test_acc"].mean().reindex(scores)
        ax.plot(x + (i - 1) * width, ga, "k_", ms=9, mew=1.5,
                label="selection on all runs" if i == 0 else None)
    ax.axhline(0.5, color="k", ls=":", lw=1)
    ax.set_xticks(x, [_label(s) for s in scores], rotation=35, ha="right", fontsize=8)
    ax.set(ylim=(0, 1.05), ylabel="held-out accuracy (architecture)",
           title="fingerprinting from k examples")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def fig2_variance(bins: pd.DataFrame):
    """Figure 2: per-run score values by difficulty bin (easy left), raw units: the bin mean and
    the 90% interval of all examples x runs in the bin."""
    scores = [s for s in PER_RUN_SCORES if s in set(bins["score"])]
    fig, axes = plt.subplots(2, 4, figsize=(14, 6), squeeze=False)
    for ax, sc in zip(axes.ravel(), scores):
        g = bins[bins["score"] == sc].sort_values("bin")
        sign = float(g["sign"].iloc[0])
        centre = sign * g["center_mean"]
        lo = np.minimum(sign * g["q05"], sign * g["q95"])
        hi = np.maximum(sign * g["q05"], sign * g["q95"])
        ax.fill_between(g["rank_hi"], lo, hi, alpha=0.3, lw=0)
        ax.plot(g["rank_hi"], centre, lw=1.5)
        ax.set_title(_label(sc), fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(scores):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("rank of the mean score (easy -> hard)")
    fig.tight_layout()
    return fig


def _stability_panels(axes, stab: pd.DataFrame, names, colors, lw=1.2, ls="-", band=True):
    for ax, (m, lab) in zip(axes, METRICS):
        for sc in names:
            g = stab[stab["score"] == sc].groupby("n_runs")[m]
            mean, lo, hi = g.mean(), g.quantile(0.025), g.quantile(0.975)
            ax.plot(mean.index, mean, ls, color=colors[sc], lw=lw, label=_label(sc), marker=".")
            if band:
                ax.fill_between(mean.index, lo, hi, color=colors[sc], alpha=0.12, lw=0)
        ax.set(xlabel="runs per set n", ylabel=lab)
        ax.grid(alpha=0.3)


def fig3_rank_stability(stab: pd.DataFrame):
    """Figure 3: median and 95th-percentile |rank change| and median-split disagreement between
    two disjoint sets of n runs, against n (mean and 2.5-97.5% band over repetitions)."""
    names = [s for s in PER_RUN_SCORES if s in set(stab["score"])]
    colors = _score_colors(names)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    _stability_panels(axes, stab, names, colors)
    axes[-1].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def _heatmap(ax, m: pd.DataFrame, title, vmin, vmax, cmap):
    vals = m.to_numpy(dtype=np.float64)
    im = ax.imshow(np.ma.masked_invalid(vals), vmin=vmin, vmax=vmax, cmap=cmap)
    labels = [_label(s) for s in m.columns]
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(m.index)), [_label(s) for s in m.index], fontsize=7)
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            if np.isfinite(vals[i, j]):
                ax.text(j, i, f"{vals[i, j]:.2f}", ha="center", va="center", fontsize=5.5)
    ax.set_title(title, fontsize=9)
    return im


def fig4_correlations(mean_mean: pd.DataFrame, mean_run: pd.DataFrame, run_run: pd.DataFrame):
    """Figure 4: Spearman correlations between scores (difficulty orientation). Left:
    mean-mean; centre: mean-run minus mean-mean; right: run-run minus mean-run (same run)."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.4))
    mats = [m.set_index("score") for m in (mean_mean, mean_run, run_run)]
    im = _heatmap(axes[0], mats[0], "Corr(mean X, mean Y)", -1, 1, "RdBu_r")
    fig.colorbar(im, ax=axes[0], shrink=0.7)
    lim = np.nanmax(np.abs(np.concatenate([mats[1].to_numpy(float).ravel(), mats[2].to_numpy(float).ravel()])))
    lim = float(lim) if np.isfinite(lim) and lim > 0 else 1.0
    im = _heatmap(axes[1], mats[1], "E_Y Corr(mean X, Y) - Corr(mean X, mean Y)", -lim, lim, "RdBu_r")
    fig.colorbar(im, ax=axes[1], shrink=0.7)
    im = _heatmap(axes[2], mats[2], "E Corr(X, Y) - E_Y Corr(mean X, Y), same run", -lim, lim, "RdBu_r")
    fig.colorbar(im, ax=axes[2], shrink=0.7)
    fig.tight_layout()
    return fig


def fig5_pca(loadings: pd.DataFrame, explained: pd.DataFrame, pca1_stab: pd.DataFrame,
             single_stab: pd.DataFrame, n_pcs: int = 6):
    """Figure 5. Left top: loadings of the top PCs of the quantile-normal mean scores; left
    bottom: explained-variance ratio of every component (stacked); right: the Figure 3 measures
    of PCA 1 as a score against the mean of the 8 single-score curves."""
    fig = plt.figure(figsize=(15, 6.5))
    gs = fig.add_gridspec(2, 4, height_ratios=[3, 1], width_ratios=[1.3, 1, 1, 1], hspace=0.45,
                          wspace=0.38)
    ld = loadings.set_index("score")
    pcs = list(ld.columns[:n_pcs])
    ax = fig.add_subplot(gs[0, 0])
    im = _heatmap(ax, ld[pcs], "loadings", -1, 1, "RdBu_r")
    ax.set_xticks(range(len(pcs)), [f"{p}\n{r:.0%}" for p, r in zip(pcs, explained["ratio"])],
                  rotation=0, fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.7)
    ax = fig.add_subplot(gs[1, 0])
    left = 0.0
    cmap = plt.get_cmap("viridis")
    for j, (comp, r) in enumerate(zip(explained["component"], explained["ratio"])):
        ax.barh([0], [r], left=left, color=cmap(j / max(len(explained) - 1, 1)), edgecolor="w")
        if r > 0.04:
            ax.text(left + r / 2, 0, comp, ha="center", va="center", fontsize=6, color="w")
        left += r
    ax.set(xlim=(0, 1), yticks=[], xlabel="explained variance ratio")
    names = [s for s in PER_RUN_SCORES if s in set(single_stab["score"])]
    singles = single_stab[single_stab["score"].isin(names)]
    mean8 = singles.groupby(["n_runs", "rep"])[[m for m, _ in METRICS]].mean().reset_index().assign(score="mean of 8")
    both = pd.concat([pca1_stab, mean8], ignore_index=True)
    colors = {"pca1": "#c0392b", "mean of 8": "#555555"}
    axes = [fig.add_subplot(gs[:, j]) for j in (1, 2, 3)]
    for ax, (m, lab) in zip(axes, METRICS):
        for sc in ("pca1", "mean of 8"):
            g = both[both["score"] == sc].groupby("n_runs")[m]
            mean = g.mean()
            ax.plot(mean.index, mean, marker=".", color=colors[sc], label="PCA 1" if sc == "pca1" else sc)
            ax.fill_between(mean.index, g.quantile(0.025), g.quantile(0.975), color=colors[sc], alpha=0.15, lw=0)
        for sc in names:
            g = singles[singles["score"] == sc].groupby("n_runs")[m].mean()
            ax.plot(g.index, g, color="0.75", lw=0.6)
        ax.set(xlabel="runs per set n", ylabel=lab)
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize=8)
    return fig


def _quantile_boxes(ax, dist: pd.DataFrame, names, labels, threshold):
    for i, n in enumerate(names):
        g = dist[dist["name"] == n].set_index("quantile")["neglogp"]
        q = lambda p: float(np.interp(p, g.index.to_numpy(dtype=float), g.to_numpy(dtype=float)))
        ax.plot([i, i], [q(0.0), q(1.0)], color="0.5", lw=0.8)
        ax.plot([i, i], [q(0.05), q(0.95)], color="C0", lw=3, solid_capstyle="butt")
        ax.add_patch(plt.Rectangle((i - 0.25, q(0.25)), 0.5, q(0.75) - q(0.25), color="C0", alpha=0.5))
        ax.plot([i - 0.25, i + 0.25], [q(0.5)] * 2, color="k", lw=1.2)
    ax.axhline(threshold, color="k", ls=":", lw=1, label="Bonferroni p = 0.01")
    ax.set_xticks(range(len(names)), labels, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("-ln P (mean)")
    ax.grid(alpha=0.3, axis="y")


def fig6_inductive_bias(dist: pd.DataFrame, capacity: pd.DataFrame):
    """Figure 6. Left: distribution over examples of -ln P averaged over model pairs, per score;
    centre: averaged over scores, per model pair (box = quartiles, thick = 5-95%, thin =
    min-max); dotted: the Bonferroni line. Right: geometric-mean P per pair against the ratio of
    parameter counts."""
    thr = float(dist["threshold"].iloc[0])
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8), gridspec_kw={"width_ratios": [1, 1.6, 1]})
    sc = dist[dist["group"] == "score"]
    scores = [s for s in PER_RUN_SCORES if s in set(sc["name"])]
    _quantile_boxes(axes[0], sc, scores, [_label(s) for s in scores], thr)
    axes[0].set_title("by score (mean over pairs)", fontsize=9)
    pr = dist[dist["group"] == "pair"]
    pairs = list(dict.fromkeys(pr["name"]))
    _quantile_boxes(axes[1], pr, pairs, pairs, thr)
    axes[1].set_title("by architecture pair (mean over scores)", fontsize=9)
    axes[1].legend(fontsize=7)
    ax = axes[2]
    cross = capacity["cross_family"].astype(bool) if "cross_family" in capacity else np.zeros(len(capacity), bool)
    ax.scatter(capacity["param_ratio"][cross], capacity["geomean_p"][cross], color="#c0392b", label="ResNet x VGG")
    ax.scatter(capacity["param_ratio"][~cross], capacity["geomean_p"][~cross], color="#2c7fb8", label="same family")
    for _, r in capacity.iterrows():
        ax.annotate(r["pair"], (r["param_ratio"], r["geomean_p"]), fontsize=5.5, xytext=(2, 2),
                    textcoords="offset points")
    ax.set(xscale="log", yscale="log", xlabel="ratio of parameter counts",
           ylabel="geometric mean P (examples x scores)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def draw(figure: str, tables, pdf: str, png: str | None = None) -> None:
    """Read the tables of ``figure`` (name -> CSV path, the keys of the workflow's figure rules)
    and save the figure as PDF and PNG."""
    from pointwise.figures import save
    from pointwise.io import read_csv

    t = {k: read_csv(v) for k, v in dict(tables).items()}
    makers = {
        "fig1_fingerprint": lambda: fig1_fingerprint(t["fig1"], t["fig1_examples"]),
        "fig2_variance": lambda: fig2_variance(t["fig2"]),
        "fig3_rank_stability": lambda: fig3_rank_stability(t["fig3"]),
        "fig4_correlations": lambda: fig4_correlations(t["corr_mean_mean"], t["corr_mean_run"],
                                                       t["corr_run_run"]),
        "fig5_pca": lambda: fig5_pca(t["loadings"], t["explained"], t["pca1"], t["fig3"]),
        "fig6_inductive_bias": lambda: fig6_inductive_bias(t["distributions"], t["capacity"]),
    }
    if figure not in makers:
        raise KeyError(f"unknown paper-003 figure '{figure}' (valid: {sorted(makers)})")
    fig = makers[figure]()
    save(fig, pdf, png)
    plt.close(fig)
