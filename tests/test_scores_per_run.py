"""Paper 003 per-run and ensemble scores on hand-made sequences (spec 003 §3.2, §3.3, §6.4)."""
import numpy as np
import pytest
from scipy.special import softmax

from pointwise.scores import (ENSEMBLE_SCORES, PER_RUN_SCORES, area_under_margin,
                              consistently_learned, el2n, ensemble_agreement, eval_correct,
                              first_learned, forgetting_events, grad_epoch, holdout_retraining,
                              jensen_shannon, mean_accuracy, mean_loss, never_learned, orient,
                              orientation_sign, orientation_table, per_run_scores,
                              presentation_sequence, stack_runs, symmetric_kl,
                              trajectory_scores, training_eval_rows)

# spec §6.4 oracle: sequence -> (F zero, F toneva, CL); toneva = max over the batch + 1 = 2
ORACLE = [([1, 1, 1], 0, 0), ([0, 1, 0, 1], 1, 3), ([1, 0, 1, 1], 1, 2), ([1, 1, 0], 1, 3),
          ([0, 0, 0], 0, 3)]


def as_matrix(seqs):
    """Sequences of equal length -> correct [P, N]."""
    return np.array(seqs, dtype=bool).T


@pytest.mark.parametrize("seq,f,cl", ORACLE)
def test_forgetting_and_cl_oracle_single(seq, f, cl):
    a = as_matrix([seq])
    assert forgetting_events(a, "zero")[0] == f
    assert consistently_learned(a)[0] == cl


def test_forgetting_never_learned_flags():
    # one batch of equal-length sequences including never-learned ones
    seqs = [[1, 1, 1, 1], [0, 1, 0, 1], [1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 1], [0, 0, 0, 0]]
    a = as_matrix(seqs)
    zero = forgetting_events(a, "zero")
    ton = forgetting_events(a, "toneva")
    np.testing.assert_array_equal(zero, [0, 1, 2, 0, 1, 0])
    np.testing.assert_array_equal(ton, [0, 1, 2, 3, 1, 3])     # max F = 2 -> 3
    np.testing.assert_array_equal(never_learned(a), [0, 0, 0, 1, 0, 1])
    # all never learned: max over the empty set is 0 -> 1
    np.testing.assert_array_equal(forgetting_events(np.zeros((3, 2), bool), "toneva"), [1, 1])
    with pytest.raises(ValueError):
        forgetting_events(a, "infinite")


def test_oracle_table_as_one_batch_toneva():
    # the table's row [0,0,0] under toneva = max + 1 over the sequences scored with it
    seqs = [[1, 1, 1, 1], [0, 1, 0, 1], [1, 0, 1, 1], [1, 1, 1, 0], [0, 0, 0, 0]]
    f = forgetting_events(as_matrix(seqs), "toneva")
    assert f[-1] == f[:-1].max() + 1 == 2


def test_consistently_learned_edge_cases():
    seqs = [[1] * 6,                   # always correct -> 0
            [1, 1, 1, 1, 1, 0],        # wrong at the last -> E
            [0, 1, 1, 0, 0, 1],        # learned, forgotten, relearned -> 5
            [0, 0, 0, 1, 1, 1],        # learned once for good -> 3
            [1, 0, 1, 0, 1, 1],        # -> 4
            [0] * 6]                   # never -> E
    a = as_matrix(seqs)
    np.testing.assert_array_equal(consistently_learned(a), [0, 6, 5, 3, 4, 6])
    np.testing.assert_array_equal(forgetting_events(a, "zero"), [0, 1, 1, 0, 2, 0])
    np.testing.assert_array_equal(first_learned(a), [1, 1, 2, 4, 1, 7])


