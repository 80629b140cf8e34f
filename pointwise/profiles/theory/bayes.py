"""Bayesian inference and Gaussian processes (paper Lemma D.2, App. D; spec 000 §6.3).

Lemma D.2: the posterior p_n of a label is a martingale, so E H(p_n) is non-increasing and
E‖p_n‖∞ non-decreasing in n; with a correct prior the Bayes (argmax) accuracy equals E‖p_n‖∞.
The expectation includes the label drawn from the prior (E12).

GP classification-by-regression: f ~ GP(0, K), observations Y = f(X) + ε (ε ~ N(0, σ_n²)),
test label y* = sign f(x*), prediction sign μ*, predictive p = Φ(μ*/σ*) for the latent f(x*).
For a learner with kernel K_L and noise σ_L² (correct prior: K_L = K, σ_L = σ_n) put
a = (K_L(X,X) + σ_L² I)⁻¹ K_L(X, x*), so μ* = aᵀY. Under the true prior μ* and f* = f(x*) are
jointly Gaussian with Var μ* = aᵀ(K(X,X) + σ_n² I)a, Cov(μ*, f*) = aᵀK(X, x*), Var f* = K**:

- accuracy  Pr[sign μ* = sign f*] = ½ + arcsin(ρ)/π, ρ = Cov / √(Var μ* K**); with the correct
  prior ρ = √(1 - σ*²/K**) (spec §6.3);
- E‖p‖∞ = E Φ(c|Z|) = ½ + arctan(c)/π and E H(p) = E h(Φ(cZ)), c = √(Var μ*)/σ*_L, Z ~ N(0,1);
  with the correct prior c² = K**/σ*² - 1, so E‖p‖∞ equals the accuracy (calibration) and both
  depend on K**/σ*² alone.

Nested training sets make σ*² non-increasing, so with the correct prior accuracy and entropy are
monotone for *every* x* and every training sequence; mismatched priors (wrong lengthscale or
kernel family) and conditioning on one fixed f need not be (exploratory, spec §6.3).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy.special import betaln, gammaln, ndtr, xlogy

from ..nmono import nmono

JITTER = 1e-8
Kernel = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _sqdist(x1, x2) -> np.ndarray:
    x1, x2 = np.atleast_2d(x1), np.atleast_2d(x2)
    return np.maximum((x1 ** 2).sum(1)[:, None] + (x2 ** 2).sum(1)[None, :] - 2 * x1 @ x2.T, 0.0)


def rbf(lengthscale: float = 0.2, variance: float = 1.0) -> Kernel:
    """k(x, x') = v exp(-‖x - x'‖² / (2 ℓ²))."""
    return lambda x1, x2: variance * np.exp(-_sqdist(x1, x2) / (2 * lengthscale ** 2))


def matern12(lengthscale: float = 0.2, variance: float = 1.0) -> Kernel:
    """Matérn-½ (exponential) kernel k(x, x') = v exp(-‖x - x'‖ / ℓ)."""
    return lambda x1, x2: variance * np.exp(-np.sqrt(_sqdist(x1, x2)) / lengthscale)


def binary_entropy(p) -> np.ndarray:
    """h(p) = -p ln p - (1-p) ln(1-p) (natural log), 0 at p ∈ {0, 1}."""
    p = np.clip(np.asarray(p, np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log(p) + (1 - p) * np.log1p(-p))
    return np.nan_to_num(h, nan=0.0)


def probit_entropy(t) -> np.ndarray:
    """h(Φ(t)), computed from Φ(t) and Φ(-t) so that it stays accurate for large |t|."""
    t = np.asarray(t, np.float64)
    p, q = ndtr(t), ndtr(-t)
    return -(xlogy(p, p) + xlogy(q, q))


def expected_entropy(c, n_nodes: int = 201) -> np.ndarray:
    """E h(Φ(c Z)), Z ~ N(0, 1): trapezoid rule over z ∈ [-L, L], L = min(8, 9/|c|) (beyond
    |cz| = 9 the integrand is < 1e-17; the integrand is analytic, so the trapezoid rule converges
    geometrically: 101 nodes already agree with adaptive quadrature to 1e-15 for c in [0, 1e5]);
    decreasing in |c|, ln 2 at c = 0."""
    c = np.abs(np.asarray(c, np.float64))
    half = np.minimum(8.0, 9.0 / np.maximum(c, 1e-300))
    u = np.linspace(-1.0, 1.0, n_nodes)
    z = half[..., None] * u
    f = probit_entropy(c[..., None] * z) * np.exp(-0.5 * z ** 2) / np.sqrt(2 * np.pi)
    w = np.full(n_nodes, u[1] - u[0])
    w[[0, -1]] *= 0.5
    return (f * w).sum(-1) * half


def expected_maxp(c) -> np.ndarray:
    """E max(Φ(cZ), 1 - Φ(cZ)) = E Φ(|c| |Z|) = ½ + arctan(|c|)/π."""
    return 0.5 + np.arctan(np.abs(np.asarray(c, np.float64))) / np.pi


def correct_prior_accuracy(sigma2, kss) -> np.ndarray:
    """½ + arcsin(√(1 - σ*²/K**))/π (spec §6.3 closed form, correct prior)."""
    r = np.clip(1.0 - np.asarray(sigma2, np.float64) / np.asarray(kss, np.float64), 0.0, 1.0)
    return 0.5 + np.arcsin(np.sqrt(r)) / np.pi


def _solve(kernel: Kernel, X, noise: float, rhs) -> np.ndarray:
    kxx = kernel(X, X) + (noise ** 2 + JITTER) * np.eye(len(X))
    c = np.linalg.cholesky(kxx)
    return np.linalg.solve(c.T, np.linalg.solve(c, rhs))


def gp_posterior(kernel: Kernel, X, Y, Xs, noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Latent posterior mean μ* (``[n_s]`` or ``[n_s, F]`` for Y ``[n, F]``) and variance σ*²
    ``[n_s]`` (App. D formulas; σ_n² I + a 1e-8 jitter added to K(X, X))."""
    X, Xs = np.atleast_2d(X), np.atleast_2d(Xs)
    ks = kernel(X, Xs)
    a = _solve(kernel, X, noise, ks)
    var = np.diag(kernel(Xs, Xs)) - (ks * a).sum(0)
    return a.T @ np.asarray(Y, np.float64), np.maximum(var, 0.0)


