"""Paper 000 Sec. 5 / App. D models (spec §6): each closed form against its Monte Carlo.

Tolerances are 4 Monte-Carlo standard errors unless stated (a false failure rate of ~6e-5 per
comparison for Gaussian errors; the seeds are fixed, so the suite is deterministic)."""
import numpy as np
import pytest
from scipy import integrate
from scipy.stats import kendalltau, norm

from pointwise.profiles.nmono import nmono
from pointwise.profiles.probit import probit
from pointwise.profiles.theory import bayes, manifold, skills


# --- skills vs difficulty (spec §6.1) ---------------------------------------------------------

def test_skills_global_accuracy_closed_form_vs_mc():
    sim = skills.simulate_skills(100_000, 4, 10, rng=0, sigma_d=1.3, run_sd=0.0)
    mc = sim["correct"].mean(axis=(0, 2))
    cf = skills.global_accuracy_closed_form(sim["s"][0], sigma_d=1.3)
    se = np.sqrt(cf * (1 - cf) / 400_000)     # difficulty sampling adds the same order again
    assert np.all(np.abs(mc - cf) < 4 * np.sqrt(2) * se)


def test_skills_pointwise_accuracy_with_run_offsets_vs_mc():
    d = np.array([-1.0, 0.0, 0.7, 2.0])
    sim = skills.simulate_skills(4, 20_000, 6, rng=1, difficulty=d, run_sd=0.5, mode="persistent")
    mc = sim["correct"].mean(axis=0)                                  # [K, 4]
    s = skills.skill_trajectory(sim["n"])
    cf = skills.pointwise_accuracy_closed_form(s[:, None], d[None, :], run_sd=0.5)
    se = np.sqrt(cf * (1 - cf) / 20_000)
    assert np.all(np.abs(mc - cf) < 4 * se + 1e-12)


def test_skills_profile_is_probit_linear_and_monotone():
    s = np.linspace(-2, 2, 30)
    d = np.array([-1.0, 0.0, 1.5])
    for tau in (0.0, 0.4):
        p = skills.global_accuracy_closed_form(s, 1.0, tau)
        A = skills.profile_closed_form(p, d, 1.0, tau)
        np.testing.assert_allclose(A, skills.pointwise_accuracy_closed_form(s[None], d[:, None], tau),
                                   atol=1e-12)
        slope = np.polyfit(probit(p, 1e-12), probit(A[0], 1e-12), 1)[0]
        assert slope == pytest.approx(np.sqrt(2 + tau ** 2) / np.sqrt(1 + tau ** 2))
        assert np.all(nmono(A) == 0)


def test_kendall_tau_under_difficulty_noise():
    rng = np.random.default_rng(2)
    d = rng.normal(0, 1, 20_000)
    tau = kendalltau(d + rng.normal(0, 0.7, d.size), d + rng.normal(0, 0.7, d.size)).statistic
    # sd of Kendall's tau ~ sqrt(4 / (9 N)) (independence bound) = 0.0047; 0.02 > 4 sd
    assert tau == pytest.approx(skills.kendall_tau_closed_form(1.0, 0.7), abs=0.02)
    assert skills.kendall_tau_closed_form(1.0, 0.0) == 1.0


def test_noise_floor_persistent_vs_independent():
    """True nmono is 0. Persistent correctness (a run keeps what it learns) gives a monotone
    estimate; independent redraws at every checkpoint produce false non-monotone points, many
    more with R = 10 than with R = 50."""
    pers = skills.noise_floor(20, 30, "persistent", 2000, rng=3)
    assert pers["frac_nonmono"] == 0.0 and pers["nmono"].max() < 1e-12
    ind10 = skills.noise_floor(10, 40, "independent", 2000, rng=4)
    ind50 = skills.noise_floor(50, 40, "independent", 2000, rng=5)
    assert ind10["frac_nonmono"] > 0.1 > ind50["frac_nonmono"]
    assert ind50["kendall_tau"] > 0.9
    fr = ind50["fractions"].set_index("category")["fraction"]
    assert fr.sum() == pytest.approx(1.0)


