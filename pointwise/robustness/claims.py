"""Paper 001's testable claims (spec §6 "Qualitative claims a scaled-down run can test"), each a
statistic measured from the workflow's tables against a stated threshold: ``claims/robustness.csv``.

ER and accuracy statistics are reported in percentage points (pp). A claim whose inputs the
configuration does not provide (no such sweep, no zero-shot model, no replay runs) is reported as
NO DATA with a note saying what is missing; nothing is asserted.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from pointwise.claims import Claim, write_claims
from pointwise.io import read_csv
from pointwise.provenance import provenance

NAN = float("nan")


def _pp(x) -> float:
    return NAN if x is None or (isinstance(x, float) and math.isnan(x)) else 100.0 * float(x)


def _row(max_er: pd.DataFrame, run: str, role: str):
    r = max_er[(max_er["run"] == run) & (max_er["ood_set"] == role)]
    return None if r.empty else r.iloc[0]


def _sweep(sweeps: pd.DataFrame, name: str, role: str) -> pd.DataFrame:
    return sweeps[(sweeps["sweep"] == name) & (sweeps["ood_set"] == role)].sort_values("order")


def _spearman_claim(cid, desc, sweeps, name, role) -> Claim:
    s = _sweep(sweeps, name, role)
    stat = f"Spearman rho of the configured {name} value and binned max ER on '{role}'"
    if len(s) < 2:
        return Claim(cid, desc, stat, "> 0", NAN, f"sweep '{name}' not configured (needs >= 2 runs)")
    vals = pd.to_numeric(s["value"], errors="coerce")
    if vals.isna().any():
        return Claim(cid, desc, stat, "> 0", NAN, f"sweep '{name}' has non-numeric values")
    rho = spearmanr(vals, s["max_binned"])[0] if s["max_binned"].nunique() > 1 else 0.0
    note = "; ".join(f"{v}: {100 * m:.2f} pp" for v, m in zip(s["value"], s["max_binned"]))
    return Claim(cid, desc, stat, "> 0", float(rho), note)


def _spread_claim(cid, desc, sweeps, name, role, limit) -> Claim:
    s = _sweep(sweeps, name, role)
    stat = f"range (max - min) of binned max ER over the '{name}' sweep on '{role}' (pp)"
    if len(s) < 2:
        return Claim(cid, desc, stat, f"< {limit}", NAN, f"sweep '{name}' not configured (needs >= 2 runs)")
    note = "; ".join(f"{v}: {100 * m:.2f} pp" for v, m in zip(s["value"], s["max_binned"]))
    return Claim(cid, desc, stat, f"< {limit}", _pp(s["max_binned"].max() - s["max_binned"].min()), note)


def _near(df: pd.DataFrame, col: str, x: float, window: float, k: int = 3) -> pd.DataFrame:
    """Rows with ``col`` within ``window`` of ``x``; else the ``k`` nearest."""
    d = (df[col] - x).abs()
    inside = df[d <= window]
    return inside if len(inside) else df.loc[d.nsmallest(k).index]


def dominance_excess(pairs: pd.DataFrame, model: str, window: float) -> float:
    """Mean over the pairs (``model``, testbed model) of DP minus the median DP of testbed pairs
    whose accuracy gap lies within ``window`` of the pair's gap (fractions)."""
    tb = pairs[(pairs["role_lo"] == "testbed") & (pairs["role_hi"] == "testbed")]
    mine = pairs[((pairs["model_lo"] == model) & (pairs["role_hi"] == "testbed"))
                 | ((pairs["model_hi"] == model) & (pairs["role_lo"] == "testbed"))]
    if mine.empty or tb.empty:
        return NAN
    ex = [r["dp"] - _near(tb, "acc_diff", r["acc_diff"], window)["dp"].median() for _, r in mine.iterrows()]
    return float(np.mean(ex))


#: Claim C12's interventions: sub-claim id, sweeps, what is varied.
INTERVENTION_CLAIMS = (("C12a", ("replay",), "a replay buffer (C.11, Fig 22)"),
                       ("C12b", ("classmap",), "a class-mapped head with and without replay (C.12, Fig 23a)"),
                       ("C12c", ("l2_init",), "L2 regularisation to the pretrained weights (C.12, Fig 23b)"),
                       ("C12d", ("phaseout", "phaseout_random"), "phasing out easy examples (C.9, Fig 19)"))


