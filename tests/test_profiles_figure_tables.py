"""Paper 000 figure tables: accuracy-on-the-line per checkpoint (Fig. 2, claim C14), the example
pickers of Figs. 2/3/6/13/14 and the theory curves (spec §6)."""
import h5py
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from pointwise.io import read_csv
from pointwise.profiles import accline, examples
from pointwise.profiles.figure_tables import global_tables
from pointwise.profiles.theory import bayes, skills
from pointwise.profiles.theory.curves import theory_curves


# --- accuracy on the line ---------------------------------------------------------------------

def test_subset_accuracy_by_hand():
    c = np.zeros((1, 2, 4), bool)
    c[0, 0] = [1, 0, 1, 1]
    c[0, 1] = [1, 1, 0, 0]
    a = accline.subset_accuracy(c, {"all": np.ones(4, bool), "sub": np.array([1, 1, 0, 0], bool),
                                    "none": np.zeros(4, bool)})
    np.testing.assert_allclose(a["all"], [[0.75, 0.5]])
    np.testing.assert_allclose(a["sub"], [[0.5, 1.0]])
    assert np.isnan(a["none"]).all()


def test_line_fit_recovers_a_probit_line():
    x = np.linspace(0.3, 0.9, 20)
    y = norm.cdf(1.7 * norm.ppf(x) - 0.4)
    f = accline.line_fit(x, y)
    assert f["slope_probit"] == pytest.approx(1.7) and f["intercept_probit"] == pytest.approx(-0.4)
    assert f["r_probit"] == pytest.approx(1.0) and f["spearman"] == pytest.approx(1.0)
    assert f["resid_sd_probit"] == pytest.approx(0.0, abs=1e-12) and f["n_points"] == 20
    assert f["r_linear"] < 1.0                      # curved in linear axes
    flat = accline.line_fit(np.full(5, 0.5), np.linspace(0.1, 0.9, 5))
    assert np.isnan(flat["slope_probit"]) and np.isnan(flat["spearman"])


def _acc_rows(model, ev, sub, values):
    v = np.asarray(values, float)
    return pd.DataFrame({"model": model, "run": np.repeat(np.arange(v.shape[0]), v.shape[1]),
                         "k": np.tile(np.arange(v.shape[1]), v.shape[0]), "evalset": ev, "subset": sub,
                         "accuracy": v.ravel()})


def test_line_table_pairs_points_and_pools_groups():
    xa, xb = np.array([[0.5, 0.6, 0.7]]), np.array([[0.55, 0.65, 0.8]])
    acc = pd.concat([_acc_rows("a", "ref", "all", xa), _acc_rows("b", "ref", "all", xb),
                     _acc_rows("a", "ood", "all", norm.cdf(norm.ppf(xa) - 0.5)),
                     _acc_rows("b", "ood", "all", norm.cdf(norm.ppf(xb) - 0.5)),
                     _acc_rows("a", "ref", "superclass", xa[:, ::-1]),
                     _acc_rows("b", "ref", "superclass", xb)])
    t = accline.line_table(acc, "ref", {"a": ["a"], "pool": ["a", "b"]})
    assert set(zip(t["evalset"], t["subset"])) == {("ood", "all"), ("ref", "superclass")}
    row = t[(t["group"] == "pool") & (t["evalset"] == "ood")].iloc[0]
    assert row["n_points"] == 6 and row["r_probit"] == pytest.approx(1.0)
    assert row["intercept_probit"] == pytest.approx(-0.5) and row["slope_probit"] == pytest.approx(1.0)
    rev = t[(t["group"] == "a") & (t["subset"] == "superclass")].iloc[0]
    assert rev["spearman"] == pytest.approx(-1.0) and rev["n_points"] == 3


def test_line_claim_is_the_smallest_scratch_r():
    line = pd.DataFrame({"kind": ["regime", "regime", "regime", "model"],
                         "group": ["scratch", "scratch", "pretrained", "scratch"],
                         "evalset": ["ood", "ood", "ood", "ood"], "subset": ["all", "superclass", "all", "all"],
                         "r_probit": [0.97, 0.93, 0.2, 0.1], "slope_probit": 1.0, "spearman": 0.9,
                         "n_points": 10})
    c = accline.line_claim(line, [0, 2])
    assert c.measured == pytest.approx(0.93) and c.result == "PASS" and "pretrained" in c.note
    line.loc[1, "r_probit"] = 0.5
    assert accline.line_claim(line, [0]).result == "FAIL"
    assert accline.line_claim(line[line["group"] != "scratch"], [0]).result == "NO DATA"
    assert accline.line_claim(None, [0]).result == "NO DATA"


