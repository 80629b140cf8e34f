"""Consistency score, consensus class (A.6.2 tie rule), C*, entropy, leave-one-out (spec §3.4-3.5)."""
import numpy as np
import pytest

from pointwise.depth import (consensus_class, consensus_consistency, consistency_score,
                             ensemble_scores, leave_one_out, prediction_entropy, vote_counts_runs)


def test_consensus_tie_breaks():
    counts = np.array([[2, 2, 0],      # tie 0/1, label 1 in the tie -> 1
                       [2, 2, 0],      # tie 0/1, label 2 not in the tie -> lowest: 0
                       [0, 3, 3],      # tie 1/2, label 0 not tied -> 1
                       [1, 0, 4],      # clear: 2 regardless of label
                       [0, 0, 0]])     # no votes
    labels = np.array([1, 2, 0, 0, 1])
    np.testing.assert_array_equal(consensus_class(counts, labels), [1, 0, 1, 2, -1])
    np.testing.assert_array_equal(consensus_class(counts), [0, 0, 1, 2, -1])


def test_scores_hand_values():
    counts = np.array([[3, 1, 0, 0], [1, 1, 1, 1], [0, 0, 5, 0], [0, 0, 0, 0]])
    labels = np.array([1, 0, 2, 0])
    np.testing.assert_allclose(consistency_score(counts, labels), [0.25, 0.25, 1.0, np.nan])
    np.testing.assert_allclose(consensus_consistency(counts), [0.75, 0.25, 1.0, np.nan])
    S = prediction_entropy(counts)
    np.testing.assert_allclose(S[:3], [-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)), np.log(4), 0.0])
    assert np.isnan(S[3])


def test_identity_cstar_and_consistency():
    """C^ = C* when consensus == label, else C^ <= 1 - C* (the Fig 3 symmetry)."""
    rng = np.random.default_rng(0)
    preds = rng.integers(0, 4, size=(9, 3000))
    labels = rng.integers(0, 4, 3000)
    mask = rng.random((9, 3000)) < 0.6
    sc = ensemble_scores(preds, labels, 4, mask)
    ok = sc["n_votes"] > 0
    same = ok & (sc["consensus"] == labels)
    np.testing.assert_allclose(sc["consistency"][same], sc["cstar"][same])
    diff = ok & (sc["consensus"] != labels)
    assert diff.any() and (sc["consistency"][diff] <= 1 - sc["cstar"][diff] + 1e-12).all()
    # counts only over the masked runs
    x = 5
    np.testing.assert_array_equal(vote_counts_runs(preds, 4, mask)[x],
                                  np.bincount(preds[mask[:, x], x], minlength=4))


def test_vote_counts_ignores_absent_and_checks_range():
    preds = np.array([[0, -1], [1, 2]])
    np.testing.assert_array_equal(vote_counts_runs(preds, 3), [[1, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError):
        vote_counts_runs(preds, 2)


def test_leave_one_out_equals_recomputation():
    rng = np.random.default_rng(1)
    preds = rng.integers(0, 3, size=(6, 200))
    labels = rng.integers(0, 3, 200)
    loo = leave_one_out(preds, labels, 3)
    for m in range(6):
        others = np.delete(preds, m, axis=0)
        sc = ensemble_scores(others, labels, 3)
        np.testing.assert_allclose(loo["cstar"][m], sc["cstar"])
        np.testing.assert_allclose(loo["entropy"][m], sc["entropy"])
        np.testing.assert_array_equal(loo["consensus"][m], sc["consensus"])
        assert (loo["n_votes"][m] == 5).all()
