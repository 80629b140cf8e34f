"""Paper 000 (learning profiles) in the test-scale DAG: every table, figure and the claims file are
file targets with consistent contents and provenance, and one figure regenerates alone."""
import shutil

import h5py
import numpy as np
import pytest

from pointwise.io import read_csv, read_csv_provenance
from pointwise.profiles import examples
from pointwise.profiles.taxonomy import CATEGORIES

from conftest import ROOT
from test_workflow import snakemake

pytestmark = pytest.mark.workflow

RES = "results/test"
T = f"{RES}/tables/profiles"
MODELS = {"scratch_mlp": "scratch", "scratch_cnn": "scratch", "pretrained_mlp": "pretrained",
          "pretrained_cnn": "pretrained"}
SETS = ("test", "noise2")
N = {"test": 80, "noise2": 80, "train": 200}     # synth_pool: 20 test / 50 train images per class, 4 classes
RUNS = 4
FIGS = ("profile_matrix", "fig2_zoom", "fig3_taxonomy", "taxonomy_pies", "fig5_pies", "fig6_survival",
        "fig7_neg", "fig7c_neg_profile", "fig8_gallery", "fig9_global_local", "fig10_survival",
        "fig11_distance", "fig12_aoc", "fig13_neg_samples", "fig14_test_samples", "theory_skills",
        "theory_manifold", "theory_bayes")


@pytest.fixture(scope="module")
def wd(tmp_path_factory):
    """The paper-000 targets of the test scale (and what they need), built once."""
    wd = tmp_path_factory.mktemp("profiles_wf")
    shutil.copy(ROOT / "configs" / "test.yaml", wd / "test.yaml")
    out = snakemake(*[f"{RES}/figures/profiles/{f}.{e}" for f in FIGS for e in ("pdf", "png")],
                    f"{RES}/claims/profiles.csv", f"{T}/neg/indices.csv",
                    *[f"{T}/scores/{m}/train.csv" for m in MODELS],
                    "--configfile", "test.yaml", cwd=wd)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return wd


def table(wd, name):
    return read_csv(wd / T / name)


def test_every_figure_exists(wd):
    for f in FIGS:
        for ext in ("pdf", "png"):
            assert (wd / RES / "figures" / "profiles" / f"{f}.{ext}").stat().st_size > 1000, (f, ext)
    assert (wd / RES / "benchmarks" / "profiles" / "figures" / "fig2_zoom.tsv").exists()


def test_scores_and_profiles_agree(wd):
    for m in MODELS:
        for ev in (*SETS, "train"):
            s = table(wd, f"scores/{m}/{ev}.csv")
            assert len(s) == N[ev] and s["source_id"].is_unique
            assert s["nmono_acc"].dropna().between(0, 1).all()
            assert s["nmono_negent"].dropna().between(0, np.log(4) + 1e-6).all()
            assert read_csv_provenance(wd / T / f"scores/{m}/{ev}.csv")["n_runs"] == RUNS
            if ev == "train":       # held-out profiles: only the runs that held an example out
                assert s["n_heldout"].between(0, RUNS).all()
                assert s.loc[s["n_heldout"] == 0, "category"].isna().all()
                continue
            assert set(s["category"]) <= set(CATEGORIES)
            with h5py.File(wd / T / f"profiles/{m}/{ev}.h5") as f:
                np.testing.assert_array_equal(f["ids"][()], s["source_id"])
                acc, sm, grid = f["acc"][()], f["softmax"][()], f["grid"][()]
                assert acc.shape == (N[ev], 50) and sm.shape == (N[ev], 50, 4)
                assert np.all(np.diff(grid) >= 0) and np.all((acc >= -1e-6) & (acc <= 1 + 1e-6))
                np.testing.assert_allclose(sm.sum(-1), 1, atol=1e-4)
                np.testing.assert_allclose(np.maximum(-np.diff(acc, axis=1), 0).sum(1), s["nmono_acc"], atol=1e-4)
                assert "config_hash" in f.attrs


