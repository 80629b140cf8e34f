"""Paper 000 workflow glue: the tables of spec §7.1 from the training engine's ``logits.h5`` files.

Every function reads run files or tables, calls the pure modules of :mod:`pointwise.profiles` and
writes one or more CSV/HDF5 targets with provenance. ``papers.profiles`` in the config names the
profiled models (experiment + arch + regime) and the analysis settings; :func:`settings` fills
:data:`DEFAULTS` and checks the names (docs/papers/profiles.md).
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from pointwise.designs import read_design
from pointwise.io import read_csv, write_csv
from pointwise.provenance import provenance

from .aggregate import run_halves
from .accline import line_claim
from .aoc import pointwise_aoc
from .aol import aol_summary
from .build import N_GRID, build_profiles, smooth_aggregate
from .distance import distance_matrix
from .load import aggregate_files, load_logits
from .neg import neg_split_half
from .nmono import NMONO_THRESHOLD, survival
from .scores import score_table
from .store import read_profiles, write_profiles
from .taxonomy import CATEGORIES, taxonomy_fractions
from .theory import bayes, manifold, skills
from .theory.curves import MANIFOLD_CELLS, theory_curves

log = logging.getLogger(__name__)

DEFAULTS = {
    "pool": None,             # eval set the Neg set is selected from (None: no Neg tables)
    "neg_model": None,        # default: the first scratch model
    "neg_per_class": 100,     # spec §3.7: 100 per class (1,000 points on CIFAR-10)
    "aol_at": None,           # Neg(a1), Neg(a2) abscissae; None: 20% / 80% of the held-out range
    "aoc_pair": None,         # default: the first two scratch models
    "aoc_evalset": None,      # default: the reference set
    "threshold": NMONO_THRESHOLD,
    "n_grid": N_GRID,
    "theory_points": 2000,    # simulated points of the §6 noise-floor / variant simulations
    "seed": 0,
    "heldout": [],            # eval sets of the models' own training pool: profiles from held-out runs only
    "superclass": [0],        # class labels of the Fig. 2 "superclass" restriction (C14)
    "n_samples": 10,          # random example images of Figs. 13/14
    "gallery_top": 3,         # Fig. 8 gallery: top-nmono points of the accuracy and of the negative-entropy profile each
    "switch_band": 1 / 3,     # Fig. 9: fraction of the accuracy axis at each end (low- vs high-accuracy models)
}
REQUIRED = ("models", "reference", "ladder")
METRICS = ("tv", "kl", "cos")
STATS = ("acc", "negent", "softacc")
SURVIVAL_T = np.round(np.linspace(0.0, 0.5, 51), 4)


def settings(config: Mapping) -> dict | None:
    """``papers.profiles`` with :data:`DEFAULTS` filled in, or None when the config has none.
    ValueError naming the key when a model, eval set or pair does not exist."""
    raw = (config.get("papers") or {}).get("profiles")
    if raw is None:
        return None
    s = {**copy.deepcopy(DEFAULTS), **copy.deepcopy(dict(raw))}
    for k in REQUIRED:
        if k not in s:
            raise ValueError(f"config key 'papers.profiles.{k}': required")
    exps = config["experiments"]
    needed = [s["reference"], *s["ladder"], *s["heldout"]] + ([s["pool"]] if s["pool"] else [])
    for name, m in s["models"].items():
        key = f"papers.profiles.models.{name}"
        if m["experiment"] not in exps:
            raise ValueError(f"config key '{key}': unknown experiment '{m['experiment']}'")
        exp = exps[m["experiment"]]
        if m["arch"] not in exp["archs"]:
            raise ValueError(f"config key '{key}': experiment '{m['experiment']}' has no arch '{m['arch']}'")
        for ev in needed:
            if ev not in (exp.get("eval_sets") or {}):
                raise ValueError(f"config key '{key}': experiment '{m['experiment']}' has no eval set '{ev}'")
    models = list(s["models"])
    scratch = [n for n in models if s["models"][n]["regime"] == "scratch"]
    if s["pool"] and s["neg_model"] is None:
        s["neg_model"] = scratch[0] if scratch else models[0]
    if s["aoc_pair"] is None and len(scratch) >= 2:
        s["aoc_pair"] = scratch[:2]
    s["aoc_evalset"] = s["aoc_evalset"] or s["reference"]
    for key, names in (("neg_model", [s["neg_model"]] if s["pool"] else []),
                       ("aoc_pair", s["aoc_pair"] or [])):
        for n in names:
            if n not in models:
                raise ValueError(f"config key 'papers.profiles.{key}': '{n}' is not one of the models {models}")
    if s["aoc_evalset"] not in [s["reference"], *s["ladder"]]:
        raise ValueError("config key 'papers.profiles.aoc_evalset': not the reference or a ladder eval set")
    return s


def _halves(n: int) -> dict:
    a, b = run_halves(n)
    return {"all": range(n), "A": a, "B": b}


def trained_ids(design_path, n_runs: int) -> list[np.ndarray]:
    """The pool ids each of the first ``n_runs`` seeds of a design trained on (seed order)."""
    d = read_design(design_path)
    if d["train_mask"].shape[0] < n_runs:
        raise ValueError(f"{design_path}: {d['train_mask'].shape[0]} runs in the design, {n_runs} files")
    return [d["pool_ids"][d["train_mask"][r]] for r in range(n_runs)]


def _smoothed(paths, evalset, reference):
    fa = aggregate_files(list(paths), evalset, reference, _halves(len(paths)))
    return fa, {g: smooth_aggregate(v.agg, v.global_acc) for g, v in fa.items()}


# ------------------------------------------------------------------ per model and eval set

def profile_scores(paths: Sequence[str], evalset: str, reference: str, out_csv: str, out_h5: str,
                   *, threshold: float = NMONO_THRESHOLD, n_grid: int = N_GRID,
                   design: str | None = None, config: Mapping | None = None) -> pd.DataFrame:
    """Spec §7.1 ``profiles/…h5`` and ``scores/…csv`` of one model on one eval set: profiles of
    all R runs (x-axis: the same runs' accuracy on ``reference``) and nmono from the two run
    halves (claim C2). With the runs' ``design`` (an eval set of the models' own training pool),
    each example's profile averages only the runs that held it out, as a test point's would;
    ``n_heldout`` counts them."""
    tids = trained_ids(design, len(paths)) if design else None
    fa = aggregate_files(list(paths), evalset, reference, _halves(len(paths)), trained_ids=tids)
    prof = {g: build_profiles(v.agg, v.global_acc, n_grid=n_grid) for g, v in fa.items()}
    whole = fa["all"]
    df = score_table(prof["all"], ids=whole.ids, final_acc=whole.agg.acc[-1], half_a=prof["A"],
                     half_b=prof["B"], threshold=threshold)
    if tids is not None:
        df["n_heldout"] = sum((~np.isin(whole.ids, t)).astype(int) for t in tids)
    prov = provenance(config, inputs=list(paths) + ([design] if design else []), evalset=evalset, reference=reference,
                      n_runs=len(paths), n_evals=int(whole.agg.K))
    write_profiles(out_h5, prof["all"], whole.ids, prov)
    write_csv(df, out_csv, prov)
    return df


# ------------------------------------------------------------------ taxonomy, survival, summary

def summary_tables(scores: Mapping[str, str], profiles: Mapping[str, str], s: Mapping,
                   out_fractions: str, out_survival: str, out_summary: str,
                   config: Mapping | None = None) -> pd.DataFrame:
    """Figs 4/5 taxonomy fractions, Figs 6-right/10 survival curves and one summary row per
    (model, eval set): non-monotone fractions of the three statistics, split-half Spearman of
    nmono_acc with a permutation p-value (C2) and the §6.1 noise floor at the model's (R, K).

    scores / profiles: "model/evalset" -> score CSV / profiles HDF5."""
    rng = np.random.default_rng(s["seed"])
    floors: dict = {}
    fr, sv, sm = [], [], []
    for key, path in scores.items():
        model, evalset = key.split("/", 1)
        m = s["models"][model]
        df = read_csv(path)
        prof, _ = read_profiles(profiles[key])
        base = {"model": model, "regime": m["regime"], "arch": m["arch"], "evalset": evalset}
        for _, row in taxonomy_fractions(df["category"].to_numpy()).iterrows():
            fr.append({**base, **row.to_dict()})
        for stat in STATS:
            col = df[f"nmono_{stat}"].to_numpy()
            for t, f in zip(SURVIVAL_T, survival(col, SURVIVAL_T)):
                sv.append({**base, "stat": stat, "t": t, "frac_ge_t": float(f)})
        R, K = int(prof.params["n_runs"]), int(prof.params["n_points"])
        if (R, K) not in floors:
            nf = skills.noise_floor(R, K, n_points=s["theory_points"], rng=s["seed"],
                                    threshold=s["threshold"])
            half = skills.noise_floor(max(R // 2, 1), K, n_points=s["theory_points"],
                                      rng=s["seed"] + 1, threshold=s["threshold"])
            floors[(R, K)] = (nf["frac_nonmono"], half["frac_nonmono"])
        a, b = df["nmono_acc_halfA"].to_numpy(), df["nmono_acc_halfB"].to_numpy()
        rho = float(spearmanr(a, b).statistic)
        null = np.array([spearmanr(a, rng.permutation(b)).statistic for _ in range(200)])
        thr = s["threshold"]
        cats = df["category"].to_numpy()
        sm.append({**base, "n": len(df), "n_runs": R, "n_evals": K,
                   "final_acc": float(df["final_acc"].mean()),
                   "frac_nonmono_acc": float((df["nmono_acc"] > thr).mean()),
                   "frac_nonmono_negent": float((df["nmono_negent"] > thr).mean()),
                   "frac_nonmono_softacc": float((df["nmono_softacc"] > thr).mean()),
                   "frac_nonmono_halfA": float((a > thr).mean()),
                   "frac_nonmono_halfB": float((b > thr).mean()),
                   **{f"frac_{c.replace('-', '_')}": float((cats == c).mean()) for c in CATEGORIES},
                   "spearman_halves": rho,
                   "spearman_perm_p": float((np.sum(np.abs(null) >= abs(rho)) + 1) / (null.size + 1)),
                   "noise_floor": floors[(R, K)][0], "noise_floor_half": floors[(R, K)][1]})
    prov = provenance(config, inputs=list(scores.values()))
    write_csv(pd.DataFrame(fr), out_fractions, prov)
    write_csv(pd.DataFrame(sv), out_survival, prov)
    out = pd.DataFrame(sm)
    write_csv(out, out_summary, prov)
    return out


# ------------------------------------------------------------------ distances and AoC

def distance_table(models: Mapping[str, Sequence[str]], evalset: str, reference: str, out: str,
                   n_grid: int = N_GRID, config: Mapping | None = None) -> pd.DataFrame:
    """Spec §3.5 profile distances (Figs 6-left, 11) between every pair of models on ``evalset``:
    ``value`` from all runs, ``splithalf`` from half A of T1 vs half B of T2 (the diagonal is the
    finite-R floor). NaN where two accuracy ranges do not overlap."""
    sm = {name: _smoothed(paths, evalset, reference)[1] for name, paths in models.items()}
    names = list(models)
    rows = []
    for metric in METRICS:
        for i, t1 in enumerate(names):
            for j, t2 in enumerate(names):
                vals = []
                for a, b in ((sm[t1]["all"], sm[t2]["all"]), (sm[t1]["A"], sm[t2]["B"])):
                    try:
                        vals.append(float(distance_matrix([a], [b], metric, n_grid=n_grid)[0, 0]))
                    except ValueError:
                        vals.append(np.nan)
                rows.append({"metric": metric, "T1": t1, "T2": t2, "value": vals[0], "splithalf": vals[1]})
    df = pd.DataFrame(rows)
    write_csv(df, out, provenance(config, inputs=[p for ps in models.values() for p in ps], evalset=evalset))
    return df


def aoc_table(paths1: Sequence[str], paths2: Sequence[str], evalset: str, reference: str, out: str,
              n_grid: int = N_GRID, seed: int = 0, config: Mapping | None = None) -> pd.DataFrame:
    """Spec §3.6 / Fig 12: pointwise accuracy-on-the-curve d(p) between two models with the
    permutation baselines and the split-half floor of the first model. When the accuracy ranges of
    the two models (or of the halves) do not overlap, d(p) is undefined: the table is written with
    its columns and no rows, and the claims report NO DATA."""
    _, s1 = _smoothed(paths1, evalset, reference)
    _, s2 = _smoothed(paths2, evalset, reference)
    try:
        df = pointwise_aoc(s1["all"], s2["all"], s1["A"], s1["B"], n_grid=n_grid, rng=seed)
    except ValueError as err:
        log.warning("pointwise accuracy-on-the-curve undefined: %s", err)
        df = pd.DataFrame(columns=["p", "d", "d_perm", "d_perm_expected", "d_splithalf"], dtype=float)
    write_csv(df, out, provenance(config, inputs=list(paths1) + list(paths2), evalset=evalset))
    return df


# ------------------------------------------------------------------ Neg set

def _correct(paths, evalset):
    L = load_logits(list(paths), evalset)
    return L.logits.argmax(-1) == L.labels[None, None, :], L


def neg_tables(models: Mapping[str, Sequence[str]], s: Mapping, out_indices: str, out_aol: str,
               out_curves: str, config: Mapping | None = None) -> dict:
    """Spec §3.7: Neg selected (class-balanced top nmono) from the pool with the first half of the
    selecting model's runs, evaluated on its held-out half and on every other model's runs.
    Writes the indices, the accuracy-on-the-line summaries and the per-run curves (Fig 7)."""
    sel_name = s["neg_model"]
    pool_c, L = _correct(models[sel_name], s["pool"])
    ref_c, _ = _correct(models[sel_name], s["reference"])
    a, b = run_halves(pool_c.shape[0])
    x_ev = ref_c[b].mean(-1, dtype=np.float64).mean(0)
    at = tuple(s["aol_at"]) if s["aol_at"] else tuple(
        float(v) for v in np.round(x_ev.min() + np.array([0.2, 0.8]) * np.ptp(x_ev), 4))
    res = neg_split_half(pool_c, ref_c, L.labels, a, b, per_class=s["neg_per_class"], at=at,
                         allow_short=True)
    idx = res["indices"]
    ind = pd.DataFrame({"rank": np.arange(idx.size), "pool_idx": idx, "source_id": L.ids[idx],
                        "label": L.labels[idx], "nmono": res["nmono"][idx],
                        "final_acc": res["final_acc"][idx]})
    aol, curves = [], []

    def add(model, flag, x, y, runs):
        summ = aol_summary(x, y, at)
        aol.append({"model": model, "regime": s["models"][model]["regime"],
                    "arch": s["models"][model]["arch"], "runs": flag, **summ,
                    "at_lo": at[0], "at_hi": at[1]})
        for r, run in enumerate(runs):
            for k in range(x.shape[1]):
                curves.append({"model": model, "runs": flag, "run": int(run), "k": k,
                               "acc_ref": x[r, k], "acc_neg": y[r, k]})

    add(sel_name, "heldout", res["x_heldout"], res["y_heldout"], b)
    xs = ref_c.mean(-1, dtype=np.float64)
    add(sel_name, "selection", xs[a], pool_c[a][..., idx].mean(-1, dtype=np.float64), a)
    for name, paths in models.items():
        if name == sel_name:
            continue
        pc, _ = _correct(paths, s["pool"])
        rc, _ = _correct(paths, s["reference"])
        add(name, "all", rc.mean(-1, dtype=np.float64), pc[..., idx].mean(-1, dtype=np.float64),
            range(pc.shape[0]))
    prov = provenance(config, inputs=[p for ps in models.values() for p in ps], pool=s["pool"],
                      selection_runs=[int(i) for i in a], eval_runs=[int(i) for i in b])
    write_csv(ind, out_indices, prov)
    write_csv(pd.DataFrame(aol), out_aol, prov)
    write_csv(pd.DataFrame(curves), out_curves, prov)
    return res


# ------------------------------------------------------------------ theory (§6)

def theory_table(n_runs: int, n_evals: int, out: str, n_points: int = 2000, seed: int = 0,
                 threshold: float = NMONO_THRESHOLD, config: Mapping | None = None) -> pd.DataFrame:
    """Spec §6 checks at the configured (R, K): the skills model's noise floor (true nmono = 0),
    the feature-mixture variant's non-monotone fraction (conflict points vs the rest), the GP
    correct-prior accuracy vs the arcsin closed form, correct vs mismatched GP priors, and the
    Beta-Bernoulli exact vs Monte Carlo accuracy. One row per check: ``check``, ``value``,
    ``reference`` (what it is compared with) and ``note``."""
    rows = []

    def row(check, value, reference=np.nan, note=""):
        rows.append({"check": check, "value": float(value), "reference": float(reference), "note": note})

    nf = skills.noise_floor(n_runs, n_evals, n_points=n_points, rng=seed, threshold=threshold)
    row("skills_frac_nonmono", nf["frac_nonmono"], 0.0, f"true nmono = 0; R={n_runs}, K={n_evals}")
    row("skills_kendall_tau", nf["kendall_tau"], 1.0, "difficulty order under two skill trajectories")
    fm = skills.simulate_feature_mixture(n_points, n_runs, n_evals, rng=seed + 1, conflict_frac=0.2)
    res = skills.pipeline_scores(fm["correct"], threshold)
    c = fm["conflict"]
    row("mixture_frac_nonmono_conflict", (res["nmono"][c] > threshold).mean(), nf["frac_nonmono"],
        "feature-mixture conflict points vs the noise floor")
    row("mixture_frac_nonmono_other", (res["nmono"][~c] > threshold).mean(), nf["frac_nonmono"])
    rng = np.random.default_rng(seed + 2)
    X, xs = rng.random((12, 1)), rng.random((60, 1))
    k = bayes.rbf(0.2)
    cf = bayes.gp_closed_form(X, xs, k, noise=0.1)
    _, s2 = bayes.gp_posterior(k, X, np.zeros(12), xs, noise=0.1)
    row("gp_arcsin_max_abs_diff", np.abs(cf["acc"] - bayes.correct_prior_accuracy(s2, 1.0)).max(), 0.0,
        "correct-prior GP accuracy vs the arcsin closed form")
    n_list = (1, 2, 4, 8, 16, 32, 64)
    good = bayes.closed_form_profiles(n_list, 60, 6, rng=seed + 3, noise=0.1)
    bad = bayes.closed_form_profiles(n_list, 60, 6, rng=seed + 3, noise=0.1, learner_kernel=bayes.rbf(0.8))
    row("gp_correct_prior_frac_nonmono", good["frac_nonmono_acc"], 0.0)
    row("gp_mismatched_prior_frac_nonmono", bad["frac_nonmono_acc"], good["frac_nonmono_acc"],
        "learner lengthscale 4x the truth")
    ex = bayes.beta_bernoulli_exact(2.0, 3.0, 12)
    mc = bayes.beta_bernoulli_mc(2.0, 3.0, 12, n_draws=50_000, rng=seed + 4)
    row("beta_bernoulli_max_abs_diff", np.abs(ex["acc"] - mc["acc"]).max(), 0.0,
        "exact vs Monte Carlo Bayes accuracy, 50k draws")
    row("beta_bernoulli_acc_monotone", float(np.all(np.diff(ex["acc"]) >= -1e-12)), 1.0)
    for d in (2, 4):
        mf = manifold.simulate_manifold(d, MANIFOLD_CELLS, n_points=min(n_points, 1000), n_runs=20, rng=seed + d)
        row(f"manifold_alpha_global_d{d}", mf["alpha_global"], 1.0 / d, "fitted error exponent vs 1/d")
        row(f"manifold_alpha_pointwise_d{d}", mf["alpha_pointwise"], 1.0 / d, "worst point's exponent vs 1/d")
        row(f"manifold_max_err_over_bound_d{d}", (mf["max_err"] / mf["bound"][:, None]).max(), 1.0,
            "largest |f_hat - f| over points, offsets and n, relative to L sqrt(d) n^(-1/d)")
        row(f"manifold_frac_nonmono_acc_d{d}", mf["frac_nonmono_acc"], 0.0,
            "points with nmono of Pr[correct] over n > 0.05 (non-nested grids; 20-offset MC noise included)")
    df = pd.DataFrame(rows)
    write_csv(df, out, provenance(config, seed=seed, n_runs=n_runs, n_evals=n_evals))
    return df


def theory_from_settings(profiles_h5: str, s: Mapping, out: str, out_curves: str | None = None,
                         config: Mapping | None = None) -> pd.DataFrame:
    """:func:`theory_table` at the (R, K) recorded in a model's profiles file, and the curves of
    the theory figures (:func:`.theory.curves.theory_curves`) when ``out_curves`` is given."""
    prof, _ = read_profiles(profiles_h5)
    R, K = int(prof.params["n_runs"]), int(prof.params["n_points"])
    if out_curves:
        c = theory_curves(R, K, n_points=s["theory_points"], seed=s["seed"], threshold=s["threshold"])
        write_csv(c, out_curves, provenance(config, inputs=[profiles_h5], seed=s["seed"], n_runs=R, n_evals=K))
    return theory_table(R, K, out, n_points=s["theory_points"], seed=s["seed"], threshold=s["threshold"],
                        config=config)


# ------------------------------------------------------------------ claims (§7.2)

def _f(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def profile_claims(tables: Mapping[str, pd.DataFrame], s: Mapping) -> list:
    """Claims C1-C15 of spec §7.2 measured from the tables (keys: summary, survival, distance,
    theory, and optionally aoc, aol, line). Each non-monotone fraction is reported next to its noise
    floor; a claim whose inputs are absent is NO DATA."""
    from pointwise.claims import Claim

    nan = float("nan")
    sm = tables["summary"]
    ref, ladder = s["reference"], list(s["ladder"])
    models = s["models"]
    scratch = [n for n in models if models[n]["regime"] == "scratch"]
    pre = [n for n in models if models[n]["regime"] == "pretrained"]
    pairs = [(a, b) for a in scratch for b in pre if models[a]["arch"] == models[b]["arch"]]

    def row(model, evalset=ref):
        r = sm[(sm["model"] == model) & (sm["evalset"] == evalset)]
        return r.iloc[0] if len(r) else None

    out = []
    # C1
    if scratch:
        rs = [row(m) for m in scratch]
        excess = min(r["frac_nonmono_acc"] - r["noise_floor"] for r in rs)
        note = "; ".join(f"{m}: frac {r['frac_nonmono_acc']:.4f} vs noise floor {r['noise_floor']:.4f} "
                         f"(R={r['n_runs']}, K={r['n_evals']})" for m, r in zip(scratch, rs))
    else:
        excess, note = nan, "no scratch model"
    out.append(Claim("C1", "a non-trivial fraction of ID test points is non-monotone (scratch)",
                     f"min over scratch models of frac(nmono_acc > {s['threshold']}) - noise floor",
                     "> 0.01", excess, note))
    # C2
    if scratch:
        rs = [row(m) for m in scratch]
        p = max(r["spearman_perm_p"] for r in rs)
        note = "; ".join(f"{m}: Spearman(half A, half B) {r['spearman_halves']:.3f}, "
                         f"frac A {r['frac_nonmono_halfA']:.4f} / B {r['frac_nonmono_halfB']:.4f} "
                         f"vs half-R floor {r['noise_floor_half']:.4f}" for m, r in zip(scratch, rs))
        rho = min(r["spearman_halves"] for r in rs)
        p = p if rho > 0 else 1.0
    else:
        p, note = nan, "no scratch model"
    out.append(Claim("C2", "non-monotone points are reproducible across disjoint run halves",
                     "max over scratch models of the permutation p of Spearman(nmono half A, half B) (1 if rho <= 0)",
                     "< 0.05", p, note))
    # C3
    fr_cols = [c for c in sm.columns if c.startswith("frac_") and c[5:] in
               [k.replace("-", "_") for k in CATEGORIES]]
    if len(scratch) >= 2:
        a, b = row(scratch[0]), row(scratch[1])
        d = max(abs(a[c] - b[c]) for c in fr_cols)
        per_set = []
        for ev in ladder:
            ra, rb = row(scratch[0], ev), row(scratch[1], ev)
            if ra is not None and rb is not None:
                per_set.append(f"{ev}: {max(abs(ra[c] - rb[c]) for c in fr_cols):.3f}")
        note = f"{scratch[0]} vs {scratch[1]}; max |difference| per eval set: " + ", ".join(per_set)
    else:
        d, note = nan, "fewer than two scratch models"
    out.append(Claim("C3", "taxonomy fractions barely depend on the architecture (same regime)",
                     "max over categories of |fraction difference| of the two scratch archs on the reference set",
                     "<= 0.06", d, note))
    # C4, C5, C6
    sv = tables["survival"]
    if pairs:
        ratios, below, notes, neg5, soft, comp = [], [], [], [], [], []
        for a, b in pairs:
            ra, rb = row(a), row(b)
            ratios.append(ra["frac_nonmono_acc"] / max(rb["frac_nonmono_acc"], 1.0 / ra["n"]))
            sa = sv[(sv["model"] == a) & (sv["evalset"] == ref) & (sv["stat"] == "acc") & (sv["t"] >= 0.05)]
            sb = sv[(sv["model"] == b) & (sv["evalset"] == ref) & (sv["stat"] == "acc") & (sv["t"] >= 0.05)]
            below.append(bool(np.all(sb["frac_ge_t"].to_numpy() <= sa["frac_ge_t"].to_numpy())))
            notes.append(f"{a} {ra['frac_nonmono_acc']:.4f} -> {b} {rb['frac_nonmono_acc']:.4f} "
                         f"(noise floor {rb['noise_floor']:.4f})")
            neg5.append(f"{a} {ra['frac_nonmono_negent']:.4f} -> {b} {rb['frac_nonmono_negent']:.4f}")
            soft.append(f"{a} {ra['frac_nonmono_softacc']:.4f} -> {b} {rb['frac_nonmono_softacc']:.4f}")
            comp.append(rb["frac_compatible"] - ra["frac_compatible"])
        c4 = min(ratios) if all(below) else 0.0
        c4note = "; ".join(notes) + f"; survival of pretrained <= scratch for t >= 0.05: {below}"
        c5 = max(row(b)["frac_nonmono_negent"] for _, b in pairs)
        c5note = "negent: " + "; ".join(neg5) + "; softacc: " + "; ".join(soft)
        c6 = min(comp)
        c6note = "; ".join(f"{a}->{b}: {x:+.4f}" for (a, b), x in zip(pairs, comp))
    else:
        c4 = c5 = c6 = nan
        c4note = c5note = c6note = "no scratch/pretrained pair of the same arch"
    out.append(Claim("C4", "pretraining reduces the non-monotone fraction sharply",
                     "min over archs of frac_nonmono(scratch)/frac_nonmono(pretrained), 0 unless the "
                     "pretrained survival curve lies below the scratch one for t >= 0.05",
                     ">= 2", c4, c4note))
    out.append(Claim("C5", "pretraining makes entropy non-monotonicity vanishingly small",
                     f"max over pretrained models of frac(nmono_negent > {s['threshold']})",
                     "<= 0.01", c5, c5note))
    out.append(Claim("C6", "pretraining increases the compatible fraction",
                     "min over archs of compatible(pretrained) - compatible(scratch)", "> 0", c6, c6note))
    # C7
    dist = tables["distance"]
    if pairs and len(scratch) >= 2 and len(pairs) >= 2:
        ok, notes = 0, []
        for metric in METRICS:
            d = dist[dist["metric"] == metric].set_index(["T1", "T2"])["value"]
            cross = d.get((scratch[0], scratch[1]), nan)
            within = min(d.get((a, b), nan) for a, b in pairs)
            ok += int(cross < within)
            notes.append(f"{metric}: D(scratch archs) {cross:.4g} vs min D(arch, arch pretrained) {within:.4g}")
        c7, c7note = float(ok), "; ".join(notes)
    else:
        c7, c7note = nan, "needs two scratch archs each with a pretrained counterpart"
    out.append(Claim("C7", "profiles cluster by pretraining, not by architecture",
                     "number of metrics (TV, KL, cos) with D(scratch A, scratch B) < min_arch D(arch, arch pretrained)",
                     ">= 3", c7, c7note))
    # C8, C9
    if scratch and len(ladder) >= 2:
        r0, r1 = row(scratch[0], ladder[0]), row(scratch[0], ladder[-1])
        hard_up = r1["frac_hard"] - r0["frac_hard"]
        comp_down = r0["frac_compatible"] - r1["frac_compatible"]
        c8 = min(hard_up, comp_down)
        c8note = (f"{scratch[0]}: hard " + ", ".join(f"{ev} {row(scratch[0], ev)['frac_hard']:.3f}" for ev in ladder)
                  + "; compatible " + ", ".join(f"{ev} {row(scratch[0], ev)['frac_compatible']:.3f}" for ev in ladder))
    else:
        c8, c8note = nan, "no ladder"
    out.append(Claim("C8", "the OOD ladder shifts the taxonomy: hard up, compatible down",
                     "min(hard(last rung) - hard(ID), compatible(ID) - compatible(last rung)), first scratch model",
                     "> 0", c8, c8note))
    c9 = row(scratch[0])["frac_compatible"] if scratch else nan
    out.append(Claim("C9", "compatible points exist (profiles are not all step functions)",
                     "compatible fraction of the first scratch model on the reference set", "> 0", c9, ""))
    # C10-C12
    aol = tables.get("aol")
    if aol is not None and len(aol):
        sel = s["neg_model"]
        h = aol[(aol["model"] == sel) & (aol["runs"] == "heldout")].iloc[0]
        c10 = h["slope_linear_mean"]
        c10note = (f"{sel} held-out half: slope {c10:.3f} (probit {h['slope_probit_mean']:.3f}), "
                   f"Delta = Neg({h['at_hi']:g}) - Neg({h['at_lo']:g}) = {h['delta']:.3f}; paper: about -0.20 over 0.6 -> 0.8")
        others = [n for n in scratch if n != sel]
        o = aol[aol["model"].isin(others)]
        c11 = o["slope_linear_mean"].max() if len(o) else nan
        c11note = "; ".join(f"{r.model}: slope {r.slope_linear_mean:.3f}" for r in o.itertuples())
        p_ = aol[aol["model"].isin(pre)]
        c12 = p_["slope_linear_mean"].min() if len(p_) else nan
        c12note = "; ".join(f"{r.model}: slope {r.slope_linear_mean:.3f}" for r in p_.itertuples())
    else:
        c10 = c11 = c12 = nan
        c10note = c11note = c12note = "no Neg pool configured"
    out.append(Claim("C10", "Neg selection gives a negative ID-vs-Neg slope on held-out runs",
                     "linear slope of mean Neg accuracy vs mean reference accuracy over checkpoints, held-out half",
                     "< 0", c10, c10note))
    out.append(Claim("C11", "the negative slope transfers to the other scratch architecture",
                     "max linear slope over the other scratch models", "< 0", c11, c11note))
    out.append(Claim("C12", "pretrained models show a positive slope on the same Neg set",
                     "min linear slope over pretrained models", "> 0", c12, c12note))
    # C13
    aoc = tables.get("aoc")
    if aoc is not None and len(aoc):
        ratio = float(aoc["d"].mean() / aoc["d_perm"].mean())
        half = len(aoc) // 2
        shrink = float(aoc["d"].iloc[half:].mean() - aoc["d"].iloc[:half].mean())
        c13note = (f"mean d {aoc['d'].mean():.4f}, permutation {aoc['d_perm'].mean():.4f}, split-half floor "
                   f"{aoc['d_splithalf'].mean():.4f}; d(upper half of p) - d(lower half) = {shrink:+.4f}")
    elif aoc is not None:
        ratio, c13note = nan, "d(p) undefined: the two models' accuracy ranges do not overlap"
    else:
        ratio, c13note = nan, "no aoc pair"
    out.append(Claim("C13", "pointwise accuracy-on-the-curve: d(p) << permutation baseline",
                     "mean d(p) / mean d_perm(p)", "< 0.5", ratio, c13note))
    # C14
    out.append(line_claim(tables.get("line"), s["superclass"]))
    # C15
    th = tables["theory"].set_index("check")["value"]
    checks = {"GP correct prior monotone": th["gp_correct_prior_frac_nonmono"] == 0.0,
              "GP mismatched prior non-monotone": th["gp_mismatched_prior_frac_nonmono"] > 0.0,
              "GP arcsin closed form": th["gp_arcsin_max_abs_diff"] < 1e-6,
              "feature mixture conflict points non-monotone": th["mixture_frac_nonmono_conflict"]
              > 5 * max(th["skills_frac_nonmono"], th["mixture_frac_nonmono_other"], 1e-3),
              "skills model nmono at the noise floor": th["skills_frac_nonmono"] < 0.05}
    out.append(Claim("C15", "theory sims: correct priors monotone, mismatched/mixture non-monotone, arcsin form",
                     "number of the 5 theory checks passing", ">= 5", float(sum(bool(v) for v in checks.values())),
                     "; ".join(f"{k}: {bool(v)}" for k, v in checks.items())
                     + f"; skills noise floor {th['skills_frac_nonmono']:.4f}"))
    return out


def write_profile_claims(tables: Mapping[str, str], s: Mapping, out: str,
                         config: Mapping | None = None) -> pd.DataFrame:
    """Read the claim tables (name -> CSV path) and write ``claims/profiles.csv``."""
    from pointwise.claims import write_claims

    t = {k: read_csv(v) for k, v in tables.items()}
    return write_claims(profile_claims(t, s), out, provenance(config, inputs=list(tables.values())))
