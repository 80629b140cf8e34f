"""Paper 001: per-example analyses on hand-made prediction matrices — dominance probability,
examples no (other) testbed model gets right, triplets, difficulty, zero-shot, class subsets."""
import itertools

import numpy as np
import pytest

from pointwise.robustness import (dominance_matrix, dominance_pairs, dominance_probability,
                                  leave_one_out_sets, mean_dominance, missed_by_all, unique_correct,
                                  unique_correct_examples)
from pointwise.robustness.cscore import (difficulty_subset, holdout_cscore, holdout_masks,
                                         learning_speed, phaseout_schedule)
from pointwise.robustness.subclass import restrict_to_classes, subclassed_accuracy
from pointwise.robustness.triplets import triplet_cone, triplet_event_probabilities
from pointwise.robustness.zeroshot import (class_mapped_logits, class_mapped_scores,
                                           normalize_class_map, zero_shot_predict)

# rows: models; columns: 8 examples.  accuracies 0.25, 0.5, 0.5, 0.75
C = np.array([
    [1, 0, 0, 0, 0, 0, 1, 0],
    [1, 1, 1, 0, 0, 0, 1, 0],
    [1, 1, 0, 1, 0, 0, 0, 1],
    [1, 1, 1, 1, 1, 0, 1, 0],
], dtype=bool)


# --------------------------------------------------------------------------- dominance (§3.8)

def test_dominance_probability_by_hand():
    # model 0 (25%) vs model 2 (50%): 0 right & 2 wrong only on example 6
    assert dominance_probability(C[0], C[2]) == pytest.approx(1 / 8)
    assert dominance_probability(C[2], C[0]) == pytest.approx(1 / 8)          # order-free
    # equal accuracies (1 vs 2): P(1 right, 2 wrong) = P(2 right, 1 wrong) = 2/8
    assert dominance_probability(C[1], C[2]) == pytest.approx(2 / 8)
    assert dominance_probability(C[3], C[1]) == 0.0                          # 1 ⊂ 3
    assert dominance_probability(C[2], C[3]) == pytest.approx(1 / 8)


def test_dominance_matrix_and_pairs():
    M, order = dominance_matrix(C)
    assert np.allclose(M, M.T) and np.all(np.diag(M) == 0)
    for a, b in itertools.combinations(range(4), 2):
        assert M[a, b] == pytest.approx(dominance_probability(C[a], C[b]))
    assert order.tolist() == [0, 1, 2, 3]
    pairs = dominance_pairs(C, names=list("abcd"))
    assert len(pairs) == 6
    row = pairs[(pairs.model_lo == "c") & (pairs.model_hi == "d")].iloc[0]
    assert row.dp == pytest.approx(1 / 8) and row.acc_diff == pytest.approx(0.25)
    np.testing.assert_allclose(pairs.p_hi_right_lo_wrong, pairs.dp + pairs.acc_diff)   # identity
    np.testing.assert_allclose(pairs.dp_independent, pairs.acc_lo * (1 - pairs.acc_hi))
    md = mean_dominance(C)
    assert md[0] == pytest.approx(np.mean([M[0, 1], M[0, 2], M[0, 3]]))
    with pytest.raises(ValueError):
        dominance_pairs(C, names=["a"])


# --------------------------------------------------------------------- unique correct (§3.6)

def test_missed_by_all_and_leave_one_out():
    T = C[:3]                                            # testbed: models 0-2
    S = missed_by_all(T)
    assert np.flatnonzero(S).tolist() == [4, 5]
    loo = leave_one_out_sets(T)
    # without model 2, examples 3, 4, 5, 7 are missed by everyone else
    assert np.flatnonzero(loo[2]).tolist() == [3, 4, 5, 7]
    assert np.flatnonzero(loo[0]).tolist() == [4, 5]    # model 0 is never alone in being right
    labels = np.array([0, 1, 2, 0, 1, 1, 2, 0])
    df = unique_correct(T, C[3:], labels=labels, num_classes=3,
                        testbed_names=["t0", "t1", "t2"], other_names=["er_model"])
    t2 = df.set_index("model").loc["t2"]
    assert t2.role == "testbed" and t2.set_size == 4 and t2.acc_S == pytest.approx(0.5)
    assert t2.n_correct == 2 and t2.n_classes == 1 and t2.max_per_class == 2     # examples 3, 7: class 0
    g = df.set_index("model").loc["er_model"]
    assert g.role == "other" and g.set_size == 2 and g.acc_S == pytest.approx(0.5)
    assert g.n_correct == 1 and g.n_classes == 1 and g.max_per_class == 1
    assert g.set_frac == pytest.approx(2 / 8) and g.chance == pytest.approx(1 / 3)
    assert df.set_index("model").loc["t0", "acc_S"] == 0.0
    ex = unique_correct_examples(T, C[3], labels=labels, ids=np.arange(8) + 100, model="er_model")
    assert ex["index"].tolist() == [4] and ex["id"].tolist() == [104] and ex["label"].tolist() == [1]


