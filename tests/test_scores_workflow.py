"""Paper 003 (difficulty scores) through the Snakemake DAG at the tiny test scale: every figure,
table and the claims file are file targets with sane contents and provenance, and one figure
regenerates alone."""
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from pointwise.io import read_csv, read_csv_provenance
from pointwise.scores import PER_RUN_SCORES

from conftest import ROOT

pytestmark = pytest.mark.workflow

FIGURES = ["fig1_fingerprint", "fig2_variance", "fig3_rank_stability", "fig4_correlations",
           "fig5_pca", "fig6_inductive_bias"]
MODELS = {"resnet_base": ("scores_base", 4), "vgg_base": ("scores_base", 4),
          "resnet_wide": ("scores_variants", 2), "resnet_deep": ("scores_variants", 2),
          "vgg_narrow": ("scores_variants", 2), "vgg_shallow": ("scores_variants", 2)}
RES = "results/test"


def snakemake(*args, cwd, timeout=1800):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--directory", str(cwd), "--cores", "2", *args, "--configfile", "test.yaml"]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def targets():
    return ([f"{RES}/figures/scores/{f}.{ext}" for f in FIGURES for ext in ("pdf", "png")]
            + [f"{RES}/claims/scores.csv", f"{RES}/tables/scores/orientation.csv"])


@pytest.fixture(scope="module")
def wd(tmp_path_factory):
    """The paper-003 targets of the test scale, built once for this module."""
    wd = tmp_path_factory.mktemp("scores_wf")
    shutil.copy(ROOT / "configs" / "test.yaml", wd / "test.yaml")
    out = snakemake(*targets(), cwd=wd)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return wd


def table(wd, name):
    return read_csv(wd / RES / "tables" / "scores" / name)


def test_targets_are_in_the_default_dag(tmp_path):
    """rule all of the test and default scales asks for the paper-003 figures and claims."""
    for cfg in ("configs/test.yaml", "config.yaml"):
        out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(ROOT / cfg),
                              "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile")],
                             cwd=tmp_path, capture_output=True, text=True, timeout=600,
                             stdin=subprocess.DEVNULL)
        assert out.returncode == 0, out.stderr[-3000:]
        for rule in ["scores_claims", "scores_bias", "scores_fingerprint", "scores_agr", "scores_ret",
                     "scores_orientation"] + [f"scores_{f}" for f in FIGURES]:
            assert f"rule {rule}:" in out.stdout, (cfg, rule)


def test_every_figure_and_claims_file_exists(wd):
    for t in targets():
        p = wd / t
        assert p.exists() and p.stat().st_size > (1000 if p.suffix in (".pdf", ".png") else 100), t


def test_per_run_tables_and_cubes(wd):
    for model, (exp, runs) in MODELS.items():
        with h5py.File(wd / RES / "tables" / "scores" / "per_run" / exp / f"{model}.h5") as f:
            S, raw = f["S"][()], f["S_raw"][()]
            assert S.shape == (runs, 200, 8)
            assert [n.decode() for n in f["score_names"][()]] == list(PER_RUN_SCORES)
            np.testing.assert_allclose(S, raw * f["orientation_sign"][()])
            assert np.isfinite(S).all()
            assert "config_hash" in f.attrs and "inputs_sha256" in f.attrs
    run = read_csv(wd / RES / "tables" / "scores" / "runs" / "scores_base" / "resnet_base" / "block0" / "member3.csv")
    assert run["acc"].between(0, 1).all() and run["aum"].between(-1, 1).all()
    assert run["el2n20"].between(0, np.sqrt(2)).all() and (run["grand20"] >= 0).all()
    assert (run["vog"] >= 0).all() and (run["forget"] >= 0).all() and run["cl"].between(0, 4).all()
    prov = read_csv_provenance(wd / RES / "tables" / "scores" / "runs" / "scores_base" / "resnet_base" / "block0" / "member3.csv")
    assert prov["seed"] == 3 and prov["grad_epoch"] == pytest.approx(1.0) and len(prov["vog_epochs"]) == 4
    mean = read_csv(wd / RES / "tables" / "scores" / "mean" / "scores_base" / "resnet_base.csv")
    assert len(mean) == 200 and {"loss_mean", "loss_std", "vog_max"} <= set(mean.columns)
    orient = table(wd, "orientation.csv").set_index("key")
    assert orient.loc["acc", "sign"] == -1 and orient.loc["forget", "sign"] == 1


