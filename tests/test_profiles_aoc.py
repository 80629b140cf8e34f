"""Paper 000 pointwise accuracy-on-the-curve (App. B, Fig. 12; spec §3.6) and its baselines."""
import numpy as np
from scipy.stats import spearmanr

from pointwise.profiles.aggregate import aggregate_correct, global_accuracy, run_halves
from pointwise.profiles.aoc import (aoc_curve, aoc_permutation, aoc_permutation_expected,
                                    pointwise_aoc, rank_correlation_curve)
from pointwise.profiles.build import smooth_aggregate
from pointwise.profiles.theory.skills import simulate_skills


def test_aoc_curve_by_hand():
    a = np.array([[0.0, 1.0], [1.0, 1.0]])
    b = np.array([[1.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(aoc_curve(a, b), [0.5, 0.5])
    np.testing.assert_allclose(aoc_curve(a, a), [0.0, 0.0])


def test_permutation_expectation_is_all_pairs_mean():
    rng = np.random.default_rng(0)
    a, b = rng.random((40, 3)), rng.random((40, 3))
    brute = np.abs(a[:, None, :] - b[None, :, :]).mean(axis=(0, 1))
    np.testing.assert_allclose(aoc_permutation_expected(a, b), brute, atol=1e-12)
    labels = rng.integers(0, 3, 40)
    within = sum((labels == c).sum() * np.abs(a[labels == c][:, None] - b[labels == c][None]).mean((0, 1))
                 for c in range(3)) / 40
    np.testing.assert_allclose(aoc_permutation_expected(a, b, labels), within, atol=1e-12)


def test_permutation_monte_carlo_matches_expectation():
    rng = np.random.default_rng(1)
    a, b = rng.random((500, 4)), rng.random((500, 4)) ** 2
    mc = aoc_permutation(a, b, n_perm=200, rng=2)
    # one permutation's mean over 500 |differences| (sd <= 1) has sd < 1/sqrt(500); over 200
    # permutations < 0.0032; 0.01 is > 3 standard errors
    np.testing.assert_allclose(mc, aoc_permutation_expected(a, b), atol=0.01)
    mcw = aoc_permutation(a, b, n_perm=200, rng=3, labels=np.arange(500) % 5)
    np.testing.assert_allclose(mcw, aoc_permutation_expected(a, b, np.arange(500) % 5), atol=0.01)


def test_rank_correlation_curve():
    rng = np.random.default_rng(2)
    a = rng.random((100, 3))
    b = a + rng.normal(0, 0.3, a.shape)
    rc = rank_correlation_curve(a, b)
    np.testing.assert_allclose(rc, [spearmanr(a[:, g], b[:, g]).statistic for g in range(3)])
    np.testing.assert_allclose(rank_correlation_curve(a, a), 1.0)
    assert np.all(rank_correlation_curve(a, b, "kendall") > 0.3)


def test_shared_difficulty_gives_small_d_against_baselines():
    """Two procedures of the skills model with the same difficulties (universality) and different
    skill trajectories: d(p) is far below the uncorrelated (permutation) baseline and of the
    order of the split-half floor."""
    rng = np.random.default_rng(3)
    d = rng.normal(0, 1.5, 1500)
    sims = [simulate_skills(1500, 40, 30, rng, difficulty=d, s0=s0, beta=beta)["correct"]
            for s0, beta in ((-1.0, 0.73), (-0.6, 0.55))]
    sm = lambda c, runs=None: smooth_aggregate(aggregate_correct(c, runs=runs),  # noqa: E731
                                               global_accuracy(aggregate_correct(c, runs=runs)))
    ha, hb = run_halves(40)
    df = pointwise_aoc(sm(sims[0]), sm(sims[1]), sm(sims[0], ha), sm(sims[0], hb), rng=4)
    assert list(df.columns) == ["p", "d", "d_perm", "d_perm_expected", "d_splithalf"]
    assert len(df) == 50 and np.all(np.diff(df.p) > 0)
    assert np.all(df.d < 0.4 * df.d_perm)
    assert np.all(df.d < 2.0 * df.d_splithalf)
    np.testing.assert_allclose(df.d_perm, df.d_perm_expected, rtol=0.05)
