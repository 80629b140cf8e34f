"""Figures of paper 002 (Baldock et al. 2021), one function per figure, from the tables of
:mod:`pointwise.depth.pipeline` (never from raw logits or k-NN files). :func:`draw` maps a figure
name to its function and its input tables."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pointwise.data.image_table import decode_pixels
from pointwise.depth.correlation import spearman
from pointwise.io import read_csv

from . import save

#: (subset, label the accuracy is against, legend) of the Fig 5 curves, in the paper's colour order
NOISE_CURVES = (("train_clean", "given", "clean train"), ("train_flipped", "given", "mislabeled (new label)"),
                ("train_flipped", "original", "mislabeled (original label)"), ("test", "given", "test"))

GROUP_COLORS = {"easy": "tab:green", "looks_like_different": "tab:orange",
                "ambiguous_unless_label": "tab:blue", "ambiguous": "tab:red"}


def _hist2d(ax, x, y, bins, xlabel, ylabel, title=""):
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum():
        ax.hist2d(x[ok], y[ok], bins=bins, cmap="viridis", cmin=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} (n={int(ok.sum())})")


def fig1_right(by_depth: pd.DataFrame, title: str = ""):
    """PD histogram over (run, training point) pairs (Fig 1 right); the undefined share in the legend."""
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for split, style in (("train", "-o"), ("val", "--s")):
        s = by_depth[by_depth["split"] == split]
        if len(s):
            und = s["n_undefined"].iloc[0] / max(s["n_occurrences"].iloc[0], 1)
            ax.plot(s["depth"], s["mass"], style, label=f"{split} (undefined {und:.2%})")
    ax.set_xlabel("prediction depth")
    ax.set_ylabel("probability")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def fig1_right_lines(tables: dict):
    """Fig 1 right as in the paper: the PD distribution of the training occurrences, one line per
    table (dataset) of ``tables``."""
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for name, bd in tables.items():
        s = bd[bd["split"] == "train"]
        ax.plot(s["depth"], s["mass"], "-o", label=name)
    ax.set_xlabel("prediction depth")
    ax.set_ylabel("probability (training occurrences)")
    ax.legend(fontsize=8)
    return fig


def fig3(per_example: pd.DataFrame, bins: int = 20, title: str = ""):
    """Consistency score against mean validation PD: all / consensus == GT / consensus != GT."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5), sharey=True)
    ex = per_example
    same = ex["consensus"] == ex["label"]
    for ax, (name, sel) in zip(axes, (("all", slice(None)), ("consensus = label", same),
                                      ("consensus != label", ~same))):
        s = ex[sel]
        _hist2d(ax, s["mpd_val"], s["consistency"], bins, "mean validation PD", "consistency score", name)
    fig.suptitle(title)
    return fig


def fig4_left(per_example: pd.DataFrame, bins: int = 20, title: str = ""):
    """Consensus-consistency C* against mean validation PD."""
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    _hist2d(ax, per_example["mpd_val"], per_example["cstar"], bins, "mean validation PD",
            "consensus-consistency C*", title)
    return fig


