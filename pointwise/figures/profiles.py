"""Paper 000 figures (spec §2), one function per figure, from the tables of
:mod:`pointwise.profiles.pipeline` (never from raw logits)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pointwise.data.image_table import decode_pixels
from pointwise.profiles.examples import band_masks, band_means
from pointwise.profiles.probit import inverse_probit, probit
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


def _heatmap(ax, fig, distance: pd.DataFrame, metric: str, symmetrise: bool = False):
    """Distance matrix of ``metric`` (row = T1), annotated with the split-half value."""
    d = distance[distance["metric"] == metric]
    names = list(dict.fromkeys(d["T1"]))
    m = d.pivot(index="T1", columns="T2", values="value").loc[names, names].to_numpy()
    sh = d.pivot(index="T1", columns="T2", values="splithalf").loc[names, names].to_numpy()
    if symmetrise:
        m, sh = (m + m.T) / 2, (sh + sh.T) / 2
    m = np.where(np.abs(m) < 1e-12, 0.0, m)          # rounding residue of identical profiles
    im = ax.imshow(m, cmap="magma_r")
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{m[i, j]:.3g}\n({sh[i, j]:.3g})", ha="center", va="center", fontsize=6)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    fig.colorbar(im, ax=ax)


def _survival(ax, survival: pd.DataFrame, evalset: str, stat: str):
    s = survival[(survival["evalset"] == evalset) & (survival["stat"] == stat)]
    for model, g in s.groupby("model", sort=False):
        ls = "-" if g["regime"].iloc[0] == "scratch" else "--"
        ax.plot(g["t"], g["frac_ge_t"], ls, label=model)
    ax.set(yscale="log", xlabel="t", ylabel="fraction with nmono >= t", title=f"{stat} profile ({evalset})")
    ax.legend(fontsize=7)


def _profile_of(ex_prof: pd.DataFrame, role: str, model: str | None = None, evalset: str | None = None,
                id_: int | None = None) -> pd.DataFrame:
    m = ex_prof["role"] == role
    for col, v in (("model", model), ("evalset", evalset), ("id", id_)):
        if v is not None:
            m &= ex_prof[col] == v
    return ex_prof[m].sort_values("g")


def _softmax_cols(prof: pd.DataFrame) -> list[str]:
    """The softmax columns s0..s{C-1} of an example profile, in class order."""
    return sorted((c for c in prof.columns if c[:1] == "s" and c[1:].isdigit() and prof[c].notna().any()),
                  key=lambda c: int(c[1:]))


def _softmax_stack(ax, prof: pd.DataFrame, label: int):
    """Stackplot of a softmax profile (one band per class, true class hatched) with the accuracy
    profile on top (black)."""
    cols = _softmax_cols(prof)
    if cols:
        cmap = plt.get_cmap("tab10" if len(cols) <= 10 else "tab20")
        polys = ax.stackplot(prof["p"], prof[cols].to_numpy().T, colors=[cmap(i % cmap.N) for i in range(len(cols))],
                             labels=[f"class {c[1:]}" for c in cols], alpha=0.85)
        if 0 <= label < len(polys):
            polys[label].set_hatch("//")
    ax.plot(prof["p"], prof["acc"], "k-", lw=1.8, label="accuracy")
    ax.set(xlim=(prof["p"].min(), prof["p"].max()), ylim=(0, 1), xlabel="global accuracy p")


def _image(ax, row, title: str = ""):
    ax.imshow(decode_pixels(row), cmap="gray")
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(title, fontsize=7)


def _example_pair(ax_i, ax_p, row, prof: pd.DataFrame, title: str, image_title: str | None = None, **title_kw):
    """A chosen point: its image (``ax_i``) and its softmax stackplot with the accuracy profile
    (``ax_p``, titled ``title``); the shared drawing of Figs 3, 7(c), 8 and 9."""
    _image(ax_i, row, row["label_name"] if image_title is None else image_title)
    _softmax_stack(ax_p, prof, int(row["label"]))
    ax_p.set_title(title, fontsize=8, **title_kw)


def _no_point(fig, text: str):
    ax = fig.add_subplot(111)
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def _ood(settings: dict) -> str:
    """The first shifted rung of the ladder (the ImageNet-v2 analogue), or the reference set."""
    rest = [e for e in settings["ladder"] if e != settings["reference"]]
    return rest[0] if rest else settings["reference"]


def fig2_zoom(acc: pd.DataFrame, line: pd.DataFrame, examples: pd.DataFrame, ex_prof: pd.DataFrame,
              settings: dict):
    """Fig 2 analogue, zooming in: (a) accuracy on the first shifted rung against reference
    accuracy, every checkpoint of every run, with the scratch models' probit line; (b) the same on
    the superclass only; (c) the most compatible example; (d) its accuracy profile under every
    model; (e) its softmax profile under the first model."""
    ref, ood = settings["reference"], _ood(settings)
    fig, axes = plt.subplots(1, 5, figsize=(20, 3.9), gridspec_kw={"width_ratios": [1, 1, 0.6, 1, 1]})
    x = acc[(acc["evalset"] == ref) & (acc["subset"] == "all")].set_index(["model", "run", "k"])["accuracy"]
    for ax, sub in zip(axes[:2], ("all", "superclass")):
        y = acc[(acc["evalset"] == ood) & (acc["subset"] == sub)].set_index(["model", "run", "k"])["accuracy"]
        pts = pd.concat([x.rename("x"), y.rename("y")], axis=1, join="inner").reset_index()
        for model, g in pts.groupby("model", sort=False):
            ax.plot(g["x"], g["y"], ".", ms=3, alpha=0.6, label=model)
        fit = line[(line["kind"] == "regime") & (line["group"] == "scratch") & (line["evalset"] == ood)
                   & (line["subset"] == sub)]
        if len(fit):
            f = fit.iloc[0]
            u = np.linspace(f["x_min"], f["x_max"], 50)
            ax.plot(u, inverse_probit(f["slope_probit"] * probit(u) + f["intercept_probit"]), "k-", lw=1,
                    label=f"scratch probit fit, r = {f['r_probit']:.3f}")
        what = "" if sub == "all" else f" (classes {list(settings['superclass'])})"
        ax.set(xlabel=f"{ref} accuracy", ylabel=f"{ood} accuracy{what}", title=f"{ood}{what}")
        ax.legend(fontsize=6)
    z = examples[examples["role"] == "zoom"]
    if len(z):
        r = z.iloc[0]
        _image(axes[2], r, f"id {r['id']}: {r['label_name']}\n({r['category']})")
        zp = _profile_of(ex_prof, "zoom", id_=r["id"])
        for model, g in zp.groupby("model", sort=False):
            ls = "-" if g["regime"].iloc[0] == "scratch" else "--"
            axes[3].plot(g["p"], g["acc"], ls, label=model)
        lim = [zp["p"].min(), zp["p"].max()]
        axes[3].plot(lim, lim, ":", color="grey", lw=0.8, label="A(p) = p")
        axes[3].set(xlabel="global accuracy p", ylabel="pointwise accuracy", ylim=(-0.02, 1.02),
                    title="accuracy profile of this example")
        axes[3].legend(fontsize=6)
        first = next(iter(settings["models"]))
        _softmax_stack(axes[4], zp[zp["model"] == first].sort_values("g"), int(r["label"]))
        axes[4].set(title=f"softmax profile ({first})", ylabel="mean softmax")
        axes[4].legend(fontsize=5, ncol=2, loc="lower right")
    else:
        for ax in axes[2:]:
            ax.axis("off")
    fig.tight_layout()
    return fig


def fig3_taxonomy(examples: pd.DataFrame, ex_prof: pd.DataFrame):
    """Fig 3 analogue, the taxonomy gallery: per eval set (rows: reference, last ladder rung)
    the prototype of each category under the first model, its image and its softmax profile
    (stack, true class hatched) with the accuracy profile (black)."""
    tx = examples[examples["role"] == "taxonomy"]
    sets = list(dict.fromkeys(tx["evalset"]))
    fig = plt.figure(figsize=(18, 2.9 * max(len(sets), 1)))
    gs = fig.add_gridspec(max(len(sets), 1), 2 * len(CATEGORIES), width_ratios=[0.7, 1.6] * len(CATEGORIES))
    for i, ev in enumerate(sets):
        for j, cat in enumerate(CATEGORIES):
            r = tx[(tx["evalset"] == ev) & (tx["category"] == cat)]
            ax_i, ax_p = fig.add_subplot(gs[i, 2 * j]), fig.add_subplot(gs[i, 2 * j + 1])
            if not len(r):
                ax_i.axis("off"), ax_p.axis("off")
                ax_p.set_title(f"{ev}: no {cat} point", fontsize=8)
                continue
            r = r.iloc[0]
            _example_pair(ax_i, ax_p, r, _profile_of(ex_prof, "taxonomy", evalset=ev, id_=r["id"]),
                          f"{ev}: {cat} (nmono {r['nmono_acc']:.2f})", color=COLORS[cat])
    fig.tight_layout()
    return fig


def fig7c_neg_profile(examples: pd.DataFrame, ex_prof: pd.DataFrame, settings: dict):
    """Fig 7(c) analogue: the Neg point of highest selection nmono, its image and its softmax
    profile under the selecting model on the pool (Fig 7(d), the Neg samples, is
    ``fig13_neg_samples``)."""
    r = examples[examples["role"] == "neg"]
    fig = plt.figure(figsize=(7.5, 3.4))
    if not len(r):
        _no_point(fig, "no Neg point")
        return fig
    r = r.iloc[0]
    gs = fig.add_gridspec(1, 2, width_ratios=[0.6, 1.6])
    ax_p = fig.add_subplot(gs[0, 1])
    _example_pair(fig.add_subplot(gs[0, 0]), ax_p, r, _profile_of(ex_prof, "neg", id_=r["id"]),
                  f"Neg point {r['id']} ({settings.get('pool')}), {settings.get('neg_model')}: "
                  f"selection nmono {r['nmono_acc']:.2f}", image_title=f"{r['label_name']}")
    ax_p.set_ylabel("mean softmax")
    ax_p.legend(fontsize=5, ncol=2, loc="upper right")
    fig.tight_layout()
    return fig


def fig8_gallery(examples: pd.DataFrame, ex_prof: pd.DataFrame, ncol: int = 5):
    """Fig 8 analogue, softmax profiles with a variety of behaviours: the most non-monotone
    accuracy and negative-entropy profiles and the category prototypes of the reference set
    under the first model (``pick`` says which), each as image and softmax stackplot."""
    g = examples[examples["role"] == "gallery"]
    fig = plt.figure(figsize=(3.9 * min(max(len(g), 1), ncol), 2.7 * max(int(np.ceil(len(g) / ncol)), 1)))
    if not len(g):
        _no_point(fig, "no gallery points")
        return fig
    nrow = int(np.ceil(len(g) / ncol))
    gs = fig.add_gridspec(nrow, 2 * min(len(g), ncol), width_ratios=[0.55, 1.5] * min(len(g), ncol))
    for k, (_, r) in enumerate(g.iterrows()):
        i, j = divmod(k, ncol)
        cat = r["category"] if isinstance(r["category"], str) else None
        _example_pair(fig.add_subplot(gs[i, 2 * j]), fig.add_subplot(gs[i, 2 * j + 1]), r,
                      _profile_of(ex_prof, "gallery", id_=r["id"]),
                      f"{r['pick']}\n{cat or 'no category'}, nmono {r['nmono_acc']:.2f}",
                      color=COLORS.get(cat, "black"))
    fig.tight_layout()
    return fig


def fig9_global_local(examples: pd.DataFrame, ex_prof: pd.DataFrame, settings: dict):
    """Fig 9 analogue, global shape vs local features: the reference point whose low-accuracy
    models (lowest ``switch_band`` of the accuracy axis, shaded left) predict one class and
    high-accuracy models (shaded right) another; its image, softmax profile under the first
    model, and the mean softmax of each class in the two bands."""
    r = examples[examples["role"] == "switch"]
    fig = plt.figure(figsize=(13, 3.6))
    if not len(r):
        _no_point(fig, "no reference point whose low- and high-accuracy classes differ")
        return fig
    r = r.iloc[0]
    prof = _profile_of(ex_prof, "switch", id_=r["id"])
    gs = fig.add_gridspec(1, 3, width_ratios=[0.6, 1.6, 1.2])
    ax_p, ax_b = fig.add_subplot(gs[0, 1]), fig.add_subplot(gs[0, 2])
    _example_pair(fig.add_subplot(gs[0, 0]), ax_p, r, prof,
                  f"low-accuracy models: {r['pred_lo_name']} ({r['mass_lo']:.2f}); "
                  f"high: {r['pred_hi_name']} ({r['mass_hi']:.2f})", image_title=f"id {r['id']}: {r['label_name']}")
    band = float(settings.get("switch_band", 1 / 3))
    grid = prof["p"].to_numpy()
    lo_m, hi_m = band_masks(grid, band)
    for edge, txt, ha in ((grid[lo_m].max(), "low ", "right"), (grid[hi_m].min(), " high", "left")):
        ax_p.axvline(edge, color="k", ls="--", lw=1)
        ax_p.text(edge, 0.97, txt, ha=ha, va="top", fontsize=7, bbox={"fc": "white", "alpha": 0.7, "lw": 0})
    ax_p.set_ylabel("mean softmax")
    ax_p.legend(fontsize=5, ncol=2, loc="upper right")
    cols = _softmax_cols(prof)
    lo, hi = band_means(grid, prof[cols].to_numpy(), band)
    x = np.arange(len(cols))
    ax_b.bar(x - 0.2, lo, 0.4, label=f"lowest {band:.0%} of the accuracy axis")
    ax_b.bar(x + 0.2, hi, 0.4, label=f"highest {band:.0%}")
    ax_b.set_xticks(x, [c[1:] for c in cols], fontsize=7)
    ax_b.set(xlabel="class", ylabel="mean softmax in the band", ylim=(0, 1),
             title=f"switch score {r['switch_score']:.2f} (true class {int(r['label'])})")
    ax_b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def fig5_pies(fractions: pd.DataFrame, settings: dict):
    """Fig 5 analogue: the reference-set taxonomy, one pie per architecture (rows) and regime
    (columns)."""
    f = fractions[fractions["evalset"] == settings["reference"]]
    archs, regimes = list(dict.fromkeys(f["arch"])), list(dict.fromkeys(f["regime"]))
    fig, axes = plt.subplots(len(archs), len(regimes), figsize=(2.8 * len(regimes), 2.8 * len(archs)),
                             squeeze=False)
    for i, a in enumerate(archs):
        for j, rg in enumerate(regimes):
            ax = axes[i, j]
            g = f[(f["arch"] == a) & (f["regime"] == rg)]
            if not len(g):
                ax.axis("off")
                continue
            g = g[g["model"] == g["model"].iloc[0]].set_index("category")
            ax.pie([float(g["fraction"].get(c, 0.0)) for c in CATEGORIES], colors=[COLORS[c] for c in CATEGORIES],
                   startangle=90, autopct=lambda v: f"{v:.0f}%" if v >= 3 else "", textprops={"fontsize": 8})
            ax.set_title(f"{a}, {rg}", fontsize=9)
    fig.legend([plt.Rectangle((0, 0), 1, 1, color=COLORS[c]) for c in CATEGORIES], CATEGORIES,
               loc="lower center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def fig6_survival(survival: pd.DataFrame, distance: pd.DataFrame, ex_prof: pd.DataFrame, settings: dict):
    """Fig 6 analogue: (left) TV distance between the softmax profiles of every pair of models
    (split-half value in brackets); (middle) the accuracy profiles of the example whose
    non-monotonicity pretraining removes most, scratch vs pretrained; (right) survival 1-CDF of
    nmono of the accuracy profiles on the reference set."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    _heatmap(axes[0], fig, distance, "tv")
    axes[0].set_title("TV distance (split-half)")
    pp = ex_prof[ex_prof["role"] == "pretraining"]
    for model, g in pp.groupby("model", sort=False):
        g = g.sort_values("g")
        ls = "-" if g["regime"].iloc[0] == "scratch" else "--"
        axes[1].plot(g["p"], g["acc"], ls, label=f"{model} accuracy")
        axes[1].plot(g["p"], g["softacc"], ls, lw=0.8, alpha=0.6, label=f"{model} soft accuracy")
    axes[1].set(xlabel="global accuracy p", ylabel="pointwise accuracy", ylim=(-0.02, 1.02),
                title="one example, scratch vs pretrained" + (f" (id {pp['id'].iloc[0]})" if len(pp) else ""))
    if len(pp):
        axes[1].legend(fontsize=6)
    _survival(axes[2], survival, settings["reference"], "acc")
    fig.tight_layout()
    return fig