def test_skill_dip_breaks_monotonicity_in_n_only():
    n = skills.eval_resources(60)
    s = skills.skill_trajectory(n, dip=(1.0, 10.0, 2.0))
    acc_n = skills.pointwise_accuracy_closed_form(s[None], np.array([[-0.5], [0.5]]))
    assert np.all(nmono(acc_n) > 0.1)                 # non-monotone in n ...
    p = skills.global_accuracy_closed_form(s)
    order = np.argsort(p)
    assert np.all(nmono(acc_n[:, order]) < 1e-12)     # ... but not as a profile of p


def test_feature_mixture_closed_form_and_non_monotone_points():
    sim = skills.simulate_feature_mixture(6, 10_000, 12, rng=6, conflict_frac=0.5, run_sd=0.3)
    mc = sim["correct"].mean(axis=0)
    cf = skills.feature_mixture_accuracy(sim["n"], sim["a"], sim["b"], run_sd=0.3)
    assert np.all(np.abs(mc - cf) < 4 * np.sqrt(cf * (1 - cf) / 10_000) + 1e-12)
    big = skills.simulate_feature_mixture(2000, 50, 40, rng=7, conflict_frac=0.2)
    res = skills.pipeline_scores(big["correct"])
    conflict = big["conflict"]
    assert (res["nmono"][conflict] > 0.1).mean() > 0.5
    assert (res["nmono"][~conflict] > 0.1).mean() < 0.05


# --- manifold partition (spec §6.2) -----------------------------------------------------------

@pytest.mark.parametrize("kind", ["constant", "multilinear"])
def test_manifold_pointwise_bound_and_exponent(kind):
    cells = [4, 6, 8, 12, 16, 24, 32]
    res = manifold.simulate_manifold(2, cells, 800, 10, rng=8, kind=kind)
    # the bound holds for every point and every offset (deterministic)
    assert np.all(res["max_err"] <= res["bound"][:, None])
    if kind == "constant":   # absolute error of a centre-value fit ~ n^{-1/d}
        assert res["alpha_global"] == pytest.approx(0.5, abs=0.08)
        assert res["alpha_pointwise"] == pytest.approx(0.5, abs=0.2)   # the max is noisier
    else:                    # multilinear fits of a smooth f converge faster (~ n^{-2/d})
        assert res["alpha_global"] > 0.7
    assert 0.0 <= res["frac_nonmono_acc"] <= 1.0


def test_manifold_grid_approximation_exact_on_linear_functions():
    f = lambda x: 0.3 + x @ np.array([1.0, -2.0])  # noqa: E731
    x = np.random.default_rng(9).random((50, 2))
    np.testing.assert_allclose(manifold.grid_approximation(f, x, 5, [0.03, 0.11], "multilinear"),
                               f(x), atol=1e-12)


# --- Bayesian inference / GP (spec §6.3) ------------------------------------------------------

def test_expected_entropy_and_maxp_quadratures():
    for c in (0.0, 0.3, 1.0, 5.0, 200.0):
        ref = integrate.quad(lambda t: bayes.probit_entropy(t) * norm.pdf(t / max(c, 1e-9))
                             / max(c, 1e-9), -60, 60, limit=400, points=[0.0])[0] if c else np.log(2)
        assert bayes.expected_entropy(c) == pytest.approx(ref, rel=1e-7, abs=1e-12)
        z = np.random.default_rng(10).standard_normal(400_000)
        assert bayes.expected_maxp(c) == pytest.approx(norm.cdf(c * np.abs(z)).mean(), abs=0.002)
    assert bayes.expected_entropy(1.0) == pytest.approx(0.5)