def test_presentation_sequence_checks():
    a = as_matrix([[1, 0, 1], [0, 0, 1]])
    step = np.array([[0, 3], [5, 9], [11, 12]])
    np.testing.assert_array_equal(presentation_sequence(a, step), a)
    with pytest.raises(ValueError, match="never made"):
        presentation_sequence(a, np.array([[0, 3], [5, 9], [-1, 12]]))
    with pytest.raises(ValueError, match="increasing"):
        presentation_sequence(a, np.array([[0, 3], [5, 2], [11, 12]]))


def test_trajectory_scores_by_hand():
    # 2 eval points, 2 examples, 3 classes
    z = np.array([[[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]],
                  [[0.0, 1.0, 0.5], [1.0, 2.0, 0.0]]])
    y = np.array([0, 1])
    p = softmax(z, axis=-1)
    loss = -np.log(p[:, [0, 1], y]).mean(0)
    acc = np.array([0.5, 0.5])                  # ex0: right then wrong; ex1: wrong then right
    aum0 = ((p[0, 0, 0] - p[0, 0, 1]) + (p[1, 0, 0] - p[1, 0, 1])) / 2
    aum1 = ((p[0, 1, 1] - p[0, 1, 2]) + (p[1, 1, 1] - p[1, 1, 0])) / 2
    res = trajectory_scores(z, y, scores=("loss", "acc", "aum", "confidence", "max_confidence",
                                          "entropy", "variability"))
    np.testing.assert_allclose(res["loss"], loss, rtol=1e-12)
    np.testing.assert_allclose(res["acc"], acc)
    np.testing.assert_allclose(res["aum"], [aum0, aum1], rtol=1e-12)
    np.testing.assert_allclose(res["confidence"], p[:, [0, 1], y].mean(0))
    np.testing.assert_allclose(res["max_confidence"], p.max(-1).mean(0))
    np.testing.assert_allclose(res["entropy"], -(p * np.log(p)).sum(-1).mean(0))
    np.testing.assert_allclose(res["variability"], p[:, [0, 1], y].std(0))
    np.testing.assert_allclose(mean_loss(z, y), loss)
    np.testing.assert_allclose(mean_accuracy(z, y), acc)
    np.testing.assert_allclose(area_under_margin(z, y), [aum0, aum1])
    # rows: only the second eval point; negative rows count from the end
    np.testing.assert_allclose(mean_accuracy(z, y, rows=[-1]), [0, 1])
    np.testing.assert_array_equal(eval_correct(z, y), [[1, 0], [0, 1]])


def test_aum_and_el2n_ranges():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 5, (4, 200, 10))
    y = rng.integers(0, 10, 200)
    aum = area_under_margin(z, y)
    assert (aum >= -1).all() and (aum <= 1).all()
    e = el2n(z, y)
    assert e.shape == (4, 200)
    assert (e >= 0).all() and (e <= np.sqrt(2) + 1e-12).all()
    # extremes: confident and right -> 0; confident and wrong -> sqrt(2)
    np.testing.assert_allclose(el2n(np.array([[100.0, 0, 0], [0, 100.0, 0]]), [0, 0]),
                               [0, np.sqrt(2)], atol=1e-12)
    np.testing.assert_allclose(area_under_margin(np.array([[[100.0, 0], [0, 100.0]]]), [0, 0]),
                               [1, -1], atol=1e-12)


def test_training_eval_rows_excludes_epoch_zero():
    np.testing.assert_array_equal(training_eval_rows([0.0, 1.0, 2.0, 3.0]), [1, 2, 3])
    np.testing.assert_array_equal(training_eval_rows([0.5, 1.0]), [0, 1])


def test_grad_epoch():
    assert grad_epoch(160) == 20 and grad_epoch(40) == 5 and grad_epoch(12) == 2
    assert grad_epoch(4) == 1


