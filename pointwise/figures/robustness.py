"""Figures of paper 001 (Andreassen et al., effective robustness through fine-tuning), one function
per figure of the spec's inventory (spec §2, §6), each reading tables only (never logits).

Conventions of the paper's ER plots: x = ID test accuracy (%), y = ER (pp); a dashed "Zero ER"
line; testbed models as blue points with 95% Clopper–Pearson bars; a solid black "Random init.
Max ER" curve (the random-init configuration with the highest max ER); fine-tuning curves are
binned means over runs (100 bins). Tables hold fractions; figures show percent / pp.
"""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.special import expit, logit

TESTBED = "tab:blue"


# ------------------------------------------------------------------------------------ helpers

def _fit_row(fits: pd.DataFrame, role: str, scaling: str = "logit") -> pd.Series:
    return fits[(fits["ood_set"] == role) & (fits["scaling"] == scaling)].iloc[0]


def _beta(x, row) -> np.ndarray:
    x = np.clip(np.asarray(x, dtype=np.float64), 1e-6, 1 - 1e-6)
    z = row["A"] * (logit(x) if row["scaling"] == "logit" else x) + row["B"]
    return expit(z) if row["scaling"] == "logit" else z


def _testbed_er(ax, model_er: pd.DataFrame, role: str, label="testbed (95% CP)"):
    t = model_er[(model_er["ood_set"] == role) & (model_er["role"] == "testbed")]
    y = 100 * t["er"]
    ax.errorbar(100 * t["acc_id"], y, yerr=[y - 100 * t["er_lo"], 100 * t["er_hi"] - y], fmt="o",
                ms=3, color=TESTBED, ecolor=TESTBED, elinewidth=0.6, alpha=0.7, label=label)


def _curve(binned: pd.DataFrame, run: str, role: str, metric: str = "er"):
    return binned[(binned["run"] == run) & (binned["ood_set"] == role) & (binned["metric"] == metric)] \
        .sort_values("centre")


def _zero(ax):
    ax.axhline(0, color="k", ls="--", lw=0.8, label="Zero ER")


def _random_max(ax, binned, max_er, randoms, role):
    m = max_er[(max_er["run"].isin(randoms)) & (max_er["ood_set"] == role)]
    if m.empty:
        return
    best = m.loc[m["max_binned"].idxmax(), "run"]
    c = _curve(binned, best, role)
    ax.plot(100 * c["centre"], 100 * c["mean"], color="k", lw=1.6, label=f"Random init. Max ER ({best})")


def _er_axes(ax, title=None):
    ax.set_xlabel("ID test accuracy (%)")
    ax.set_ylabel("effective robustness (pp)")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, loc="best")


def _er_panel(ax, binned, max_er, model_er, runs, randoms, role, title, band=False):
    _testbed_er(ax, model_er, role)
    _zero(ax)
    _random_max(ax, binned, max_er, randoms, role)
    for run in runs:
        c = _curve(binned, run, role)
        if c.empty:
            continue
        line, = ax.plot(100 * c["centre"], 100 * c["mean"], lw=1.3, label=run)
        if band:
            ax.fill_between(100 * c["centre"], 100 * (c["mean"] - c["std"]), 100 * (c["mean"] + c["std"]),
                            color=line.get_color(), alpha=0.2, lw=0)
    _er_axes(ax, title)


def _labels(params):
    return params.get("labels", {})


# ------------------------------------------------------------------------- testbed and fits

