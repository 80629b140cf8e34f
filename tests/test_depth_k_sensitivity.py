"""k sensitivity (paper 002 A.4, spec §6.2 claim 13): smaller k derived from one probe at the
largest k equal a direct probe at that k; the tables on a hand-made case."""
import numpy as np
import pytest
import torch

from pointwise.depth import derived_knn_pred, k_sensitivity, prediction_depth
from pointwise.probes.knn import knn_classify


@pytest.mark.parametrize("tie", ["nearest", "lowest"])
def test_derived_k_equals_direct_probe(tie):
    """Integer embeddings (many exact distance ties, duplicates) and self-exclusion: the first k
    neighbours of a k=100 search vote exactly as a direct k-NN search at k."""
    rng = np.random.default_rng(0)
    S = rng.integers(-1, 2, size=(300, 4)).astype(np.float32)            # 81 distinct points
    Q = np.concatenate([S[:120], rng.integers(-1, 2, size=(80, 4))]).astype(np.float32)
    y = rng.integers(0, 6, size=300)
    qid, sid = np.arange(200), np.arange(300)                           # queries 0..119 in the support
    big = knn_classify(torch.from_numpy(Q), torch.from_numpy(S), y, 100, num_classes=6, tie=tie,
                       query_ids=qid, support_ids=sid, device="cpu", query_chunk=17, support_chunk=41)
    for k in (1, 5, 10, 30):
        direct = knn_classify(torch.from_numpy(Q), torch.from_numpy(S), y, k, num_classes=6, tie=tie,
                              query_ids=qid, support_ids=sid, device="cpu")
        np.testing.assert_array_equal(big.labels[:, :k], direct.labels)
        np.testing.assert_array_equal(derived_knn_pred(big.labels, k, 6, tie), direct.pred)
    with pytest.raises(ValueError, match="k=101"):
        derived_knn_pred(big.labels, 101, 6, tie)


def _run(nb, net, split, labels, ids):
    return {"neighbour_labels": np.asarray(nb, np.uint8), "net_pred": np.asarray(net),
            "query_split": np.asarray(split), "labels": np.asarray(labels), "query_ids": np.asarray(ids),
            "attrs": {"num_classes": 3, "tie": "lowest"}}


def test_k_sensitivity_tables_hand_case():
    """Two probes (input, softmax), K = 3 neighbours, 3 queries. Neighbour labels by hand:
    at k=1 the input probe predicts [0, 1, 2], at k=3 it predicts [0, 2, 2] (votes 0,0,1 / 1,2,2 /
    2,2,0); the softmax probe always predicts the network's class [0, 2, 2]."""
    nb = np.array([[[0, 0, 1], [1, 2, 2], [2, 2, 0]],                    # input probe
                   [[0, 0, 0], [2, 2, 2], [2, 2, 2]]])                   # softmax probe
    run = _run(nb, net=[0, 2, 2], split=[0, 1, 2], labels=[0, 1, 2], ids=[10, 11, 12])
    acc, rank = k_sensitivity([run, run], ks=[1, 3], ref_k=3)
    a = acc.set_index(["k", "split", "layer"])["knn_accuracy"]
    assert a[(1, "held_out", 0)] == 1.0 and a[(3, "held_out", 0)] == 0.0    # label 1: 1 vs 2
    assert a[(1, "test", 0)] == a[(3, "test", 0)] == 1.0
    assert a[(3, "held_out", 1)] == 0.0 and (acc["n_pairs"] == 2).all()     # pooled over both runs
    # PD at k=1: query 11 has input 1 != net 2 -> PD 1; at k=3 every probe agrees -> PD 0
    np.testing.assert_array_equal(prediction_depth(derived_knn_pred(nb, 1, 3, "lowest"), run["net_pred"]),
                                  [0, 1, 0])
    r = rank.set_index(["k", "split"])
    assert r.loc[(3, "val"), "mean_pd"] == 0 and r.loc[(1, "val"), "mean_pd"] == pytest.approx(0.5)
    assert r.loc[(1, "train"), "n"] == 1 and np.isnan(r.loc[(1, "train"), "spearman_vs_ref"])
    assert np.isnan(r.loc[(3, "val"), "spearman_vs_ref"])               # constant PD at k=3: undefined


def test_k_sensitivity_ranking_spearman():
    """Five held-out queries, probes input / 1 / softmax, K = 2, network class 0, ties to the lowest
    class. By hand, PD at k=1 is [0, 1, 2, 2, 2] and at k=2 [0, 1, 1, 2, 0] (a 0/1 tie votes 0):
    the ranking table holds their Spearman."""
    from scipy import stats

    nb = np.array([[[0, 0], [1, 1], [1, 1], [1, 1], [0, 1]],          # input probe
                   [[0, 0], [0, 0], [1, 0], [1, 1], [1, 0]],          # probe 1
                   [[0, 0]] * 5])                                      # softmax agrees
    net = np.zeros(5, int)
    np.testing.assert_array_equal(prediction_depth(derived_knn_pred(nb, 1, 3, "lowest"), net), [0, 1, 2, 2, 2])
    np.testing.assert_array_equal(prediction_depth(derived_knn_pred(nb, 2, 3, "lowest"), net), [0, 1, 1, 2, 0])
    run = _run(nb, net=net, split=np.ones(5, int), labels=net, ids=np.arange(5))
    _, rank = k_sensitivity([run], ks=[1, 2], ref_k=2)
    r = rank.set_index(["k", "split"])
    assert r.loc[(2, "val"), "spearman_vs_ref"] == pytest.approx(1.0)
    assert r.loc[(1, "val"), "spearman_vs_ref"] == pytest.approx(
        stats.spearmanr([0, 1, 2, 2, 2], [0, 1, 1, 2, 0]).statistic)
    assert r.loc[(1, "val"), "mean_pd"] == pytest.approx(1.4) and "train" not in r.index.get_level_values(1)
