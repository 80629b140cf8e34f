"""Skills vs difficulty (Recht et al. 2019, App. B; paper App. D; spec 000 §6.1).

A point z has difficulty d_z, a model skill s_f; Pr[f correct on z] = Φ(s_f - d_z). Here
s_r(n) = s0 + β log(1 + n) + o_r with a per-run offset o_r ~ N(0, τ²) (τ = ``run_sd``) and
d_z ~ N(0, σ_d²). Closed forms (run-averaged, the population limits of §3.2's statistics):

- pointwise accuracy  a_z(s) = E_o Φ(s + o - d_z) = Φ((s - d_z) / √(1 + τ²))
- global accuracy     p(s)   = Φ(s / √(1 + τ² + σ_d²))
- accuracy profile    A_z(p) = Φ((√(1 + τ² + σ_d²) Φ⁻¹(p) - d_z) / √(1 + τ²)),
  a line in probit-probit space; τ = 0 gives the spec's Φ(√(1 + σ_d²) Φ⁻¹(p) - d_z). nmono = 0.

The simulation doubles as the noise floor of the empirical pipeline (:func:`noise_floor`): binary
correctness drawn (a) independently at every checkpoint or (b) persistently (a latent
u_{r,z} ~ N(0,1) per run: correct iff s_r(n) - d_z + u_{r,z} > 0), then §3.2-§3.4 exactly.

Tightness variants: (i) procedure-specific difficulty d_z + η_z^{(T)} (breaks universality;
Kendall τ of the two difficulty orders = (2/π) arcsin(σ_d² / (σ_d² + σ_η²))); (ii) a
non-monotone skill trajectory (``dip``; breaks accuracy monotonicity in n); (iii) a two-feature
mixture (:func:`simulate_feature_mixture`) that produces genuinely non-monotone profiles.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import kendalltau, norm

from ..aggregate import aggregate_correct, global_accuracy
from ..build import smooth_aggregate
from ..nmono import NMONO_THRESHOLD, nmono
from ..taxonomy import classify, taxonomy_fractions

S0, BETA, RUN_SD, SIGMA_D, EPOCHS = -1.0, 0.73, 0.1, 1.0, 30.0


def eval_resources(n_evals: int, epochs: float = EPOCHS) -> np.ndarray:
    """The resource n at K evaluations spread over the training: epochs·k/K, k = 1..K (K = 60
    gives 0.5, 1, ..., 30 epochs like the CIFAR scratch protocol)."""
    return epochs * np.arange(1, n_evals + 1) / n_evals


def skill_trajectory(n, s0: float = S0, beta: float = BETA, dip: tuple | None = None) -> np.ndarray:
    """s(n) = s0 + β log(1 + n), non-decreasing; ``dip = (depth, centre, width)`` subtracts
    depth·exp(-(n - centre)² / (2 width²)) (variant ii)."""
    n = np.asarray(n, dtype=np.float64)
    s = s0 + beta * np.log1p(n)
    if dip is not None:
        depth, centre, width = dip
        s = s - depth * np.exp(-((n - centre) ** 2) / (2 * width ** 2))
    return s


def pointwise_accuracy_closed_form(s, d, run_sd: float = 0.0) -> np.ndarray:
    """Φ((s - d) / √(1 + τ²)); broadcasts s against d."""
    return norm.cdf((np.asarray(s, np.float64) - np.asarray(d, np.float64)) / np.sqrt(1 + run_sd ** 2))


def global_accuracy_closed_form(s, sigma_d: float = SIGMA_D, run_sd: float = 0.0) -> np.ndarray:
    """p(s) = Φ(s / √(1 + τ² + σ_d²)) for d ~ N(0, σ_d²)."""
    return norm.cdf(np.asarray(s, np.float64) / np.sqrt(1 + run_sd ** 2 + sigma_d ** 2))


def profile_closed_form(p, d, sigma_d: float = SIGMA_D, run_sd: float = 0.0) -> np.ndarray:
    """A_z(p) = Φ((√(1 + τ² + σ_d²) Φ⁻¹(p) - d_z) / √(1 + τ²)); ``p`` [G], ``d`` [N] -> [N, G]."""
    p = np.asarray(p, np.float64)
    d = np.asarray(d, np.float64)
    z = np.sqrt(1 + run_sd ** 2 + sigma_d ** 2) * norm.ppf(p)
    return norm.cdf((z[None, :] - d[:, None]) / np.sqrt(1 + run_sd ** 2))


def kendall_tau_closed_form(sigma_d: float, sigma_eta: float) -> float:
    """Population Kendall τ of the orders of d + η¹ and d + η² (independent η ~ N(0, σ_η²)):
    Greiner's relation τ = (2/π) arcsin ρ with ρ = σ_d² / (σ_d² + σ_η²). 1 when σ_η = 0."""
    rho = sigma_d ** 2 / (sigma_d ** 2 + sigma_eta ** 2)
    return float(2 / np.pi * np.arcsin(rho))


