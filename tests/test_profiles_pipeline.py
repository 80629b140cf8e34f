"""Paper 000 profile construction (spec §3.2): aggregation, smoothing, monotone axis, grid,
interpolation, logits.h5 loading and the agg/profiles HDF5 files."""
import h5py
import numpy as np
import pytest

from pointwise.profiles import aggregate as ag
from pointwise.profiles.build import build_profiles, common_grid, smooth_aggregate
from pointwise.profiles.load import aggregate_files, load_logits
from pointwise.profiles.smoothing import interp_onto, make_grid, monotone_axis, smooth
from pointwise.profiles.store import read_aggregates, read_profiles, write_aggregates, write_profiles


# --- smoothing -------------------------------------------------------------------------------

def test_constant_stays_constant():
    x = np.full((30, 4), 0.37)
    np.testing.assert_allclose(smooth(x), x, atol=1e-15)


def test_linear_stays_linear_away_from_edges():
    k = np.arange(40, dtype=float)
    y = 0.1 + 0.02 * k
    s = smooth(y)                               # sigma 2, truncate 4 -> radius 8
    np.testing.assert_allclose(s[8:-8], y[8:-8], atol=1e-12)
    assert abs(s[0] - y[0]) > 1e-3             # reflect boundary flattens the ends
    assert np.all(np.diff(s) > 0)              # ... but keeps it increasing