def fig02ab_testbed_fit(model_er: pd.DataFrame, fits: pd.DataFrame, roles):
    """Fig 2: (a) logit(ID) vs logit(OOD) with the regression line; (b) the same fit in linear
    accuracy space (a curve) with y = x; one row per OOD set that has a fit."""
    roles = [r for r in roles if (fits["ood_set"] == r).any()] or list(dict.fromkeys(fits["ood_set"]))
    fig, axes = plt.subplots(len(roles), 2, figsize=(8.5, 3.6 * len(roles)), squeeze=False)
    for (a, b), role in zip(axes, roles):
        t = model_er[(model_er["ood_set"] == role) & (model_er["role"] == "testbed")]
        row = _fit_row(fits, role)
        eps = 1e-4
        lx, ly = logit(t["acc_id"].clip(eps, 1 - eps)), logit(t["acc_ood"].clip(eps, 1 - eps))
        a.errorbar(lx, ly, yerr=[ly - logit(t["ood_lo"].clip(eps, 1 - eps)), logit(t["ood_hi"].clip(eps, 1 - eps)) - ly],
                   xerr=[lx - logit(t["id_lo"].clip(eps, 1 - eps)), logit(t["id_hi"].clip(eps, 1 - eps)) - lx],
                   fmt="o", ms=3, color=TESTBED, elinewidth=0.5, alpha=0.8, label="testbed (95% CP)")
        xs = np.linspace(lx.min() - 0.3, lx.max() + 0.3, 50)
        a.plot(xs, row["A"] * xs + row["B"], "r-", label=f"fit A={row['A']:.3f}, B={row['B']:.3f}, R²={row['r2']:.3f}")
        a.plot(xs, xs, "k:", lw=0.8, label="y = x")
        a.set(xlabel="logit(ID accuracy)", ylabel=f"logit({role} accuracy)", title=f"(a) logit space, {role}")
        x = np.linspace(0.01, 0.99, 200)
        b.errorbar(100 * t["acc_id"], 100 * t["acc_ood"], yerr=[100 * (t["acc_ood"] - t["ood_lo"]),
                   100 * (t["ood_hi"] - t["acc_ood"])], fmt="o", ms=3, color=TESTBED, elinewidth=0.5, alpha=0.8,
                   label="testbed")
        b.plot(100 * x, 100 * _beta(x, row), "r-", label="fit β(x)")
        b.plot([0, 100], [0, 100], "k:", lw=0.8, label="Same accuracy (y = x)")
        b.set(xlabel="ID accuracy (%)", ylabel=f"{role} accuracy (%)", title=f"(b) linear space, {role}",
              xlim=(0, 100), ylim=(0, 100))
        for ax in (a, b):
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def fig01a_er_definition(model_er: pd.DataFrame, fits: pd.DataFrame, special: pd.DataFrame, role: str):
    """Fig 1(a): the ER definition — the fitted testbed curve, y = x and one effectively robust
    point (the max-ER checkpoint) with ρ as its vertical distance above the fit."""
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    t = model_er[(model_er["ood_set"] == role) & (model_er["role"] == "testbed")]
    row = _fit_row(fits, role)
    x = np.linspace(0.01, 0.99, 200)
    ax.plot(100 * t["acc_id"], 100 * t["acc_ood"], "o", ms=3, color=TESTBED, label="testbed")
    ax.plot(100 * x, 100 * _beta(x, row), "r-", label="testbed fit β(x)")
    ax.plot([0, 100], [0, 100], "k:", lw=0.8, label="Same accuracy (y = x)")
    sp = special[special["kind"] == "max_er"]
    if len(sp) and f"acc_{role}" in sp:
        p = sp.iloc[0]
        xi, yi = p["acc_id"], p[f"acc_{role}"]
        b = float(_beta([xi], row)[0])
        ax.plot(100 * xi, 100 * yi, "o", color="tab:green", ms=7, label=f"effectively robust ({p['model']})")
        ax.annotate("", xy=(100 * xi, 100 * yi), xytext=(100 * xi, 100 * b),
                    arrowprops=dict(arrowstyle="<->", color="tab:green"))
        ax.text(100 * xi + 1, 100 * (yi + b) / 2, f"ρ = {100 * (yi - b):.1f} pp", color="tab:green", fontsize=8)
    ax.set(xlabel="ID test accuracy (%)", ylabel=f"OOD ({role}) test accuracy (%)", xlim=(0, 100), ylim=(0, 100))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def fig01bc_id_vs_ood(points: pd.DataFrame, binned: pd.DataFrame, model_er: pd.DataFrame,
                      fits: pd.DataFrame, role: str, runs):
    """Fig 1(b,c): per-checkpoint ID vs OOD accuracy on logit-scaled axes with the testbed fit, and
    the same checkpoints in ER space, for a pretrained and a random-init configuration."""
    fig, (b, c) = plt.subplots(1, 2, figsize=(9.5, 4))
    t = model_er[(model_er["ood_set"] == role) & (model_er["role"] == "testbed")]
    row = _fit_row(fits, role)
    eps = 1e-3
    b.plot(logit(t["acc_id"].clip(eps, 1 - eps)), logit(t["acc_ood"].clip(eps, 1 - eps)), "o", ms=3,
           color=TESTBED, label="testbed")
    xs = np.linspace(logit(0.05), logit(0.97), 50)
    b.plot(xs, row["A"] * xs + row["B"], "r-", lw=1, label="testbed fit")
    b.plot(xs, xs, "k:", lw=0.8, label="y = x")
    for run in runs:
        p = points[(points["run"] == run) & (points["ood_set"] == role) & points["used"]]
        line, = b.plot(logit(p["acc_id"].clip(eps, 1 - eps)), logit(p["acc_ood"].clip(eps, 1 - eps)), ".",
                       ms=2, alpha=0.4)
        cb = _curve(binned, run, role, "acc_ood")
        b.plot(logit(cb["centre"].clip(eps, 1 - eps)), logit(cb["mean"].clip(eps, 1 - eps)), "-",
               color=line.get_color(), label=run)
        ce = _curve(binned, run, role)
        c.plot(100 * ce["centre"], 100 * ce["mean"], "-", color=line.get_color(), label=run)
    ticks = np.array([0.1, 0.3, 0.5, 0.7, 0.9, 0.97])
    b.set_xticks(logit(ticks), [f"{100 * v:g}" for v in ticks])
    b.set_yticks(logit(ticks), [f"{100 * v:g}" for v in ticks])
    b.set(xlabel="ID accuracy (%, logit axis)", ylabel=f"{role} accuracy (%, logit axis)", title="(b)")
    b.grid(alpha=0.3)
    b.legend(fontsize=6)
    _testbed_er(c, model_er, role)
    _zero(c)
    _er_axes(c, "(c)")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------- ER curves

