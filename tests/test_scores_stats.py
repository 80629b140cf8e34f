"""Paper 003 statistics (spec 003 §3.6-§3.11) against scipy/numpy and the §6.4 oracles."""
import numpy as np
import pytest
from scipy import stats

from pointwise.stats import (bonferroni_threshold, by_pair, by_score, capacity,
                             classify_runs, correlation_matrices, difficulty_pca,
                             example_sensitivity, fingerprint, fingerprint_table, fit_logistic,
                             model_pairs, pairwise_pvalues, param_ratio, pc1_combiner, pc1_weights,
                             pca, quantile_normal, random_selections, rank_change, rank_stability,
                             rankdata, spearman, spearman_matrix, split_disagreement,
                             summarize_stability, ttest_logp, variance_bins, variance_bins_table)


# ---------------------------------------------------------------- ranks and Spearman (§3.8)
def test_rankdata_average_and_random_ties():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, (40, 3)).astype(float)
    np.testing.assert_array_equal(rankdata(x, axis=0), stats.rankdata(x, axis=0))
    r = rankdata(x, axis=0, ties="random", rng=rng)
    for j in range(3):
        assert sorted(r[:, j]) == list(range(1, 41))
        # random tie-breaking stays within each tie block: mean per value = average rank
        for v in np.unique(x[:, j]):
            sel = x[:, j] == v
            assert r[sel, j].mean() == pytest.approx(stats.rankdata(x[:, j])[sel][0])
    with pytest.raises(ValueError):
        rankdata(x, ties="dense")


def test_spearman_matrix_against_scipy_with_ties():
    rng = np.random.default_rng(1)
    base = rng.normal(size=200)
    x = np.c_[base, np.round(base + rng.normal(0, 1, 200)), rng.integers(0, 3, 200),
              -base ** 3, rng.normal(size=200)]
    np.testing.assert_allclose(spearman_matrix(x), stats.spearmanr(x).statistic, atol=1e-12)
    y = x[:, :2] * 2 + 1
    np.testing.assert_allclose(spearman_matrix(x, y), stats.spearmanr(x, y).statistic[:5, 5:],
                               atol=1e-12)
    assert spearman(x[:, 0], x[:, 3]) == pytest.approx(-1.0)
    assert np.isnan(spearman_matrix(np.c_[np.ones(5), np.arange(5)])[0, 1])


# ---------------------------------------------------------------- t-test (§3.10)
@pytest.mark.parametrize("equal_var", [False, True])
def test_ttest_against_scipy(equal_var):
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, (20, 300))
    b = rng.normal(rng.uniform(0, 1.5, 300), rng.uniform(0.3, 2, 300), (17, 300))
    t, logp = ttest_logp(a, b, axis=0, equal_var=equal_var, floor=None)
    ref = stats.ttest_ind(a, b, axis=0, equal_var=equal_var)
    np.testing.assert_allclose(t, ref.statistic, rtol=1e-10)
    np.testing.assert_allclose(np.exp(logp), ref.pvalue, rtol=1e-8, atol=1e-300)
    # other axis orientation
    t2, logp2 = ttest_logp(a.T, b.T, axis=1, equal_var=equal_var, floor=None)
    np.testing.assert_allclose(logp2, logp)


def test_ttest_degenerate_cases_and_floor():
    a = np.array([[1.0, 1.0, 2.0, 0.0], [1.0, 1.0, 2.0, 0.5]])        # 2 runs x 4 tests
    b = np.array([[1.0, 3.0, 2.0, 1e9], [1.0, 3.0, 2.0, 1e9 + 1]])
    t, logp = ttest_logp(a, b, floor=None)
    assert logp[0] == 0.0 and t[0] == 0.0                             # both constant, same mean
    assert logp[1] == -np.inf and t[1] == -np.inf                     # constant, different means
    assert logp[2] == 0.0                                              # constant 2 vs 2
    _, lf = ttest_logp(a, b)                                           # default floor 1e-15
    assert lf[1] == pytest.approx(np.log(1e-15))
    assert (lf >= np.log(1e-15)).all() and (lf <= 0).all()
    # a very small P keeps its magnitude in log space (scipy's p underflows to 0 at float64)
    a = np.r_[np.zeros(20), 1e-3 * np.arange(20)].reshape(2, 20).T
    b = a + 1e8
    _, lp = ttest_logp(a, b, floor=None)
    assert stats.ttest_ind(a[:, 1], b[:, 1], equal_var=False).pvalue == 0.0
    assert np.isfinite(lp[1]) and lp[1] < np.log(np.finfo(float).tiny)
    with pytest.raises(ValueError):
        ttest_logp(np.ones((1, 3)), np.ones((2, 3)))