def simulate_skills(n_points: int, n_runs: int, n_evals: int, rng=None, *,
                    sigma_d: float = SIGMA_D, s0: float = S0, beta: float = BETA,
                    run_sd: float = RUN_SD, mode: str = "independent", epochs: float = EPOCHS,
                    difficulty=None, dip: tuple | None = None) -> dict:
    """Binary correctness ``correct`` [R, K, N] of the skills-vs-difficulty model, with the
    difficulties ``d`` [N], skills ``s`` [R, K] and resources ``n`` [K].

    mode: ``independent`` (fresh noise at every checkpoint) or ``persistent`` (a latent u_{r,z}
    fixed per run: with non-decreasing skill each run keeps a point once it is learned)."""
    rng = np.random.default_rng(rng)
    d = rng.normal(0.0, sigma_d, n_points) if difficulty is None else np.asarray(difficulty, float)
    n = eval_resources(n_evals, epochs)
    s = skill_trajectory(n, s0, beta, dip)[None, :] + rng.normal(0.0, run_sd, (n_runs, 1))
    margin = s.astype(np.float32)[:, :, None] - d.astype(np.float32)[None, None, :]
    if mode == "independent":
        u = rng.standard_normal((n_runs, n_evals, d.size), dtype=np.float32)
    elif mode == "persistent":
        u = rng.standard_normal((n_runs, 1, d.size), dtype=np.float32)
    else:
        raise ValueError(f"unknown mode {mode!r}")
    return {"correct": margin + u > 0, "d": d, "s": s, "n": n}


def pipeline_scores(correct, threshold: float = NMONO_THRESHOLD, **smoothing) -> dict:
    """Run spec §3.2-§3.4 on simulated correctness [R, K, N] (the simulated points are also the
    reference set): nmono of every accuracy profile, categories, fractions, profiles."""
    agg = aggregate_correct(correct)
    prof = smooth_aggregate(agg, global_accuracy(agg), **smoothing).on_grid(stats=("acc",))
    nm = nmono(prof.acc)
    cats = classify(prof.acc, prof.grid, threshold, scores=nm)
    return {"nmono": nm, "categories": cats, "fractions": taxonomy_fractions(cats),
            "profiles": prof, "agg": agg}