def test_global_tables_from_logits_files(tmp_path):
    """Run r predicts the label on the first r+k+1 examples at checkpoint k (step 0 dropped)."""
    R, K, N, C = 2, 3, 6, 3
    labels = np.array([0, 1, 2, 0, 1, 2])
    paths = []
    for r in range(R):
        logits = np.zeros((K + 1, N, C), np.float16)
        for k in range(K + 1):
            right = np.arange(N) < r + k
            pred = np.where(right, labels, (labels + 1) % C)
            logits[k] = np.eye(C)[pred] * 3
        p = tmp_path / f"run{r}.h5"
        with h5py.File(p, "w") as f:
            f["steps"], f["epochs"] = np.arange(K + 1) * 10, np.arange(K + 1) / 2
            for ev in ("test", "ood"):
                g = f.create_group(ev)
                g["logits"], g["ids"], g["labels"] = logits, np.arange(N) + 7, labels
        paths.append(str(p))
    s = {"models": {"m": {"experiment": "e", "arch": "a", "regime": "scratch"}}, "reference": "test",
         "ladder": ["test", "ood"], "superclass": [0]}
    acc, line = global_tables({"m": paths}, s, tmp_path / "acc.csv", tmp_path / "line.csv")
    t = acc[(acc["evalset"] == "test") & (acc["subset"] == "all")]
    assert len(t) == R * K and list(t["step"][:K]) == [10, 20, 30]
    np.testing.assert_allclose(t["accuracy"], [(r + k) / N for r in range(R) for k in range(1, K + 1)])
    sc = acc[(acc["evalset"] == "ood") & (acc["subset"] == "superclass")]
    assert (sc["n"] == 2).all()          # examples 0 and 3 have label 0
    np.testing.assert_allclose(sc["accuracy"], [((r + k) > 0) * 0.5 + ((r + k) > 3) * 0.5
                                                for r in range(R) for k in range(1, K + 1)])
    assert set(line["kind"]) == {"model", "regime"}
    ood = line[(line["evalset"] == "ood") & (line["subset"] == "all")]
    np.testing.assert_allclose(ood["r_probit"], 1.0)
    assert len(read_csv(tmp_path / "acc.csv")) == len(acc) == 2 * 2 * R * K


# --- example pickers ---------------------------------------------------------------------------

def _scores(cats, nmono, l2):
    l2 = np.asarray(l2, float)
    return pd.DataFrame({"category": cats, "nmono_acc": nmono, "l2_easy": l2[:, 0], "l2_hard": l2[:, 1],
                         "l2_compat": l2[:, 2], "source_id": np.arange(len(cats)) + 50})


def test_taxonomy_picks_by_hand():
    s = _scores(["easy", "non-monotone", "easy", "compatible", "non-monotone", "compatible"],
                [0, 0.3, 0, 0.05, 0.5, 0.02],
                [[0.2, 0.9, 0.5], [0.5, 0.5, 0.5], [0.1, 0.9, 0.5], [0.6, 0.4, 0.1], [0.5, 0.5, 0.4],
                 [0.6, 0.4, 0.1]])
    assert examples.taxonomy_picks(s) == {"non-monotone": 4, "easy": 2, "compatible": 3}   # tie: lower row


def test_zoom_and_pretraining_picks():
    a = _scores(["compatible", "compatible", "hard", "compatible"], [0] * 4,
                [[0, 0, 0.3], [0, 0, 0.1], [0, 0, 0.0], [0, 0, 0.2]])
    b = _scores(["compatible", "easy", "hard", "compatible"], [0] * 4,
                [[0, 0, 0.3], [0, 0, 0.0], [0, 0, 0.0], [0, 0, 0.25]])
    assert examples.zoom_pick([a, b]) == 3          # row 1 is not compatible under b
    none = _scores(["hard"] * 2 + [None], [0] * 3, [[0, 0, 0.4], [0, 0, 0.3], [0, 0, 0.0]])
    assert examples.zoom_pick([none]) == 1          # no compatible row: nearest to p among classified
    s = _scores(["easy"] * 3, [0.1, 0.6, 0.6], [[0, 0, 0]] * 3)
    p = _scores(["easy"] * 3, [0.0, 0.1, 0.0], [[0, 0, 0]] * 3)
    assert examples.pretraining_pick(s, p) == 2


