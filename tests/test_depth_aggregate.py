"""Per-example aggregates, by-depth statistics, corner groups, rank correlations and the
accuracy-improvement statistic (spec 002 §3.3-3.5, §3.8-3.10)."""
import numpy as np
import pandas as pd
import pytest

from pointwise.depth import (GROUPS, accuracy_by_depth, corner_groups, group_accuracy, improvement,
                             mean_by_depth, mean_pd, pairwise_run_spearman, per_example, run_table,
                             split_half_spearman, spearman, stack_runs)


def test_run_table_and_stack_runs():
    knn = {"knn_pred": np.array([[0, 1, 1], [0, 1, 1], [0, 0, 2]], dtype=np.int16),
           "net_pred": np.array([0, 0, 1], dtype=np.int16), "labels": np.array([0, 1, 1]),
           "query_ids": np.array([10, 11, 12]), "query_split": np.array([0, 0, 1], dtype=np.uint8)}
    t = run_table(knn)
    np.testing.assert_array_equal(t["pd"].to_numpy()[:2], [0, 2])
    assert np.isnan(t["pd"].iloc[2]) and not t["pd_defined"].iloc[2]
    assert list(t["correct"]) == [True, False, True] and "knn_pred_2" in t
    t2 = t.iloc[[2, 0]].assign(example_id=[12, 13])
    m, ids = stack_runs([t, t2], "pd")
    np.testing.assert_array_equal(ids, [10, 11, 12, 13])
    np.testing.assert_array_equal(m[0, :2], [0, 2])
    assert np.isnan(m[0, 3]) and m[1, 3] == 0 and np.isnan(m[1, 2])
    s, _ = stack_runs([t, t2], "split", ids=ids, fill=-1)
    np.testing.assert_array_equal(s, [[0, 0, 1, -1], [-1, -1, 1, 0]])


def test_per_example_means_and_scores():
    pdm = np.array([[0, 1, np.nan], [2, 3, 4], [4, np.nan, 1], [1, 1, 1]], dtype=float)
    split = np.array([[0, 1, 1], [0, 0, 1], [1, 1, 0], [2, -1, 2]])
    preds = np.array([[0, 1, 2], [0, 1, 1], [1, 1, 2], [1, 0, 2]])
    labels = np.array([0, 1, 2])
    df = per_example(pdm, split, [5, 6, 7], labels=labels, net_pred_runs=preds, num_classes=3)
    np.testing.assert_allclose(df["mpd_train"], [1, 3, 1])
    np.testing.assert_allclose(df["mpd_val"], [2.5, 1, 2.5])           # test (code 2) counts as val
    np.testing.assert_array_equal(df["n_val"], [2, 2, 3])
    np.testing.assert_array_equal(df["n_pd_undefined_val"], [0, 1, 1])
    # held-out predictions: example 0 runs 2, 3 -> 1, 1; example 1 runs 0, 2 -> 1, 1;
    # example 2 runs 0, 1, 3 -> 2, 1, 2
    np.testing.assert_allclose(df["consistency"], [0, 1, 2 / 3])
    np.testing.assert_array_equal(df["consensus"], [1, 1, 2])
    np.testing.assert_allclose(df["cstar"], [1, 1, 2 / 3])
    np.testing.assert_allclose(df["accuracy_val"], [0, 1, 2 / 3])
    assert mean_pd(pdm, split, (0,))["n_occ"].tolist() == [2, 1, 1]


