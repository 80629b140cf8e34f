"""Exact k-NN probes: equal to a brute-force reference, deterministic ties, self-exclusion by id,
vote tie rules, and scikit-learn's predictions (paper 002 §2.1, spec 002 §3.2 / §5.2)."""
import numpy as np
import pytest
import torch

from pointwise.probes.knn import (knn_classify, knn_search, label_dtype, self_positions, vote,
                                  vote_counts, vote_fraction)


def brute_force(Q, S, k, exclude=None):
    """Reference: float64 direct differences, self excluded, ties by lower support index."""
    Q, S = np.asarray(Q, np.float64), np.asarray(S, np.float64)
    d = ((Q[:, None, :] - S[None, :, :]) ** 2).sum(-1)
    if exclude is not None:
        r = np.flatnonzero(exclude >= 0)
        d[r, exclude[r]] = np.inf
    idx = np.empty((len(Q), k), dtype=np.int64)
    cols = np.arange(S.shape[0])
    for i in range(len(Q)):                      # reference only: clarity over speed
        idx[i] = np.lexsort((cols, d[i]))[:k]
    return idx, np.take_along_axis(d, idx, 1)


CHUNKINGS = [dict(), dict(query_chunk=13), dict(query_chunk=13, support_chunk=7),
             dict(query_chunk=5, support_chunk=3), dict(support_chunk=40)]