def test_log_t_sf_expansion_matches_scipy_where_both_work():
    from pointwise.stats.ttest import log_two_sided_t_sf
    for df in (2.0, 7.5, 38.0):
        # x = df / (df + t^2) around 1e-9 .. 1e-13: scipy still finite, the expansion in use
        t = np.sqrt(df / np.array([1e-9, 1e-11, 1e-13]))
        ref = np.log(2) + stats.t.logsf(t, df)
        assert np.isfinite(ref).all()
        np.testing.assert_allclose(log_two_sided_t_sf(t, df), ref, rtol=1e-9)
    # continuity across the switch and monotone decrease far beyond scipy's range
    t = np.geomspace(1.0, 1e200, 400)
    lp = log_two_sided_t_sf(t, 10.0)
    assert np.isfinite(lp).all() and (np.diff(lp) < 0).all()


# ---------------------------------------------------------------- quantile transform, PCA (§3.9)
def test_quantile_normal_properties():
    rng = np.random.default_rng(3)
    x = np.c_[rng.exponential(size=5000), rng.normal(size=5000) ** 3, rng.uniform(size=5000)]
    z = quantile_normal(x)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), 1, atol=5e-3)
    for j in range(3):                                                  # strictly monotone
        o = np.argsort(x[:, j])
        assert (np.diff(z[o, j]) > 0).all()
    # identical columns after any monotone map of the input
    np.testing.assert_allclose(quantile_normal(np.exp(x[:, :1]))[:, 0], z[:, 0])
    # ties share one value
    zt = quantile_normal(np.array([1.0, 2.0, 2.0, 3.0]))
    assert zt[1] == zt[2] and zt[0] < zt[1] < zt[3]


def test_pca_against_numpy_svd():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)) + rng.normal(size=5)
    res = pca(x)
    cov = np.cov(x, rowvar=False)
    ev, evec = np.linalg.eigh(cov)
    np.testing.assert_allclose(res.explained_variance, ev[::-1], rtol=1e-10)
    np.testing.assert_allclose(res.explained_ratio.sum(), 1.0)
    xc = x - x.mean(0)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    np.testing.assert_allclose(np.abs(res.loadings), np.abs(vt.T), atol=1e-10)
    np.testing.assert_allclose(res.scores @ res.loadings.T, xc, atol=1e-10)
    assert (res.loadings.sum(axis=0) > 0).all()                         # sign convention
    np.testing.assert_allclose(res.loadings.T @ res.loadings, np.eye(5), atol=1e-10)


def test_difficulty_pca_rank_one_oracle():
    rng = np.random.default_rng(5)
    u = rng.normal(size=1000)
    # 6 scores, all monotone functions of one latent difficulty
    x = np.c_[u, np.exp(u), u ** 3, 2 * u + 7, np.tanh(u), np.arctan(u)]
    res = difficulty_pca(x)
    assert res.explained_ratio[0] == pytest.approx(1.0, abs=1e-10)
    np.testing.assert_allclose(res.loadings[:, 0], 1 / np.sqrt(6), atol=1e-8)
    eq = res.equal_weighting()
    assert eq["same_sign"] and eq["cosine_uniform"] == pytest.approx(1.0)
    # PCA 1 as a score is then rank-identical to the latent
    w1 = pc1_weights(x)
    assert spearman(pc1_combiner(w1)(x), u) == pytest.approx(1.0)