def test_by_depth():
    pdm = np.array([[0, 1, 1, np.nan], [2, 0, 1, 1]])
    correct = np.array([[1, 0, 1, 1], [0, 1, 1, 0]], dtype=bool)
    mask = np.array([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=bool)
    df = accuracy_by_depth(pdm, correct, mask, L=3)
    assert list(df["count"]) == [2, 3, 1, 0]
    np.testing.assert_allclose(df["mass"], [2 / 6, 3 / 6, 1 / 6, 0])
    np.testing.assert_allclose(df["accuracy"][:3], [1, 2 / 3, 0])
    assert np.isnan(df["accuracy"][3])
    m = mean_by_depth(pdm, np.array([[1.0, 2, 4, 9], [5, 3, np.nan, 7]]), mask, L=3, name="il")
    np.testing.assert_allclose(m["il"][:3], [2, 3, 5])
    with pytest.raises(ValueError):
        accuracy_by_depth(pdm, correct, L=1)


def test_corner_groups():
    L = 10
    val = np.array([0, 10, 0, 10, 5, 1, 9, np.nan])
    tr = np.array([0, 0, 10, 10, 5, 1, 1, 0])
    g = corner_groups(val, tr, L, n=2, ids=np.arange(8) + 100)
    first = g[g["rank"] == 0].set_index("group")["index"]
    assert first["easy"] == 0 and first["ambiguous_unless_label"] == 1
    assert first["looks_like_different"] == 2 and first["ambiguous"] == 3
    lr = g[g.group == "ambiguous_unless_label"]
    assert list(lr["index"]) == [1, 6] and lr["distance"].iloc[1] == pytest.approx(np.hypot(1, 1))
    assert 7 not in set(g["index"]) and set(g["group"]) == set(GROUPS)
    # observed corners: the ranges of the data
    go = corner_groups(val[[4, 5, 6]], tr[[4, 5, 6]], L, n=1, corners="observed")
    assert go.set_index("group").loc["ambiguous_unless_label", "index"] == 2   # (9, 1) is the corner


def test_spearman_split_half_and_pairwise():
    rng = np.random.default_rng(0)
    difficulty = rng.random(400)
    pdm = np.round(difficulty[None] * 8 + rng.normal(0, 1.0, (10, 400))).clip(0, 8)
    rho, n = split_half_spearman(pdm, seed=0)
    assert rho > 0.8 and n == 400
    noise = rng.integers(0, 9, (10, 400)).astype(float)
    assert abs(split_half_spearman(noise)[0]) < 0.2
    mean_rho, all_rho = pairwise_run_spearman(pdm)
    assert len(all_rho) == 45 and 0.3 < mean_rho < rho
    assert np.isnan(spearman([1, 1, 1, 1], [1, 2, 3, 4])[0])
    assert spearman([1, 2, np.nan, 4], [2, 4, 5, 8]) == (1.0, 3)


def test_group_accuracy_pooled_and_per_example():
    labels = np.array([0, 1])
    net = np.array([[0, 0], [1, 0], [0, 1]])
    knn = np.stack([np.array([[0, 1], [0, 1], [0, 1]]), np.array([[1, 0], [1, 0], [1, 0]])], axis=1)
    mask = np.array([[1, 1], [1, 0], [0, 0]], dtype=bool)   # ex0: runs 0,1; ex1: run 0
    df = group_accuracy([0, 1], net, knn, labels, mask)
    assert df["n_pairs"].iloc[0] == 3
    assert df["net_acc_pooled"].iloc[0] == pytest.approx(1 / 3)
    assert df["net_acc_per_example"].iloc[0] == pytest.approx((0.5 + 0) / 2)
    np.testing.assert_allclose(df["knn_acc_pooled"], [1, 0])
    np.testing.assert_allclose(df["knn_acc_per_example"], [1, 0])


def test_improvement_in_sample_and_held_out():
    """A planted group: low PD on train occurrences, high on held-out, the network wrong and the
    layer-1 probe right; the sweep finds it under both selections."""
    rng = np.random.default_rng(3)
    R, n, L = 8, 60, 4
    split = np.where(rng.random((R, n)) < 0.5, 0, 1)
    split[: R // 2, :] = np.where(np.arange(n)[None] % 2 == 0, 0, 1)
    split[R // 2:, :] = np.where(np.arange(n)[None] % 2 == 0, 1, 0)
    planted = np.arange(10)
    pdm = rng.integers(0, 3, (R, n)).astype(float)
    pdm[:, planted] = np.where(split[:, planted] == 0, 0, L)
    labels = rng.integers(0, 3, n)
    net = np.tile(labels, (R, 1))
    net[:, planted] = (labels[planted] + 1) % 3
    knn = np.repeat(net[:, None], L + 1, axis=1)
    knn[:, 1, :] = labels
    df = improvement(pdm, split, net, knn, labels, L=L, n=10, halves=np.arange(R) % 2 == 0)
    for sel in ("in_sample", "held_out"):
        d = df[df.selection == sel].set_index("layer")
        assert d.loc[1, "knn_acc_pooled"] == 1 and d.loc[0, "net_acc_pooled"] == 0
        assert d.loc[0, "knn_acc_pooled"] == 0
    assert isinstance(df, pd.DataFrame) and set(df.selection) == {"in_sample", "held_out"}


def test_loo_by_depth_pools_held_out_models():
    from pointwise.depth import leave_one_out, loo_by_depth
    rng = np.random.default_rng(5)
    M, n = 5, 300
    labels = rng.integers(0, 3, n)
    preds = np.where(rng.random((M, n)) < 0.7, labels, rng.integers(0, 3, (M, n)))
    pdm = rng.integers(0, 4, (M, n)).astype(float)
    df = loo_by_depth(pdm, preds, labels, 3, L=3)
    loo = leave_one_out(preds, labels, 3)
    d2 = pdm == 2
    assert df.loc[2, "cstar"] == pytest.approx(loo["cstar"][d2].mean())
    assert df.loc[2, "entropy"] == pytest.approx(loo["entropy"][d2].mean())
    assert df["count"].sum() == M * n and np.isfinite(df["cstar_between_sd"]).all()


def test_undefined_fraction_counts_each_occurrence_once():
    """by_depth repeats the held-out and test occurrences in its "val" rows; the claim C12 fraction
    counts train, held_out and test once: (1 + 4 + 0) / (100 + 50 + 50)."""
    from pointwise.depth.pipeline import undefined_fraction

    rows = [("train", 100, 1), ("val", 100, 4), ("held_out", 50, 4), ("test", 50, 0)]
    bd = pd.DataFrame([{"depth": d, "split": s, "n_occurrences": n, "n_undefined": u}
                       for s, n, u in rows for d in range(3)])
    assert undefined_fraction(bd) == pytest.approx(5 / 200)