def _er_curve(binned: pd.DataFrame, run: str, role: str) -> pd.DataFrame:
    """Binned mean ER of ``run`` on ``role`` by ID accuracy (bins with >= 2 points, when any)."""
    c = binned[(binned["run"] == run) & (binned["ood_set"] == role) & (binned["metric"] == "er")]
    c = c.dropna(subset=["mean"]).sort_values("centre")
    return c[c["count"] >= 2] if (c["count"] >= 2).any() else c


def matched_er(binned: pd.DataFrame, max_er: pd.DataFrame, sweeps: Mapping, names, role: str) -> pd.DataFrame:
    """One row per intervention run of the sweeps ``names``: its binned ER and that of the sweep's
    first run (the configuration it modifies) at the highest ID accuracy both curves reach, their
    difference ``excess`` (fractions), and both runs' mean final ID accuracy."""
    rows = []
    for name in names:
        spec = sweeps.get(name)
        if not spec:
            continue
        runs = list(spec["runs"])
        base = _er_curve(binned, runs[0], role)
        for run in runs[1:]:
            cur = _er_curve(binned, run, role)
            if cur.empty or base.empty:
                continue
            x = float(min(cur["centre"].max(), base["centre"].max()))
            er, base_er = (float(np.interp(x, c["centre"], c["mean"])) for c in (cur, base))
            fr, fb = _row(max_er, run, role), _row(max_er, runs[0], role)
            rows.append({"sweep": name, "run": run, "value": spec["runs"][run], "base": runs[0], "acc_id": x,
                         "er": er, "base_er": base_er, "excess": er - base_er,
                         "final_acc_id": NAN if fr is None else fr["final_acc_id_mean"],
                         "base_final_acc_id": NAN if fb is None else fb["final_acc_id_mean"]})
    return pd.DataFrame(rows, columns=["sweep", "run", "value", "base", "acc_id", "er", "base_er", "excess",
                                       "final_acc_id", "base_final_acc_id"])


def source_retention(acc: pd.DataFrame | None, sweeps: Mapping) -> pd.DataFrame:
    """Per run of the replay sweep that evaluates the pretraining source: mean source accuracy at
    the first and the final eval point (fractions)."""
    spec = sweeps.get("replay")
    if acc is None or not spec or "set" not in acc or not (acc["set"] == "source").any():
        return pd.DataFrame(columns=["run", "value", "start", "final"])
    a = acc[acc["set"] == "source"]
    rows = []
    for run, value in spec["runs"].items():
        g = a[a["run"] == run]
        if g.empty:
            continue
        first, last = g["eval_index"].min(), g.groupby("seed")["eval_index"].transform("max")
        rows.append({"run": run, "value": value, "start": float(g[g["eval_index"] == first]["acc"].mean()),
                     "final": float(g[g["eval_index"] == last]["acc"].mean())})
    return pd.DataFrame(rows, columns=["run", "value", "start", "final"])