def test_summary_tables_match_the_scores(wd):
    fr, sv, sm = table(wd, "taxonomy_fractions.csv"), table(wd, "nmono_survival.csv"), table(wd, "summary.csv")
    assert len(sm) == len(MODELS) * len(SETS)
    for m in MODELS:
        for ev in SETS:
            s = table(wd, f"scores/{m}/{ev}.csv")
            f = fr[(fr["model"] == m) & (fr["evalset"] == ev)].set_index("category")
            assert f["fraction"].sum() == pytest.approx(1.0)
            for c in CATEGORIES:
                assert f.loc[c, "count"] == (s["category"] == c).sum()
            row = sm[(sm["model"] == m) & (sm["evalset"] == ev)].iloc[0]
            assert row["frac_nonmono_acc"] == pytest.approx((s["nmono_acc"] > 0.1).mean())
            assert row["final_acc"] == pytest.approx(s["final_acc"].mean())
            assert row["n_runs"] == RUNS and 0 <= row["noise_floor"] <= 1
            for stat in ("acc", "negent", "softacc"):
                c = sv[(sv["model"] == m) & (sv["evalset"] == ev) & (sv["stat"] == stat)].sort_values("t")
                assert c["frac_ge_t"].iloc[0] == 1.0 and np.all(np.diff(c["frac_ge_t"]) <= 0)


def test_distance_aoc_and_neg(wd):
    d = table(wd, "profile_distance.csv")
    assert len(d) == 3 * len(MODELS) ** 2
    tv = d[d["metric"] == "tv"]
    assert tv["value"].dropna().between(0, 1).all()
    assert (tv.loc[tv["T1"] == tv["T2"], "value"].abs() < 1e-9).all()     # all runs vs themselves
    assert (d.loc[d["metric"] == "cos", "value"].dropna() >= -1e-9).all()
    aoc = table(wd, "pointwise_aoc.csv")
    assert {"p", "d", "d_perm", "d_splithalf"} <= set(aoc.columns)
    assert aoc[["d", "d_perm"]].stack().between(0, 1).all()
    ind = table(wd, "neg/indices.csv")
    assert ind["source_id"].is_unique and (ind.groupby("label").size() <= 3).all()
    aol = table(wd, "neg/aol_summary.csv")
    assert set(aol["model"]) == set(MODELS) and set(aol[aol["model"] == "scratch_mlp"]["runs"]) == {"heldout", "selection"}


def test_global_accuracy_and_lines(wd):
    acc, line = table(wd, "global_accuracy.csv"), table(wd, "accuracy_line.csv")
    assert acc["accuracy"].between(0, 1).all()
    K = acc["k"].nunique()
    assert len(acc) == len(MODELS) * RUNS * K * len(SETS) * 2
    assert (acc.loc[acc["subset"] == "superclass", "n"] == 20).all()    # superclass [0]: one class
    assert (acc["step"] > 0).all()
    for m in MODELS:            # the last checkpoint's mean run accuracy = mean final pointwise accuracy
        last = acc[(acc["model"] == m) & (acc["evalset"] == "test") & (acc["subset"] == "all") & (acc["k"] == K - 1)]
        assert last["accuracy"].mean() == pytest.approx(table(wd, f"scores/{m}/test.csv")["final_acc"].mean())
    reg = line[line["kind"] == "regime"]
    assert set(reg["group"]) == {"scratch", "pretrained"}
    assert set(zip(reg["evalset"], reg["subset"])) == {("noise2", "all"), ("noise2", "superclass"),
                                                       ("test", "superclass")}
    assert (reg["n_points"] == 2 * RUNS * K).all()
    assert reg["r_probit"].dropna().between(-1, 1).all()


