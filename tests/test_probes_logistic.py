"""The logistic-regression probe of paper 002 Fig E.48 (pointwise.probes.logistic)."""
import numpy as np
import pytest
import torch

from pointwise.probes.logistic import fit_logistic_probe


def _blobs(n, d, c, sep, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(c, d)) * sep
    y = np.arange(n) % c
    return (centres[y] + rng.normal(size=(n, d))).astype(np.float32), y


def test_separable_training_set_is_fitted_completely():
    x, y = _blobs(60, 5, 3, sep=6.0)
    p = fit_logistic_probe(x, y, 3, l2=1e-6, max_iter=200, device="cpu")
    assert p.accuracy(x, y) == 1.0
    assert p.loss < 0.05 and p.iterations >= 1
    assert p.weight.shape == (5, 3) and p.bias.shape == (3,)


def test_xor_is_not_linearly_separable():
    x = np.array([[0, 0], [1, 1], [0, 1], [1, 0]] * 5, dtype=np.float32)
    y = np.array([0, 0, 1, 1] * 5)
    p = fit_logistic_probe(x, y, 2, l2=1e-4, max_iter=100, device="cpu")
    assert p.accuracy(x, y) <= 0.75


def test_conflicting_labels_cap_the_accuracy():
    """The same point twice with two labels: at most half can be right, and the optimum of the
    objective predicts 50/50 (loss log 2 up to the penalty)."""
    x = np.zeros((10, 3), dtype=np.float32)
    y = np.array([0, 1] * 5)
    p = fit_logistic_probe(x, y, 2, l2=1e-3, device="cpu")
    assert p.accuracy(x, y) == 0.5
    assert p.loss == pytest.approx(np.log(2), abs=1e-5)


def test_standardisation_makes_the_fit_scale_free():
    x, y = _blobs(80, 4, 3, sep=1.0, seed=1)
    scale = np.array([1e-3, 1.0, 1e3, 10.0], dtype=np.float32)
    a = fit_logistic_probe(x, y, 3, l2=1e-2, device="cpu")
    b = fit_logistic_probe(x * scale + 5.0, y, 3, l2=1e-2, device="cpu")
    np.testing.assert_array_equal(a.predict(x), b.predict(x * scale + 5.0))
    assert a.loss == pytest.approx(b.loss, rel=1e-4)
    torch.testing.assert_close(a.logits(x), b.logits(x * scale + 5.0), rtol=0, atol=2e-2)


def test_matches_sklearn():
    sk = pytest.importorskip("sklearn.linear_model")
    x, y = _blobs(120, 6, 4, sep=1.0, seed=2)
    l2 = 0.05
    p = fit_logistic_probe(x, y, 4, l2=l2, max_iter=500, standardize=False, tol=1e-9, device="cpu")
    ref = sk.LogisticRegression(C=1.0 / (l2 * len(y)), max_iter=5000, tol=1e-10).fit(x, y)
    np.testing.assert_array_equal(p.predict(x), ref.predict(x))
    mine = torch.softmax(p.logits(x), 1).numpy()
    np.testing.assert_allclose(mine, ref.predict_proba(x), atol=2e-3)


def test_bad_arguments():
    x, y = _blobs(10, 2, 2, sep=1.0)
    with pytest.raises(ValueError):
        fit_logistic_probe(x, y, 2, l2=-1.0, device="cpu")
    with pytest.raises(ValueError):
        fit_logistic_probe(x, y + 1, 2, device="cpu")
    with pytest.raises(ValueError):
        fit_logistic_probe(x[:5], y, 2, device="cpu")