def intervention_claims(binned: pd.DataFrame, max_er: pd.DataFrame, settings: Mapping, role: str,
                        high_er: float, acc: pd.DataFrame | None = None) -> list[Claim]:
    """C12 (spec §6.12; paper §5.5, C.9, C.11, C.12): none of the interventions keeps high ER at
    high ID accuracy. Measured per intervention as the largest excess of its binned ER over that of
    the configuration it modifies (the first run of its sweep) at the highest ID accuracy both
    reach: Figs 19, 22 and 23 compare the curves there ("none ... retain ER beyond the standard
    model"). The notes give each run's final ID accuracy, which tells an intervention that stops
    short of high accuracy (the paper's large λ) apart. C12 pools the four; C12e is C.11's other
    finding, that replay keeps more of the pretraining-source accuracy."""
    sweeps = settings["sweeps"]
    stat = ("largest (binned ER of an intervention run - that of the configuration it modifies) at the "
            f"highest ID accuracy both reach, on '{role}' (pp)")
    out, pooled, missing = [], [], []
    for cid, names, what in INTERVENTION_CLAIMS:
        r = matched_er(binned, max_er, sweeps, names, role)
        desc = f"Fine-tuning with {what} does not keep high ER at high ID accuracy"
        if r.empty:
            missing.append(cid)
            out.append(Claim(cid, desc, stat, f"< {high_er}", NAN, f"sweep(s) {', '.join(names)} not configured "
                             "(need a base run and an intervention run)"))
            continue
        pooled.append(r)
        note = "; ".join(f"{x.run} ({x.sweep} {x.value}) at ID {100 * x.acc_id:.1f}%: ER {100 * x.er:.2f} pp vs "
                         f"{x.base} {100 * x.base_er:.2f} pp; final ID {100 * x.final_acc_id:.1f}% vs "
                         f"{100 * x.base_final_acc_id:.1f}%" for x in r.itertuples())
        out.append(Claim(cid, desc, stat, f"< {high_er}", _pp(r["excess"].max()), note))
    allr = pd.concat(pooled, ignore_index=True) if pooled else pd.DataFrame(columns=["excess"])
    out.insert(0, Claim("C12", "Replay, class-mapped head + replay, L2-to-init and easy-example phase-out do not "
                        "keep high ER at high ID accuracy", stat + ", over all four", f"< {high_er}",
                        _pp(allr["excess"].max()) if len(allr) else NAN,
                        (f"not configured: {', '.join(missing)}" if missing else "all four configured")
                        + (f"; largest: {allr.loc[allr['excess'].idxmax(), 'run']}" if len(allr) else "")))
    ret = source_retention(acc, sweeps)
    first = next(iter(sweeps["replay"]["runs"])) if sweeps.get("replay") else None
    base, others = ret[ret["run"] == first], ret[ret["run"] != first]
    out.append(Claim("C12e", "Replay keeps more of the pretraining-source accuracy than fine-tuning without it "
                     "(C.11: 63% vs 39% ImageNet top-1)",
                     "smallest (final source accuracy of a replay run - that of the run without replay) (pp)", "> 0",
                     _pp((others["final"] - base["final"].iloc[0]).min()) if len(base) and len(others) else NAN,
                     "; ".join(f"{x.run}: source accuracy {100 * x.start:.1f}% -> {100 * x.final:.1f}%"
                               for x in ret.itertuples())
                     or "no replay sweep whose first run evaluates the source (replay ratio 0)"))
    return out