def fig_er(binned, max_er, model_er, runs, randoms, role, title):
    """Figs 3(a,b): binned ER of the given configurations during fine-tuning, with the testbed,
    the zero line and the best random-init curve."""
    fig, ax = plt.subplots(figsize=(5.2, 4))
    _er_panel(ax, binned, max_er, model_er, runs, randoms, role, title)
    fig.tight_layout()
    return fig


def fig03cd_er_style(binned, max_er, model_er, full, head, randoms, role):
    """Fig 3(c,d): ER on the second (rendition-like) OOD set, full and head-only fine-tuning."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    _er_panel(axes[0], binned, max_er, model_er, full, randoms, role, f"(c) full fine-tuning, {role}")
    _er_panel(axes[1], binned, max_er, model_er, head, randoms, role, f"(d) head-only fine-tuning, {role}")
    fig.tight_layout()
    return fig


def fig06_errorbars(binned, max_er, model_er, runs, randoms, role):
    """Fig 6: binned mean ER with ± one standard deviation over the pooled runs in each bin."""
    fig, ax = plt.subplots(figsize=(5.2, 4))
    _er_panel(ax, binned, max_er, model_er, runs, [], role, "binned mean ± std over runs", band=True)
    for run in randoms:
        c = _curve(binned, run, role)
        ax.fill_between(100 * c["centre"], 100 * (c["mean"] - c["std"]), 100 * (c["mean"] + c["std"]),
                        color="k", alpha=0.15, lw=0)
        ax.plot(100 * c["centre"], 100 * c["mean"], "k-", lw=1, label=f"{run} (random init)")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def fig07_std_variants(max_er: pd.DataFrame, role: str):
    """Fig 7: max ER of every configuration with the two error-bar variants: (a) the largest
    per-bin std over all bins (the paper's conservative bar), (b) the std in the max-ER bin."""
    m = max_er[max_er["ood_set"] == role].reset_index(drop=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.9 + 0.35 * max(len(m), 3)), sharey=True)
    y = np.arange(len(m))
    for ax, col, title in ((axes[0], "max_std_all_bins", "(a) max std over all bins"),
                           (axes[1], "std_at_max_bin", "(b) std in the max-ER bin")):
        ax.errorbar(100 * m["max_binned"], y, xerr=100 * m[col].fillna(0), fmt="o", capsize=3)
        ax.axvline(0, color="k", ls="--", lw=0.8)
        ax.set(xlabel=f"max ER on {role} (pp)", title=title)
        ax.grid(alpha=0.3)
    axes[0].set_yticks(y, [f"{r} ({i}, {mo})" for r, i, mo in zip(m["run"], m["init"], m["mode"])], fontsize=7)
    fig.tight_layout()
    return fig