def test_smoothing_commutes_with_mean_and_keeps_simplex():
    rng = np.random.default_rng(0)
    a = rng.random((25, 50))
    np.testing.assert_allclose(smooth(a).mean(1), smooth(a.mean(1)), atol=1e-14)
    q = rng.dirichlet(np.ones(5), size=(25, 7))
    np.testing.assert_allclose(smooth(q).sum(-1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(smooth(a, sigma=0), a)


def test_monotone_axis_modes():
    p = np.array([0.1, 0.3, 0.2, 0.4, 0.4, 0.35, 0.5])
    np.testing.assert_array_equal(monotone_axis(p), [0, 1, 3, 6])
    np.testing.assert_array_equal(monotone_axis(p, "sort"), [0, 2, 1, 5, 3, 6])
    with pytest.raises(ValueError):
        monotone_axis(p, "bogus")


def test_interp_matches_np_interp_and_clamps():
    rng = np.random.default_rng(1)
    x = np.sort(rng.random(12))
    y = rng.random((12, 5, 3))
    g = np.linspace(x[0] - 0.1, x[-1] + 0.1, 50)
    out = interp_onto(x, y, g)
    assert out.shape == (50, 5, 3)
    for i in range(5):
        for c in range(3):
            np.testing.assert_allclose(out[:, i, c], np.interp(g, x, y[:, i, c]), atol=1e-14)
    np.testing.assert_allclose(interp_onto([0.3], y[:1], g)[:, 0], np.repeat(y[:1, 0], 50, 0))


# --- aggregation -----------------------------------------------------------------------------

def test_aggregate_by_hand():
    # R=2 runs, K=1 eval point, N=2 examples, C=2 classes; labels (0, 1)
    logits = np.array([[[[2.0, 0.0], [0.0, 0.0]]],
                       [[[0.0, 1.0], [3.0, 0.0]]]])
    agg = ag.aggregate_runs(logits, [0, 1])
    s = lambda a, b: np.exp(a) / (np.exp(a) + np.exp(b))  # noqa: E731
    # example 0 correct in run 0 only; example 1: tie (0, 0) -> argmax 0 = wrong, run 1 wrong
    np.testing.assert_allclose(agg.acc, [[0.5, 0.0]])
    np.testing.assert_allclose(agg.soft_acc[0, 0], (s(2, 0) + s(0, 1)) / 2)
    np.testing.assert_allclose(agg.soft_acc[0, 1], (0.5 + s(0, 3)) / 2)
    h = lambda p: -(p * np.log(p) + (1 - p) * np.log(1 - p))  # noqa: E731
    np.testing.assert_allclose(agg.mean_entropy[0, 0], (h(s(2, 0)) + h(s(0, 1))) / 2)
    np.testing.assert_allclose(agg.mean_softmax.sum(-1), 1.0)
    assert agg.n_runs == 2
    np.testing.assert_allclose(ag.global_accuracy(agg), [0.25])


def test_accumulator_blocks_and_accuracy_only_mode():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(3, 11, 7, 4))
    labels = rng.integers(0, 4, 7)
    ref = ag.aggregate_runs(z, labels)
    acc = ag.RunAccumulator(labels)
    for r in range(3):
        acc.add(z[r], block=3)
    res = acc.result()
    np.testing.assert_allclose(res.mean_softmax, ref.mean_softmax, atol=1e-15)
    np.testing.assert_allclose(res.mean_entropy, ref.mean_entropy, atol=1e-15)
    light = ag.RunAccumulator(labels, with_softmax=False)
    for r in range(3):
        light.add(z[r])
    np.testing.assert_allclose(light.result().acc, ref.acc)
    assert light.result().mean_softmax is None
    with pytest.raises(ValueError):
        acc.add(z[0][:, :5])


def test_global_accuracy_is_mean_of_run_accuracies():
    rng = np.random.default_rng(2)
    correct = rng.random((6, 4, 30)) < 0.6
    agg = ag.aggregate_correct(correct)
    np.testing.assert_allclose(ag.global_accuracy(agg), correct.mean(2).mean(0))
    a, b = ag.run_halves(7)
    assert list(a) == [0, 1, 2] and list(b) == [3, 4, 5]
    assert list(ag.run_halves(7, equal=False)[1]) == [3, 4, 5, 6]


# --- profiles --------------------------------------------------------------------------------

def _agg_from_acc(acc, C=3, labels=None):
    """An aggregate whose softmax puts acc on the label and the rest evenly elsewhere."""
    K, N = acc.shape
    labels = np.zeros(N, int) if labels is None else labels
    sm = np.repeat(((1 - acc) / (C - 1))[..., None], C, -1)
    np.put_along_axis(sm, labels[None, :, None], acc[..., None], -1)
    ent = -(sm * np.log(np.maximum(sm, 1e-300))).sum(-1)
    return ag.Aggregate(acc, labels, 10, sm, ent, acc.copy())


def test_pipeline_constant_linear_and_grid():
    K = 40
    p = 0.2 + 0.6 * (1 - np.exp(-np.arange(K) / 10))            # increasing global accuracy
    acc = np.stack([np.full(K, 0.7), p, 0.5 + 0.5 * p, 1 - p], axis=1)
    prof = build_profiles(_agg_from_acc(acc), p)
    ps = smooth(p)
    assert prof.grid.shape == (50,)
    assert prof.grid[0] == pytest.approx(ps.min()) and prof.grid[-1] == pytest.approx(ps.max())
    assert 0.2 < prof.grid[0] and prof.grid[-1] < 0.8            # a partial profile
    np.testing.assert_allclose(prof.acc[0], 0.7, atol=1e-12)        # constant stays constant
    np.testing.assert_allclose(prof.acc[1], prof.grid, atol=1e-12)  # A(p) = p: compatible
    np.testing.assert_allclose(prof.acc[2], 0.5 + 0.5 * prof.grid, atol=1e-12)
    np.testing.assert_allclose(prof.acc[3], 1 - prof.grid, atol=1e-12)
    assert prof.softmax.shape == (4, 50, 3)
    np.testing.assert_allclose(prof.softmax.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(prof.softacc, prof.acc, atol=1e-12)
    assert np.all(prof.negent <= 1e-12) and np.all(prof.negent >= -np.log(3) - 1e-12)


def test_pipeline_drops_non_monotone_eval_points_and_step0():
    p = np.array([0.1, 0.3, 0.5, 0.45, 0.6, 0.7, 0.65, 0.8, 0.85, 0.9])
    acc = np.repeat(p[:, None], 3, 1)
    s = smooth_aggregate(_agg_from_acc(acc), p, sigma=0)
    np.testing.assert_array_equal(s.kept, [0, 1, 2, 4, 5, 7, 8, 9])
    s1 = smooth_aggregate(_agg_from_acc(acc), p, sigma=0, points=np.arange(1, 10))
    assert s1.range == (0.3, 0.9)
    g = common_grid(s, s1)
    assert g[0] == 0.3 and g[-1] == 0.9 and g.size == 50
    with pytest.raises(ValueError):
        make_grid(0.5, 0.4)


def test_pipeline_with_very_few_eval_points():
    for K in (1, 3):
        p = np.linspace(0.3, 0.5, K)
        prof = build_profiles(_agg_from_acc(np.repeat(p[:, None], 2, 1)), p)
        assert prof.acc.shape == (2, 50) and np.all(np.isfinite(prof.acc))
        assert np.all(np.diff(prof.grid) >= 0)


# --- loading logits.h5 -----------------------------------------------------------------------

def _write_run(path, logits, ids, labels, steps, ref_logits, ref_labels):
    with h5py.File(path, "w") as f:
        f.create_dataset("steps", data=steps)
        f.create_dataset("epochs", data=steps / 10)
        for name, z, i, y in (("ood", logits, ids, labels),
                              ("test", ref_logits, np.arange(len(ref_labels)), ref_labels)):
            g = f.create_group(name)
            g.create_dataset("logits", data=z.astype(np.float16))
            g.create_dataset("ids", data=i)
            g.create_dataset("rows", data=np.arange(len(i)))
            g.create_dataset("labels", data=y)


def test_load_and_stream_aggregate(tmp_path):
    rng = np.random.default_rng(3)
    R, K, N, C, M = 4, 6, 8, 3, 10
    steps = np.arange(K) * 5                          # includes a step-0 evaluation
    ids, labels = np.arange(N) + 100, rng.integers(0, C, N)
    ref_labels = rng.integers(0, C, M)
    z = rng.normal(size=(R, K, N, C)).astype(np.float16)
    zr = rng.normal(size=(R, K, M, C)).astype(np.float16)
    paths = []
    for r in range(R):
        perm = rng.permutation(N) if r == 2 else np.arange(N)   # run 2 stores another order
        paths.append(tmp_path / f"run{r}.h5")
        _write_run(paths[-1], z[r][:, perm], ids[perm], labels[perm], steps, zr[r], ref_labels)
    rl = load_logits(paths, "ood")
    assert rl.logits.shape == (R, K - 1, N, C) and rl.logits.dtype == np.float32
    np.testing.assert_array_equal(rl.steps, steps[1:])
    np.testing.assert_array_equal(rl.ids, ids)
    np.testing.assert_array_equal(rl.logits, z[:, 1:].astype(np.float32))
    assert load_logits(paths, "ood", include_step0=True).logits.shape[1] == K
    out = aggregate_files(paths, "ood", reference="test",
                          groups={"all": range(R), "halfA": [0, 1], "halfB": [2, 3]})
    full = ag.aggregate_runs(rl.logits, labels)
    np.testing.assert_allclose(out["all"].agg.mean_softmax, full.mean_softmax, atol=1e-12)
    np.testing.assert_allclose(out["all"].agg.acc, full.acc)
    ref_acc = (zr[:, 1:].astype(np.float32).argmax(-1) == ref_labels).mean(-1)
    np.testing.assert_allclose(out["all"].global_acc, ref_acc.mean(0))
    np.testing.assert_allclose(out["halfB"].global_acc, ref_acc[2:].mean(0))
    np.testing.assert_allclose(out["halfA"].agg.acc, ag.aggregate_runs(rl.logits, labels, [0, 1]).acc)
    acc_only = aggregate_files(paths, "ood", reference="test", with_softmax=False)["all"]
    assert acc_only.agg.mean_softmax is None
    np.testing.assert_allclose(acc_only.agg.acc, full.acc)
    np.testing.assert_allclose(acc_only.global_acc, out["all"].global_acc)
    own = aggregate_files(paths, "ood")["all"]                  # x-axis from the eval set itself
    np.testing.assert_allclose(own.global_acc, full.acc.mean(1))
    # mismatched steps are refused
    _write_run(tmp_path / "bad.h5", z[0], ids, labels, steps + 1, zr[0], ref_labels)
    with pytest.raises(ValueError, match="steps"):
        load_logits(paths + [tmp_path / "bad.h5"], "ood")


def test_store_roundtrip(tmp_path):
    K = 20
    p = np.linspace(0.2, 0.8, K)
    agg = _agg_from_acc(np.stack([p, 1 - p], 1))
    write_aggregates(tmp_path / "agg.h5", {"all": (agg, p)}, ids=[5, 6], steps=np.arange(K),
                     epochs=np.arange(K) / 2, provenance={"seed": 0})
    back = read_aggregates(tmp_path / "agg.h5")
    agg2, p2 = back["groups"]["all"]
    np.testing.assert_allclose(agg2.acc, agg.acc, atol=1e-7)
    np.testing.assert_array_equal(p2, p)
    prof = build_profiles(agg2, p2)
    write_profiles(tmp_path / "prof.h5", prof, ids=back["ids"], provenance={"seed": 0})
    prof2, ids = read_profiles(tmp_path / "prof.h5")
    np.testing.assert_allclose(prof2.acc, prof.acc, atol=1e-7)
    assert prof2.params["sigma"] == 2.0 and list(ids) == [5, 6]


def test_heldout_profiles_average_only_the_runs_that_held_each_example_out(tmp_path):
    """Run r is right on example i at every checkpoint iff r held i out: the held-out profile is
    then 1 everywhere, the plain profile the held-out share; an example no run held out has none."""
    import h5py

    from pointwise.profiles.load import aggregate_files
    R, K, N, C = 4, 3, 5, 3
    labels = np.array([0, 1, 2, 0, 1])
    trained = [np.array([10, 11]), np.array([10]), np.array([10, 12]), np.array([10, 13])]
    paths = []
    for r in range(R):
        held = ~np.isin(np.arange(N) + 10, trained[r])
        pred = np.where(held, labels, (labels + 1) % C)
        logits = np.eye(C, dtype=np.float16)[pred][None].repeat(K, 0) * 4
        p = tmp_path / f"run{r}.h5"
        with h5py.File(p, "w") as f:
            f["steps"] = np.arange(1, K + 1)
            g = f.create_group("train")
            g["logits"], g["ids"], g["labels"] = logits, np.arange(N) + 10, labels
        paths.append(p)
    plain = aggregate_files(paths, "train")["all"].agg.acc
    held = aggregate_files(paths, "train", trained_ids=trained)["all"].agg.acc
    assert np.allclose(plain[0], [0, 0.75, 0.75, 0.75, 1])
    assert np.isnan(held[:, 0]).all() and np.allclose(held[:, 1:], 1)
    with pytest.raises(ValueError, match="training-id sets"):
        aggregate_files(paths, "train", trained_ids=trained[:2])
