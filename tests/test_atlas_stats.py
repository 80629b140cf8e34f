"""Atlas statistics against hand-made cases, closed forms and scipy/sklearn."""
import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr
from sklearn.metrics import adjusted_rand_score, roc_auc_score

from pointwise.atlas.stats import (adjusted_rand, auroc, cramers_v, jaccard_top, spearman_bootstrap,
                                   spearman_matrix, top_set, weighted_mid_ranks)


def test_weighted_mid_ranks_equal_ranking_the_resample():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, 30).astype(float)          # many ties
    w = rng.multinomial(30, np.full(30, 1 / 30), size=4)
    r = weighted_mid_ranks(x, w)
    for b in range(4):
        resample = np.repeat(x, w[b])
        expected = rankdata(resample)
        # the copies of example i all get the rank of value x[i] in the resample
        got = np.repeat(r[b], w[b])
        assert np.allclose(got, expected)


def test_weighted_mid_ranks_hand_case():
    x = np.array([3.0, 1.0, 3.0, 2.0])
    assert weighted_mid_ranks(x, np.ones((1, 4)))[0].tolist() == [3.5, 1.0, 3.5, 2.0]
    # weights 0, 2, 1, 1: multiset {1, 1, 3, 2} -> ranks 1->1.5, 2->3, 3->4
    assert weighted_mid_ranks(x, np.array([[0, 2, 1, 1]]))[0, 1:].tolist() == [1.5, 4.0, 3.0]


def test_spearman_bootstrap_matches_scipy_and_covers():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    y = x + rng.normal(size=200)
    x[:10] = np.nan                                    # pairwise-complete examples only
    r = spearman_bootstrap(x, y, n_boot=300, rng=0)
    ok = ~np.isnan(x)
    assert r["n"] == 190
    assert r["rho"] == pytest.approx(spearmanr(x[ok], y[ok]).statistic, abs=1e-12)
    assert r["lo"] < r["rho"] < r["hi"] and r["hi"] - r["lo"] < 0.3
    # one bootstrap draw equals scipy on the materialised resample
    w = np.random.default_rng(5).multinomial(190, np.full(190, 1 / 190), size=1)
    from pointwise.atlas.stats import _weighted_pearson
    got = _weighted_pearson(weighted_mid_ranks(x[ok], w), weighted_mid_ranks(y[ok], w), w.astype(float))[0]
    assert got == pytest.approx(spearmanr(np.repeat(x[ok], w[0]), np.repeat(y[ok], w[0])).statistic, abs=1e-12)


def test_spearman_matrix_is_symmetric_with_unit_diagonal():
    import pandas as pd
    df = pd.DataFrame({"a": [1, 2, 3, 4, 5.0], "b": [5, 4, 3, 2, 1.0], "c": [1, np.nan, 2, 4, 3.0]})
    m = spearman_matrix(df, ["a", "b", "c"], n_boot=20)
    piv = m.pivot(index="a", columns="b", values="rho")
    assert np.allclose(piv.to_numpy(), piv.to_numpy().T)
    assert np.allclose(np.diag(piv.to_numpy()), 1)
    assert piv.loc["a", "b"] == pytest.approx(-1)
    assert int(m[(m.a == "a") & (m.b == "c")]["n"].iloc[0]) == 4


def test_auroc_hand_case_and_sklearn():
    # flagged scores {3, 2}, unflagged {1, 2}: pairs (3>1, 3>2, 2>1, 2=2) -> (1 + 1 + 1 + 0.5) / 4
    assert auroc([3, 2, 1, 2], [1, 1, 0, 0]) == pytest.approx(0.875)
    rng = np.random.default_rng(2)
    s, f = rng.integers(0, 6, 300).astype(float), rng.random(300) < 0.3
    assert auroc(s, f) == pytest.approx(roc_auc_score(f, s))
    assert np.isnan(auroc([1, 2], [0, 0]))
    assert auroc([1, np.nan, 3], [0, 1, 1]) == 1.0


def test_top_set_and_jaccard():
    ids = np.array([10, 11, 12, 13, 14])
    assert top_set([5, 4, 4, 1, 0], ids, 0.4) == {10, 11}           # tie at the cut -> lower id
    assert top_set([5, np.nan, 4, 1, 0], ids, 0.5) == {10, 12}      # ceil(0.5 * 4) = 2
    r = jaccard_top([5, 4, 3, 2, 1], [1, 4, 5, 2, 3], ids, 0.4)    # {10, 11} vs {11, 12}
    assert r == {"jaccard": pytest.approx(1 / 3), "n": 5, "k": 2}
    assert jaccard_top([1, np.nan], [np.nan, 1], ids[:2], 0.5)["n"] == 0


def test_cramers_v_and_adjusted_rand():
    assert cramers_v(np.diag([5, 7, 3])) == pytest.approx(1.0)
    assert cramers_v(np.outer([2, 3], [4, 1, 5])) == pytest.approx(0.0)
    # 2x2 closed form: V = |ad - bc| / sqrt((a+b)(c+d)(a+c)(b+d))
    a, b, c, d = 10, 4, 3, 8
    assert cramers_v([[a, b], [c, d]]) == pytest.approx(abs(a * d - b * c) / np.sqrt((a + b) * (c + d) * (a + c) * (b + d)))
    rng = np.random.default_rng(3)
    u, v = rng.integers(0, 3, 100), rng.integers(0, 4, 100)
    table = np.zeros((3, 4))
    np.add.at(table, (u, v), 1)
    assert adjusted_rand(table) == pytest.approx(adjusted_rand_score(u, v))
    assert adjusted_rand(np.diag([4, 4])) == pytest.approx(1.0)
