"""Atlas figures: the four lenses side by side. One function per figure, reading the atlas tables."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def _heatmap(ax, mat: pd.DataFrame, vmin, vmax, cmap, fmt="{:.2f}", fontsize=6):
    im = ax.imshow(mat.to_numpy(np.float64), vmin=vmin, vmax=vmax, cmap=cmap)
    ax.set_xticks(range(mat.shape[1]), mat.columns, rotation=90, fontsize=fontsize + 1)
    ax.set_yticks(range(mat.shape[0]), mat.index, fontsize=fontsize + 1)
    for (i, j), v in np.ndenumerate(mat.to_numpy(np.float64)):
        if not np.isnan(v):
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=fontsize)
    return im


def spearman(sp: pd.DataFrame):
    """Spearman's rho between every pair of measures (all oriented higher = harder), on the
    examples both measure; blank where two lenses share no examples."""
    order = list(dict.fromkeys(sp["a"]))
    mat = sp.pivot(index="a", columns="b", values="rho").reindex(index=order, columns=order)
    n = max(len(order), 2)
    fig, ax = plt.subplots(figsize=(0.45 * n + 2, 0.45 * n + 1.5))
    im = _heatmap(ax, mat, -1, 1, "RdBu_r", fontsize=5 if n > 15 else 6)
    fig.colorbar(im, ax=ax, shrink=0.7, label="Spearman rho (oriented: higher = harder)")
    ax.set_title("Per-example measures across the four papers")
    fig.tight_layout()
    return fig


def auroc(au: pd.DataFrame):
    """AUROC of each measure for finding the examples whose label was flipped on purpose."""
    au = au.sort_values("auroc")
    fig, ax = plt.subplots(figsize=(6, 0.25 * max(len(au), 4) + 1))
    if au.empty:
        ax.text(0.5, 0.5, "no injected label noise in this dataset", ha="center", va="center",
                transform=ax.transAxes)
    else:
        colors = [f"C{['profiles', 'robustness', 'depth', 'scores'].index(m.split('_')[0])}"
                  if m.split("_")[0] in ("profiles", "robustness", "depth", "scores") else "grey"
                  for m in au["measure"]]
        ax.barh(au["measure"], au["auroc"], color=colors)
        ax.axvline(0.5, color="k", lw=0.8, ls="--", label="chance")
        ax.set_xlim(0, 1)
        ax.legend(fontsize=7, loc="lower right")
    ax.set_xlabel("AUROC for flipped labels (training examples)")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return fig


def jaccard(jc: pd.DataFrame, fraction: float | None = None):
    """Overlap (Jaccard) of each paper's top-k% hard set with the others'; chance for two
    independent top-f sets is f / (2 - f)."""
    order = list(dict.fromkeys(jc["lens_a"]))
    mat = jc.pivot(index="lens_a", columns="lens_b", values="jaccard").reindex(index=order, columns=order)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    im = _heatmap(ax, mat, 0, 1, "viridis", fontsize=8)
    fig.colorbar(im, ax=ax, shrink=0.8, label="Jaccard of top-k% hard sets")
    title = "Hard-set overlap"
    if fraction:
        title += f" (top {fraction:.0%}; chance {fraction / (2 - fraction):.2f})"
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def taxonomy(tx: pd.DataFrame, summary: pd.DataFrame):
    """Paper-000 profile classes against paper-002 corner groups: row-normalised contingency."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    if tx.empty:
        ax.text(0.5, 0.5, "no example has both taxonomies", ha="center", va="center", transform=ax.transAxes)
        return fig
    a, b = tx.columns[:2]
    ct = tx.pivot(index=a, columns=b, values="count").fillna(0)
    frac = ct.div(ct.sum(axis=1), axis=0)
    im = _heatmap(ax, frac, 0, 1, "Blues", fontsize=8)
    fig.colorbar(im, ax=ax, shrink=0.8, label="fraction of the row")
    s = summary.iloc[0]
    ax.set(xlabel=f"{b} (paper 002)", ylabel=f"{a} (paper 000)")
    ax.set_title(f"n = {int(s['n'])}, Cramér's V = {s['cramers_v']:.2f}, ARI = {s['adjusted_rand']:.2f}", fontsize=9)
    fig.tight_layout()
    return fig


FIGURES = ("spearman", "auroc", "jaccard", "taxonomy")


def draw(name: str, tables: dict, top_fraction: float | None = None):
    """The atlas figure ``name`` from the analysis tables (keyed as in rules/atlas.smk)."""
    if name == "spearman":
        return spearman(tables["spearman"])
    if name == "auroc":
        return auroc(tables["auroc"])
    if name == "jaccard":
        return jaccard(tables["jaccard"], top_fraction)
    if name == "taxonomy":
        return taxonomy(tables["taxonomy"], tables["taxonomy_summary"])
    raise ValueError(f"unknown atlas figure {name!r}; one of {FIGURES}")
