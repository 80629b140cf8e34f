"""Paper 002 (prediction depth) in the test-scale DAG: probes, tables, figures, claims."""
import shutil

import h5py
import numpy as np
import pytest

from pointwise.io import read_csv, read_csv_provenance

from conftest import ROOT
from test_workflow import snakemake

pytestmark = pytest.mark.workflow

FIGS = ("fig1_right", "fig3", "fig4_left", "fig6_margins", "fig7", "fig8")


@pytest.fixture(scope="module")
def depth_run(tmp_path_factory):
    """The paper-002 targets of the test-scale DAG (and what they need), run once."""
    wd = tmp_path_factory.mktemp("depth")
    shutil.copy(ROOT / "configs" / "test.yaml", wd / "test.yaml")
    out = snakemake("results/test/claims/depth.csv", "results/test/tables/depth/table2_accuracy.csv",
                    *[f"results/test/figures/depth/split/{a}/{f}.pdf" for a in ("mlp", "cnn") for f in FIGS],
                    *[f"results/test/figures/depth/split/{f}.pdf" for f in ("fig2", "fig4_right", "fig5_left")],
                    "results/test/figures/depth/noisy/mlp/fig5_right.pdf",
                    "--configfile", "test.yaml", cwd=wd)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return wd


def test_probes_and_run_tables(depth_run):
    res = depth_run / "results" / "test"
    for seed in range(4):
        knn = res / "probes" / "split" / "mlp" / f"seed{seed}" / "knn.h5"
        with h5py.File(knn) as f:
            assert int(f.attrs["k"]) == 5 and int(f.attrs["seed_index"]) == seed
            assert "config_hash" in f.attrs and "inputs_sha256" in f.attrs
            L1 = f["knn_pred"].shape[0]
        t = read_csv(res / "tables" / "depth" / "split" / "mlp" / "runs" / f"seed{seed}.csv")
        assert set(t["split"]) == {0, 1, 2}
        d = t["pd"].dropna()
        assert d.between(0, L1 - 1).all() and (d == d.round()).all()
        assert (t["pd_defined"] == t["pd"].notna()).all()
        assert (t["iter_learned"] >= 0).all() and (t["output_margin"] >= 0).all()
        resc = t["iter_learned_resc"]      # all NaN when the q95 of IL is 0 (tiny nets, 2 epochs)
        assert resc.isna().all() or (resc.dropna() >= 0).all()
        assert [f"knn_pred_{l}" for l in range(L1)] == [c for c in t.columns if c.startswith("knn_pred_")]
        assert read_csv_provenance(res / "tables" / "depth" / "split" / "mlp" / "runs" / f"seed{seed}.csv")["code_version"]


def test_aggregates(depth_run):
    base = depth_run / "results" / "test" / "tables" / "depth" / "split" / "mlp"
    ex = read_csv(base / "per_example.csv")
    pool = ex[ex["n_train"] > 0]
    assert (pool["n_train"] == 2).all() and (pool["n_val"] == 2).all()     # 2x2 balanced k-fold
    assert ex["consistency"].between(0, 1).all() and ex["cstar"].between(0, 1).all()
    same = ex["consensus"] == ex["label"]
    assert np.allclose(ex.loc[same, "consistency"], ex.loc[same, "cstar"])
    assert (ex.loc[~same, "consistency"] <= 1 - ex.loc[~same, "cstar"] + 1e-12).all()
    groups = read_csv(base / "groups.csv")
    assert groups.groupby("group").size().to_dict() == {g: 10 for g in
                                                       ("ambiguous", "ambiguous_unless_label", "easy", "looks_like_different")}
    bd = read_csv(base / "by_depth.csv")
    for _, s in bd.groupby("split"):
        assert s["mass"].sum() == pytest.approx(1.0)
    curves = read_csv(base / "group_layer_curves.csv")
    assert curves["confidence"].dropna().between(0, 1).all() and len(curves) == 2 * 4 * bd["depth"].nunique()
    assert set(read_csv(base / "improvement.csv")["selection"]) == {"in_sample", "held_out"}


def test_noise_tables_know_the_flipped_examples(depth_run):
    ex = read_csv(depth_run / "results" / "test" / "tables" / "depth" / "noisy" / "mlp" / "per_example.csv")
    assert 0 < ex["flipped"].mean() < 0.5
    ic = read_csv(depth_run / "results" / "test" / "tables" / "depth" / "noisy" / "mlp" / "inference_curve.csv")
    assert ic["knn_accuracy"].dropna().between(0, 1).all()


def test_figures_tables_and_claims(depth_run):
    res = depth_run / "results" / "test"
    for a in ("mlp", "cnn"):
        for f in FIGS:
            for ext in ("pdf", "png"):
                assert (res / "figures" / "depth" / "split" / a / f"{f}.{ext}").stat().st_size > 1000
    corr = read_csv(res / "tables" / "depth" / "split" / "correlation.csv")
    assert len(corr) == 2 * 3 and corr["rho"].dropna().between(-1, 1).all()
    acc = read_csv(res / "tables" / "depth" / "table2_accuracy.csv")
    assert set(acc["split"]) == {"train", "held_out", "test"} and acc["accuracy_mean"].between(0, 1).all()
    claims = read_csv(res / "claims" / "depth.csv")
    assert {"C1", "C2", "C4a", "C8", "C10", "C12", "C6", "C7"} <= set(claims["claim"])
    assert set(claims["result"]) <= {"PASS", "FAIL", "NO DATA"}
    assert read_csv_provenance(res / "claims" / "depth.csv")["config_hash"]


def test_one_figure_regenerates_alone(depth_run):
    fig = depth_run / "results" / "test" / "figures" / "depth" / "split" / "mlp" / "fig7.pdf"
    knn = depth_run / "results" / "test" / "probes" / "split" / "mlp" / "seed0" / "knn.h5"
    before = knn.stat().st_mtime_ns
    fig.unlink()
    out = snakemake(str(fig.relative_to(depth_run)), "--configfile", "test.yaml", cwd=depth_run)
    assert out.returncode == 0, out.stderr[-3000:]
    assert fig.exists() and knn.stat().st_mtime_ns == before
    assert "depth_model_figure" in out.stdout + out.stderr
    assert "depth_probes" not in out.stdout + out.stderr and "depth_aggregate" not in out.stdout + out.stderr
