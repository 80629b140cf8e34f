"""Paper 000 figures (spec §2), one function per figure, from the tables of
:mod:`pointwise.profiles.pipeline` (never from raw logits)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pointwise.profiles.probit import probit
from pointwise.profiles.taxonomy import CATEGORIES

COLORS = {"non-monotone": "tab:red", "easy": "tab:green", "hard": "tab:gray", "compatible": "tab:blue"}


def profile_matrix(grid, acc, scores: pd.DataFrame, n_zoom: int = 12):
    """Fig 1 analogue: (left) the accuracy profiles of every point as a matrix, rows sorted by
    category then final accuracy; (middle) zoom-in on the ``n_zoom`` most non-monotone profiles;
    (right) the taxonomy gallery: the profile of each category's prototype (median member)."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    cat = scores["category"].to_numpy()
    order = np.lexsort((scores["final_acc"].to_numpy(), [CATEGORIES.index(c) for c in cat]))
    im = axes[0].imshow(acc[order], aspect="auto", cmap="viridis", vmin=0, vmax=1,
                        extent=[grid[0], grid[-1], len(order), 0], interpolation="nearest")
    axes[0].set(xlabel="global accuracy p", ylabel="example (by category, final accuracy)",
                title="accuracy profiles")
    fig.colorbar(im, ax=axes[0], label="pointwise accuracy")
    top = np.argsort(-scores["nmono_acc"].to_numpy())[:n_zoom]
    for i in top:
        axes[1].plot(grid, acc[i], lw=1)
    axes[1].plot(grid, grid, "k--", lw=0.8, label="p = global")
    axes[1].set(xlabel="global accuracy p", ylabel="pointwise accuracy",
                title=f"zoom: {len(top)} most non-monotone", ylim=(-0.02, 1.02))
    axes[1].legend(fontsize=7)
    for c in CATEGORIES:
        members = np.flatnonzero(cat == c)
        if members.size:
            mid = members[np.argsort(scores["l2_compat"].to_numpy()[members])[members.size // 2]]
            axes[2].plot(grid, acc[mid], color=COLORS[c], label=f"{c} ({members.size})")
    axes[2].set(xlabel="global accuracy p", ylabel="pointwise accuracy", title="taxonomy prototypes",
                ylim=(-0.02, 1.02))
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig


def taxonomy_pies(fractions: pd.DataFrame):
    """Figs 4/5 analogue: one pie per model (rows) and eval set of the ladder (columns)."""
    models = list(dict.fromkeys(fractions["model"]))
    sets = list(dict.fromkeys(fractions["evalset"]))
    fig, axes = plt.subplots(len(models), len(sets), figsize=(2.3 * len(sets), 2.3 * len(models)),
                             squeeze=False)
    for i, m in enumerate(models):
        for j, e in enumerate(sets):
            ax = axes[i, j]
            f = fractions[(fractions["model"] == m) & (fractions["evalset"] == e)].set_index("category")
            vals = [float(f["fraction"].get(c, 0.0)) for c in CATEGORIES]
            ax.pie(vals, colors=[COLORS[c] for c in CATEGORIES], startangle=90,
                   autopct=lambda v: f"{v:.0f}%" if v >= 3 else "", textprops={"fontsize": 7})
            if i == 0:
                ax.set_title(e, fontsize=9)
            if j == 0:
                ax.set_ylabel(m, fontsize=9)
    fig.legend([plt.Rectangle((0, 0), 1, 1, color=COLORS[c]) for c in CATEGORIES], CATEGORIES,
               loc="lower center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def fig6_survival(survival: pd.DataFrame, distance: pd.DataFrame, evalset: str | None = None):
    """Figs 6/10/11 analogue: (left) TV profile distances between models (upper: all runs;
    annotated with the split-half value), then survival 1-CDF of nmono for the accuracy,
    negative-entropy and soft-accuracy profiles on the reference set."""
    evalset = evalset or survival["evalset"].iloc[0]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    d = distance[distance["metric"] == "tv"]
    names = list(dict.fromkeys(d["T1"]))
    m = d.pivot(index="T1", columns="T2", values="value").loc[names, names].to_numpy()
    sh = d.pivot(index="T1", columns="T2", values="splithalf").loc[names, names].to_numpy()
    im = axes[0].imshow(m, cmap="magma_r")
    for i in range(len(names)):
        for j in range(len(names)):
            axes[0].text(j, i, f"{m[i, j]:.3f}\n({sh[i, j]:.3f})", ha="center", va="center", fontsize=6)
    axes[0].set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
    axes[0].set_yticks(range(len(names)), names, fontsize=7)
    axes[0].set_title("TV distance (split-half)")
    fig.colorbar(im, ax=axes[0])
    for ax, stat in zip(axes[1:], ("acc", "negent", "softacc")):
        s = survival[(survival["evalset"] == evalset) & (survival["stat"] == stat)]
        for model, g in s.groupby("model", sort=False):
            ls = "-" if g["regime"].iloc[0] == "scratch" else "--"
            ax.plot(g["t"], g["frac_ge_t"], ls, label=model)
        ax.set(yscale="log", xlabel="t", ylabel="fraction with nmono >= t", title=f"{stat} ({evalset})")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def fig7_neg(aol: pd.DataFrame, curves: pd.DataFrame):
    """Fig 7 analogue: Neg accuracy vs reference accuracy over checkpoints (mean over runs), the
    selecting model's held-out half highlighted, in linear and probit axes."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for (model, runs), g in curves.groupby(["model", "runs"], sort=False):
        mean = g.groupby("k")[["acc_ref", "acc_neg"]].mean()
        slope = aol[(aol["model"] == model) & (aol["runs"] == runs)]["slope_linear_mean"].iloc[0]
        lw = 2.5 if runs == "heldout" else 1.2
        for ax, f in zip(axes, (lambda a: a, probit)):
            ax.plot(f(mean["acc_ref"].to_numpy()), f(mean["acc_neg"].to_numpy()), "o-", ms=3, lw=lw,
                    label=f"{model} [{runs}] slope {slope:.2f}")
    axes[0].set(xlabel="reference accuracy", ylabel="Neg accuracy", title="linear")
    axes[1].set(xlabel="probit(reference accuracy)", ylabel="probit(Neg accuracy)", title="probit")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def fig12_aoc(aoc: pd.DataFrame):
    """Fig 12 analogue: pointwise accuracy-on-the-curve d(p) with the permutation baseline and
    the split-half floor."""
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(aoc["p"], aoc["d"], label="d(p): arch A vs arch B")
    ax.plot(aoc["p"], aoc["d_perm"], "--", label="permutation baseline")
    if "d_perm_expected" in aoc:
        ax.plot(aoc["p"], aoc["d_perm_expected"], ":", label="permutation (expected)")
    if "d_splithalf" in aoc:
        ax.plot(aoc["p"], aoc["d_splithalf"], "-.", label="split-half floor (arch A)")
    if aoc.empty:
        ax.text(0.5, 0.5, "accuracy ranges do not overlap:\nd(p) undefined", ha="center",
                va="center", transform=ax.transAxes)
    ax.set(xlabel="global accuracy p", ylabel="mean |acc_A(x) - acc_B(x)|", ylim=(0, None))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw(figure: str, tables, pdf: str, png: str | None = None) -> None:
    """Read the tables of ``figure`` (name -> path, the keys of the workflow's figure rules) and
    save the figure as PDF and PNG."""
    from pointwise.figures import save
    from pointwise.io import read_csv
    from pointwise.profiles.store import read_profiles

    tables = dict(tables)
    csv = lambda k: read_csv(tables[k])  # noqa: E731

    def matrix():
        prof, _ = read_profiles(tables["profiles"])
        return profile_matrix(prof.grid, prof.acc, csv("scores"))

    makers = {
        "profile_matrix": matrix,
        "taxonomy_pies": lambda: taxonomy_pies(csv("fractions")),
        "fig6_survival": lambda: fig6_survival(csv("survival"), csv("distance")),
        "fig7_neg": lambda: fig7_neg(csv("aol"), csv("curves")),
        "fig12_aoc": lambda: fig12_aoc(csv("aoc")),
    }
    if figure not in makers:
        raise KeyError(f"unknown paper-000 figure '{figure}' (valid: {sorted(makers)})")
    fig = makers[figure]()
    save(fig, pdf, png)
    plt.close(fig)
