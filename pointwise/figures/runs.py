"""Figures about the training runs themselves."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd


def learning_curves(curves: pd.DataFrame):
    """Accuracy against epoch on every eval set, one panel per arch: the mean over seeds with the
    min–max band of the seeds (table from :func:`pointwise.train.summary.learning_curves`)."""
    archs = sorted(curves["arch"].unique())
    fig, axes = plt.subplots(1, len(archs), figsize=(4.2 * len(archs), 3.2), squeeze=False, sharey=True)
    for ax, arch in zip(axes[0], archs):
        sub = curves[curves["arch"] == arch]
        for name, g in sub.groupby("eval_set", sort=False):
            stats = g.groupby("epoch")["accuracy"].agg(["mean", "min", "max"])
            line, = ax.plot(stats.index, stats["mean"], label=name)
            ax.fill_between(stats.index, stats["min"], stats["max"], color=line.get_color(), alpha=0.2, lw=0)
        n_seeds = sub["seed_index"].nunique()
        ax.set(title=f"{arch} ({n_seeds} seeds)", xlabel="epoch", ylim=(0, 1))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy")
    axes[0][-1].legend(fontsize=8, loc="lower right")
    fig.suptitle(str(curves["experiment"].iloc[0]))
    fig.tight_layout()
    return fig