def gp_closed_form(X, Xs, true_kernel: Kernel, learner_kernel: Kernel | None = None,
                   noise: float = 0.0, learner_noise: float | None = None) -> dict:
    """Closed-form accuracy, E‖p‖∞ and E H(p) at the test points ``Xs`` for the training inputs
    ``X`` (averaged over f and the label, fixed X), for a correct or mismatched learner.

    Returns ``acc``, ``maxp``, ``entropy``, ``rho``, ``var_mu``, ``sigma2`` (learner's latent
    posterior variance) and ``kss`` ``[n_s]``."""
    learner_kernel = true_kernel if learner_kernel is None else learner_kernel
    learner_noise = noise if learner_noise is None else learner_noise
    X, Xs = np.atleast_2d(X), np.atleast_2d(Xs)
    kss = np.diag(true_kernel(Xs, Xs))
    if len(X) == 0:
        zero = np.zeros(len(Xs))
        sig = np.diag(learner_kernel(Xs, Xs))
        return {"acc": zero + 0.5, "maxp": zero + 0.5, "entropy": zero + np.log(2), "rho": zero,
                "var_mu": zero, "sigma2": sig, "kss": kss}
    kl = learner_kernel(X, Xs)
    a = _solve(learner_kernel, X, learner_noise, kl)
    sigma2 = np.maximum(np.diag(learner_kernel(Xs, Xs)) - (kl * a).sum(0), 1e-300)
    kt = true_kernel(X, X) + (noise ** 2 + JITTER) * np.eye(len(X))
    var_mu = np.maximum((a * (kt @ a)).sum(0), 0.0)
    cov = (a * true_kernel(X, Xs)).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(var_mu > 0, cov / np.sqrt(var_mu * kss), 0.0)
    rho = np.clip(rho, -1.0, 1.0)
    c = np.sqrt(var_mu / sigma2)
    return {"acc": 0.5 + np.arcsin(rho) / np.pi, "maxp": expected_maxp(c),
            "entropy": expected_entropy(c), "rho": rho, "var_mu": var_mu, "sigma2": sigma2,
            "kss": kss}