def test_random_picks():
    r = examples.random_picks(30, 10, seed=3)
    assert len(set(r)) == 10 and np.all(np.diff(r) > 0) and r.max() < 30
    np.testing.assert_array_equal(r, examples.random_picks(30, 10, seed=3))
    assert len(examples.random_picks(4, 10)) == 4


def test_top_distinct_and_neg_pick():
    key = np.array([0.2, np.nan, 0.5, 0.5, 0.1, np.inf])
    assert examples.top_distinct(key, 3) == [2, 3, 0]            # NaN/inf out; tie: lower position
    assert examples.top_distinct(key, 2, exclude=[2]) == [3, 0]
    assert examples.top_distinct(key, 0) == [] and examples.top_distinct(key, 9) == [2, 3, 0, 4]
    assert examples.neg_pick([0.3, 0.7, 0.7, 0.1]) == 1
    with pytest.raises(ValueError):
        examples.neg_pick([np.nan])


def test_gallery_picks_by_hand():
    s = _scores(["non-monotone", "easy", "non-monotone", "hard", "compatible", "easy"],
                [0.6, 0.0, 0.3, 0.05, 0.02, 0.01],
                [[0.5, 0.5, 0.5], [0.1, 0.9, 0.5], [0.5, 0.5, 0.5], [0.9, 0.1, 0.5], [0.5, 0.5, 0.2],
                 [0.3, 0.9, 0.5]])
    s["nmono_negent"] = [0.9, 0.8, 0.1, 0.0, 0.4, np.nan]
    g = examples.gallery_picks(s, 2)
    # accuracy: rows 0, 2; negative entropy: 0 is shown already -> 1, 4; prototypes: non-monotone
    # (row 0), easy (row 1) and compatible (row 4) shown already -> hard (row 3)
    assert g == [("nmono_acc top 1", 0), ("nmono_acc top 2", 2), ("nmono_negent top 1", 1), ("nmono_negent top 2", 4),
                 ("prototype: hard", 3)]
    assert [r for _, r in examples.gallery_picks(s, 0)] == [0, 1, 3, 4]   # prototypes only, category order
    rows = [r for _, r in examples.gallery_picks(s, 10)]
    assert len(rows) == len(set(rows)) == 6


def _switch_profiles():
    """4 points, G = 7 on [0.2, 0.8], C = 3. Point 0 switches 0 -> 1 (label 1) with masses 0.6
    and 0.7; point 1 switches 2 -> 0 (label 1: late class wrong) more sharply; point 2 keeps
    class 1; point 3 keeps class 1 but for class 2 at the middle point, outside both bands."""
    grid = np.linspace(0.2, 0.8, 7)
    sm = np.zeros((4, 7, 3))
    sm[0, :3] = [0.6, 0.3, 0.1]
    sm[0, 3] = [0.4, 0.4, 0.2]
    sm[0, 4:] = [0.2, 0.7, 0.1]
    sm[1, :4] = [0.0, 0.05, 0.95]
    sm[1, 4:] = [0.95, 0.05, 0.0]
    sm[2] = [0.1, 0.8, 0.1]
    sm[3] = [0.1, 0.8, 0.1]
    sm[3, 3] = [0.0, 0.0, 1.0]
    return grid, sm, np.array([1, 1, 1, 1])


def test_band_masks_and_means():
    grid, sm, _ = _switch_profiles()
    lo, hi = examples.band_masks(grid, 1 / 3)
    np.testing.assert_array_equal(lo, [1, 1, 1, 0, 0, 0, 0])       # p <= 0.4 (3 of 7 points)
    np.testing.assert_array_equal(hi, [0, 0, 0, 0, 1, 1, 1])       # p >= 0.6
    lo_m, hi_m = examples.band_means(grid, sm, 1 / 3)
    np.testing.assert_allclose(lo_m[0], [0.6, 0.3, 0.1]) and np.testing.assert_allclose(hi_m[0], [0.2, 0.7, 0.1])
    one_lo, _ = examples.band_means(grid, sm[1], 0.5)                # a single profile, half the axis
    np.testing.assert_allclose(one_lo, [0.0, 0.05, 0.95])
    lo, hi = examples.band_masks(grid, 0.01)
    assert lo.sum() == hi.sum() == 1                                  # each end point at least
    for bad in (0, 0.6):
        with pytest.raises(ValueError):
            examples.band_masks(grid, bad)