def robustness_claims(t: Mapping[str, pd.DataFrame], settings: Mapping) -> list[Claim]:
    """Every claim of spec §6 from the tables ``t`` (keys: table2, max_er, sweeps, gap_reference,
    dominance_pairs, unique_correct, special_models, triplets and optionally zeroshot, binned
    and accuracies)."""
    c = settings["claims"]
    high_er, rand_band, window = c["high_er_pp"], c["random_band_pp"], c["pair_window_pp"] / 100.0
    roles = list(settings["ood_sets"])
    main = roles[0]
    max_er, sweeps = t["max_er"], t["sweeps"]
    out: list[Claim] = []

    # 1 -- the testbed is linear in logit space; R² ordering
    t2 = t["table2"].set_index("scaling")
    r2 = {s: float(t2.loc[s, main]) for s in ("linear", "probit", "logit")}
    out.append(Claim("C1a", "The testbed is linear in logit space with high R^2 (paper: 0.998 CIFAR-10.1)",
                     f"R^2 of the logit-space testbed fit on '{main}'", ">= 0.95", r2["logit"],
                     "; ".join(f"{r}: R^2 {float(t2.loc['logit', r]):.4f}" for r in roles)))
    out.append(Claim("C1b", "R^2 ordering logit >= probit >= linear (Table 2)",
                     f"min(R^2 logit - R^2 probit, R^2 probit - R^2 linear) on '{main}'", ">= 0",
                     min(r2["logit"] - r2["probit"], r2["probit"] - r2["linear"]),
                     f"linear {r2['linear']:.4f}, probit {r2['probit']:.4f}, logit {r2['logit']:.4f}"))

    # 2 -- random init has no ER
    rand = [r for r in settings["main"]["random"] if _row(max_er, r, main) is not None]
    vals = [_row(max_er, r, main)["max_binned"] for r in rand]
    out.append(Claim("C2", "Randomly initialised models have ER ~ 0 throughout training",
                     f"largest binned max ER of the random-init runs on '{main}' (pp)", f"< {rand_band}",
                     _pp(max(vals)) if vals else NAN,
                     ", ".join(f"{r}: {100 * v:.2f} pp" for r, v in zip(rand, vals)) or "no random-init run configured"))

    # 3 -- pretrained models: clear positive peak ER that decays
    pre = [r for g in ("full", "head") for r in settings["main"][g] if _row(max_er, r, main) is not None]
    vals = [_row(max_er, r, main)["max_binned"] for r in pre]
    out.append(Claim("C3a", "Pretrained models reach clearly positive peak ER (> 1 pp) mid-fine-tuning",
                     f"largest binned max ER of the pretrained runs (main full/head) on '{main}' (pp)",
                     f"> {high_er}", _pp(max(vals)) if vals else NAN,
                     ", ".join(f"{r}: {100 * v:.2f} pp" for r, v in zip(pre, vals)) or "no pretrained run configured"))
    full = [r for r in settings["main"]["full"] if _row(max_er, r, main) is not None]
    ref = full[0] if full else (pre[0] if pre else None)
    r0 = _row(max_er, ref, main) if ref else None
    out.append(Claim("C3b", "ER decreases towards the final epoch (max ER - final ER > 0)",
                     f"binned max ER minus mean final-epoch ER of '{ref}' on '{main}' (pp)", "> 0",
                     _pp(r0["decay"]) if r0 is not None else NAN,
                     f"max {100 * r0['max_binned']:.2f} pp, final {100 * r0['final_er_mean']:.2f} "
                     f"+- {100 * r0['final_er_std']:.2f} pp" if r0 is not None else "no pretrained run"))
    out.append(Claim("C3c", f"ER vanishes at convergence on the reproduction-like shift ('{main}')",
                     f"|mean final-epoch ER| of '{ref}' on '{main}' (pp)", f"< {high_er}",
                     abs(_pp(r0["final_er_mean"])) if r0 is not None else NAN, ""))
    if len(roles) > 1:
        r1 = _row(max_er, ref, roles[-1]) if ref else None
        out.append(Claim("C3d", f"ER does not vanish at convergence on the rendition-like shift ('{roles[-1]}')",
                         f"mean final-epoch ER of '{ref}' on '{roles[-1]}' (pp)", f"> {high_er}",
                         _pp(r1["final_er_mean"]) if r1 is not None else NAN,
                         "" if r1 is not None else f"'{ref}' does not evaluate '{roles[-1]}'"))

    # 4 -- App. D
    out.append(Claim("C4a", "As a share of the gap, ER mostly decreases during fine-tuning (App. D)",
                     f"Spearman rho of binned ER share of the gap against ID accuracy, '{ref}' on '{main}'",
                     "< 0", float(r0["frac_gap_spearman"]) if r0 is not None else NAN,
                     "share masked where the gap x - beta(x) < "
                     f"{100 * settings['min_gap']:.1f} pp"))
    g = t["gap_reference"][t["gap_reference"]["ood_set"] == main]
    if r0 is not None and len(g) and np.isfinite(r0["max_acc_id"]):
        top = float(np.interp(r0["max_acc_id"], g["acc_id"], g["nogap_er"]))
        peak = float(g["peak_gap"].iloc[0])
        out.append(Claim("C4b", "The no-gap (y = x) reference curve itself peaks and falls within the data range",
                         f"no-gap ER at its peak minus at the highest ID accuracy '{ref}' reaches, '{main}' (pp)",
                         "> 0", _pp(peak - top),
                         f"peak {100 * peak:.2f} pp at ID {100 * float(g['peak_acc'].iloc[0]):.1f}%; "
                         f"{100 * top:.2f} pp at ID {100 * r0['max_acc_id']:.1f}%"))
    else:
        out.append(Claim("C4b", "The no-gap (y = x) reference curve itself peaks", "no-gap ER peak minus at top ID (pp)",
                         "> 0", NAN, "no pretrained run"))

    # 5, 6 -- pretraining size, diversity, model size
    out.append(_spearman_claim("C5a", "Max ER increases with pretraining-set size (possibly plateauing)",
                               sweeps, "size", main))
    out.append(_spearman_claim("C5b", "Max ER increases with pretraining diversity", sweeps, "diversity", main))
    out.append(Claim("C5c", "The two-stage source (M1k) has lower max ER than M (paper: ~1 pp)",
                     "max ER(M1k) - max ER(M) (pp)", "< 0", NAN,
                     "no two-stage pretraining run configured"))
    out.append(_spearman_claim("C6", "Max ER increases with model size (paper exception: BiT-S-R50x1)",
                               sweeps, "model_size", main))

    # 7 -- difficulty of the fine-tuning examples
    d = _sweep(sweeps, "difficulty", main).set_index("value") if "difficulty" in settings["sweeps"] else None
    have = d is not None and {"easy", "hard", "random"} <= set(d.index)
    out.append(Claim("C7a", "Fine-tuning on the hardest 10% gives higher ER than random 10%",
                     f"max ER(hard) - max ER(random) on '{main}' (pp)", "> 0",
                     _pp(d.loc["hard", "max_binned"] - d.loc["random", "max_binned"]) if have else NAN,
                     "" if have else "difficulty sweep not configured"))
    out.append(Claim("C7b", "... but lower final ID accuracy than random 10%",
                     "final ID accuracy(hard) - final ID accuracy(random) (pp)", "< 0",
                     _pp(d.loc["hard", "final_acc_id_mean"] - d.loc["random", "final_acc_id_mean"]) if have else NAN,
                     "" if have else "difficulty sweep not configured"))
    out.append(Claim("C7c", "The easiest 10% gives the lowest ER",
                     f"max ER(easy) - min(max ER(hard), max ER(random)) on '{main}' (pp)", "< 0",
                     _pp(d.loc["easy", "max_binned"] - min(d.loc["hard", "max_binned"], d.loc["random", "max_binned"]))
                     if have else NAN, "" if have else "difficulty sweep not configured"))

    # 8 -- insensitivity to lr, loss, head vs full; full reaches higher ID accuracy
    out.append(_spread_claim("C8a", "ER curves are insensitive to the learning rate", sweeps, "lr", main, rand_band))
    out.append(_spread_claim("C8b", "ER curves are insensitive to the loss (CE vs MSE)", sweeps, "loss", main, rand_band))
    out.append(_spread_claim("C8c", "ER curves are insensitive to head-only vs full fine-tuning",
                             sweeps, "mode", main, rand_band))
    m = _sweep(sweeps, "mode", main).set_index("value") if "mode" in settings["sweeps"] else None
    ok = m is not None and {"head", "full"} <= set(m.index)
    out.append(Claim("C8d", "Full fine-tuning reaches higher final ID accuracy than head-only",
                     "final ID accuracy(full) - final ID accuracy(head) (pp)", "> 0",
                     _pp(m.loc["full", "final_acc_id_mean"] - m.loc["head", "final_acc_id_mean"]) if ok else NAN,
                     "" if ok else "mode sweep (head, full) not configured"))

    # 9 -- zero-shot
    z = t.get("zeroshot")
    zok = z is not None and len(z) and f"er_{main}" in z
    zmax = z[z["agg"] == "max"] if zok else None
    out.append(Claim("C9a", "Class-mapped zero-shot prediction has positive ER",
                     f"ER of the zero-shot model (max aggregation) on '{main}' (pp)", "> 0",
                     _pp(zmax[f"er_{main}"].max()) if zok else NAN, "" if zok else "no zero-shot model configured"))
    out.append(Claim("C9b", "max, mean and sum aggregation give similar results",
                     f"range of zero-shot ER over max/mean/sum on '{main}' (pp)", f"< {high_er}",
                     _pp(z.groupby("model")[f"er_{main}"].agg(lambda v: v.max() - v.min()).max()) if zok else NAN,
                     "" if zok else "no zero-shot model configured"))

    # 10, 11 -- per-example analyses of the special models
    sp = t.get("special_models", pd.DataFrame(columns=["model", "kind"]))
    pairs, uc = t["dominance_pairs"], t["unique_correct"]
    mx = sp[sp["kind"] == "max_er"]["model"].tolist()
    cv = sp[sp["kind"] == "converged"]["model"].tolist()
    ex_max = dominance_excess(pairs, mx[0], window) if mx else NAN
    ex_cv = dominance_excess(pairs, cv[0], window) if cv else NAN
    out.append(Claim("C10a", "The max-ER checkpoint has higher dominance probability against the testbed than "
                     "testbed pairs at similar accuracy gaps",
                     f"mean DP of ({mx[0] if mx else '-'}, testbed) minus median DP of testbed pairs within "
                     f"+-{c['pair_window_pp']} pp of the same gap (pp)", "> 0", _pp(ex_max),
                     "" if mx else "no special model configured"))
    out.append(Claim("C10b", "The converged checkpoint is closer to the testbed than the max-ER checkpoint",
                     "DP excess(max ER) - DP excess(converged) (pp)", "> 0", _pp(ex_max - ex_cv),
                     f"excess converged {_pp(ex_cv):.3f} pp" if cv else "no special model configured"))
    tbu = uc[uc["role"] == "testbed"].dropna(subset=["acc_S"])
    if mx and len(tbu):
        me = uc[uc["model"] == mx[0]].iloc[0]
        near = _near(tbu, "acc_id", me["acc_id"], window)
        out.append(Claim("C11a", "ER models get right a larger share of S (examples no testbed model gets right) "
                         "than testbed models (leave-one-out) at similar ID accuracy",
                         f"acc_S({mx[0]}) - mean leave-one-out acc_S of testbed models within "
                         f"+-{c['pair_window_pp']} pp ID accuracy (pp)", "> 0",
                         _pp(me["acc_S"] - near["acc_S"].mean()),
                         f"|S| = {int(me['set_size'])} ({100 * me['set_frac']:.1f}% of ID test), "
                         f"{int(me['n_correct'])} right in {me['n_classes']} classes, <= {me['max_per_class']} per class"))
        out.append(Claim("C11b", "... and a share higher than chance 1/C",
                         f"acc_S({mx[0]}) - 1/C (pp)", "> 0", _pp(me["acc_S"] - me["chance"]), ""))
    else:
        for cid, desc in (("C11a", "ER models get right a larger share of S than the testbed"),
                          ("C11b", "... and more than chance")):
            out.append(Claim(cid, desc, "acc_S difference (pp)", "> 0", NAN,
                             "no special model or empty S"))

    # 12 -- interventions (replay, class-mapped head + replay, L2-to-init, easy phase-out)
    out += intervention_claims(t.get("binned", pd.DataFrame(columns=["run", "ood_set", "metric", "centre", "mean",
                                                                     "count"])),
                               max_er, settings, main, high_er, t.get("accuracies"))

    # triplets (uncertain reading)
    tr = t["triplets"].iloc[0]
    out.append(Claim("C13", "99.8% of triplet events lie inside the Mania & Sra cone (uncertain reading, spec §3.9)",
                     f"fraction of triplet events inside the cone on '{tr['ood_set']}' (rel_tol "
                     f"{settings['triplets']['rel_tol']})", ">= 0.998",
                     float(tr["frac_inside"]) if "frac_inside" in tr and pd.notna(tr.get("frac_inside")) else NAN,
                     "uncertain reading: the paper gives no formula; the cone width is our choice"))
    return out


def write_robustness_claims(tables: Mapping[str, str], out_csv, settings: Mapping, config=None) -> pd.DataFrame:
    """Read the tables (name -> CSV path) and write ``claims/robustness.csv``."""
    t = {k: read_csv(v) for k, v in tables.items()}
    return write_claims(robustness_claims(t, settings), out_csv, provenance(config, inputs=list(tables.values())))