def test_examples_tables(wd):
    ex, ep = table(wd, "examples/examples.csv"), table(wd, "examples/example_profiles.csv")
    assert ex["pixels"].map(lambda p: len(p.split())).eq(144).all()        # 1 x 12 x 12
    first = table(wd, "scores/scratch_mlp/test.csv").set_index("source_id")
    z = ex[ex["role"] == "zoom"].iloc[0]
    assert z["evalset"] == "test" and z["category"] == first.loc[z["id"], "category"]
    zp = ep[ep["role"] == "zoom"]
    assert set(zp["model"]) == set(MODELS) and (zp.groupby("model").size() == 50).all()
    with h5py.File(wd / T / "profiles/scratch_mlp/test.h5") as f:
        row = int(np.flatnonzero(f["ids"][()] == z["id"])[0])
        prof = f["acc"][row]
    np.testing.assert_allclose(zp[zp["model"] == "scratch_mlp"].sort_values("g")["acc"], prof, atol=1e-6)
    tx = ex[ex["role"] == "taxonomy"]
    for r in tx.itertuples():
        s = table(wd, f"scores/scratch_mlp/{r.evalset}.csv").set_index("source_id")
        assert s.loc[r.id, "category"] == r.category
    assert set(tx["evalset"]) <= set(SETS)
    samples = ex[ex["role"] == "sample"]
    assert (samples["evalset"] == "test").sum() == 10
    neg = set(table(wd, "neg/indices.csv")["source_id"])
    pool = samples[samples["evalset"] == "pool"]
    assert len(pool) == min(10, len(neg)) and set(pool["id"]) <= neg
    pre = ep[ep["role"] == "pretraining"]
    assert set(pre["model"]) == {"scratch_mlp", "pretrained_mlp"}
    # Fig 8: the top-3 nmono_acc points of the first model's reference set lead the gallery
    gal = ex[ex["role"] == "gallery"]
    assert gal["id"].is_unique and list(gal["id"][:3]) == list(first["nmono_acc"].nlargest(3, keep="first").index)
    assert gal["pick"].str.startswith("nmono_acc").sum() == 3
    assert set(ep.loc[ep["role"] == "gallery", "id"]) == set(gal["id"])
    # Fig 9: the stored profile's band classes are the recorded ones and differ
    sw = ex[ex["role"] == "switch"]
    if len(sw):
        r = sw.iloc[0]
        prof = ep[ep["role"] == "switch"].sort_values("g")
        lo, hi = examples.band_means(prof["p"].to_numpy(), prof[["s0", "s1", "s2", "s3"]].to_numpy(), 1 / 3)
        assert (lo.argmax(), hi.argmax()) == (r["pred_lo"], r["pred_hi"]) and r["pred_lo"] != r["pred_hi"]
        assert r["switch_score"] == pytest.approx(lo.max() * hi.max(), abs=1e-5)
    # Fig 7(c): the Neg point of highest selection nmono, profiled on the pool by the selecting model
    ind = table(wd, "neg/indices.csv")
    ng = ex[ex["role"] == "neg"].iloc[0]
    assert ng["evalset"] == "pool" and ng["id"] == ind["source_id"].iloc[int(ind["nmono"].to_numpy().argmax())]
    npf = ep[ep["role"] == "neg"]
    assert set(npf["model"]) == {"scratch_mlp"} and len(npf) == 50
    with h5py.File(wd / T / "profiles/scratch_mlp/pool.h5") as f:
        row = int(np.flatnonzero(f["ids"][()] == ng["id"])[0])
        np.testing.assert_allclose(npf.sort_values("g")["s0"], f["softmax"][row, :, 0], atol=1e-6)


def test_theory_tables(wd):
    th = table(wd, "theory.csv").set_index("check")
    assert th.loc["gp_arcsin_max_abs_diff", "value"] < 1e-6
    assert th.loc["gp_correct_prior_frac_nonmono", "value"] == 0.0
    assert th.loc["manifold_max_err_over_bound_d2", "value"] <= 1.0
    assert th.loc["beta_bernoulli_acc_monotone", "value"] == 1.0
    c = table(wd, "theory_curves.csv")
    assert set(c["figure"]) == {"skills", "manifold", "bayes"}
    assert read_csv_provenance(wd / T / "theory_curves.csv")["n_runs"] == RUNS


def test_claims_file(wd):
    c = read_csv(wd / RES / "claims" / "profiles.csv").set_index("claim")
    assert list(c.index) == [f"C{i}" for i in range(1, 16)]
    assert set(c["result"]) <= {"PASS", "FAIL", "NO DATA"}
    assert c.loc[c["result"] != "NO DATA", "measured"].notna().all()
    assert c.loc["C14", "result"] != "NO DATA"          # the per-checkpoint accuracy table feeds it
    line = table(wd, "accuracy_line.csv")
    sc = line[(line["kind"] == "regime") & (line["group"] == "scratch")]
    assert c.loc["C14", "measured"] == pytest.approx(sc["r_probit"].min())
    assert c.loc["C15", "measured"] >= 0
    assert len(read_csv_provenance(wd / RES / "claims" / "profiles.csv")["inputs_sha256"]) == 7


def test_one_figure_regenerates_alone(wd):
    fig = wd / RES / "figures" / "profiles" / "fig5_pies.pdf"
    frac = wd / T / "taxonomy_fractions.csv"
    before = frac.stat().st_mtime_ns
    fig.unlink()
    out = snakemake(str(fig.relative_to(wd)), "--configfile", "test.yaml", cwd=wd)
    assert out.returncode == 0, out.stderr[-3000:]
    log = out.stdout + out.stderr
    assert fig.exists() and frac.stat().st_mtime_ns == before
    assert "profiles_figure_fig5_pies" in log
    for other in ("profiles_summary", "profiles_scores", "profiles_examples", "train_"):
        assert other not in log, other


def test_every_figure_has_a_caption():
    for f in FIGS:
        assert (ROOT / "report" / "captions" / "profiles" / f"{f}.rst").exists(), f
