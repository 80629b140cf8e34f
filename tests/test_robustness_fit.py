"""Paper 001: scalings, Clopper–Pearson, the testbed fit (Tables 2/3), β, ER and App. D."""
import math

import numpy as np
import pytest
from scipy.stats import beta as beta_dist

from pointwise.robustness import (PAPER_TABLE3, LinearFit, accuracy_gap, baseline, clip_accuracy,
                                  clopper_pearson, crossover, effective_robustness, er_interval,
                                  fit_all_scalings, fit_params_table, fit_testbed, gap_fraction,
                                  gap_peak, inverse, mixed_classifier, scaling_r2_table, transform)

CIFAR = LinearFit.from_constants(*PAPER_TABLE3["cifar10_cifar10.1"])
IMAGENET = LinearFit.from_constants(*PAPER_TABLE3["imagenet_imagenetv2"])


# ------------------------------------------------------------------ spec §3.2 check values

def test_table3_constants_are_the_papers():
    assert (CIFAR.A, CIFAR.B) == (0.8318, -0.4736)
    assert (IMAGENET.A, IMAGENET.B) == (0.9225, -0.4896)


@pytest.mark.parametrize("fit,x,expected", [
    (CIFAR, 0.90, 0.7948), (CIFAR, 0.95, 0.8782), (CIFAR, 0.50, 0.3838), (CIFAR, 0.10, 0.0910),
    (IMAGENET, 0.76, 0.6396), (IMAGENET, 0.80, 0.6877), (IMAGENET, 0.90, 0.8231),
])
def test_beta_check_values(fit, x, expected):
    assert round(float(fit.beta(x)), 4) == expected
    assert float(baseline(x, fit)) == pytest.approx(expected, abs=5e-5)


def test_gap_peak_and_crossover_check_values():
    x, g = gap_peak(CIFAR)
    assert x == pytest.approx(0.716, abs=1e-3) and 100 * g == pytest.approx(14.26, abs=5e-3)
    x, g = gap_peak(IMAGENET)
    assert x == pytest.approx(0.640, abs=1e-3) and 100 * g == pytest.approx(12.97, abs=5e-3)
    assert crossover(CIFAR) == pytest.approx(0.0565, abs=5e-5)
    assert float(baseline(crossover(CIFAR), CIFAR)) == pytest.approx(crossover(CIFAR), abs=1e-10)


def test_er_check_values():
    # A model at chance on CIFAR-10 with no accuracy gap has ρ ≈ +0.9 pp by construction.
    assert 100 * float(effective_robustness(0.10, 0.10, CIFAR)) == pytest.approx(0.898, abs=1e-3)
    # ρ = a_out − β(a_in): a model 2 pp above the line at 95% ID.
    assert float(effective_robustness(0.95, 0.8982, CIFAR)) == pytest.approx(0.02, abs=5e-5)
    np.testing.assert_allclose(effective_robustness([0.9, 0.95], CIFAR.beta([0.9, 0.95]), CIFAR), 0, atol=1e-15)
    # the no-gap curve is x − β(x)
    assert float(accuracy_gap(0.95, CIFAR)) == pytest.approx(0.95 - 0.8782, abs=5e-5)


def test_beta_endpoints_exact():
    for f in (CIFAR, LinearFit(0.9, -0.3, "probit")):
        np.testing.assert_array_equal(f.beta([0.0, 1.0]), [0.0, 1.0])


# ------------------------------------------------------------------ scalings and intervals

def test_transforms_roundtrip_and_clip():
    a = np.array([0.02, 0.3, 0.5, 0.97])
    for s in ("linear", "probit", "logit"):
        np.testing.assert_allclose(inverse(transform(a, s), s), a, rtol=1e-12)
    assert transform(0.5, "logit") == 0 and transform(0.5, "probit") == 0
    np.testing.assert_allclose(clip_accuracy([0.0, 1.0, 0.4], 100), [0.005, 0.995, 0.4])
    with pytest.raises(ValueError, match="clip"):
        transform([0.0, 0.5], "logit")
    assert np.isfinite(transform([0.0, 1.0], "logit", n=2000)).all()
    with pytest.raises(ValueError, match="unknown scaling"):
        transform(0.5, "log")


def test_clopper_pearson_known_values():
    lo, hi = clopper_pearson(5, 10)
    assert (float(lo), float(hi)) == pytest.approx((0.187086, 0.812914), abs=1e-6)
    lo, hi = clopper_pearson(0, 10)
    assert float(lo) == 0 and float(hi) == pytest.approx(1 - 0.025 ** 0.1, abs=1e-12)
    lo, hi = clopper_pearson(10, 10)
    assert float(hi) == 1 and float(lo) == pytest.approx(0.025 ** 0.1, abs=1e-12)


def test_clopper_pearson_matches_beta_quantiles():
    k = np.array([1, 37, 500, 1999, 1234])
    n = np.array([2000, 2000, 2000, 2000, 10000])
    lo, hi = clopper_pearson(k, n)
    np.testing.assert_allclose(lo, beta_dist.ppf(0.025, k, n - k + 1), rtol=1e-12)
    np.testing.assert_allclose(hi, beta_dist.ppf(0.975, k + 1, n - k), rtol=1e-12)
    lo90, hi90 = clopper_pearson(k, n, alpha=0.1)
    assert (lo90 > lo).all() and (hi90 < hi).all()
    with pytest.raises(ValueError):
        clopper_pearson(11, 10)


