"""Global accuracy-on-the-line across checkpoints (paper §2, Fig. 2 left and middle; spec 000
claim C14).

Every checkpoint of every run is one model: x = its accuracy on the reference set, y = its
accuracy on a shifted set, or on a class subset ("superclass", the paper's ImageNet-v2 dog
classes) of a set. Miller et al.'s line is a linear fit in probit-probit space (§3.8); the claim's
statistic is its Pearson r over the pooled (run, checkpoint) points of the models of one regime
(architectures pooled, as the paper pools ResNet-50 and the DenseNets).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from .aol import fit_line
from .probit import probit

SUBSETS = ("all", "superclass")


def subset_accuracy(correct, masks: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Accuracy ``[R, K]`` of correctness ``correct`` ``[R, K, N]`` over each example mask
    (name -> bool ``[N]``); NaN for an empty mask."""
    c = np.asarray(correct, dtype=np.float64)
    out = {}
    for name, m in masks.items():
        m = np.asarray(m, bool)
        out[name] = (c[..., m].mean(-1) if m.any() else np.full(c.shape[:2], np.nan))
    return out


def line_fit(x, y) -> dict:
    """Probit-probit and linear least-squares fits of y on x over all points, with Spearman's rho
    (monotone association) and the probit residual sd; NaN fits when x is constant."""
    x = np.asarray(x, np.float64).ravel()
    y = np.asarray(y, np.float64).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    out = {"n_points": int(x.size), "x_min": float(x.min()) if x.size else np.nan,
           "x_max": float(x.max()) if x.size else np.nan}
    px, py = probit(x), probit(y)
    for space, (u, v) in (("probit", (px, py)), ("linear", (x, y))):
        for key, val in fit_line(u, v).items():
            out[f"{key}_{space}"] = val
    if np.isfinite(out["slope_probit"]):
        out["resid_sd_probit"] = float(np.std(py - out["slope_probit"] * px - out["intercept_probit"]))
    else:
        out["resid_sd_probit"] = np.nan
    out["spearman"] = (float(spearmanr(x, y).statistic)
                       if x.size > 2 and np.ptp(x) > 0 and np.ptp(y) > 0 else np.nan)
    return out


def line_table(acc: pd.DataFrame, reference: str, groups: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """One fit per (group of models, eval set, subset) from the per-checkpoint table ``acc``
    (columns model, run, k, evalset, subset, accuracy): x = the reference set's accuracy over all
    its examples, y = the eval set's accuracy on the subset, paired by (model, run, k). The
    reference set with the "all" subset (y = x) is left out."""
    x = acc[(acc["evalset"] == reference) & (acc["subset"] == "all")]
    x = x.set_index(["model", "run", "k"])["accuracy"].rename("x")
    rows = []
    for (ev, sub), g in acc.groupby(["evalset", "subset"], sort=False):
        if ev == reference and sub == "all":
            continue
        pts = g.set_index(["model", "run", "k"])["accuracy"].rename("y").to_frame().join(x, how="inner")
        for group, models in groups.items():
            p = pts[pts.index.get_level_values("model").isin(list(models))]
            if len(p):
                rows.append({"group": group, "evalset": ev, "subset": sub, **line_fit(p["x"], p["y"])})
    return pd.DataFrame(rows)


LINE_R = 0.9   # C14 threshold: "≈ linear in probit" read as Pearson r >= 0.9 (R² >= 0.81)


def line_claim(line: pd.DataFrame | None, superclass: Sequence[int]):
    """Claim C14 from :func:`line_table` rows (with ``kind``): the smallest probit Pearson r over
    the scratch regime's rows (every shifted set and subset, and the reference superclass);
    NO DATA without the table or without scratch models."""
    from pointwise.claims import Claim

    ln = None if line is None else line[(line["kind"] == "regime") & (line["group"] == "scratch")]
    if ln is not None and len(ln):
        value = float(ln["r_probit"].min())
        note = "; ".join(f"{r.evalset}/{r.subset}: r {r.r_probit:.3f}, slope {r.slope_probit:.2f}, "
                         f"Spearman {r.spearman:.3f} ({r.n_points} points)" for r in ln.itertuples())
        other = line[(line["kind"] == "regime") & (line["group"] != "scratch")]
        if len(other):
            note += "; other regimes: " + "; ".join(f"{r.group} {r.evalset}/{r.subset}: r {r.r_probit:.3f}"
                                                    for r in other.itertuples())
        note += f"; superclass = classes {[int(c) for c in superclass]}"
    else:
        value, note = float("nan"), "no per-checkpoint accuracy table or no scratch model"
    return Claim("C14", "global accuracy-on-the-line across checkpoints and architectures, also on a superclass",
                 "min over shifted eval sets x {all, superclass} (and the reference superclass) of the Pearson r "
                 "of probit(eval-set accuracy) on probit(reference accuracy), every checkpoint of every run of "
                 "the scratch models pooled", f">= {LINE_R}", value, note)