@pytest.mark.parametrize("kw", CHUNKINGS)
def test_random_data_equals_brute_force(kw):
    rng = np.random.default_rng(0)
    Q = rng.normal(size=(120, 20)).astype(np.float32)
    S = rng.normal(size=(200, 20)).astype(np.float32)
    idx, d2 = knn_search(torch.from_numpy(Q), torch.from_numpy(S), 7, device="cpu", **kw)
    ref_idx, ref_d = brute_force(Q, S, 7)
    np.testing.assert_array_equal(idx.numpy(), ref_idx)
    np.testing.assert_allclose(d2.numpy(), ref_d, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kw", CHUNKINGS + [dict(direct_max_dim=8)])
def test_ties_and_duplicates_resolved_by_lower_index(kw):
    """Integer data: fp32 arithmetic is exact, so distances tie exactly and often; the result must
    still equal the reference order (distance, then support index) exactly."""
    rng = np.random.default_rng(1)
    S = rng.integers(-1, 2, size=(150, 3)).astype(np.float32)      # only 27 distinct points
    Q = np.concatenate([rng.integers(-1, 2, size=(60, 3)), S[:20]]).astype(np.float32)
    for k in (1, 5, 12):
        idx, d2 = knn_search(torch.from_numpy(Q), torch.from_numpy(S), k, device="cpu", **kw)
        ref_idx, ref_d = brute_force(Q, S, k)
        np.testing.assert_array_equal(idx.numpy(), ref_idx)
        np.testing.assert_array_equal(d2.numpy(), ref_d.astype(np.float32))


@pytest.mark.parametrize("kw", CHUNKINGS)
def test_self_exclusion_by_id_not_by_distance(kw):
    """Training queries against their own split: the query's own id is dropped, an exact duplicate
    with another id (distance 0) is kept as the nearest neighbour."""
    rng = np.random.default_rng(2)
    S = rng.integers(-2, 3, size=(80, 4)).astype(np.float32)
    S[10] = S[50]                                  # exact duplicates with different ids
    S[11] = S[12] = S[13]
    ids = np.arange(80) * 7 + 100
    exclude = self_positions(ids, ids)
    np.testing.assert_array_equal(exclude, np.arange(80))
    idx, d2 = knn_search(torch.from_numpy(S), torch.from_numpy(S), 6, exclude=exclude, device="cpu", **kw)
    idx = idx.numpy()
    assert not (idx == np.arange(80)[:, None]).any()             # never itself
    assert idx[10, 0] == 50 and idx[50, 0] == 10 and d2[10, 0] == 0
    assert list(idx[12, :2]) == [11, 13] and list(idx[11, :2]) == [12, 13]
    ref_idx, _ = brute_force(S, S, 6, exclude)
    np.testing.assert_array_equal(idx, ref_idx)


def test_self_positions_mixed_queries():
    sup = np.array([5, 3, 9, 1])
    np.testing.assert_array_equal(self_positions([9, 2, 1, 5, 7], sup), [2, -1, 3, 0, -1])
    np.testing.assert_array_equal(self_positions([1, 2], np.array([], dtype=np.int64)), [-1, -1])
    with pytest.raises(ValueError):
        self_positions([1], [1, 1])


def test_mixed_train_and_heldout_queries_via_ids():
    rng = np.random.default_rng(3)
    S = rng.normal(size=(50, 6)).astype(np.float32)
    H = rng.normal(size=(10, 6)).astype(np.float32)
    Q = np.concatenate([S, H])
    q_ids = np.concatenate([np.arange(50), np.arange(1000, 1010)])
    y = rng.integers(0, 3, 50)
    res = knn_classify(Q, S, y, k=4, num_classes=3, query_ids=q_ids, support_ids=np.arange(50),
                       return_indices=True, device="cpu")
    excl = np.concatenate([np.arange(50), -np.ones(10, dtype=np.int64)])
    ref_idx, _ = brute_force(Q, S, 4, excl)
    np.testing.assert_array_equal(res.indices, ref_idx)
    np.testing.assert_array_equal(res.labels, y[ref_idx])
    assert res.labels.dtype == np.uint8 and res.pred.dtype == np.int16


def test_vote_tie_rules():
    lab = np.array([[1, 2, 2, 1],      # 1 and 2 tie; nearest is 1
                    [2, 1, 1, 2],      # tie; nearest is 2, lowest is 1
                    [0, 3, 3, 3],      # clear majority
                    [3, 2, 1, 0]])     # four-way tie
    np.testing.assert_array_equal(vote(lab, 4, "nearest"), [1, 2, 3, 3])
    np.testing.assert_array_equal(vote(lab, 4, "lowest"), [1, 1, 3, 0])
    np.testing.assert_array_equal(vote_counts(lab, 4)[1], [0, 2, 2, 0])
    np.testing.assert_allclose(vote_fraction(lab, [1, 2, 0, 3]), [0.5, 0.5, 0.25, 0.25])
    # leading axes ([layers, n, k]) are kept
    assert vote(np.stack([lab, lab]), 4).shape == (2, 4)
    with pytest.raises(ValueError):
        vote(lab, 4, "random")
    with pytest.raises(ValueError):
        vote(lab, 3)                  # label 3 out of range


def test_vote_matches_loop_reference():
    rng = np.random.default_rng(4)
    lab = rng.integers(0, 5, size=(500, 6))
    pred = vote(lab, 5, "nearest")
    for row, p in zip(lab, pred):
        c = np.bincount(row, minlength=5)
        tied = set(np.flatnonzero(c == c.max()))
        assert p == next(x for x in row if x in tied)


def test_equals_sklearn_with_lowest_tie_rule():
    from sklearn.neighbors import KNeighborsClassifier
    rng = np.random.default_rng(6)
    centres = rng.normal(0, 2, size=(5, 16))
    ys, yq = rng.integers(0, 5, 600), rng.integers(0, 5, 400)
    S = (centres[ys] + rng.normal(size=(600, 16))).astype(np.float32)
    Q = (centres[yq] + rng.normal(size=(400, 16))).astype(np.float32)
    k = 30
    _, ref_d = brute_force(Q, S, k + 1)
    assert (ref_d[:, k] - ref_d[:, k - 1] > 1e-3).all()          # no near-tie at the k-th neighbour
    res = knn_classify(Q, S, ys, k=k, tie="lowest", device="cpu", query_chunk=64)
    skl = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(S, ys).predict(Q)
    np.testing.assert_array_equal(res.pred, skl)


def test_errors_and_dtypes():
    S = torch.zeros(5, 2)
    with pytest.raises(ValueError):
        knn_search(torch.zeros(3, 2), S, 6, device="cpu")
    with pytest.raises(ValueError):             # with self-exclusion only 4 are available
        knn_search(S, S, 5, exclude=np.arange(5), device="cpu")
    with pytest.raises(ValueError):
        knn_search(torch.full((2, 2), float("nan")), S, 2, device="cpu")
    with pytest.raises(ValueError):
        knn_search(torch.zeros(3, 3), S, 2, device="cpu")
    assert label_dtype(10) == np.uint8 and label_dtype(255) == np.uint8 and label_dtype(1000) == np.int16
    idx, d2 = knn_search(torch.zeros(0, 2), S, 2, device="cpu")
    assert idx.shape == (0, 2)


def test_precision_option_and_direct_nan_check():
    rng = np.random.default_rng(7)
    Q = torch.from_numpy(rng.normal(size=(30, 5)).astype(np.float32))
    S = torch.from_numpy(rng.normal(size=(40, 5)).astype(np.float32))
    a, _ = knn_search(Q, S, 3, device="cpu")
    b, _ = knn_search(Q, S, 3, device="cpu", precision="tf32")     # a no-op on the CPU
    assert torch.equal(a, b)
    with pytest.raises(ValueError):
        knn_search(Q, S, 3, device="cpu", precision="bf16")
    Q[3, 1] = float("nan")
    with pytest.raises(ValueError):
        knn_search(Q, S, 3, device="cpu", direct_max_dim=8)


def test_small_memory_budget_chunks_and_stays_exact():
    rng = np.random.default_rng(8)
    S = rng.integers(-2, 3, size=(300, 6)).astype(np.float32)
    ids = np.arange(300)
    # a budget of a few kB forces tiny query and support chunks
    idx, _ = knn_search(torch.from_numpy(S), torch.from_numpy(S), 9, exclude=self_positions(ids, ids),
                        device="cpu", memory_budget=40_000, support_chunk=50)
    ref, _ = brute_force(S, S, 9, np.arange(300))
    np.testing.assert_array_equal(idx.numpy(), ref)