def test_gp_correct_prior_reduces_to_arcsin_formula():
    rng = np.random.default_rng(11)
    X, xs = rng.random((12, 1)), rng.random((30, 1))
    k = bayes.rbf(0.2)
    cf = bayes.gp_closed_form(X, xs, k, noise=0.1)
    _, s2 = bayes.gp_posterior(k, X, np.zeros(12), xs, noise=0.1)
    np.testing.assert_allclose(cf["acc"], bayes.correct_prior_accuracy(s2, 1.0), atol=1e-7)
    np.testing.assert_allclose(cf["maxp"], cf["acc"], atol=1e-7)       # calibration


@pytest.mark.parametrize("noise", [0.0, 0.1])
def test_gp_monte_carlo_matches_closed_forms(noise):
    r = bayes.simulate_gp((1, 2, 4, 8, 16, 32), n_test=60, n_seq=20, n_f=25, rng=12, noise=noise)
    for key in ("acc", "maxp", "entropy"):
        diff = (r[key + "_mc"] - r[key + "_cf"]).mean(axis=(1, 2))   # per training sequence
        se = diff.std(ddof=1) / np.sqrt(diff.size)
        assert abs(diff.mean()) < 4 * se + 1e-4, key
    # E||p||_inf = accuracy (Lemma D.2 with a correct prior), in the MC as well
    d = (r["maxp_mc"] - r["acc_mc"]).mean(axis=(1, 2))
    assert abs(d.mean()) < 4 * d.std(ddof=1) / np.sqrt(d.size) + 1e-4
    # monotone in n: exactly per sequence for the closed forms, within 3 SE for the MC means
    assert np.all(np.diff(r["acc_cf"], axis=1) >= -1e-9)
    assert np.all(np.diff(r["entropy_cf"], axis=1) <= 1e-9)
    acc = r["acc_mc"].mean(axis=2)                                    # [seq, n]
    step = np.diff(acc, axis=1)
    assert np.all(step.mean(0) > -3 * step.std(0, ddof=1) / np.sqrt(step.shape[0]) - 1e-9)


def test_gp_mismatched_prior_can_be_non_monotone():
    """Exploratory (spec §6.3): averaged over f and the label, the correct prior is monotone at
    every x* (exactly, per training sequence); a too-smooth learner is not."""
    n_list = (1, 2, 4, 8, 16, 32, 64)
    good = bayes.closed_form_profiles(n_list, 60, 6, rng=13, noise=0.1)
    assert good["frac_nonmono_acc"] == 0.0 and good["frac_nonmono_negent"] == 0.0
    bad = bayes.closed_form_profiles(n_list, 60, 6, rng=13, noise=0.1,
                                     learner_kernel=bayes.rbf(0.8))   # lengthscale x4
    assert bad["frac_nonmono_acc"] > 0.0
    assert bad["nmono_acc"].max() > 100 * max(good["nmono_acc"].max(), 1e-12)


def test_beta_bernoulli_exact_vs_monte_carlo():
    exact = bayes.beta_bernoulli_exact(2.0, 3.0, 12)
    np.testing.assert_allclose(exact["acc"], exact["maxp"], atol=1e-12)    # Bayes acc = E||p||
    assert np.all(np.diff(exact["entropy"]) <= 1e-15)                       # Lemma D.2
    assert np.all(np.diff(exact["maxp"]) >= -1e-15)
    mc = bayes.beta_bernoulli_mc(2.0, 3.0, 12, 200_000, rng=14)
    se = np.sqrt(exact["acc"] * (1 - exact["acc"]) / 200_000)
    assert np.all(np.abs(mc["acc"] - exact["acc"]) < 4 * se)
    # entropy and max-posterior are bounded in [0, ln 2] / [1/2, 1]: sd <= 0.35 / 0.25
    assert np.all(np.abs(mc["entropy"] - exact["entropy"]) < 4 * 0.35 / np.sqrt(200_000))
    assert np.all(np.abs(mc["maxp"] - exact["maxp"]) < 4 * 0.25 / np.sqrt(200_000))
