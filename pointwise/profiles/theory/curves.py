"""Curves of the §6 simulations for the theory figures (spec 000 §6.1-§6.3), one long table:
``figure`` (skills | manifold | bayes), ``panel``, ``series``, ``x``, ``y``.

- skills: closed-form profiles A_z(p) next to the pipeline's estimates at the workflow's (R, K)
  for three difficulties; the same closed forms in probit axes (straight lines); survival of the
  estimated nmono for the skills model (noise floor) and the feature mixture; the mixture's
  closed-form pointwise accuracy against the resource n for a conflict and a plain point;
- manifold: global and worst-point mean error with the bound L √d n^{-1/d} against n (d = 2, 4);
  Pr_offset[correct] against n of the most non-monotone points (d = 2);
- bayes: GP accuracy (Monte Carlo and arcsin closed form), E‖p‖∞ and entropy against n; per-x*
  accuracy under the correct and a mismatched prior and under one fixed f; the Beta-Bernoulli
  exact expectations (Lemma D.2).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..nmono import NMONO_THRESHOLD, nmono, survival
from . import bayes, manifold, skills

SURVIVAL_T = np.round(np.linspace(0.0, 0.5, 51), 4)
DIFFICULTIES = (-1.0, 0.0, 1.0)
MANIFOLD_CELLS = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
GP_N = (1, 2, 4, 8, 16, 32, 64)


def _rows(figure, panel, series, x, y) -> pd.DataFrame:
    x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
    return pd.DataFrame({"figure": figure, "panel": panel, "series": series, "x": x.ravel(), "y": y.ravel()})


def skills_curves(n_runs: int, n_evals: int, n_points: int, seed: int,
                  threshold: float = NMONO_THRESHOLD) -> list[pd.DataFrame]:
    out = []
    sim = skills.simulate_skills(n_points, n_runs, n_evals, rng=seed)
    res = skills.pipeline_scores(sim["correct"], threshold)
    prof = res["profiles"]
    for d in DIFFICULTIES:
        i = int(np.argmin(np.abs(sim["d"] - d)))
        cf = skills.profile_closed_form(prof.grid, [sim["d"][i]], run_sd=skills.RUN_SD)[0]
        out += [_rows("skills", "profiles", f"d={sim['d'][i]:+.2f} closed form", prof.grid, cf),
                _rows("skills", "profiles", f"d={sim['d'][i]:+.2f} estimate (R={n_runs})", prof.grid,
                      prof.acc[i])]
    p = np.linspace(0.02, 0.98, 49)
    for d in (-1.5, -0.5, 0.5, 1.5):
        out.append(_rows("skills", "probit", f"d={d:+.1f}", norm.ppf(p),       # unclipped probit
                         norm.ppf(skills.profile_closed_form(p, [d], run_sd=skills.RUN_SD)[0])))
    fm = skills.simulate_feature_mixture(n_points, n_runs, n_evals, rng=seed + 1, conflict_frac=0.2)
    nm_fm = skills.pipeline_scores(fm["correct"], threshold)["nmono"]
    for name, scores in (("skills model (noise floor)", res["nmono"]),
                         ("mixture: conflict points", nm_fm[fm["conflict"]]),
                         ("mixture: other points", nm_fm[~fm["conflict"]])):
        out.append(_rows("skills", "survival", name, SURVIVAL_T, survival(scores, SURVIVAL_T)))
    n = np.linspace(0.05, skills.EPOCHS, 120)
    for name, a, b in (("conflict point (a=1, b=-1)", 1.0, -1.0), ("plain point (a=1, b=1)", 1.0, 1.0)):
        out.append(_rows("skills", "mixture", name, n, skills.feature_mixture_accuracy(n, [a], [b])[:, 0]))
    return out


def manifold_curves(n_points: int, seed: int) -> list[pd.DataFrame]:
    out = []
    for d in (2, 4):
        r = manifold.simulate_manifold(d, MANIFOLD_CELLS, n_points=n_points, n_runs=20, rng=seed + d)
        out += [_rows("manifold", "error", f"d={d} mean error (alpha {r['alpha_global']:.2f})", r["n"], r["global_err"]),
                _rows("manifold", "error", f"d={d} worst point (alpha {r['alpha_pointwise']:.2f})", r["n"],
                      r["max_pointwise_err"]),
                _rows("manifold", "error", f"d={d} bound L sqrt(d) n^(-1/d)", r["n"], r["bound"])]
        if d == 2:
            nm = nmono(r["acc"].T)
            for i in np.argsort(-nm, kind="stable")[:4]:
                out.append(_rows("manifold", "accuracy", f"point {i} (nmono {nm[i]:.2f})", r["n"], r["acc"][:, i]))
            out.append(_rows("manifold", "accuracy", "mean over points", r["n"], r["acc"].mean(1)))
    return out


def bayes_curves(seed: int) -> list[pd.DataFrame]:
    out = []
    g = bayes.simulate_gp(GP_N, n_test=100, n_seq=30, n_f=20, rng=seed + 3, noise=0.1)
    for key, name in (("acc_mc", "accuracy (Monte Carlo)"), ("acc_cf", "accuracy (arcsin closed form)"),
                      ("maxp_mc", "E max p (Monte Carlo)"), ("entropy_mc", "E H(p) (Monte Carlo)"),
                      ("entropy_cf", "E H(p) (closed form)")):
        out.append(_rows("bayes", "gp", name, g["n"], g[key].mean(axis=(0, 2))))
    good = bayes.closed_form_profiles(GP_N, 60, 6, rng=seed + 3, noise=0.1)
    bad = bayes.closed_form_profiles(GP_N, 60, 6, rng=seed + 3, noise=0.1, learner_kernel=bayes.rbf(0.8))
    for i in np.argsort(-bad["nmono_acc"], kind="stable")[:3]:
        out += [_rows("bayes", "priors", f"x*={bad['x_test'][i, 0]:.2f} correct prior", GP_N, good["acc"][:, i]),
                _rows("bayes", "priors", f"x*={bad['x_test'][i, 0]:.2f} lengthscale x4", GP_N, bad["acc"][:, i])]
    fixed = bayes.fixed_function_profiles(GP_N, 60, n_seq=100, rng=seed + 5, noise=0.1)
    for i in np.argsort(-fixed["nmono_acc"], kind="stable")[:3]:
        out.append(_rows("bayes", "fixed_f", f"x* #{i} (nmono {fixed['nmono_acc'][i]:.2f})", GP_N, fixed["acc"][:, i]))
    ex = bayes.beta_bernoulli_exact(2.0, 3.0, 12)
    n = np.arange(13)
    for key, name in (("acc", "Bayes accuracy"), ("maxp", "E max p_n"), ("entropy", "E H(p_n)")):
        out.append(_rows("bayes", "beta_bernoulli", name, n, ex[key]))
    return out


def theory_curves(n_runs: int, n_evals: int, n_points: int = 2000, seed: int = 0,
                  threshold: float = NMONO_THRESHOLD) -> pd.DataFrame:
    """The long curve table of all three models at the workflow's (R, K)."""
    return pd.concat(skills_curves(n_runs, n_evals, n_points, seed, threshold)
                     + manifold_curves(min(n_points, 1000), seed) + bayes_curves(seed), ignore_index=True)