# ---------------------------------------------------------------- Figure 2 (§3.6)
def test_variance_bins_by_hand():
    # 2 runs, 6 examples, 3 bins of 2; means 0..5 in reverse order of index
    S = np.array([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0], [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]])
    S[1] += np.array([1, -1, 1, -1, 1, -1]) * 0.5
    S[0] -= np.array([1, -1, 1, -1, 1, -1]) * 0.5
    df = variance_bins(S, n_bins=3)
    assert list(df.rank_hi) == [2, 4, 6] and list(df.n_examples) == [2, 2, 2]
    np.testing.assert_allclose(df.center_mean, [0.5, 2.5, 4.5])            # easy on the left
    np.testing.assert_allclose(df.between_run_sd, [np.sqrt(0.5)] * 3)
    np.testing.assert_allclose(df.between_example_sd, [np.sqrt(0.5)] * 3)
    np.testing.assert_allclose(df.q05, [np.quantile([-0.5, 1.5, 0.5, 0.5], 0.05),
                                        np.quantile([1.5, 3.5, 2.5, 2.5], 0.05),
                                        np.quantile([3.5, 5.5, 4.5, 4.5], 0.05)])
    df2 = variance_bins(S, bin_size=4)
    assert list(df2.n_examples) == [4, 2]
    cube = np.stack([S, -S], axis=-1)
    t = variance_bins_table(cube, ["a", "b"], n_bins=3)
    assert list(t.score.unique()) == ["a", "b"] and len(t) == 6


# ---------------------------------------------------------------- Figure 3 (§3.7)
def test_rank_stability_oracles():
    rng = np.random.default_rng(6)
    n = 4000
    a = rng.random(n)
    assert (rank_change(a, a) == 0).all() and split_disagreement(a, a) == 0
    b = rng.random(n)
    assert np.median(rank_change(a, b)) == pytest.approx(1 - 1 / np.sqrt(2), abs=0.02)
    assert split_disagreement(a, b) == pytest.approx(0.5, abs=0.03)
    # identical runs -> zero everywhere
    same = np.broadcast_to(a, (6, n))
    df = rank_stability(same, names=["x"], n_runs=(1, 2, 3, 4), reps=3)
    assert set(df.n_runs) == {1, 2, 3}                                     # n <= R // 2
    assert (df[["median_abs_rank", "q95_abs_rank", "split_disagree"]] == 0).all().all()
    # independent noise runs at n = 1 -> the independent-scores oracle
    noise = rng.random((4, n, 2))
    df = rank_stability(noise, names=["u", "v"], n_runs=(1, 2), reps=4)
    one = df[df.n_runs == 1]
    assert one.median_abs_rank.mean() == pytest.approx(0.2929, abs=0.02)
    assert one.split_disagree.mean() == pytest.approx(0.5, abs=0.03)
    s = summarize_stability(df)
    assert {"median_abs_rank_lo", "q95_abs_rank_hi"} <= set(s.columns) and len(s) == 4


def test_rank_stability_decreases_with_runs_and_combiner():
    rng = np.random.default_rng(7)
    true = rng.normal(size=1500)
    S = true[None, :, None] + rng.normal(0, 1.0, (16, 1500, 3))
    df = rank_stability(S, names=list("abc"), n_runs=(1, 2, 4, 8), reps=5, seed=1)
    m = df.groupby("n_runs").median_abs_rank.mean()
    assert (np.diff(m.to_numpy()) < 0).all()
    # deterministic given the seed
    df2 = rank_stability(S, names=list("abc"), n_runs=(1, 2, 4, 8), reps=5, seed=1)
    assert df.equals(df2)
    w1 = pc1_weights(S.mean(0))
    dp = rank_stability(S, combine=pc1_combiner(w1), n_runs=(1, 4), reps=3)
    assert list(dp.score.unique()) == ["pca1"]
    # random tie-breaking on a discrete score
    dr = rank_stability(np.round(S), names=list("abc"), n_runs=(2,), reps=2, ties="random")
    assert dr.median_abs_rank.gt(0).all()