def test_unique_correct_errors_and_empty_sets():
    T = np.ones((2, 5), bool)
    df = unique_correct(T, np.zeros((1, 5), bool))
    assert df["set_size"].tolist() == [0, 0, 0] and df["acc_S"].isna().all()
    with pytest.raises(ValueError, match="examples"):
        unique_correct(T, np.zeros((1, 4), bool))


# -------------------------------------------------------------------------- triplets (§3.9)

def test_triplet_event_probabilities_match_brute_force():
    P = triplet_event_probabilities(C, np.array([[0, 1, 2], [1, 2, 3]]))
    np.testing.assert_allclose(P.sum(1), 1.0)
    for row, (i, j, k) in zip(P, [(0, 1, 2), (1, 2, 3)]):
        for e in range(8):
            a, b, c = (e >> 2) & 1, (e >> 1) & 1, e & 1
            assert row[e] == pytest.approx(np.mean((C[i] == a) & (C[j] == b) & (C[k] == c)))


def test_triplet_cone_identical_sets_are_all_inside():
    rng = np.random.default_rng(1)
    Cid = rng.random((6, 400)) < np.linspace(0.3, 0.9, 6)[:, None]
    summary, per_model = triplet_cone(Cid, Cid, names=list("abcdef"))
    assert summary["slope"] == pytest.approx(1.0) and summary["frac_inside"] == 1.0
    assert summary["n_triplets"] == 20 and len(per_model) == 6
    # an OOD set whose model 0 is flipped breaks the triplets containing it more often
    Cood = Cid.copy()
    Cood[0] = ~Cood[0]
    s2, pm2 = triplet_cone(Cid, Cood, reference=[1, 2, 3, 4, 5])
    assert s2["frac_inside_reference"] == 1.0
    assert pm2.loc[0, "frac_inside"] < pm2.loc[1, "frac_inside"]


# ------------------------------------------------------------------------ difficulty (§3.10)

def test_holdout_cscore_by_hand():
    trained = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], bool)
    held = np.array([[9, 1, 0], [1, 9, 0], [0, 1, 9], [9, 9, 1]], float)   # 9 = ignored (trained on)
    score, n = holdout_cscore(trained, held)
    assert n.tolist() == [2, 2, 3]
    np.testing.assert_allclose(score, [0.5, 1.0, 1 / 3])
    # per-ratio averaging: models 0-2 ratio a, model 3 ratio b
    s2, _ = holdout_cscore(trained, held, ratio_of_model=[0.3, 0.3, 0.3, 0.6])
    np.testing.assert_allclose(s2, [0.5, 1.0, (0 + 1) / 2])
    m, r = holdout_masks(100, 6, ratios=(0.25, 0.5), seed=0)
    assert m.shape == (6, 100) and m.sum(1).tolist() == [25, 50, 25, 50, 25, 50]
    assert learning_speed(np.array([[1, 0], [1, 1], [0, 1]]), first_epochs=2).tolist() == [1.0, 0.5]


def test_difficulty_subsets_and_phaseout():
    labels = np.repeat([0, 1], 5)
    scores = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0])
    assert difficulty_subset(scores, labels, 2, "easy").tolist() == [0, 4, 6, 8]
    assert difficulty_subset(scores, labels, 2, "hard").tolist() == [1, 3, 5, 9]
    rnd = difficulty_subset(scores, labels, 2, "random", seed=3)
    assert len(rnd) == 4 and (np.bincount(labels[rnd]) == 2).all()
    with pytest.raises(ValueError):
        difficulty_subset(scores, labels, 6, "hard")
    sch = phaseout_schedule(scores, labels, n_epochs=5, n_final=2)
    assert sch.sizes.tolist() == [10, 8, 6, 4, 2]
    assert sch.kept(0).tolist() == list(range(10))
    assert sch.kept(4).tolist() == [1, 9]                       # hardest of each class
    for e in range(4):
        assert set(sch.kept(e + 1)) <= set(sch.kept(e))         # nested: only easy ones dropped
        assert len(sch.kept(e)) == sch.sizes[e]
    assert sch.to_dict()["sizes"] == [10, 8, 6, 4, 2]