def fig08_pre_vs_rand(points, binned, max_er, model_er, pretrained, randoms, role):
    """Fig 8: pretrained vs randomly initialised fine-tuning: raw per-checkpoint ER (faint) and
    binned means."""
    fig, ax = plt.subplots(figsize=(5.2, 4))
    _testbed_er(ax, model_er, role)
    _zero(ax)
    for runs, kind in ((pretrained, "pretrained"), (randoms, "random init")):
        for run in runs:
            p = points[(points["run"] == run) & (points["ood_set"] == role) & points["used"]]
            line, = ax.plot(100 * p["acc_id"], 100 * p["er"], ".", ms=2, alpha=0.25)
            c = _curve(binned, run, role)
            ax.plot(100 * c["centre"], 100 * c["mean"], "-", color=line.get_color(), lw=1.4, label=f"{run} ({kind})")
    _er_axes(ax, f"pretrained vs random init, {role}")
    fig.tight_layout()
    return fig


def fig09_style_acc(binned, model_er, fits, runs, role):
    """Fig 9: OOD (rendition-like set) accuracy against ID accuracy during fine-tuning, with the
    testbed and its fit."""
    fig, ax = plt.subplots(figsize=(5, 4.2))
    t = model_er[(model_er["ood_set"] == role) & (model_er["role"] == "testbed")]
    ax.plot(100 * t["acc_id"], 100 * t["acc_ood"], "o", ms=3, color=TESTBED, label="testbed")
    x = np.linspace(0.01, 0.99, 200)
    ax.plot(100 * x, 100 * _beta(x, _fit_row(fits, role)), "r-", lw=1, label="testbed fit")
    ax.plot([0, 100], [0, 100], "k:", lw=0.8, label="y = x")
    for run in runs:
        c = _curve(binned, run, role, "acc_ood")
        ax.plot(100 * c["centre"], 100 * c["mean"], "-", lw=1.3, label=run)
    ax.set(xlabel="ID test accuracy (%)", ylabel=f"{role} accuracy (%)", xlim=(0, 100), ylim=(0, 100))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def fig24_gap_fraction(binned, gap_reference, runs, role):
    """Fig 24 / App. D: left, the no-gap (y = x) reference ER x − β(x) next to the fine-tuning ER
    curves; right, ER as a share of the gap (%), masked where the gap is below the threshold."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    g = gap_reference[gap_reference["ood_set"] == role]
    a.plot(100 * g["acc_id"], 100 * g["nogap_er"], "k--", lw=1.2, label="No Accuracy Gap (y = x)")
    _zero(a)
    for run in runs:
        c = _curve(binned, run, role)
        a.plot(100 * c["centre"], 100 * c["mean"], lw=1.3, label=run)
        f = _curve(binned, run, role, "er_frac_gap")
        b.plot(100 * f["centre"], f["mean"], lw=1.3, label=run)
    _er_axes(a, "ER and the no-gap reference")
    b.axhline(0, color="k", ls="--", lw=0.8)
    b.set(xlabel="ID test accuracy (%)", ylabel="ER / (x − β(x)) (%)", title="ER as a share of the gap")
    b.grid(alpha=0.3)
    b.legend(fontsize=6)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------ sweeps

def _sweep_rows(sweeps, sweep, role):
    return sweeps[(sweeps["sweep"] == sweep) & (sweeps["ood_set"] == role)].sort_values("order")


def fig_sweep_max(sweeps: pd.DataFrame, sweep: str, role: str, logx: bool = False):
    """Figs 4(a,b,c), 16: max ER per sweep value with the conservative (max std over bins) error
    bar; categorical sweeps are shown in their configured order."""
    s = _sweep_rows(sweeps, sweep, role)
    fig, ax = plt.subplots(figsize=(5, 3.8))
    vals = pd.to_numeric(s["value"], errors="coerce")
    numeric = not vals.isna().any() and len(s)
    x = vals.to_numpy() if numeric else np.arange(len(s))
    ax.errorbar(x, 100 * s["max_binned"], yerr=100 * s["max_std_all_bins"].fillna(0), fmt="o-", capsize=3,
                label="max ER ± max std over bins")
    ax.errorbar(x, 100 * s["max_binned"], yerr=100 * s["std_at_max_bin"].fillna(0), fmt="none", capsize=5,
                ecolor="tab:orange", label="± std in the max bin")
    if not numeric:
        ax.set_xticks(x, [str(v) for v in s["value"]])
    elif logx and (x > 0).all():
        ax.set_xscale("log")
    ax.axhline(0, color="k", ls="--", lw=0.8)
    axis = s["axis"].iloc[0] if len(s) else sweep
    ax.set(xlabel=axis, ylabel=f"max ER on {role} (pp)", title=f"max ER vs {axis}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def fig_sweep_curves(binned, max_er, model_er, sweeps, sweep, randoms, role):
    """Figs 11, 12, 13, 15, 17, 18: binned ER curves of every configuration of one sweep."""
    s = _sweep_rows(sweeps, sweep, role)
    fig, ax = plt.subplots(figsize=(5.4, 4.1))
    _testbed_er(ax, model_er, role)
    _zero(ax)
    _random_max(ax, binned, max_er, randoms, role)
    axis = s["axis"].iloc[0] if len(s) else sweep
    for _, r in s.iterrows():
        c = _curve(binned, r["run"], role)
        ax.plot(100 * c["centre"], 100 * c["mean"], lw=1.3, label=f"{axis} = {r['value']}")
    _er_axes(ax, f"ER during fine-tuning by {axis}")
    fig.tight_layout()
    return fig


def fig04c_difficulty(binned, max_er, model_er, sweeps, randoms, role):
    """Fig 4(c): ER curves when fine-tuning on the easiest / hardest / random 10% (C-score proxy),
    and max ER with the final ID accuracy per subset."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    s = _sweep_rows(sweeps, "difficulty", role)
    _testbed_er(a, model_er, role)
    _zero(a)
    for _, r in s.iterrows():
        c = _curve(binned, r["run"], role)
        a.plot(100 * c["centre"], 100 * c["mean"], lw=1.3, label=str(r["value"]))
    _er_axes(a, "ER by fine-tuning subset")
    x = np.arange(len(s))
    b.bar(x - 0.2, 100 * s["max_binned"], 0.4, yerr=100 * s["max_std_all_bins"].fillna(0), label="max ER (pp)")
    b2 = b.twinx()
    b2.bar(x + 0.2, 100 * s["final_acc_id_mean"], 0.4, color="tab:gray", label="final ID acc (%)")
    b.set_xticks(x, [str(v) for v in s["value"]])
    b.set(ylabel="max ER (pp)", title="max ER and final ID accuracy")
    b2.set_ylabel("final ID accuracy (%)")
    b.legend(loc="upper left", fontsize=6)
    b2.legend(loc="upper right", fontsize=6)
    fig.tight_layout()
    return fig