def simulate_gp(n_list: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256), n_test: int = 200,
                n_seq: int = 100, n_f: int = 20, rng=None, *, dim: int = 1,
                true_kernel: Kernel | None = None, learner_kernel: Kernel | None = None,
                noise: float = 0.0, learner_noise: float | None = None) -> dict:
    """Monte Carlo of spec §6.3: ``n_seq`` i.i.d. uniform training sequences in [0,1]^dim (nested
    prefixes X_n, n ∈ ``n_list``), ``n_f`` draws of f ~ GP(0, K_true) per sequence, 200 fixed
    test points. Per sequence (shape ``[n_seq, len(n_list), n_test]``): MC means over the f draws
    of correctness (``acc_mc``), max posterior (``maxp_mc``) and binary entropy (``entropy_mc``),
    and the closed forms (``acc_cf``, ``maxp_cf``, ``entropy_cf``) for that sequence."""
    rng = np.random.default_rng(rng)
    true_kernel = rbf(0.2) if true_kernel is None else true_kernel
    learner_kernel = true_kernel if learner_kernel is None else learner_kernel
    learner_noise = noise if learner_noise is None else learner_noise
    n_list = [int(n) for n in n_list]
    xs = rng.random((n_test, dim))
    keys = ("acc_mc", "maxp_mc", "entropy_mc", "acc_cf", "maxp_cf", "entropy_cf")
    out = {k: np.zeros((n_seq, len(n_list), n_test)) for k in keys}
    for s in range(n_seq):
        X = rng.random((max(n_list), dim))
        allx = np.vstack([X, xs])
        chol = np.linalg.cholesky(true_kernel(allx, allx) + JITTER * np.eye(len(allx)))
        fvals = chol @ rng.standard_normal((len(allx), n_f))
        fx, fs = fvals[:len(X)], fvals[len(X):]
        Y = fx + noise * rng.standard_normal(fx.shape)
        for j, n in enumerate(n_list):
            mu, s2 = gp_posterior(learner_kernel, X[:n], Y[:n], xs, learner_noise)
            t = mu / np.sqrt(np.maximum(s2, 1e-300))[:, None]
            out["acc_mc"][s, j] = (np.sign(mu) == np.sign(fs)).mean(1)
            out["maxp_mc"][s, j] = ndtr(np.abs(t)).mean(1)
            out["entropy_mc"][s, j] = probit_entropy(t).mean(1)
            cf = gp_closed_form(X[:n], xs, true_kernel, learner_kernel, noise, learner_noise)
            out["acc_cf"][s, j], out["maxp_cf"][s, j] = cf["acc"], cf["maxp"]
            out["entropy_cf"][s, j] = cf["entropy"]
    out["n"] = np.asarray(n_list)
    out["x_test"] = xs
    return out


def closed_form_profiles(n_list: Sequence[int], n_test: int = 200, n_seq: int = 50, rng=None, *,
                         dim: int = 1, true_kernel: Kernel | None = None,
                         learner_kernel: Kernel | None = None, noise: float = 0.0,
                         learner_noise: float | None = None, tol: float = 1e-6) -> dict:
    """Prior-averaged accuracy and entropy profiles over n from the closed forms (no f sampling),
    averaged over ``n_seq`` nested training sequences: ``acc``/``entropy`` ``[len(n), n_test]``,
    per-x* ``nmono_acc`` and ``nmono_negent`` and the fractions above ``tol``. With the correct
    prior every sequence's profile is monotone, so both fractions are 0 up to rounding."""
    rng = np.random.default_rng(rng)
    true_kernel = rbf(0.2) if true_kernel is None else true_kernel
    xs = rng.random((n_test, dim))
    acc = np.zeros((len(n_list), n_test))
    ent = np.zeros_like(acc)
    for _ in range(n_seq):
        X = rng.random((max(n_list), dim))
        for j, n in enumerate(n_list):
            cf = gp_closed_form(X[:n], xs, true_kernel, learner_kernel, noise, learner_noise)
            acc[j] += cf["acc"] / n_seq
            ent[j] += cf["entropy"] / n_seq
    nm_acc, nm_ent = nmono(acc.T), nmono(-ent.T)
    return {"n": np.asarray(n_list), "acc": acc, "entropy": ent, "nmono_acc": nm_acc,
            "nmono_negent": nm_ent, "frac_nonmono_acc": float((nm_acc > tol).mean()),
            "frac_nonmono_negent": float((nm_ent > tol).mean()), "x_test": xs}