def test_phaseout_last_epoch_describes_the_nested_schedule():
    labels = np.repeat([0, 1], 5)
    scores = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0])
    sch = phaseout_schedule(scores, labels, n_epochs=5, n_final=2)
    # per class 5, 4, 3, 2, 1 kept; the example of rank j (hardest first) is kept while the count > j
    assert sch.last_epoch(10).tolist() == [0, 4, 2, 3, 1, 3, 0, 2, 1, 4]
    for e in range(5):
        assert np.flatnonzero(sch.last_epoch(10) >= e).tolist() == sch.kept(e).tolist()
    nan = scores.copy()
    nan[0] = np.nan
    assert phaseout_schedule(nan, labels, 3, 2).last_epoch(10)[0] == -1     # never scored, never kept
    # unbalanced classes: largest-remainder splits can grow a class back; the schedule never does
    rng = np.random.default_rng(0)
    lab = np.repeat([0, 1, 2], [7, 5, 2])
    sch = phaseout_schedule(rng.random(14), lab, n_epochs=13, n_final=1)
    assert (np.diff(sch.per_class, axis=0) <= 0).all() and sch.sizes[-1] >= 1
    for e in range(12):
        assert set(sch.kept(e + 1)) <= set(sch.kept(e))


# ------------------------------------------------------------- zero-shot (§3.11) and subsets

def test_class_mapped_zero_shot_aggregations():
    # 5 pretraining classes; target 0 <- {0, 1, 2}, target 1 <- {3, 4}
    p = np.array([[0.2, 0.2, 0.2, 0.35, 0.05]])
    z = np.log(p)
    cmap = [[0, 1, 2], [3, 4]]
    np.testing.assert_allclose(class_mapped_scores(z, cmap, "max"), [[0.2, 0.35]])
    np.testing.assert_allclose(class_mapped_scores(z, cmap, "mean"), [[0.2, 0.2]])
    np.testing.assert_allclose(class_mapped_scores(z, cmap, "sum"), [[0.6, 0.4]])
    assert zero_shot_predict(z, cmap, "max").tolist() == [1]
    assert zero_shot_predict(z, cmap, "sum").tolist() == [0]
    np.testing.assert_allclose(class_mapped_logits(z, cmap), [[np.log(0.2), np.log(0.35)]])
    # equivalent class-map forms
    for alt in ({0: [0, 1, 2], 1: [3, 4]}, [0, 0, 0, 1, 1], np.array([0, 0, 0, 1, 1])):
        assert [g.tolist() for g in normalize_class_map(alt)] == cmap
    with pytest.raises(ValueError):
        class_mapped_scores(z, [[0, 1], [7]])
    with pytest.raises(ValueError):
        class_mapped_scores(z, cmap, "median")


def test_subclassed_accuracy():
    logits = np.array([[5., 1., 0., 4.], [0., 1., 9., 2.], [1., 0., 3., 2.]])
    labels = np.array([3, 1, 3])
    pred, keep = restrict_to_classes(logits, labels, [1, 3])
    assert pred.tolist() == [3, 3, 3] and keep.tolist() == [True, True, True]
    assert subclassed_accuracy(logits, labels, [1, 3]) == pytest.approx(2 / 3)
    assert subclassed_accuracy(logits, np.array([3, 0, 3]), [1, 3]) == pytest.approx(1.0)


def test_testbed_example_table_by_hand():
    from pointwise.robustness.unique_correct import testbed_example_table
    T = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 0, 1, 0]], bool)   # 3 testbed models, 4 examples
    t = testbed_example_table(T, ids=[7, 8, 9, 10], labels=[0, 1, 2, 3])
    assert t["example_id"].tolist() == [7, 8, 9, 10]
    assert t["n_correct"].tolist() == [3, 1, 1, 0]
    assert np.allclose(t["testbed_acc"], [1, 1 / 3, 1 / 3, 0])
    assert t["none_correct"].tolist() == [False, False, False, True]
    assert t["unique_correct"].tolist() == [False, True, True, False]
    assert t["any_correct"].tolist() == [True, True, True, False]
    assert list(t.columns) == ["example_id", "label", "testbed_acc", "n_correct", "any_correct",
                               "none_correct", "unique_correct"]


def test_testbed_example_table_unique_model_and_ood_columns_by_hand():
    from pointwise.robustness.unique_correct import testbed_example_table
    T = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 0, 1, 0]], bool)
    # the OOD copy of the same 4 examples, stored in another order (ids 10, 9, 8, 7)
    R = np.array([[0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]], bool)
    t = testbed_example_table(T, ids=[7, 8, 9, 10], labels=[0, 1, 2, 3], names=["a", "b", "c"],
                              ood={"rep": (R, [10, 9, 8, 7])})
    assert t["unique_model"].tolist() == ["", "a", "c", ""]
    assert t["n_correct_rep"].tolist() == [2, 1, 0, 0]
    assert np.allclose(t["testbed_acc_rep"], [2 / 3, 1 / 3, 0, 0])
    assert t["none_correct_rep"].tolist() == [False, False, True, True]
    with pytest.raises(ValueError, match="every ID example id"):
        testbed_example_table(T, ids=[7, 8, 9, 10], labels=[0, 1, 2, 3], ood={"rep": (R, [10, 9, 8, 6])})
    with pytest.raises(ValueError, match="names"):
        testbed_example_table(T, ids=[7, 8, 9, 10], labels=[0, 1, 2, 3], names=["a"])