# ---------------------------------------------------------------- Figure 4 (§3.8)
def test_correlation_matrices_identities_and_scipy():
    rng = np.random.default_rng(8)
    r, n = 5, 120
    latent = rng.normal(size=n)
    S = latent[None, :, None] * np.array([1.0, 0.5, 2.0]) + rng.normal(0, 1, (r, n, 3))
    S[..., 2] = np.round(S[..., 2])                                          # ties
    ens = np.c_[latent + rng.normal(0, 0.5, n), rng.normal(size=n)]
    cm = correlation_matrices(S, ["a", "b", "c"], ens, ["agr", "ret"])
    means = np.c_[S.mean(0), ens]
    np.testing.assert_allclose(cm.mean_mean, stats.spearmanr(means).statistic, atol=1e-12)
    # mean-run: direct loop with scipy
    mr = np.array([[np.mean([stats.spearmanr(means[:, a], S[q, :, b]).statistic
                             for q in range(r)]) for b in range(3)] for a in range(5)])
    np.testing.assert_allclose(cm.mean_run[:, :3], mr, atol=1e-12)
    rr = np.array([[np.mean([stats.spearmanr(S[q, :, a], S[q, :, b]).statistic
                             for q in range(r)]) for b in range(3)] for a in range(3)])
    np.testing.assert_allclose(cm.run_run[:3, :3], rr, atol=1e-12)
    # §6.4 identities: centre diagonal = rho_bar - 1, right diagonal = 1 - rho_bar
    rho_bar = np.diag(mr[:3])
    np.testing.assert_allclose(np.diag(cm.mean_run_delta)[:3], rho_bar - 1, atol=1e-12)
    np.testing.assert_allclose(np.diag(cm.run_run_delta)[:3], 1 - rho_bar, atol=1e-12)
    # blanks: centre columns and right rows/columns of the ensemble-only scores
    assert np.isnan(cm.mean_run_delta[:, 3:]).all() and not np.isnan(cm.mean_run_delta[:, :3]).any()
    assert np.isnan(cm.run_run_delta[3:]).all() and np.isnan(cm.run_run_delta[:, 3:]).all()
    f = cm.frames()
    assert list(f["mean_mean"].index) == ["a", "b", "c", "agr", "ret"]
    # leave-one-out option
    lo = correlation_matrices(S, ["a", "b", "c"], loo=True)
    loo_rho = np.mean([stats.spearmanr((S.sum(0) - S[q])[:, 0] / (r - 1), S[q, :, 0]).statistic
                       for q in range(r)])
    assert lo.mean_run[0, 0] == pytest.approx(loo_rho, abs=1e-12)


# ---------------------------------------------------------------- Figure 6 (§3.10)
def test_pairwise_pvalues_and_summaries():
    rng = np.random.default_rng(9)
    n, k = 50, 2
    models = ["r", "rw", "rd", "v", "vn", "vs"]
    per_run = {m: rng.normal(size=(6 if m not in ("r", "v") else 8, n, k)) for m in models}
    per_run["v"][:, :5] += 4.0                                   # 5 examples differ for VGG
    pv = pairwise_pvalues(per_run)
    assert len(pv["pairs"]) == 15 and pv["pairs"] == model_pairs(models)
    assert pv["logp"].shape == (15, k, n)
    j = pv["pairs"].index(("r", "v"))
    ref = stats.ttest_ind(per_run["r"], per_run["v"], axis=0, equal_var=False)
    np.testing.assert_allclose(pv["t"][j], ref.statistic.T, rtol=1e-10)
    np.testing.assert_allclose(np.exp(pv["logp"][j]), np.maximum(ref.pvalue.T, 1e-15), rtol=1e-8)
    thr = bonferroni_threshold(0.01, n)
    assert bonferroni_threshold(0.01, 50_000) == pytest.approx(15.42, abs=0.01)
    bs = by_score(pv["neglogp"], ["s0", "s1"], thr)
    bp = by_pair(pv["neglogp"], pv["pairs"], thr)
    assert len(bs) == 2 and len(bp) == 15
    assert bp.set_index("pair").loc["r-v", "mean_neglogp"] > bp.set_index("pair").loc["r-rw", "mean_neglogp"]
    params = dict(zip(models, [100, 1600, 170, 5400, 340, 3400]))
    cap, rho = capacity(pv["neglogp"], pv["pairs"], params)
    assert cap.set_index("pair").loc["r-v", "param_ratio"] == pytest.approx(54.0)
    np.testing.assert_allclose(cap.geomean_p, np.exp(-cap.mean_neglogp))
    assert -1 <= rho <= 1 and param_ratio(10, 5) == 2.0
    sens = example_sensitivity(pv["neglogp"], k=5)
    assert set(sens.idx[sens.is_top]) == set(range(5))
    assert sens.set_index("idx").loc[list(range(5)), "rank"].max() == 5