def _by_depth_lines(tables: dict, col: str, ylabel: str, split: str | None = "val"):
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for name, bd in tables.items():
        s = bd if split is None else bd[bd["split"] == split]
        line, = ax.plot(s["depth"], s[col], "-", label=name)
        ax.scatter(s["depth"], s[col], s=400 * s["mass"], color=line.get_color(), alpha=0.7)
    ax.set_xlabel("prediction depth (per run)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return fig


def fig4_right(tables: dict):
    """Accuracy of (run, held-out point) pairs against their PD; marker size = mass."""
    return _by_depth_lines(tables, "accuracy", "accuracy")


def fig5_left(tables: dict):
    """Mean rescaled iteration learned against PD on held-out occurrences; marker size = mass."""
    return _by_depth_lines(tables, "il_resc", "mean rescaled iteration learned")


def fig4_middle(tables: dict):
    """PD of a test example in one run against the consensus-consistency C* of the other runs'
    predictions, pooled over the held-out run; marker size = mass (Fig 4 middle)."""
    return _by_depth_lines(tables, "cstar", "mean C* of the other runs", split=None)


def figC21(tables: dict):
    """PD of a test example in one run against the prediction entropy of the other runs (C.21)."""
    return _by_depth_lines(tables, "entropy", "mean entropy of the other runs (nats)", split=None)


def fig5_right(inference_curve: pd.DataFrame, title: str = ""):
    """Inference learning curve: k-NN probe accuracy by layer on clean training points, flipped
    training points against the given and the original label, and test points (Fig 5 right)."""
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ic = inference_curve
    for sub, against, lab in NOISE_CURVES:
        s = ic[(ic["subset"] == sub) & (ic["against"] == against)]
        if len(s) and s["n_pairs"].iloc[0] > 0:
            ax.plot(s["layer"], s["knn_accuracy"], "-o", label=lab)
    ax.set_xlabel("probe index")
    ax.set_ylabel("k-NN accuracy")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def figA9_mlp_depth(curves: pd.DataFrame, title: str = ""):
    """Choosing the MLP depth (A.9): k-NN probe accuracy after each operation (dense: circles,
    ReLU: crosses) of each MLP (one panel per depth) on the subsets of Fig 5 right."""
    archs = curves.drop_duplicates("arch").sort_values("depth")[["arch", "depth"]].to_numpy()
    fig, axes = plt.subplots(1, len(archs), figsize=(4.5 * len(archs), 3.5), sharey=True, squeeze=False)
    for ax, (arch, depth) in zip(axes[0], archs):
        c = curves[curves["arch"] == arch]
        for i, (sub, against, lab) in enumerate(NOISE_CURVES):
            s = c[(c["subset"] == sub) & (c["against"] == against)].sort_values("op")
            if not len(s) or not s["n_queries"].iloc[0] > 0:
                continue
            ax.plot(s["op"], s["knn_accuracy"], "-", color=f"C{i}", label=lab)
            for kind, marker in (("dense", "o"), ("relu", "x"), ("input", "s"), ("softmax", "D")):
                m = s[s["kind"] == kind]
                ax.scatter(m["op"], m["knn_accuracy"], marker=marker, s=18, color=f"C{i}")
        ax.set_xlabel("operation index (o dense, x ReLU)")
        ax.set_title(f"{arch}: depth {depth}")
    axes[0][0].set_ylabel("k-NN accuracy")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    return fig


#: (method, legend, style) of the Fig E.48 curves
LR_CURVES = (("knn_train", "k-NN, training set (leave self out)", "-o"),
             ("lr_train", "LR, fitted and evaluated on the training set", "-s"),
             ("knn_half", "k-NN, support 50%, other 50%", "--o"),
             ("lr_half", "LR, fitted on 50%, other 50%", "--s"))


def figE48_lr_probes(table: pd.DataFrame, title: str = ""):
    """k-NN probes against logistic-regression probes by layer of one model (E.48)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for method, lab, style in LR_CURVES:
        s = table[table["method"] == method].sort_values("probe_index")
        if len(s):
            ax.plot(s["probe_index"], s["accuracy"], style, label=lab)
    probes = table.drop_duplicates("probe_index").sort_values("probe_index")
    ax.set_xticks(probes["probe_index"])
    ax.set_xticklabels(probes["probe"], rotation=45, ha="right", fontsize=7)
    ax.set_xlabel("probe")
    ax.set_ylabel("probe accuracy")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


MARGINS = {"output": "output margin", "input": "input margin"}
SPLIT_LABELS = {"train": "training", "val": "test"}


def _margin_panel(ax, per_example: pd.DataFrame, kind: str, split: str, bins: int, title: str):
    """Mean ``kind`` margin (log10) against mean PD of one occurrence split, with the Pearson
    correlation of PD and log margin in the title (the paper's statistic, Fig 6 / C.28-C.31)."""
    from pointwise.depth.correlation import log_pearson

    col = f"{kind}_margin_{split}"
    m = per_example[col] if col in per_example else pd.Series(np.nan, index=per_example.index)
    m = m.where(m > 0)
    x = per_example[f"mpd_{split}"]
    r, _ = log_pearson(x, m)
    head = f"{title}: " if title else ""
    _hist2d(ax, x, np.log10(m), bins, f"mean PD ({SPLIT_LABELS.get(split, split)})",
            f"log10 mean {MARGINS[kind]}", f"{head}r = {r:.2f}")


def _margin_hist(per_example: pd.DataFrame, kind: str, bins: int, title: str):
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    _margin_panel(ax, per_example, kind, "val", bins, title)
    fig.tight_layout()
    return fig


def fig6_margins(per_example: pd.DataFrame, bins: int = 20, title: str = ""):
    """Mean output margin (log scale) against mean validation PD (Fig 6 left)."""
    return _margin_hist(per_example, "output", bins, title)


def fig6_middle(per_example: pd.DataFrame, bins: int = 20, title: str = ""):
    """Mean linearised input margin (log scale) against mean validation PD, over the examples whose
    input margin the probes computed (Fig 6 middle)."""
    return _margin_hist(per_example, "input", bins, title)


def figC28_margins(per_example: pd.DataFrame, bins: int = 20, title: str = ""):
    """Figs C.28-C.31 (one per dataset; this is one architecture's row): Fig 6 left and middle on
    the training and the test occurrences of a FULL ensemble; an empty panel where the probes
    computed no input margins for that split."""
    fig, axes = plt.subplots(2, 2, figsize=(9, 7))
    for i, split in enumerate(("train", "val")):
        for j, kind in enumerate(MARGINS):
            _margin_panel(axes[i, j], per_example, kind, split, bins, SPLIT_LABELS[split])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def fig5_middle(learning_curve: pd.DataFrame, title: str = ""):
    """Training learning curve under label noise: the network's accuracy at every eval point on
    clean training examples, mislabeled ones against their new and their original label, and test
    examples; mean over runs with a +-1 sd band (Fig 5 middle)."""
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    lc = learning_curve
    for sub, against, lab in NOISE_CURVES:
        s = lc[(lc["subset"] == sub) & (lc["against"] == against)].sort_values("step")
        if len(s) and s["n_examples"].max() > 0:
            line, = ax.plot(s["step"], s["accuracy"], "-", label=lab)
            sd = s["accuracy_sd"].fillna(0)
            ax.fill_between(s["step"], s["accuracy"] - sd, s["accuracy"] + sd, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("training step")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def figA10_k_sensitivity(acc: pd.DataFrame, ranking: pd.DataFrame, title: str = ""):
    """k sensitivity (A.4): k-NN accuracy by layer for each k (training queries dashed, held-out
    solid, test dotted), and the Spearman of mean PD at each k against the reference k."""
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(9, 3.5))
    for i, k in enumerate(sorted(acc["k"].unique())):
        c = f"C{i}"
        for split, style in (("train", "--"), ("held_out", "-"), ("test", ":")):
            s = acc[(acc["k"] == k) & (acc["split"] == split)]
            if len(s) and s["n_pairs"].iloc[0] > 0:
                a0.plot(s["layer"], s["knn_accuracy"], style, color=c, label=f"k={k} {split}")
    a0.set_xlabel("probe index")
    a0.set_ylabel("k-NN accuracy")
    a0.legend(fontsize=6, ncol=2)
    for split, style in (("train", "--o"), ("val", "-s")):
        s = ranking[ranking["split"] == split].sort_values("k")
        a1.plot(s["k"], s["spearman_vs_ref"], style, label=split)
    a1.set_xscale("log")
    ref = int(ranking["ref_k"].iloc[0]) if len(ranking) else 30
    a1.set_xlabel("k")
    a1.set_ylabel(f"Spearman(mean PD at k, at k={ref})")
    a1.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def fig7(per_example: pd.DataFrame, groups: pd.DataFrame, bins: int = 20, title: str = ""):
    """Validation PD against training PD: all / consensus != GT / consensus == GT; the corner
    groups marked on the first panel."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5), sharey=True)
    ex = per_example
    same = ex["consensus"] == ex["label"]
    for ax, (name, sel) in zip(axes, (("all", slice(None)), ("consensus != label", ~same),
                                      ("consensus = label", same))):
        s = ex[sel]
        _hist2d(ax, s["mpd_val"], s["mpd_train"], bins, "mean validation PD", "mean training PD", name)
    for g, c in GROUP_COLORS.items():
        s = groups[groups["group"] == g]
        axes[0].scatter(s["mpd_val"], s["mpd_train"], s=12, color=c, edgecolors="k", linewidths=0.3, label=g)
    axes[0].legend(fontsize=6, loc="upper left")
    fig.suptitle(title)
    return fig


def fig8(curves: pd.DataFrame, title: str = ""):
    """k-NN confidence (solid) and accuracy (dotted) by layer of the four corner groups, for the
    ground-truth class (left) and the consensus class (right), validation occurrences."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
    for ax, target in zip(axes, ("label", "consensus")):
        for g, c in GROUP_COLORS.items():
            s = curves[(curves["group"] == g) & (curves["target"] == target)]
            ax.plot(s["layer"], s["confidence"], "-", color=c, label=g)
            ax.plot(s["layer"], s["accuracy"], ":", color=c)
        ax.set_xlabel("probe index")
        ax.set_title(f"class = {'ground truth' if target == 'label' else 'consensus'}")
    axes[0].set_ylabel("k-NN confidence / accuracy")
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    return fig


def fig2(correlation: pd.DataFrame, title: str = ""):
    """Spearman correlation of mean PD between architectures (off-diagonal) and between two halves
    of the runs of one architecture (diagonal), training and validation occurrences."""
    splits = list(dict.fromkeys(correlation["split"]))
    archs = list(dict.fromkeys(list(correlation["arch_a"]) + list(correlation["arch_b"])))
    fig, axes = plt.subplots(1, len(splits), figsize=(3.6 * len(splits), 3.2))
    axes = np.atleast_1d(axes)
    for ax, sp in zip(axes, splits):
        M = np.full((len(archs), len(archs)), np.nan)
        for _, r in correlation[correlation["split"] == sp].iterrows():
            i, j = archs.index(r["arch_a"]), archs.index(r["arch_b"])
            M[i, j] = M[j, i] = r["rho"]
        im = ax.imshow(M, vmin=-1, vmax=1, cmap="RdBu_r")
        for i in range(len(archs)):
            for j in range(len(archs)):
                if np.isfinite(M[i, j]):
                    ax.text(j, i, f"{M[i, j]:.2f}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(archs)), archs)
        ax.set_yticks(range(len(archs)), archs)
        ax.set_title(f"{sp} split")
    fig.colorbar(im, ax=list(axes))
    fig.suptitle(title)
    return fig


def _image(ax, row, title: str):
    img = decode_pixels(row)
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(title, fontsize=6)


def _image_grid(cells: dict, nrow: int, ncol: int, row_labels: list, title: str):
    """Images in a ``nrow`` x ``ncol`` grid: ``cells`` maps (i, j) to (image row, cell title);
    empty cells are blank; ``row_labels[i]`` at the left of row i."""
    fig, axes = plt.subplots(max(nrow, 1), max(ncol, 1), squeeze=False,
                             figsize=(1.1 * max(ncol, 1) + 1, 1.25 * max(nrow, 1) + 0.6))
    for (i, j), ax in np.ndenumerate(axes):
        if (i, j) in cells:
            _image(ax, *cells[i, j])
        else:
            ax.axis("off")
    for i, label in enumerate(row_labels):
        axes[i, 0].axis("on")
        axes[i, 0].set_xticks([]), axes[i, 0].set_yticks([])
        axes[i, 0].set_frame_on((i, 0) in cells)
        axes[i, 0].set_ylabel(label, fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def fig1_left(images: pd.DataFrame, title: str = ""):
    """Fig 1 left: per class, the training examples with the lowest mean training PD (predicted at
    the input, left) and, after a blank column, those with the highest (predicted at the softmax)."""
    t = images[images["figure"] == "fig1_left"]
    classes = list(dict.fromkeys(t["row"]))
    n = int(t["rank"].max()) + 1 if len(t) else 0
    cells = {(classes.index(r["row"]), int(r["rank"]) + (n + 1 if r["side"] == "softmax" else 0)):
             (r, f"PD {r['mpd_train']:.1f}") for _, r in t.iterrows()}
    return _image_grid(cells, len(classes), 2 * n + 1, [f"class {c}" for c in classes],
                       f"{title}: lowest mean training PD (left), highest (right)")


def fig7_images(images: pd.DataFrame, title: str = ""):
    """Fig 7's images: the examples closest to each corner of (mean validation PD, mean training
    PD), with their label y and consensus class c."""
    t = images[images["figure"] == "fig7"]
    groups = [g for g in GROUP_COLORS if g in set(t["row"])]
    cells = {(groups.index(r["row"]), int(r["rank"])): (r, f"y={int(r['label'])} c={int(r['consensus'])}")
             for _, r in t.iterrows()}
    n = int(t["rank"].max()) + 1 if len(t) else 0
    return _image_grid(cells, len(groups), n, [g.replace("_", " ") for g in groups],
                       f"{title}: closest to each corner")


def _rho_title(x, y, head: str) -> str:
    """``head: rho = <Spearman of x and y>`` (:func:`_hist2d` adds the number of points)."""
    return f"{head}: rho = {spearman(x, y)[0]:.2f}"


def fig2_right(tables: dict, bins: int = 20, title: str = ""):
    """Fig 2 right, C.13-C.16: per pair of architectures, mean PD rescaled by each one's L
    (PD / L in [0, 1]) of one against the other, training and validation occurrences; Spearman
    rho in each panel's title. ``tables``: {arch: (per_example, by_depth)}."""
    archs = list(tables)
    pairs = [(a, b) for i, a in enumerate(archs) for b in archs[i + 1:]]
    fig, axes = plt.subplots(max(len(pairs), 1), 2, figsize=(8, 3.4 * max(len(pairs), 1)), squeeze=False)
    for i, (a, b) in enumerate(pairs):
        (ea, ba), (eb, bb) = tables[a], tables[b]
        la, lb = int(ba["depth"].max()), int(bb["depth"].max())
        m = ea[["example_id", "mpd_train", "mpd_val"]].merge(eb[["example_id", "mpd_train", "mpd_val"]],
                                                              on="example_id", suffixes=("_a", "_b"))
        for j, sp in enumerate(("train", "val")):
            x, y = m[f"mpd_{sp}_a"] / la, m[f"mpd_{sp}_b"] / lb
            _hist2d(axes[i, j], x, y, bins, f"mean PD / L, {a}", f"mean PD / L, {b}", _rho_title(x, y, sp))
    if not pairs:
        axes[0, 0].text(0.5, 0.5, "one architecture: no pair", ha="center", va="center")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def figC22_entropy(per_example: pd.DataFrame, bins: int = 20, title: str = ""):
    """Fig C.22: prediction entropy of the held-out runs' predictions against mean validation PD."""
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    _hist2d(ax, per_example["mpd_val"], per_example["entropy"], bins, "mean validation PD",
            "prediction entropy S(x)", _rho_title(per_example["mpd_val"], per_example["entropy"], title or "all"))
    fig.tight_layout()
    return fig


def figC24_iteration_learned(per_example: pd.DataFrame, bins: int = 20, title: str = ""):
    """Figs C.24-C.27 (one architecture's row): mean rescaled iteration learned against mean PD,
    training and validation occurrences, Spearman rho in each title."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, sp in zip(axes, ("train", "val")):
        x, y = per_example[f"mpd_{sp}"], per_example[f"iter_learned_resc_{sp}"]
        _hist2d(ax, x, y, bins, f"mean PD ({sp})", "mean rescaled iteration learned", _rho_title(x, y, sp))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


#: the one-line-per-dataset figures of one architecture (the main-text versions of Figs 1 right,
#: 4 middle, 4 right and 5 left; their tables: pointwise.depth.pipeline.DATASET_FIGURE_TABLES)
DATASET_FIGS = {"fig1_right_datasets": fig1_right_lines, "fig4_middle_datasets": fig4_middle,
                "fig4_right_datasets": fig4_right, "fig5_left_datasets": fig5_left}


def draw(figure: str, inputs: dict, pdf: str, png: str, bins: int = 20, title: str = "") -> None:
    """Build figure ``figure`` from the tables ``inputs`` (name -> csv) and save it."""
    t = {k: read_csv(v) for k, v in inputs.items()}
    if figure == "fig1_right":
        fig = fig1_right(t["by_depth"], title)
    elif figure == "fig3":
        fig = fig3(t["per_example"], bins, title)
    elif figure == "fig4_left":
        fig = fig4_left(t["per_example"], bins, title)
    elif figure in ("fig4_right", "fig5_left"):
        fig = (fig4_right if figure == "fig4_right" else fig5_left)(
            {k.split("::", 1)[1]: v for k, v in t.items() if k.startswith("by_depth::")})
    elif figure in ("fig4_middle", "figC21"):
        fig = (fig4_middle if figure == "fig4_middle" else figC21)(
            {k.split("::", 1)[1]: v for k, v in t.items() if k.startswith("loo_by_depth::")})
    elif figure in DATASET_FIGS:
        fig = DATASET_FIGS[figure]({k.split("::", 1)[1]: v for k, v in t.items()})
        fig.axes[0].set_title(title)
    elif figure == "fig5_right":
        fig = fig5_right(t["inference_curve"], title)
    elif figure == "fig5_middle":
        fig = fig5_middle(t["learning_curve"], title)
    elif figure == "figA9_mlp_depth":
        fig = figA9_mlp_depth(t["mlp_depth"], title)
    elif figure == "figE48_lr_probes":
        fig = figE48_lr_probes(t["lr_probes"], title)
    elif figure == "figA10_k_sensitivity":
        fig = figA10_k_sensitivity(t["k_sensitivity_accuracy"], t["k_sensitivity_ranking"], title)
    elif figure == "fig6_margins":
        fig = fig6_margins(t["per_example"], bins, title)
    elif figure == "fig6_middle":
        fig = fig6_middle(t["per_example"], bins, title)
    elif figure == "figC28_margins":
        fig = figC28_margins(t["per_example"], bins, title)
    elif figure == "figC22_entropy":
        fig = figC22_entropy(t["per_example"], bins, title)
    elif figure == "figC24_iteration_learned":
        fig = figC24_iteration_learned(t["per_example"], bins, title)
    elif figure == "fig1_left":
        fig = fig1_left(t["example_images"], title)
    elif figure == "fig7_images":
        fig = fig7_images(t["example_images"], title)
    elif figure == "fig2_right":
        archs = [k.split("::", 1)[1] for k in t if k.startswith("per_example::")]
        fig = fig2_right({a: (t[f"per_example::{a}"], t[f"by_depth::{a}"]) for a in archs}, bins, title)
    elif figure == "fig7":
        fig = fig7(t["per_example"], t["groups"], bins, title)
    elif figure == "fig8":
        fig = fig8(t["group_layer_curves"], title)
    elif figure == "fig2":
        fig = fig2(t["correlation"], title)
    else:
        raise ValueError(f"unknown paper-002 figure {figure!r}")
    save(fig, pdf, png)
    plt.close(fig)
