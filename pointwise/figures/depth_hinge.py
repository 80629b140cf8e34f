"""Figures of paper 002's HINGE intervention (Fig 6 right, A.11, A.12), one function per figure,
from the tables of :mod:`pointwise.depth.hinge` (``knn_by_layer.csv``, ``curves.csv``; their
``role`` column keys the panels and colours, ``combination`` gives the paper's names)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from pointwise.io import read_csv

from . import save

#: the paper's colours where it names them (Fig 6 right: 0-Hinge GD red, untrained purple)
COLORS = {"ce_sgd": "tab:blue", "ce_gd": "tab:green", "zh_sgd": "tab:orange", "zh_gd": "tab:red",
          "untrained": "tab:purple"}
TRAINED = ("ce_sgd", "ce_gd", "zh_sgd", "zh_gd")
STYLES = {"train": "-", "held_out": "-.", "test": ":"}


def _name(table: pd.DataFrame, role: str) -> str:
    s = table.loc[table["role"] == role, "combination"]
    return str(s.iloc[0]) if len(s) else role


def _knn_line(ax, knn: pd.DataFrame, role: str, split: str, label: str | None = None):
    s = knn[(knn["role"] == role) & (knn["split"] == split)].sort_values("layer")
    if not len(s):
        return
    n = int(s["n_seeds"].iloc[0])
    ax.plot(s["layer"], s["knn_accuracy_mean"], STYLES[split], marker="o", ms=3, color=COLORS[role],
            label=label or f"{_name(knn, role)} ({split}, {n} seeds)")
    sd = s["knn_accuracy_sd"].fillna(0.0)
    ax.fill_between(s["layer"], s["knn_accuracy_mean"] - sd, s["knn_accuracy_mean"] + sd,
                    color=COLORS[role], alpha=0.15, lw=0)


def fig6_right(knn: pd.DataFrame, title: str = ""):
    """k-NN probe accuracy by layer of CE+SGD, 0-Hinge+GD and the untrained network on the
    training split (left) and the test split (right); band = ±1 sd over seeds."""
    splits = [s for s in ("train", "test") if (knn["split"] == s).any()]
    fig, axes = plt.subplots(1, len(splits), figsize=(4.6 * len(splits), 3.4), sharey=True, squeeze=False)
    for ax, split in zip(axes[0], splits):
        for role in ("ce_sgd", "zh_gd", "untrained"):
            _knn_line(ax, knn, role, split, label=_name(knn, role))
        ax.set(title=f"{split} split", xlabel="probe index", ylim=(0, 1.02))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("k-NN accuracy")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle(title or "HINGE: k-NN accuracy by layer")
    fig.tight_layout()
    return fig


def figA11_hinge_curves(curves: pd.DataFrame, title: str = ""):
    """Training curves of the four combinations, one line per seed: training accuracy (solid) and
    test accuracy (dotted) against the optimiser step."""
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.4), sharey=True)
    for ax, role in zip(axes.flat, TRAINED):
        sub = curves[curves["role"] == role]
        for (seed, split), g in sub.groupby(["seed_index", "split"]):
            if split in ("train", "test"):
                ax.plot(g["step"], g["accuracy"], STYLES[split], color=COLORS[role], alpha=0.8, lw=1)
        n = sub["seed_index"].nunique()
        ax.set(title=f"{_name(curves, role)} ({n} seeds)", xlabel="step", ylim=(0, 1.02))
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy (solid: train, dotted: test)")
    fig.suptitle(title or "HINGE training curves")
    fig.tight_layout()
    return fig


def figA12_hinge_knn(knn: pd.DataFrame, title: str = ""):
    """k-NN probe accuracy by layer of each combination (training split solid, test dotted)
    against the untrained network (purple), one panel per combination."""
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.4), sharey=True)
    for ax, role in zip(axes.flat, TRAINED):
        for split in ("train", "test"):
            _knn_line(ax, knn, role, split)
            _knn_line(ax, knn, "untrained", split)
        ax.set(title=_name(knn, role), xlabel="probe index", ylim=(0, 1.02))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="lower right")
    for ax in axes[:, 0]:
        ax.set_ylabel("k-NN accuracy")
    fig.suptitle(title or "HINGE: k-NN accuracy by layer vs the untrained network")
    fig.tight_layout()
    return fig


FIGURES = {"fig6_right": ("knn_by_layer", fig6_right), "figA11_hinge_curves": ("curves", figA11_hinge_curves),
           "figA12_hinge_knn": ("knn_by_layer", figA12_hinge_knn)}


def draw(figure: str, table: str, pdf: str, png: str, title: str = "") -> None:
    """Build HINGE figure ``figure`` from its table (csv path) and save it as PDF and PNG."""
    if figure not in FIGURES:
        raise ValueError(f"unknown HINGE figure {figure!r} (known: {sorted(FIGURES)})")
    fig = FIGURES[figure][1](read_csv(table), title)
    save(fig, pdf, png)
    plt.close(fig)
