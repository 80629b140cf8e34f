"""Paper 000 profile distances (App. B, Figs. 6/11; spec §3.5)."""
import numpy as np
import pytest

from pointwise.profiles.aggregate import Aggregate, aggregate_runs, global_accuracy, run_halves
from pointwise.profiles.build import Smoothed, common_grid, smooth_aggregate
from pointwise.profiles.distance import (cosine, distance_matrix, kl, profile_distance,
                                         pointwise_distance, symmetrise, tv)


def test_pointwise_distances_by_hand():
    assert tv([1, 0], [0, 1]) == 1.0
    assert tv([0.5, 0.5, 0], [1, 0, 0]) == 0.5
    assert kl([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.5 * np.log(2) + 0.5 * np.log(2 / 3))
    assert kl([1, 0], [0.5, 0.5]) == pytest.approx(np.log(2))            # 0 ln 0 = 0
    assert kl([0.5, 0.5], [1, 0]) == pytest.approx(0.5 * np.log(0.5) + 0.5 * np.log(0.5 / 1e-12))
    assert kl([0.2, 0.8], [0.2, 0.8]) == pytest.approx(0.0, abs=1e-15)
    assert cosine([1, 0], [0, 1]) == pytest.approx(1.0)
    assert cosine([1, 1], [2, 2]) == pytest.approx(0.0, abs=1e-15)
    assert cosine([1, 0], [1, 1]) == pytest.approx(1 - 1 / np.sqrt(2))
    p = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    q = np.array([[0.1, 0.1, 0.8], [0.6, 0.2, 0.2]])
    np.testing.assert_allclose(pointwise_distance(p, q, "tv"), [0.3, 0.0])
    with pytest.raises(ValueError):
        pointwise_distance(p, q, "l3")


def _smoothed_const(x, dist, n_points=4):
    """A procedure over accuracy axis ``x`` whose softmax profile is the constant ``dist``."""
    K = len(x)
    sm = np.broadcast_to(np.asarray(dist, float), (K, n_points, len(dist))).copy()
    acc = sm[..., 0].copy()
    return Smoothed(np.asarray(x, float), np.arange(K), np.asarray(x, float), acc,
                    np.zeros(n_points, int), sm, None, acc.copy())


def test_common_grid_and_constant_profiles():
    s1 = _smoothed_const(np.linspace(0.2, 0.8, 10), [0.7, 0.2, 0.1])
    s2 = _smoothed_const(np.linspace(0.4, 0.9, 7), [0.1, 0.2, 0.7])
    g = common_grid(s1, s2)
    assert g.size == 50 and g[0] == pytest.approx(0.4) and g[-1] == pytest.approx(0.8)
    assert profile_distance(s1, s2, "tv") == pytest.approx(0.6)
    assert profile_distance(s1, s2, "kl") == pytest.approx(kl([0.7, 0.2, 0.1], [0.1, 0.2, 0.7]))
    assert profile_distance(s1, s2, "cos") == pytest.approx(cosine([0.7, 0.2, 0.1], [0.1, 0.2, 0.7]))
    # scalar profiles as Bernoulli distributions: TV = |a - b|
    assert profile_distance(s1, s2, "tv", stat="acc") == pytest.approx(0.6)
    with pytest.raises(ValueError):
        common_grid(s1, _smoothed_const(np.linspace(0.85, 0.95, 5), [1, 0, 0]))


def test_profile_distance_varies_along_the_grid():
    # P1(p) = (p, 1-p), P2 = (0.5, 0.5) on the common range [0.5, 1]: TV = mean |p - 0.5| = 0.25
    x = np.linspace(0.0, 1.0, 11)
    sm1 = np.stack([x, 1 - x], -1)[:, None, :]
    s1 = Smoothed(x, np.arange(11), x, sm1[..., 0], np.zeros(1, int), sm1, None, sm1[..., 0])
    s2 = _smoothed_const(np.linspace(0.5, 1.0, 3), [0.5, 0.5], n_points=1)
    assert profile_distance(s1, s2, "tv") == pytest.approx(0.25)


def _runs(rng, R, K, N, C, labels):
    """Logits of R runs of one model (its own random per-example class scores, biased towards
    the label) that sharpen over checkpoints, so the accuracy rises."""
    base = 1.5 * np.eye(C)[labels] + rng.normal(size=(N, C))
    scale = np.linspace(0.2, 3.0, K)[:, None, None]
    return scale[None] * base[None, None] + rng.normal(scale=0.8, size=(R, K, N, C))


def test_identical_procedures_zero_and_split_half_floor():
    rng = np.random.default_rng(0)
    R, K, N, C = 20, 15, 200, 4
    labels = rng.integers(0, C, N)
    procs = [_runs(rng, R, K, N, C, labels), _runs(rng, R, K, N, C, labels)]
    a, b = run_halves(R)
    full = [smooth_aggregate(aggregate_runs(z, labels), global_accuracy(aggregate_runs(z, labels)))
            for z in procs]
    halves = []
    for z in procs:
        for h in (a, b):
            agg = aggregate_runs(z, labels, h)
            halves.append(smooth_aggregate(agg, global_accuracy(agg)))
    for metric in ("tv", "kl", "cos"):
        assert profile_distance(full[0], full[0], metric) == pytest.approx(0.0, abs=1e-12)
        m0 = distance_matrix(full, metric=metric)
        np.testing.assert_allclose(np.diag(m0), 0.0, atol=1e-12)
        m = distance_matrix(halves[0::2], halves[1::2], metric=metric)
        assert np.all(np.diag(m) > 0)                        # finite-R floor, not 0
        assert m[0, 1] > m[0, 0] and m[1, 0] > m[1, 1]       # different base models are further
    mk = distance_matrix(full, metric="kl")
    assert not np.allclose(mk, mk.T)
    s = symmetrise(mk)
    np.testing.assert_allclose(s, s.T)
    mt = distance_matrix(full, metric="tv")
    np.testing.assert_allclose(mt, mt.T, atol=1e-12)


def test_accuracy_only_aggregate_has_no_softmax():
    agg = Aggregate(np.tile(np.linspace(0.1, 0.9, 10)[:, None], (1, 3)), np.zeros(3, int), 5)
    s = smooth_aggregate(agg, agg.acc.mean(1))
    assert s.softmax is None
    assert profile_distance(s, s, "tv", stat="acc") == 0.0