def fig14_zeroshot_agg(zeroshot: pd.DataFrame, roles):
    """Fig 14: zero-shot ER with max, mean and sum aggregation over the class map."""
    fig, ax = plt.subplots(figsize=(5, 3.6))
    models = list(dict.fromkeys(zeroshot["model"]))
    w = 0.8 / max(len(roles), 1)
    for j, role in enumerate(roles):
        col = f"er_{role}"
        if col not in zeroshot:
            continue
        for i, m in enumerate(models):
            z = zeroshot[zeroshot["model"] == m]
            x = np.arange(len(z)) + i * (len(z) + 1) + j * w
            ax.bar(x, 100 * z[col], w, label=f"{m}, {role}")
            ax.set_xticks(np.arange(len(z)) + i * (len(z) + 1), list(z["agg"]))
    ax.axhline(0, color="k", ls="--", lw=0.8)
    ax.set(ylabel="zero-shot ER (pp)", title="class-mapped zero-shot, by aggregation")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def _sweep_panel(ax, binned, model_er, sweeps, sweep, role, title):
    """Binned ER curves of one sweep's runs (the first, the configuration the others modify, in
    black), the testbed and the zero line; says so when the sweep is not configured."""
    s = _sweep_rows(sweeps, sweep, role)
    if s.empty:
        ax.text(0.5, 0.5, f"'{sweep}' not configured", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
        return
    _testbed_er(ax, model_er, role)
    _zero(ax)
    axis = s["axis"].iloc[0]
    for i, r in enumerate(s.itertuples()):
        c = _curve(binned, r.run, role)
        ax.plot(100 * c["centre"], 100 * c["mean"], lw=1.6 if i == 0 else 1.3, color="k" if i == 0 else f"C{i}",
                label=f"{r.run} ({axis} = {r.value})")
    _er_axes(ax, title)


def _source_panel(ax, acc, sweeps, sweep):
    """Pretraining-source test accuracy (mean over seeds) against ID accuracy during fine-tuning."""
    runs = list((sweeps[sweeps["sweep"] == sweep]["run"]).drop_duplicates())
    a = acc[acc["run"].isin(runs)] if "set" in acc else acc.iloc[0:0]
    src = a[a["set"] == "source"]
    if src.empty:
        ax.text(0.5, 0.5, "no run evaluates the pretraining source", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    for i, run in enumerate(runs):
        g = a[a["run"] == run].pivot_table(index="eval_index", columns="set", values="acc", aggfunc="mean")
        if "source" not in g:
            continue
        ax.plot(100 * g["id"], 100 * g["source"], "o-", ms=2, lw=1.2, color="k" if i == 0 else f"C{i}", label=run)
    ax.set(xlabel="ID test accuracy (%)", ylabel="pretraining-source test accuracy (%)",
           title="(b) forgetting of the pretraining task (source head)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def fig22_replay(binned, model_er, sweeps, acc, role):
    """Fig 22 (C.11): (a) ER during full fine-tuning with a replay buffer of pretraining-source
    examples at each configured ratio, next to fine-tuning without replay; (b) the source task's
    accuracy through the kept source head (forgetting)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    _sweep_panel(a, binned, model_er, sweeps, "replay", role, f"(a) replay buffer, {role}")
    _source_panel(b, acc, sweeps, "replay")
    fig.tight_layout()
    return fig


def fig23_classmap_l2(binned, model_er, sweeps, role):
    """Fig 23 (C.12): (a) fine-tuning the class-mapped pretrained head, with and without replay;
    (b) the class-mapped head with an L2 pull towards the pretrained weights (λ)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    _sweep_panel(a, binned, model_er, sweeps, "classmap", role, f"(a) class-mapped head (+ replay), {role}")
    _sweep_panel(b, binned, model_er, sweeps, "l2_init", role, f"(b) L2 to the pretrained weights, {role}")
    fig.tight_layout()
    return fig


def fig19_phaseout(binned, model_er, sweeps, role):
    """Fig 19 (C.9): ER while the easiest examples (C-score proxy) are phased out epoch by epoch
    down to the configured final sizes; (a) random init, (b) pretrained, each next to training on
    the whole set."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    _sweep_panel(a, binned, model_er, sweeps, "phaseout_random", role, f"(a) random init, {role}")
    _sweep_panel(b, binned, model_er, sweeps, "phaseout", role, f"(b) pretrained, {role}")
    fig.tight_layout()
    return fig


def phaseout_schedule(phase: pd.DataFrame):
    """The phase-out schedule (C.9): training-set size per epoch, keeping the hardest examples by
    the C-score proxy (the phase-out designs train on it; Fig 19)."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for n, g in phase.groupby("n_final"):
        ax.plot(g["epoch"], g["size"], label=f"N_final = {n}")
    ax.set(xlabel="epoch", ylabel="training examples kept", title="phase-out schedule (hardest kept)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------- per-example analyses

def fig05abc_dominance_unique(pairs: pd.DataFrame, matrix: pd.DataFrame, uc: pd.DataFrame):
    """Fig 5: (a) dominance probability of every model pair against their ID accuracy gap, pairs
    with special models coloured; (b) the symmetric dominance matrix sorted by ID accuracy; (c)
    accuracy on the examples no (other) testbed model gets right (leave-one-out for testbed
    models) against ID accuracy, with chance 1/C."""
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.3))
    tb = pairs[pairs["special"].fillna("") == ""]
    a.plot(100 * tb["acc_diff"], 100 * tb["dp"], "o", ms=2, color=TESTBED, alpha=0.5, label="testbed pairs")
    for i, (name, g) in enumerate(pairs[pairs["special"].fillna("") != ""].groupby("special")):
        a.plot(100 * g["acc_diff"], 100 * g["dp"], "o", ms=4, color=f"C{i + 1}", label=name)
    a.set(xlabel="ID accuracy gap |μ_a − μ_b| (pp)", ylabel="dominance probability (%)", title="(a) pairs")
    a.grid(alpha=0.3)
    a.legend(fontsize=6)
    names = [c for c in matrix.columns if c not in ("model", "role", "acc_id")]
    im = b.imshow(100 * matrix[names].to_numpy(dtype=float), cmap="viridis", origin="lower")
    fig.colorbar(im, ax=b, label="DP (%)")
    special = [i for i, r in enumerate(matrix["role"]) if r != "testbed"]
    for i in special:
        b.axhline(i, color="r", lw=0.5)
        b.axvline(i, color="r", lw=0.5)
    b.set(title="(b) dominance matrix (sorted by ID acc; red = non-testbed)", xlabel="model", ylabel="model")
    t = uc[uc["role"] == "testbed"]
    c.plot(100 * t["acc_id"], 100 * t["acc_S"], "o", ms=3, color=TESTBED, label="testbed (leave-one-out)")
    for i, (_, r) in enumerate(uc[uc["role"] != "testbed"].sort_values("model").iterrows()):
        c.plot(100 * r["acc_id"], 100 * r["acc_S"], "*", ms=9, color=f"C{i + 1}", label=r["model"])
    if uc["chance"].notna().any():
        c.axhline(100 * uc["chance"].dropna().iloc[0], color="k", ls="--", lw=0.8, label="chance 1/C")
    c.set(xlabel="ID test accuracy (%)", ylabel="accuracy on S (%)", title="(c) examples no other testbed model gets right")
    c.grid(alpha=0.3)
    c.legend(fontsize=6)
    fig.tight_layout()
    return fig


def fig21_dominance_full(matrix: pd.DataFrame):
    """Fig 21: the full dominance matrix with model names (sorted by ID accuracy)."""
    names = [c for c in matrix.columns if c not in ("model", "role", "acc_id")]
    n = len(names)
    fig, ax = plt.subplots(figsize=(3 + 0.22 * n, 2.5 + 0.22 * n))
    im = ax.imshow(100 * matrix[names].to_numpy(dtype=float), cmap="viridis", origin="lower")
    fig.colorbar(im, ax=ax, label="DP (%)")
    ticks = [f"{m} ({100 * a:.0f}%)" for m, a in zip(matrix["model"], matrix["acc_id"])]
    ax.set_xticks(range(n), ticks, rotation=90, fontsize=5)
    ax.set_yticks(range(n), ticks, fontsize=5)
    ax.set_title("dominance probability DP(lower-acc, higher-acc)")
    fig.tight_layout()
    return fig


def fig20_triplets(summary: pd.DataFrame, per_model: pd.DataFrame):
    """Fig 20 (optional; the spec's uncertain reading of the triplet probabilities): share of
    triplet events inside the cone, per model."""
    fig, ax = plt.subplots(figsize=(5.5, 3.5 + 0.12 * len(per_model)))
    pm = per_model.sort_values("frac_inside")
    colors = [TESTBED if r == "testbed" else "tab:red" for r in pm["role"]]
    ax.barh(range(len(pm)), 100 * pm["frac_inside"], color=colors)
    ax.set_yticks(range(len(pm)), list(pm["model"]), fontsize=5)
    s = summary.iloc[0]
    overall = 100 * float(s["frac_inside"]) if "frac_inside" in s and pd.notna(s["frac_inside"]) else float("nan")
    ax.axvline(99.8, color="k", ls="--", lw=0.8, label="paper: 99.8%")
    ax.set(xlabel="triplet events inside the cone (%)",
           title=f"triplets (uncertain reading): {overall:.1f}% overall")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------ dispatch

def draw(figure: str, tables: Mapping[str, str], pdf: str, png: str | None, params: Mapping) -> None:
    """Read ``tables`` (name -> CSV path) and save paper-001 figure ``figure`` as PDF and PNG.
    ``params``: roles (OOD roles in order), main (full/head/random run lists), sweep (for sweep
    figures)."""
    from pointwise.figures import save
    from pointwise.io import read_csv

    t = {k: read_csv(v) for k, v in dict(tables).items()}
    roles = list(params["roles"])
    main = params.get("main", {})
    full, head, rand = main.get("full", []), main.get("head", []), main.get("random", [])
    r0 = roles[0]
    sweep = params.get("sweep")
    makers = {
        "fig02ab_testbed_fit": lambda: fig02ab_testbed_fit(t["model_er"], t["fits"], roles),
        "fig01a_er_definition": lambda: fig01a_er_definition(t["model_er"], t["fits"], t["special"], r0),
        "fig01bc_id_vs_ood": lambda: fig01bc_id_vs_ood(t["points"], t["binned"], t["model_er"], t["fits"], r0,
                                                       (full or head)[:1] + rand[:1]),
        "fig03a_er_full_ft": lambda: fig_er(t["binned"], t["max_er"], t["model_er"], full, rand, r0,
                                            f"(a) full fine-tuning, {r0}"),
        "fig03b_er_head": lambda: fig_er(t["binned"], t["max_er"], t["model_er"], head, rand, r0,
                                         f"(b) head-only fine-tuning, {r0}"),
        "fig03cd_er_style": lambda: fig03cd_er_style(t["binned"], t["max_er"], t["model_er"], full, head, rand,
                                                     roles[-1]),
        "fig06_errorbars": lambda: fig06_errorbars(t["binned"], t["max_er"], t["model_er"], full + head, rand, r0),
        "fig07_std_variants": lambda: fig07_std_variants(t["max_er"], r0),
        "fig08_pre_vs_rand": lambda: fig08_pre_vs_rand(t["points"], t["binned"], t["max_er"], t["model_er"],
                                                       full, rand, r0),
        "fig09_style_acc": lambda: fig09_style_acc(t["binned"], t["model_er"], t["fits"], full + head + rand,
                                                   roles[-1]),
        "fig24_gap_fraction": lambda: fig24_gap_fraction(t["binned"], t["gap_reference"], full + head, r0),
        "fig14_zeroshot_agg": lambda: fig14_zeroshot_agg(t["zeroshot"], roles),
        "phaseout_schedule": lambda: phaseout_schedule(t["phaseout"]),
        "fig19_phaseout": lambda: fig19_phaseout(t["binned"], t["model_er"], t["sweeps"], r0),
        "fig22_replay": lambda: fig22_replay(t["binned"], t["model_er"], t["sweeps"], t["accuracies"], r0),
        "fig23_classmap_l2": lambda: fig23_classmap_l2(t["binned"], t["model_er"], t["sweeps"], r0),
        "fig04c_difficulty": lambda: fig04c_difficulty(t["binned"], t["max_er"], t["model_er"], t["sweeps"],
                                                       rand, r0),
        "fig05abc_dominance_unique": lambda: fig05abc_dominance_unique(t["dominance_pairs"], t["dominance_matrix"],
                                                                       t["unique_correct"]),
        "fig21_dominance_full": lambda: fig21_dominance_full(t["dominance_matrix"]),
        "fig20_triplets": lambda: fig20_triplets(t["triplets"], t["triplets_models"]),
    }
    for name in ("fig04a_maxer_vs_size", "fig04b_maxer_vs_source", "fig16_maxer_vs_arch"):
        makers[name] = lambda: fig_sweep_max(t["sweeps"], sweep, r0, logx=(sweep == "size"))
    for name in ("fig15_size_curves", "fig18_by_source", "fig17_by_arch", "fig12_lr", "fig11_loss",
                 "fig13_full_vs_last"):
        makers[name] = lambda: fig_sweep_curves(t["binned"], t["max_er"], t["model_er"], t["sweeps"], sweep,
                                                rand, r0)
    if figure not in makers:
        raise KeyError(f"unknown paper-001 figure '{figure}' (valid: {sorted(makers)})")
    fig = makers[figure]()
    save(fig, pdf, png)
    plt.close(fig)