def test_orientation():
    t = orientation_table()
    assert list(t.key[:10]) == list(PER_RUN_SCORES + ENSEMBLE_SCORES)
    np.testing.assert_array_equal(orientation_sign(PER_RUN_SCORES), [1, -1, -1, 1, 1, 1, 1, 1])
    x = np.ones((2, 3, 8))
    np.testing.assert_array_equal(orient(x, PER_RUN_SCORES)[0, 0], [1, -1, -1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(orient([0.2, 0.9], "acc"), [-0.2, -0.9])
    with pytest.raises(KeyError):
        orientation_sign(["nope"])


def test_per_run_scores_and_stack():
    rng = np.random.default_rng(1)
    k, n, c, p = 5, 30, 4, 6
    runs = []
    for _ in range(3):
        z = rng.normal(size=(k, n, c))
        y = rng.integers(0, c, n)
        correct = rng.random((p, n)) < 0.6
        runs.append(per_run_scores(z, y, correct, rows=[1, 2, 3, 4], grand20=rng.random(n),
                                   el2n20=rng.random(n), vog=rng.random(n), extras=True))
    assert list(runs[0])[:8] == list(PER_RUN_SCORES)
    assert {"first_learned", "forget_eval", "cl_eval", "never_learned"} <= set(runs[0])
    raw, S = stack_runs(runs)
    assert raw.shape == S.shape == (3, n, 8)
    np.testing.assert_allclose(S[..., 1], -raw[..., 1])
    np.testing.assert_allclose(S[..., 0], raw[..., 0])
    with pytest.raises(ValueError):
        per_run_scores(z, y, correct, grand20=np.ones(n + 1), el2n20=np.ones(n), vog=np.ones(n))


def test_jensen_shannon():
    # identical members -> 0; two one-hot members on different classes -> ln 2
    z = np.array([[[50.0, 0.0], [1.0, 2.0]], [[0.0, 50.0], [1.0, 2.0]]])
    np.testing.assert_allclose(jensen_shannon(z), [np.log(2), 0.0], atol=1e-12)
    np.testing.assert_allclose(jensen_shannon(z, pairwise=True), [np.log(2), 0.0], atol=1e-12)
    # generalised JSD against a direct computation with 3 members
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 7, 5))
    p = softmax(z, -1)
    H = lambda q: -(q * np.log(q)).sum(-1)
    np.testing.assert_allclose(jensen_shannon(z), H(p.mean(0)) - H(p).mean(0), rtol=1e-10)
    pw = np.mean([H((p[a] + p[b]) / 2) - (H(p[a]) + H(p[b])) / 2
                  for a, b in [(0, 1), (0, 2), (1, 2)]], axis=0)
    np.testing.assert_allclose(jensen_shannon(z, pairwise=True), pw, rtol=1e-10)
    assert (jensen_shannon(z) >= 0).all()
    # agreement averages over eval points
    members = [rng.normal(size=(4, 7, 5)) for _ in range(3)]
    expect = np.mean([jensen_shannon(np.stack([m[e] for m in members])) for e in (1, 3)], axis=0)
    np.testing.assert_allclose(ensemble_agreement(members, rows=[1, 3]), expect)


def test_holdout_retraining():
    rng = np.random.default_rng(0)
    zb, za = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    p, q = softmax(zb, -1), softmax(za, -1)
    direct = (p * np.log(p / q)).sum(-1) + (q * np.log(q / p)).sum(-1)
    np.testing.assert_allclose(symmetric_kl(zb, za), direct, rtol=1e-10)
    np.testing.assert_allclose(symmetric_kl(zb, zb), 0, atol=1e-15)
    # two halves of 5 examples (one never scored), one seed
    ret = holdout_retraining([zb[:3], zb[3:5]], [za[:3], za[3:5]], [[0, 2, 4], [1, 3]], 6)
    np.testing.assert_allclose(ret[[0, 2, 4, 1, 3]], direct[:5], rtol=1e-10)
    assert np.isnan(ret[5])
    # two seeds average
    ret2 = holdout_retraining([zb[:2], zb[2:4]], [za[:2], za[2:4]], [[0, 1], [0, 1]], 2)
    np.testing.assert_allclose(ret2, (direct[:2] + direct[2:4]) / 2, rtol=1e-10)