def test_switch_scores_and_pick():
    grid, sm, labels = _switch_profiles()
    c_lo, c_hi, score = examples.switch_scores(grid, sm, 1 / 3)
    np.testing.assert_array_equal(c_lo, [0, 2, 1, 1]) and np.testing.assert_array_equal(c_hi, [1, 0, 1, 1])
    np.testing.assert_allclose(score, [0.6 * 0.7, 0.95 * 0.95, 0, 0])
    assert examples.switch_pick(grid, sm, labels, 1 / 3) == 0          # late class = label beats a sharper switch
    assert examples.switch_pick(grid, sm, np.array([1, 0, 1, 1]), 1 / 3) == 1
    assert examples.switch_pick(grid, sm, np.array([2, 2, 2, 2]), 1 / 3) == 1   # none right late: best switch
    # half-axis bands share the middle point: point 0's masses are diluted by its tie there
    c_lo, c_hi, score = examples.switch_scores(grid, sm, 0.5)
    assert (c_lo[0], c_hi[0]) == (0, 1) and score[0] == pytest.approx(0.55 * 0.625)
    assert examples.switch_pick(grid, sm[2:3], labels[:1], 1 / 3) is None        # nothing switches
    nan = sm.copy()
    nan[0] = np.nan
    _, _, score = examples.switch_scores(grid, nan, 1 / 3)
    assert np.isnan(score[0]) and examples.switch_pick(grid, nan, labels, 1 / 3) == 1


# --- theory curves ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def curves():
    return theory_curves(8, 12, n_points=300, seed=0)


def _series(c, figure, panel):
    sub = c[(c["figure"] == figure) & (c["panel"] == panel)]
    return {k: (g["x"].to_numpy(), g["y"].to_numpy()) for k, g in sub.groupby("series", sort=False)}


def test_skills_curves_match_the_closed_forms(curves):
    prof = _series(curves, "skills", "profiles")
    closed = {k: v for k, v in prof.items() if "closed form" in k}
    assert len(closed) == 3
    for name, (x, y) in closed.items():
        d = float(name.split()[0][2:])          # rounded to 0.005: A moves by at most 0.005 * phi(0)
        np.testing.assert_allclose(y, skills.profile_closed_form(x, [d], run_sd=skills.RUN_SD)[0], atol=2.1e-3)
        assert np.all(np.diff(y) >= 0)
    for x, y in _series(curves, "skills", "probit").values():      # straight lines in probit axes
        slope = np.diff(y) / np.diff(x)
        np.testing.assert_allclose(slope, np.sqrt(2 + skills.RUN_SD ** 2) / np.sqrt(1 + skills.RUN_SD ** 2))
    surv = _series(curves, "skills", "survival")
    for x, y in surv.values():
        assert y[0] == 1.0 and np.all(np.diff(y) <= 0)
    # conflict points of the mixture are non-monotone far above the skills model's noise floor
    t = np.flatnonzero(surv["mixture: conflict points"][0] == 0.1)[0]
    assert surv["mixture: conflict points"][1][t] > 3 * surv["skills model (noise floor)"][1][t]


def test_manifold_and_bayes_curves(curves):
    err = _series(curves, "manifold", "error")
    for d in (2, 4):
        worst = next(v for k, v in err.items() if k.startswith(f"d={d} worst"))
        bound = next(v for k, v in err.items() if k.startswith(f"d={d} bound"))
        np.testing.assert_array_equal(worst[0], bound[0])
        assert np.all(worst[1] <= bound[1])
        np.testing.assert_allclose(bound[1] * bound[0] ** (1 / d), bound[1][0] * bound[0][0] ** (1 / d))
    gp = _series(curves, "bayes", "gp")
    mc, cf = gp["accuracy (Monte Carlo)"][1], gp["accuracy (arcsin closed form)"][1]
    assert np.abs(mc - cf).max() < 0.03 and np.all(np.diff(cf) >= -1e-9)
    bb = _series(curves, "bayes", "beta_bernoulli")
    ex = bayes.beta_bernoulli_exact(2.0, 3.0, 12)
    np.testing.assert_allclose(bb["Bayes accuracy"][1], ex["acc"])
    np.testing.assert_allclose(bb["E H(p_n)"][1], ex["entropy"])
    pri = _series(curves, "bayes", "priors")
    for name, (_, y) in pri.items():
        if "correct prior" in name:
            assert np.all(np.diff(y) >= -1e-9)
    assert any(np.any(np.diff(y) < -1e-6) for k, (_, y) in pri.items() if "lengthscale" in k)