def noise_floor(n_runs: int, n_evals: int, mode: str = "independent", n_points: int = 10_000,
                rng=None, *, sigma_d: float = SIGMA_D, run_sd: float = RUN_SD,
                trajectory1: tuple = (S0, BETA), trajectory2: tuple = (-0.5, 0.5),
                sigma_eta: float = 0.0, threshold: float = NMONO_THRESHOLD, **smoothing) -> dict:
    """Spec §6.1 noise-floor calibration at (R, K): the pipeline on a model whose true nmono is 0.

    Returns the estimated ``nmono`` [N], ``frac_nonmono`` (false non-monotone rate at
    ``threshold``), ``fractions`` (taxonomy table) and ``kendall_tau``: Kendall τ between the
    difficulty orders (mean pointwise accuracy over checkpoints) under two skill trajectories
    with independent runs (population value 1, or :func:`kendall_tau_closed_form` with
    ``sigma_eta`` > 0, variant i)."""
    rng = np.random.default_rng(rng)
    d = rng.normal(0.0, sigma_d, n_points)
    d1 = d + rng.normal(0.0, sigma_eta, n_points) if sigma_eta else d
    d2 = d + rng.normal(0.0, sigma_eta, n_points) if sigma_eta else d
    sim1 = simulate_skills(n_points, n_runs, n_evals, rng, sigma_d=sigma_d, s0=trajectory1[0],
                           beta=trajectory1[1], run_sd=run_sd, mode=mode, difficulty=d1)
    res = pipeline_scores(sim1["correct"], threshold, **smoothing)
    sim2 = simulate_skills(n_points, n_runs, n_evals, rng, sigma_d=sigma_d, s0=trajectory2[0],
                           beta=trajectory2[1], run_sd=run_sd, mode=mode, difficulty=d2)
    m1 = res["agg"].acc.mean(axis=0)
    m2 = sim2["correct"].mean(axis=(0, 1), dtype=np.float64)
    tau = kendalltau(m1, m2).statistic
    return {"nmono": res["nmono"], "frac_nonmono": float((res["nmono"] > threshold).mean()),
            "fractions": res["fractions"], "kendall_tau": float(tau), "d": d,
            "n_runs": n_runs, "n_evals": n_evals, "mode": mode}


# --- variant (iii): two-feature mixture -------------------------------------------------------

def feature_weights(n, w_simple: float = 2.0, w_complex: float = 3.0, tau_simple: float = 1.0,
                    tau_complex: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Weights of the simple feature (learned early, time constant ``tau_simple``) and of the
    complex feature (learned later): w(n) = w_max (1 - exp(-n / τ))."""
    n = np.asarray(n, np.float64)
    return w_simple * -np.expm1(-n / tau_simple), w_complex * -np.expm1(-n / tau_complex)


def feature_mixture_accuracy(n, a, b, bias: float = 1.0, run_sd: float = 0.0,
                             **weights) -> np.ndarray:
    """Closed-form run-averaged pointwise accuracy of the feature mixture:
    Φ((w_s(n) a_z + w_c(n) b_z - bias) / √(1 + τ²)); ``n`` [K], ``a``, ``b`` [N] -> [K, N]."""
    ws, wc = feature_weights(n, **weights)
    m = ws[:, None] * np.asarray(a)[None, :] + wc[:, None] * np.asarray(b)[None, :] - bias
    return norm.cdf(m / np.sqrt(1 + run_sd ** 2))


def simulate_feature_mixture(n_points: int, n_runs: int, n_evals: int, rng=None, *,
                             conflict_frac: float = 0.2, bias: float = 1.0,
                             run_sd: float = RUN_SD, mode: str = "independent",
                             epochs: float = EPOCHS, **weights) -> dict:
    """Variant (iii) of spec §6.1: each point has a simple-cue strength a_z ~ |N(1, 0.5²)| that
    agrees with its label and a complex-cue strength b_z ~ N(1, 0.5²); on a ``conflict_frac``
    subset the complex cue points to another class (b_z = -|b_z|). Correct iff
    w_s(n) a_z + w_c(n) b_z - bias + o_r + u > 0 (u as in :func:`simulate_skills`). Conflict
    points are learned early and unlearned once the complex feature dominates."""
    rng = np.random.default_rng(rng)
    a = np.abs(rng.normal(1.0, 0.5, n_points))
    b = rng.normal(1.0, 0.5, n_points)
    conflict = rng.random(n_points) < conflict_frac
    b[conflict] = -np.abs(b[conflict])
    n = eval_resources(n_evals, epochs)
    ws, wc = feature_weights(n, **weights)
    mean = (ws[:, None] * a[None, :] + wc[:, None] * b[None, :] - bias).astype(np.float32)
    off = rng.normal(0.0, run_sd, (n_runs, 1, 1)).astype(np.float32)
    shape = (n_runs, n_evals, n_points) if mode == "independent" else (n_runs, 1, n_points)
    if mode not in ("independent", "persistent"):
        raise ValueError(f"unknown mode {mode!r}")
    u = rng.standard_normal(shape, dtype=np.float32)
    return {"correct": mean[None] + off + u > 0, "a": a, "b": b, "conflict": conflict, "n": n}