def test_ensemble_scores(wd):
    agr, ret = table(wd, "agr.csv"), table(wd, "ret.csv")
    assert len(agr) == len(ret) == 200
    assert (agr["agr"] >= -1e-9).all() and agr["agr"].max() <= np.log(2) + 1e-6   # JSD of 2 members
    assert (ret["ret"] >= 0).all() and ret["ret"].max() > 0
    assert read_csv_provenance(wd / RES / "tables" / "scores" / "ret.csv")["pairs"] == 1


def test_analysis_tables(wd):
    f2 = table(wd, "fig2_variance_bins.csv")
    assert set(f2["score"]) == set(PER_RUN_SCORES) and (f2.groupby("score")["bin"].nunique() == 10).all()
    assert (f2["q05"] <= f2["center_mean"] + 1e-9).all() and (f2["center_mean"] <= f2["q95"] + 1e-9).all()
    f3 = table(wd, "fig3_rank_stability.csv")
    assert set(f3["n_runs"]) == {1, 2} and f3["split_disagree"].between(0, 1).all()
    mm = table(wd, "fig4_corr_mean_mean.csv").set_index("score")
    assert mm.shape == (10, 10) and np.allclose(np.diag(mm.to_numpy()), 1)
    cn = table(wd, "fig4_corr_mean_run_delta.csv").set_index("score")
    assert cn[["agr", "ret"]].isna().all().all() and not cn["loss"].isna().any()
    ex = table(wd, "fig5_pca_explained.csv")
    assert ex["ratio"].sum() == pytest.approx(1) and ex["cumulative"].is_monotonic_increasing
    assert table(wd, "fig5_pca_loadings.csv").shape == (10, 11)
    assert set(table(wd, "fig5_pca1_rank_stability.csv")["score"]) == {"pca1"}
    with h5py.File(wd / RES / "tables" / "scores" / "bias_pvalues.h5") as f:
        assert f["neglogp"].shape == (15, 8, 200) and (f["neglogp"][()] >= 0).all()
        assert f.attrs["threshold"] == pytest.approx(-np.log(0.01 / 200))
    pairs = table(wd, "fig6_by_pair.csv")
    assert len(pairs) == 15 and pairs["cross_family"].sum() == 9
    cap = table(wd, "fig6_capacity.csv")
    assert (cap["param_ratio"] >= 1).all() and cap["geomean_p"].between(0, 1).all()
    sens = table(wd, "example_sensitivity.csv")
    assert sens["is_top"].sum() == sens["is_bottom"].sum() == 4
    f1 = table(wd, "fig1_results.csv")
    assert set(f1["selection"]) == {"top", "bottom", "random"}
    assert set(f1["selection_source"]) == {"select_runs", "all_runs"}
    assert f1["test_acc"].between(0, 1).all() and len(f1[f1["selection"] == "random"]) == 2 * 8 * 5
    imgs = table(wd, "fig1_examples.csv")
    assert len(imgs) == 8 and all(len(p.split()) == 144 for p in imgs["pixels"])


def test_claims_file(wd):
    c = read_csv(wd / RES / "claims" / "scores.csv")
    ids = set(c["claim"])
    for q in range(1, 13):
        assert any(i.startswith(f"Q{q}") and not i[len(f"Q{q}"):][:1].isdigit() for i in ids), q
    assert set(c["result"]) <= {"PASS", "FAIL", "NO DATA"}
    assert c.loc[c["result"] != "NO DATA", "measured"].notna().all()
    prov = read_csv_provenance(wd / RES / "claims" / "scores.csv")
    assert prov["code_version"] and len(prov["inputs_sha256"]) == 14


def test_one_figure_regenerates_alone(wd):
    fig = wd / RES / "figures" / "scores" / "fig3_rank_stability.pdf"
    tab = wd / RES / "tables" / "scores" / "fig3_rank_stability.csv"
    before = tab.stat().st_mtime_ns
    fig.unlink()
    out = snakemake(str(fig.relative_to(wd)), cwd=wd)
    assert out.returncode == 0, out.stderr[-3000:]
    log = out.stdout + out.stderr
    assert fig.exists() and tab.stat().st_mtime_ns == before
    assert "scores_fig3_rank_stability" in log
    for other in ("scores_stability", "scores_runs_", "train_", "scores_cube", "scores_fig5_pca"):
        assert other not in log, other


def test_report_has_the_scores_category(wd):
    out = snakemake(*targets(), "--report", "report.html", cwd=wd)
    assert out.returncode == 0, out.stderr[-3000:]
    html = (wd / "report.html").read_text(errors="ignore")
    assert "Paper 003" in html
    for f in FIGURES:
        assert f"{f}.pdf" in html