def fig10_survival(survival: pd.DataFrame, settings: dict):
    """Fig 10 analogue: survival 1-CDF of nmono of the negative-entropy (left) and soft-accuracy
    (right) profiles on the reference set (solid: scratch, dashed: pretrained)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.9))
    for ax, stat in zip(axes, ("negent", "softacc")):
        _survival(ax, survival, settings["reference"], stat)
    fig.tight_layout()
    return fig


def fig11_distance(distance: pd.DataFrame):
    """Fig 11 analogue: profile distances with d = KL (ordered, row = T1, and symmetrised) and
    cosine distance; split-half values in brackets."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    for ax, (metric, sym, title) in zip(axes, (("kl", False, "KL(row || column)"),
                                               ("kl", True, "KL symmetrised"), ("cos", False, "cosine distance"))):
        _heatmap(ax, fig, distance, metric, symmetrise=sym)
        ax.set_title(title)
    fig.tight_layout()
    return fig


def samples(examples: pd.DataFrame, evalset: str, title: str):
    """Figs 13/14 analogue: the sampled images of ``evalset`` with their labels."""
    ex = examples[(examples["role"] == "sample") & (examples["evalset"] == evalset)]
    n = max(len(ex), 1)
    ncol = min(n, 5)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(1.8 * ncol, 2.0 * nrow + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (k, r) in zip(axes.ravel(), enumerate(ex.itertuples(index=False))):
        _image(ax, r._asdict(), f"({chr(97 + k) if k < 26 else k}) {r.label_name}")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _theory_panel(ax, curves: pd.DataFrame, figure: str, panel: str, paired: bool = False, **kw):
    """The series of one panel of the theory curves; ``paired``: series whose names share the
    first word (e.g. one difficulty, closed form and estimate) share a colour."""
    c = curves[(curves["figure"] == figure) & (curves["panel"] == panel)]
    colours: dict = {}
    for name, g in c.groupby("series", sort=False):
        style = "o" if "estimate" in name else ("--" if ("closed form" in name or "bound" in name
                                                         or "lengthscale" in name) else "-")
        kw_c = {}
        if paired:
            key = name.split()[0]
            colours.setdefault(key, f"C{len(colours) % 10}")
            kw_c["color"] = colours[key]
        ax.plot(g["x"], g["y"], style, ms=3, lw=1.2, label=name, **kw_c)
    ax.set(**kw)
    ax.legend(fontsize=6)


def theory_skills(curves: pd.DataFrame):
    """Spec §6.1: skills vs difficulty. Closed-form profiles against the pipeline's estimates at
    the workflow's (R, K); the closed forms in probit axes; survival of estimated nmono for the
    skills model (its true nmono is 0: the noise floor) and the feature mixture; the mixture's
    pointwise accuracy against the resource n."""
    fig, axes = plt.subplots(1, 4, figsize=(19, 3.9))
    _theory_panel(axes[0], curves, "skills", "profiles", paired=True, xlabel="global accuracy p", ylabel="pointwise accuracy",
                  title="profiles: closed form vs estimate")
    _theory_panel(axes[1], curves, "skills", "probit", xlabel="probit(p)", ylabel="probit(A_z(p))",
                  title="probit-linear profiles")
    _theory_panel(axes[2], curves, "skills", "survival", xlabel="t", ylabel="fraction with nmono >= t",
                  yscale="log", title="estimated nmono")
    axes[2].axvline(0.1, color="grey", ls=":", lw=0.8)
    _theory_panel(axes[3], curves, "skills", "mixture", xlabel="resource n (epochs)", ylabel="pointwise accuracy",
                  title="two-feature mixture")
    fig.tight_layout()
    return fig


def theory_manifold(curves: pd.DataFrame):
    """Spec §6.2: manifold partition. Mean and worst-point error against n = C^d with the bound
    L sqrt(d) n^(-1/d) (log-log), and Pr_offset[correct] of the most non-monotone points (d = 2)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    _theory_panel(axes[0], curves, "manifold", "error", xscale="log", yscale="log", xlabel="n (cells)",
                  ylabel="|f_hat - f|", title="pointwise scaling law")
    _theory_panel(axes[1], curves, "manifold", "accuracy", xscale="log", xlabel="n (cells)",
                  ylabel="Pr[sign f_hat = sign f]", title="pointwise accuracy (d = 2)")
    fig.tight_layout()
    return fig


def theory_bayes(curves: pd.DataFrame):
    """Spec §6.3: Bayesian inference. GP accuracy (Monte Carlo vs arcsin closed form), E max p and
    entropy against n; per-x* accuracy under the correct and a too-smooth prior; under one fixed
    f; the Beta-Bernoulli exact expectations of Lemma D.2."""
    fig, axes = plt.subplots(1, 4, figsize=(19, 3.9))
    _theory_panel(axes[0], curves, "bayes", "gp", xscale="log", xlabel="n (training points)",
                  title="GP, correct prior (mean over x*)")
    _theory_panel(axes[1], curves, "bayes", "priors", paired=True, xscale="log", xlabel="n", ylabel="accuracy",
                  title="correct vs mismatched prior")
    _theory_panel(axes[2], curves, "bayes", "fixed_f", xscale="log", xlabel="n", ylabel="accuracy",
                  title="correct prior, one fixed f")
    _theory_panel(axes[3], curves, "bayes", "beta_bernoulli", xlabel="n", title="Beta-Bernoulli (exact)")
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


def draw(figure: str, tables, pdf: str, png: str | None = None, settings: dict | None = None) -> None:
    """Read the tables of ``figure`` (name -> path, the keys of the workflow's figure rules) and
    save the figure as PDF and PNG; ``settings``: reference, ladder, superclass and models of
    ``papers.profiles``."""
    from pointwise.figures import save
    from pointwise.io import read_csv
    from pointwise.profiles.store import read_profiles

    tables = dict(tables)
    st = dict(settings or {})
    csv = lambda k: read_csv(tables[k])  # noqa: E731

    def matrix():
        prof, _ = read_profiles(tables["profiles"])
        return profile_matrix(prof.grid, prof.acc, csv("scores"))

    makers = {
        "profile_matrix": matrix,
        "fig2_zoom": lambda: fig2_zoom(csv("acc"), csv("line"), csv("examples"), csv("example_profiles"), st),
        "fig3_taxonomy": lambda: fig3_taxonomy(csv("examples"), csv("example_profiles")),
        "fig7c_neg_profile": lambda: fig7c_neg_profile(csv("examples"), csv("example_profiles"), st),
        "fig8_gallery": lambda: fig8_gallery(csv("examples"), csv("example_profiles")),
        "fig9_global_local": lambda: fig9_global_local(csv("examples"), csv("example_profiles"), st),
        "taxonomy_pies": lambda: taxonomy_pies(csv("fractions")),
        "fig5_pies": lambda: fig5_pies(csv("fractions"), st),
        "fig6_survival": lambda: fig6_survival(csv("survival"), csv("distance"), csv("example_profiles"), st),
        "fig7_neg": lambda: fig7_neg(csv("aol"), csv("curves")),
        "fig10_survival": lambda: fig10_survival(csv("survival"), st),
        "fig11_distance": lambda: fig11_distance(csv("distance")),
        "fig12_aoc": lambda: fig12_aoc(csv("aoc")),
        "fig13_neg_samples": lambda: samples(csv("examples"), st.get("pool") or "", "random samples of the Neg set"),
        "fig14_test_samples": lambda: samples(csv("examples"), st.get("reference", ""),
                                              f"random samples of the reference set ({st.get('reference')})"),
        "theory_skills": lambda: theory_skills(csv("curves")),
        "theory_manifold": lambda: theory_manifold(csv("curves")),
        "theory_bayes": lambda: theory_bayes(csv("curves")),
    }
    if figure not in makers:
        raise KeyError(f"unknown paper-000 figure '{figure}' (valid: {sorted(makers)})")
    fig = makers[figure]()
    save(fig, pdf, png)
    plt.close(fig)
