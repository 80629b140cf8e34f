"""Prediction depth (spec 002 §3.3) and iteration learned (spec §3.6): every edge case."""
import numpy as np
import pytest

from pointwise.depth import (iteration_learned, prediction_depth, preds_from_logits,
                             rescale_iteration_learned, rescaled_depth, softmax_disagreement)

A, B = 3, 7


def pd1(seq, f=A):
    return prediction_depth(np.array(seq)[:, None], np.array([f]))[0]


def test_spec_edge_cases_L3():
    assert pd1([A, A, A, A]) == 0            # predicted in the input
    assert pd1([A, B, A, A]) == 2
    assert pd1([B, B, B, A]) == 3            # only the softmax agrees: PD = L
    assert np.isnan(pd1([A, A, A, B]))       # softmax probe disagrees: undefined
    assert pd1([B, A, A, A]) == 1
    assert pd1([A, B, B, A]) == 3


def test_relative_to_network_prediction_not_label():
    # label is B, the network predicts A everywhere: a wrong prediction with PD 0
    label = B
    h = np.array([[A], [A], [A], [A]])
    assert prediction_depth(h, np.array([A]))[0] == 0 and A != label


def test_vectorised_matches_definition():
    rng = np.random.default_rng(0)
    h = rng.integers(0, 3, size=(6, 2000))
    f = rng.integers(0, 3, size=2000)
    h[-1, :1500] = f[:1500]
    pdv = prediction_depth(h, f)
    L = 5
    for x in range(2000):
        if h[L, x] != f[x]:
            assert np.isnan(pdv[x])
        else:
            ref = min(l for l in range(L + 1) if all(h[m, x] == f[x] for m in range(l, L + 1)))
            assert pdv[x] == ref
    assert softmax_disagreement(h, f) == int((h[L] != f).sum())
    np.testing.assert_allclose(rescaled_depth(pdv, L), pdv / 5)


def test_extra_axes_and_shape_errors():
    h = np.zeros((4, 2, 3), dtype=int)
    assert prediction_depth(h, np.zeros((2, 3), dtype=int)).shape == (2, 3)
    with pytest.raises(ValueError):
        prediction_depth(np.zeros((4, 3)), np.zeros(4))


def test_iteration_learned_edge_cases():
    steps = np.array([0, 10, 20, 30])
    preds = np.array([[1, 0, 1, 2, 5],
                      [1, 1, 0, 2, 5],
                      [1, 1, 1, 0, 4],
                      [1, 1, 1, 2, 4]])
    il = iteration_learned(preds, steps)
    # always equal to the final -> 0; learned at the checkpoint from which it stays final
    np.testing.assert_array_equal(il, [0, 10, 20, 30, 20])


def test_iteration_learned_is_relative_to_final_prediction_not_label():
    labels = np.array([0, 0])
    preds = np.array([[2, 0], [2, 1], [2, 1]])       # never predicts the label 0 at the end
    il = iteration_learned(preds, [0, 5, 9])
    np.testing.assert_array_equal(il, [0, 5])
    assert (preds[-1] != labels).all()


def test_iteration_learned_matches_definition():
    rng = np.random.default_rng(1)
    preds = rng.integers(0, 2, size=(8, 500))
    steps = np.cumsum(rng.integers(1, 5, 8)) - 1
    steps[0] = 0
    il = iteration_learned(preds, steps)
    for x in range(500):
        m = min(m for m in range(8) if all(preds[j, x] == preds[-1, x] for j in range(m, 8)))
        assert il[x] == steps[m]


def test_rescaling_at_q95():
    il = np.arange(101, dtype=float)                 # q95 = 95
    r = rescale_iteration_learned(il)
    assert r[0] == 0 and r[95] == pytest.approx(1.0) and r[100] > 1
    # percentile over a pool (e.g. one split)
    pool = np.zeros(101, bool)
    pool[:51] = True
    assert rescale_iteration_learned(il, pool=pool)[50] == pytest.approx(50 / 47.5)    # q95 of 0..50
    with pytest.warns(UserWarning):
        assert np.isnan(rescale_iteration_learned(np.zeros(10))).all()


def test_iteration_learned_errors_and_logits():
    with pytest.raises(ValueError):
        iteration_learned(np.zeros((3, 2)), [0, 1])
    with pytest.raises(ValueError):
        iteration_learned(np.zeros((2, 2)), [1, 1])
    lg = np.array([[[0.1, 0.9], [2, 1]]])
    np.testing.assert_array_equal(preds_from_logits(lg), [[1, 0]])