# ------------------------------------------------------------------ the fit

@pytest.mark.parametrize("scaling,A,B", [("linear", 0.9, -0.05), ("probit", 0.85, -0.3),
                                         ("logit", 0.8318, -0.4736)])
def test_fit_recovers_a_known_line(scaling, A, B):
    x = np.linspace(0.2, 0.95, 25)
    y = inverse(A * transform(x, scaling) + B, scaling)
    f = fit_testbed(x, y, scaling)
    assert f.scaling == scaling and f.n_models == 25
    assert (f.A, f.B) == pytest.approx((A, B), abs=1e-10)
    assert f.r2 == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(f.beta(x), y, atol=1e-12)


def test_r2_is_computed_in_the_transformed_space():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0.3, 0.95, 40))
    zx = transform(x, "logit")
    zy = 0.8 * zx - 0.4 + rng.normal(0, 0.1, x.size)
    f = fit_testbed(x, inverse(zy, "logit"), "logit")
    pred = f.A * zx + f.B
    r2 = 1 - ((zy - pred) ** 2).sum() / ((zy - zy.mean()) ** 2).sum()
    assert f.r2 == pytest.approx(r2, rel=1e-10)
    assert 0.9 < f.r2 < 1 and f.stderr > 0 and f.intercept_stderr > 0


def test_scaling_ordering_on_a_logit_linear_testbed():
    x = np.linspace(0.12, 0.97, 30)
    y = CIFAR.beta(x)
    fits = fit_all_scalings(x, y)
    assert fits["logit"].r2 == pytest.approx(1.0)
    assert fits["logit"].r2 >= fits["probit"].r2 >= fits["linear"].r2
    t2 = scaling_r2_table(x, {"rep": y, "style": 0.9 * y})
    assert list(t2.columns) == ["scaling", "rep", "style"]
    assert list(t2["scaling"]) == ["linear", "probit", "logit"]
    t3 = fit_params_table({"rep": fits["logit"]})
    assert t3.loc[0, "A"] == pytest.approx(CIFAR.A) and t3.loc[0, "B"] == pytest.approx(CIFAR.B)


def test_fit_clips_extreme_accuracies_with_n():
    x = np.array([0.0, 0.5, 0.9, 1.0])
    y = np.array([0.0, 0.4, 0.8, 0.99])
    with pytest.raises(ValueError):
        fit_testbed(x, y, "logit")
    f = fit_testbed(x, y, "logit", n_id=10000, n_ood=2000)
    assert f.clip_n_id == 10000 and math.isfinite(f.A)


def test_fit_input_errors():
    with pytest.raises(ValueError, match="models"):
        fit_testbed([0.5, 0.6], [0.5], "logit")
    with pytest.raises(ValueError, match="at least 2"):
        fit_testbed([0.5], [0.5])
    with pytest.raises(ValueError, match="equal"):
        fit_testbed([0.5, 0.5], [0.4, 0.45])


def test_fit_dict_roundtrip():
    f = fit_testbed(np.linspace(0.3, 0.9, 5), np.linspace(0.2, 0.85, 5))
    d = f.to_dict()
    assert d["A"] == f.A and d["scaling"] == "logit"
    assert LinearFit.from_dict(d) == f
    g = LinearFit.from_dict({"A": 0.8318, "B": -0.4736})
    assert g.scaling == "logit" and float(g.beta(0.95)) == pytest.approx(0.8782, abs=5e-5)


def test_er_interval_of_a_testbed_point():
    lo, hi = er_interval(0.95, 0.86, 0.89, CIFAR)
    b = float(CIFAR.beta(0.95))
    assert (float(lo), float(hi)) == pytest.approx((0.86 - b, 0.89 - b))


# ------------------------------------------------------------------ Appendix D

def test_gap_fraction_masks_small_gaps():
    x = np.array([0.03, 0.0565, 0.5, 0.95])
    phi = gap_fraction(x, x, CIFAR)
    assert np.isnan(phi[:2]).all()
    np.testing.assert_allclose(phi[2:], 100.0)          # a no-gap model has 100% of the gap
    on_line = gap_fraction([0.5, 0.95], CIFAR.beta([0.5, 0.95]), CIFAR)
    np.testing.assert_allclose(on_line, 0.0, atol=1e-10)


def test_mixed_classifier_has_positive_er_between_points_on_the_line():
    lo, hi = (0.3, float(CIFAR.beta(0.3))), (0.95, float(CIFAR.beta(0.95)))
    df = mixed_classifier(lo, hi, CIFAR)
    assert df["er"].iloc[0] == pytest.approx(0, abs=1e-12) and df["er"].iloc[-1] == pytest.approx(0, abs=1e-12)
    assert (df["er"].iloc[1:-1] > 0).all()
    assert df["acc_id"].iloc[0] == pytest.approx(0.95)      # alpha = 0 is the high model