def test_example_sensitivity_tie_breaking():
    nl = np.zeros((1, 1, 6))
    nl[0, 0] = [3.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    diff = np.array([0, 5, 2, 9, 1, 1])
    s = example_sensitivity(nl, difficulty=diff, k=2)
    assert list(s.idx[s.is_top]) == [0, 2]              # tie 1 vs 2 -> lower difficulty (idx 2)
    assert list(s.idx[s.is_bottom]) == [4, 5]           # ties at 0 -> lower difficulty, then index
    assert list(s.sort_values("rank").idx[:3]) == [0, 2, 1]


# ---------------------------------------------------------------- Figure 1 (§3.11)
def test_logistic_separable_and_noise():
    rng = np.random.default_rng(10)
    xa, xb = rng.normal(0, 1, (40, 8)), rng.normal(0, 1, (40, 8))
    xb[:, 0] += 10                                                       # perfectly separable
    tr, te = classify_runs(xa[:20], xb[:20], xa[20:], xb[20:])
    assert tr == 1.0 and te == 1.0
    m = fit_logistic(np.r_[xa[:20], xb[:20]], np.r_[np.zeros(20), np.ones(20)])
    assert m.train_loss < 1e-5 and np.isfinite(m.coef).all()
    accs = []
    for _ in range(40):
        x = rng.normal(size=(80, 8))
        accs.append(classify_runs(x[:20], x[20:40], x[40:60], x[60:])[1])
    assert np.mean(accs) == pytest.approx(0.5, abs=0.06)
    # constant features: no crash, chance-level prediction
    z = np.zeros((20, 3))
    assert classify_runs(z, z, z, z)[1] == 0.5
    # agreement with an unregularised fit on overlapping classes (sklearn, large C)
    from sklearn.linear_model import LogisticRegression
    x = rng.normal(size=(60, 3))
    y = (x[:, 0] + rng.normal(0, 1, 60) > 0).astype(int)
    mine = fit_logistic(x, y, standardize=False)
    ref = LogisticRegression(C=1e6, max_iter=10000, tol=1e-12).fit(x, y)
    np.testing.assert_allclose(mine.coef, ref.coef_[0], rtol=1e-4)


def test_fingerprint_end_to_end():
    rng = np.random.default_rng(11)
    n, k_scores = 200, 2
    models = ["r", "v", "rw"]
    runs = {"r": 40, "v": 40, "rw": 20}
    latent = rng.normal(size=n)
    per_run = {m: latent[None, :, None] + rng.normal(0, 1, (runs[m], n, k_scores)) for m in models}
    per_run["v"][:, :8] += 3.0                           # 8 examples sensitive to VGG vs ResNet
    per_run["rw"][:, 100:110] += 0.5
    # scores of examples 190..199 identical in every run of every model (insensitive)
    for m in models:
        per_run[m][:, 190:] = latent[190:, None]
    select = {"r": range(20), "v": range(20), "rw": range(20)}
    test = {"r": range(20, 40), "v": range(20, 40)}
    table, sens = fingerprint(per_run, select, ("r", "v"), test, ["s0", "s1"], k=8, n_random=10,
                              concat=True)
    assert set(sens.idx[sens.is_top]) == set(range(8))
    assert set(sens.idx[sens.is_bottom]) <= set(range(190, 200))
    mean = table.groupby(["selection", "score"]).test_acc.mean()
    assert (mean["top"] == 1.0).all()
    assert (mean["bottom"] == 0.5).all()                 # constant features -> chance
    assert mean["random"].mean() < 0.9
    assert set(table.score) == {"s0", "s1", "all"}
    assert (table[table.selection == "random"].draw.nunique()) == 10
    with pytest.raises(ValueError, match="overlap"):
        fingerprint_table(per_run["r"], per_run["v"], range(20), range(10, 30), range(20),
                          range(20, 40), {"top": np.arange(8)}, ["s0", "s1"])
    draws = random_selections(n, 8, 3, seed=1)
    assert len(draws) == 3 and all(len(set(d)) == 8 for d in draws)
