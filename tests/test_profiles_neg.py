"""Paper 000 CIFAR-10-Neg selection (Sec. 4, spec §3.7), accuracy-on-the-line summaries and
probit scaling (spec §3.8)."""
import numpy as np
import pytest
from scipy.stats import norm

from pointwise.profiles.aol import aol_summary, fit_line, value_at
from pointwise.profiles.neg import filter_eligible, neg_split_half, select_neg
from pointwise.profiles.probit import probit
from pointwise.profiles.theory.skills import simulate_feature_mixture


def test_probit():
    assert probit(0.5) == 0.0
    assert probit(0.0) == pytest.approx(norm.ppf(1e-4))
    assert probit(1.0) == pytest.approx(-probit(0.0))
    np.testing.assert_allclose(probit([0.1, 0.9]), norm.ppf([0.1, 0.9]))


def test_fit_line_and_delta():
    x = np.linspace(0.5, 0.9, 9)
    y = 1.2 - x
    f = fit_line(x, y)
    assert f["slope"] == pytest.approx(-1.0) and f["r"] == pytest.approx(-1.0)
    assert f["intercept"] == pytest.approx(1.2)
    np.testing.assert_allclose(value_at(x, y, [0.6, 0.8, 0.95]), [0.6, 0.4, np.nan])
    s = aol_summary(np.tile(x, (3, 1)), np.tile(y, (3, 1)))
    assert s["delta"] == pytest.approx(-0.2) and s["slope_linear_mean"] == pytest.approx(-1.0)
    assert s["r_probit_runs"] < -0.99 and s["slope_probit_mean"] < 0
    assert np.isnan(fit_line([0.5, 0.5], [0.1, 0.2])["slope"])


def test_select_neg_by_hand():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    scores = np.array([0.5, 0.2, 0.5, 0.9, 0.3, 0.3, 0.3, 0.1])
    final = np.array([0.4, 0.0, 0.1, 0.0, 0.2, 0.2, 0.1, 0.0])
    eligible = np.array([True, True, True, False, True, True, True, True])
    sel = select_neg(scores, labels, eligible, final, per_class=2)
    # class 0: index 3 filtered; 0 and 2 tie at 0.5 -> lower final accuracy (2) first
    # class 1: 4, 5, 6 tie at 0.3 -> 6 (final 0.1) first, then 4 before 5 (index)
    np.testing.assert_array_equal(sel, [2, 0, 6, 4])
    with pytest.raises(ValueError):
        select_neg(scores, labels, eligible, final, per_class=4)
    assert len(select_neg(scores, labels, eligible, final, per_class=4, allow_short=True)) == 7
    np.testing.assert_array_equal(filter_eligible([0, 1, 1], [0, 1, 0], exclude=[False, True, False]),
                                  [True, False, False])


def test_neg_split_half_recovers_conflict_points_and_negative_slope():
    """Feature-mixture pool: the conflict points are non-monotone by construction. Selecting on
    half the runs must pick them, and the held-out half must show accuracy-on-the-line inverted."""
    sim = simulate_feature_mixture(3000, 30, 30, rng=0, conflict_frac=0.1)
    correct = sim["correct"]
    labels = np.arange(3000) % 2
    res = neg_split_half(correct, correct, labels, np.arange(15), np.arange(15, 30),
                         per_class=50)
    sel = res["indices"]
    assert len(sel) == 100 and np.bincount(labels[sel]).tolist() == [50, 50]
    assert sim["conflict"][sel].mean() > 0.9
    assert res["heldout"]["slope_linear_mean"] < 0 and res["heldout"]["r_linear_mean"] < -0.5
    assert res["x_heldout"].shape == (15, 30)
    with pytest.raises(ValueError):
        neg_split_half(correct, correct, labels, np.arange(16), np.arange(15, 30))