def fixed_function_profiles(n_list: Sequence[int], n_test: int = 200, n_pool: int = 512,
                            n_seq: int = 200, rng=None, *, dim: int = 1,
                            kernel: Kernel | None = None, noise: float = 0.0,
                            threshold: float | None = None) -> dict:
    """Violation (ii) of spec §6.3: the correct prior, but one fixed f; only the training
    sequence (random orders of a pool of ``n_pool`` points) is averaged. ``acc`` and ``entropy``
    ``[len(n), n_test]``; nmono per x* and the fraction above ``threshold`` (default the MC noise
    level 3 √(0.5 / n_seq), three standard errors of a difference of two proportions at ½)."""
    rng = np.random.default_rng(rng)
    kernel = rbf(0.2) if kernel is None else kernel
    pool, xs = rng.random((n_pool, dim)), rng.random((n_test, dim))
    allx = np.vstack([pool, xs])
    f = np.linalg.cholesky(kernel(allx, allx) + JITTER * np.eye(len(allx))) @ rng.standard_normal(len(allx))
    fp, fs = f[:n_pool], f[n_pool:]
    acc = np.zeros((len(n_list), n_test))
    ent = np.zeros_like(acc)
    for _ in range(n_seq):
        order = rng.permutation(n_pool)
        Y = fp[order] + noise * rng.standard_normal(n_pool)
        for j, n in enumerate(n_list):
            mu, s2 = gp_posterior(kernel, pool[order[:n]], Y[:n], xs, noise)
            acc[j] += (np.sign(mu) == np.sign(fs)) / n_seq
            ent[j] += probit_entropy(mu / np.sqrt(np.maximum(s2, 1e-300))) / n_seq
    threshold = 3 * np.sqrt(0.5 / n_seq) if threshold is None else threshold
    nm_acc, nm_ent = nmono(acc.T), nmono(-ent.T)
    return {"n": np.asarray(n_list), "acc": acc, "entropy": ent, "nmono_acc": nm_acc,
            "nmono_negent": nm_ent, "threshold": threshold,
            "frac_nonmono_acc": float((nm_acc > threshold).mean()),
            "frac_nonmono_negent": float((nm_ent > threshold).mean())}


# --- exact discrete check of Lemma D.2 --------------------------------------------------------

def _log_binom(n, k):
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def beta_bernoulli_exact(a: float, b: float, n_max: int) -> dict:
    """θ ~ Beta(a, b); Y, Z_1, Z_2, ... i.i.d. Bernoulli(θ); p_n = P(Y = 1 | Z_1..n) =
    (a + S)/(a + b + n). Exact enumeration over S ~ BetaBinomial(n, a, b) for n = 0..n_max:
    ``entropy`` = E H(p_n), ``maxp`` = E‖p_n‖∞ and ``acc`` = Bayes accuracy of the argmax
    prediction from the joint law P(Y = y, S = s) (ties split evenly)."""
    ent, maxp, acc = [], [], []
    for n in range(n_max + 1):
        s = np.arange(n + 1)
        logp_s = _log_binom(n, s) + betaln(a + s, b + n - s) - betaln(a, b)
        ps = np.exp(logp_s)
        p1 = (a + s) / (a + b + n)
        ent.append((ps * binary_entropy(p1)).sum())
        maxp.append((ps * np.maximum(p1, 1 - p1)).sum())
        joint1 = np.exp(_log_binom(n, s) + betaln(a + s + 1, b + n - s) - betaln(a, b))
        joint0 = np.exp(_log_binom(n, s) + betaln(a + s, b + n - s + 1) - betaln(a, b))
        acc.append(np.maximum(joint1, joint0).sum())
    return {"n": np.arange(n_max + 1), "entropy": np.array(ent), "maxp": np.array(maxp),
            "acc": np.array(acc)}


def beta_bernoulli_mc(a: float, b: float, n_max: int, n_draws: int = 100_000, rng=None) -> dict:
    """Monte Carlo of :func:`beta_bernoulli_exact`: accuracy of the argmax prediction (ties broken
    by a fair coin), E H(p_n) and E‖p_n‖∞ over ``n_draws`` draws of (θ, Y, Z)."""
    rng = np.random.default_rng(rng)
    theta = rng.beta(a, b, n_draws)
    y = rng.random(n_draws) < theta
    z = rng.random((n_draws, n_max)) < theta[:, None]
    s = np.concatenate([np.zeros((n_draws, 1)), np.cumsum(z, axis=1)], axis=1)
    p1 = (a + s) / (a + b + np.arange(n_max + 1))
    coin = rng.random((n_draws, n_max + 1)) < 0.5
    pred = np.where(p1 == 0.5, coin, p1 > 0.5)
    return {"n": np.arange(n_max + 1), "acc": (pred == y[:, None]).mean(0),
            "entropy": binary_entropy(p1).mean(0), "maxp": np.maximum(p1, 1 - p1).mean(0)}
