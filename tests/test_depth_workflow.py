"""Paper 002 (prediction depth) in the test-scale DAG: probes, tables, figures, claims."""
import json
import shutil

import h5py
import numpy as np
import pytest

from pointwise.io import read_csv, read_csv_provenance

from conftest import ROOT
from test_workflow import snakemake

pytestmark = pytest.mark.workflow

FIGS = ("fig1_left", "fig1_right", "fig3", "fig4_left", "fig6_margins", "fig6_middle", "fig7", "fig7_images",
        "fig8", "figC22_entropy", "figC24_iteration_learned")
EXP_FIGS = ("fig2", "fig2_right", "fig4_middle", "fig4_right", "fig5_left", "figC21")
A9_E48 = ("noisy_ops/figA9_mlp_depth", "split/cnn/figE48_lr_probes")       # papers.depth.mlp_depth, lr_probes
MORE_FIGS = ("split_full/mlp/fig6_margins", "split_full/mlp/fig6_middle", "split_full/mlp/figC28_margins",
             "split_full/fig4_middle", "split_full/figC21",                   # papers.depth.full
             "datasets/mlp/fig4_middle_datasets", "datasets/cnn/fig4_right_datasets",    # one line per dataset
             "datasets/mlp/fig1_right_datasets")


@pytest.fixture(scope="module")
def depth_run(tmp_path_factory):
    """The paper-002 targets of the test-scale DAG (and what they need), run once."""
    wd = tmp_path_factory.mktemp("depth")
    shutil.copy(ROOT / "configs" / "test.yaml", wd / "test.yaml")
    out = snakemake("results/test/claims/depth.csv", "results/test/tables/depth/table2_accuracy.csv",
                    *[f"results/test/figures/depth/split/{a}/{f}.pdf" for a in ("mlp", "cnn") for f in FIGS],
                    *[f"results/test/figures/depth/split/{f}.pdf" for f in EXP_FIGS],
                    "results/test/figures/depth/noisy/mlp/fig5_right.pdf",
                    "results/test/figures/depth/noisy/mlp/fig5_middle.pdf",
                    "results/test/figures/depth/split/mlp/figA10_k_sensitivity.pdf",
                    *[f"results/test/figures/depth/{f}.{x}" for f in A9_E48 for x in ("pdf", "png")],
                    *[f"results/test/figures/depth/{f}.pdf" for f in MORE_FIGS],
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
        assert t["input_margin"].isna().all()      # computed on this model's FULL runs (papers.depth.full)
        resc = t["iter_learned_resc"]      # all NaN when the q95 of IL is 0 (tiny nets, 2 epochs)
        assert resc.isna().all() or (resc.dropna() >= 0).all()
        assert [f"knn_pred_{l}" for l in range(L1)] == [c for c in t.columns if c.startswith("knn_pred_")]
        assert read_csv_provenance(res / "tables" / "depth" / "split" / "mlp" / "runs" / f"seed{seed}.csv")["code_version"]


def test_full_runs_probes_and_tables(depth_run):
    """split_full: the mlp's 3 FULL runs (papers.depth.full) carry the input margins of their
    training and test queries (papers.depth.input_margin) and feed Fig 4 middle, C.21 and Fig 6."""
    res = depth_run / "results" / "test"
    base = res / "tables" / "depth" / "split_full" / "mlp"
    for seed in range(3):
        with h5py.File(res / "probes" / "split_full" / "mlp" / f"seed{seed}" / "knn.h5") as f:
            assert list(json.loads(f.attrs["input_margin_splits"])) == ["train", "test"]
        t = read_csv(base / "runs" / f"seed{seed}.csv")
        assert set(t["split"]) == {0, 2} and (t["input_margin"] > 0).all()
    ex = read_csv(base / "per_example.csv")
    pool, test = ex["n_train"] > 0, ex["n_val"] > 0
    assert (ex.loc[pool, "n_train"] == 3).all() and (ex.loc[test, "n_val"] == 3).all() and not (pool & test).any()
    assert (ex.loc[pool, "input_margin_train"] > 0).all() and (ex.loc[test, "input_margin_val"] > 0).all()
    assert ex.loc[test, "cstar"].between(0, 1).all() and ex.loc[pool, "cstar"].isna().all()
    loo = read_csv(base / "loo_by_depth.csv")
    assert loo["mass"].sum() == pytest.approx(1.0) and (loo["n_runs"] == 3).all()
    assert not (base / "groups.csv").exists()          # the corner groups need held-out occurrences


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
    loo = read_csv(base / "loo_by_depth.csv")          # Fig 4 middle / C.21 on the shared test split
    assert loo["mass"].sum() == pytest.approx(1.0) and (loo["n_runs"] == 4).all()
    assert loo["cstar"].dropna().between(0, 1).all() and (loo["entropy"].dropna() >= 0).all()
    assert ex["input_margin_val"].isna().all() and ex["input_margin_train"].isna().all()    # FULL runs have them
    cnn = read_csv(base.parent / "cnn" / "per_example.csv")   # no FULL cnn: its SPLIT runs stand in
    test_ex = cnn["n_train"] == 0
    assert (cnn.loc[test_ex, "input_margin_val"] > 0).all() and (cnn.loc[~test_ex, "input_margin_train"] > 0).all()
    assert cnn.loc[~test_ex, "input_margin_val"].isna().all()        # held-out queries: not in input_margin


def test_example_images(depth_run):
    """Fig 1 left and Fig 7's images (papers.depth.examples, default 6 per class side / corner)."""
    from pointwise.data.image_table import decode_pixels

    base = depth_run / "results" / "test" / "tables" / "depth" / "split" / "mlp"
    ex = read_csv(base / "per_example.csv").set_index("example_id")
    im = read_csv(base / "example_images.csv")
    f1 = im[im["figure"] == "fig1_left"]
    assert (f1.groupby(["row", "side"]).size() == 6).all() and set(f1["row"]) == {"0", "1", "2", "3"}
    for _, s in f1.groupby("row"):                     # the input side precedes the softmax side
        assert s[s["side"] == "input"]["mpd_train"].max() <= s[s["side"] == "softmax"]["mpd_train"].min()
    assert (f1["mpd_train"].to_numpy() == ex.loc[f1["example_id"], "mpd_train"].to_numpy()).all()
    f7 = im[im["figure"] == "fig7"]
    assert (f7.groupby("row").size() == 6).all() and (f7.groupby("row")["distance"].apply(
        lambda d: d.is_monotonic_increasing)).all()
    assert decode_pixels(im.iloc[0]).ndim == 2


def test_k_sensitivity_tables(depth_run):
    base = depth_run / "results" / "test" / "tables" / "depth" / "split" / "mlp"
    acc = read_csv(base / "k_sensitivity_accuracy.csv")
    assert set(acc["k"]) == {2, 5, 10} and acc["knn_accuracy"].between(0, 1).all()
    rank = read_csv(base / "k_sensitivity_ranking.csv")
    assert set(rank["split"]) == {"train", "val"} and (rank["ref_k"] == 5).all()
    ref = rank[rank["k"] == 5]
    assert np.allclose(ref["spearman_vs_ref"].dropna(), 1.0) and (ref["n"] > 0).all()
    # the k = 5 curves derived from the k = 10 probes equal those of the main (k = 5) probes
    inf = read_csv(base / "inference_curve.csv")
    main = inf[(inf["subset"] == "test") & (inf["against"] == "given")]["knn_accuracy"].to_numpy()
    runs = [read_csv(base / "runs" / f"seed{s}.csv") for s in (0, 1)]
    L1 = len(main)
    direct = np.mean([[(r[r["split"] == 2][f"knn_pred_{l}"] == r[r["split"] == 2]["label"]).mean()
                       for l in range(L1)] for r in runs], 0)
    derived = acc[(acc["k"] == 5) & (acc["split"] == "test")].sort_values("layer")["knn_accuracy"].to_numpy()
    np.testing.assert_allclose(derived, direct)


def test_noise_tables_know_the_flipped_examples(depth_run):
    ex = read_csv(depth_run / "results" / "test" / "tables" / "depth" / "noisy" / "mlp" / "per_example.csv")
    assert 0 < ex["flipped"].mean() < 0.5
    ic = read_csv(depth_run / "results" / "test" / "tables" / "depth" / "noisy" / "mlp" / "inference_curve.csv")
    assert ic["knn_accuracy"].dropna().between(0, 1).all()
    lc = read_csv(depth_run / "results" / "test" / "tables" / "depth" / "noisy" / "mlp" / "learning_curve.csv")
    assert {"train_clean", "train_flipped", "test"} <= set(lc["subset"])
    assert (lc.loc[lc["n_examples"] > 0, "n_runs"] == 2).all() and lc["n_examples"].sum() > 0
    fl = lc[lc["subset"] == "train_flipped"]
    assert (fl["n_examples"] > 0).all() and fl["accuracy"].between(0, 1).all()
    assert lc.groupby(["subset", "against"])["step"].apply(tuple).nunique() == 1      # same eval points


def test_figures_tables_and_claims(depth_run):
    res = depth_run / "results" / "test"
    for a in ("mlp", "cnn"):
        for f in FIGS:
            for ext in ("pdf", "png"):
                assert (res / "figures" / "depth" / "split" / a / f"{f}.{ext}").stat().st_size > 1000
    for f in [f"split/{f}" for f in EXP_FIGS] + ["noisy/mlp/fig5_middle", "split/mlp/figA10_k_sensitivity"] \
            + list(MORE_FIGS):
        for ext in ("pdf", "png"):
            assert (res / "figures" / "depth" / f"{f}.{ext}").stat().st_size > 1000
    corr = read_csv(res / "tables" / "depth" / "split" / "correlation.csv")
    assert len(corr) == 2 * 3 and corr["rho"].dropna().between(-1, 1).all()
    acc = read_csv(res / "tables" / "depth" / "table2_accuracy.csv")
    assert set(acc["split"]) == {"train", "held_out", "test"} and acc["accuracy_mean"].between(0, 1).all()
    full = acc[acc["experiment"] == "split_full"]
    assert set(full["split"]) == {"train", "test"} and (full["n_runs"] == 3).all()
    claims = read_csv(res / "claims" / "depth.csv")
    assert {"C1", "C2", "C3_cstar", "C3_entropy", "C4a", "C8", "C8_input", "C10", "C12", "C13", "C6",
            "C7"} <= set(claims["claim"])
    assert set(claims["result"]) <= {"PASS", "FAIL", "NO DATA"}
    st = claims.set_index("claim")["statistic"]
    assert all("split_full/mlp, FULL runs" in st[c] for c in ("C3_cstar", "C3_entropy", "C8", "C8_input"))
    assert read_csv_provenance(res / "claims" / "depth.csv")["config_hash"]


def test_mlp_depth_and_lr_probe_tables(depth_run):
    """Fig A.9: k-NN accuracy after every operation of the two test MLPs (depth 2 and 3, built
    with probe_every_op); Fig E.48: k-NN and LR probes at every probe point of split/cnn run 0."""
    res = depth_run / "results" / "test"
    with h5py.File(res / "probes" / "noisy_ops" / "mlp_ops3" / "seed0" / "knn.h5") as f:
        names = list(json.loads(f.attrs["probe_names"]))
        assert list(json.loads(f.attrs["input_margin_splits"])) == []      # not a PD model: no margins
    assert names == ["input", "fc1", "relu1", "fc2", "relu2", "fc3", "relu3", "softmax"]
    md = read_csv(res / "tables" / "depth" / "noisy_ops" / "mlp_depth.csv")
    assert md.groupby("arch")["depth"].first().to_dict() == {"mlp_ops2": 2, "mlp_ops3": 3}
    assert md.groupby("arch")["op"].max().to_dict() == {"mlp_ops2": 5, "mlp_ops3": 7}
    assert set(md["kind"]) == {"input", "dense", "relu", "softmax"}
    assert (md.loc[md["n_queries"] > 0, "n_runs"] == 1).all()    # one run each; design full: no held-out
    assert {"train_clean", "train_flipped", "test"} <= set(md.loc[md["n_queries"] > 0, "subset"])
    assert md["knn_accuracy"].dropna().between(0, 1).all()
    # the input probe does not depend on the network: equal for both archs
    inp = md[md["op"] == 0].pivot_table(index=["subset", "against"], columns="arch", values="knn_accuracy")
    np.testing.assert_allclose(inp["mlp_ops2"], inp["mlp_ops3"])
    lr = read_csv(res / "tables" / "depth" / "split" / "cnn" / "lr_probes.csv")
    with h5py.File(res / "probes" / "split" / "cnn" / "seed0" / "knn.h5") as f:
        cnn_names = list(json.loads(f.attrs["probe_names"]))
        split = f["query_split"][()]
        train_acc = (f["knn_pred"][()][:, split == 0] == f["labels"][()][split == 0]).mean(1)
    assert lr.drop_duplicates("probe_index")["probe"].tolist() == cnn_names
    assert set(lr["method"]) == {"knn_train", "lr_train", "knn_half", "lr_half"}
    assert lr["accuracy"].between(0, 1).all()
    kt = lr[lr["method"] == "knn_train"].sort_values("probe_index")
    np.testing.assert_allclose(kt["accuracy"], train_acc)       # the same leave-self-out k-NN as knn.h5
    half = lr[lr["method"].str.endswith("_half")]
    assert (half["n_fit"] + half["n_eval"] == kt["n_eval"].iloc[0]).all()
    for f in A9_E48:
        for ext in ("pdf", "png"):
            assert (res / "figures" / "depth" / f"{f}.{ext}").stat().st_size > 1000


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


def test_probe_jobs_per_run_or_per_block(tmp_path):
    """papers.depth.probe_block: 1 gives one probe and one run-table job per run (depth_probes,
    depth_run_table), 3 (test.yaml) one per block of 3 runs; the k-sensitivity runs are one job."""
    import yaml

    cfg = yaml.safe_load(open(ROOT / "configs" / "test.yaml"))
    targets = [f"results/test/tables/depth/split/mlp/runs/seed{s}.csv" for s in range(4)]
    counts = {}
    for block in (1, 3):
        cfg["papers"]["depth"]["probe_block"] = block
        (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))   # arch order matters
        out = snakemake(*targets, "results/test/tables/depth/split/mlp/k_sensitivity_ranking.csv",
                        "-n", "--quiet", "rules", "--configfile", "c.yaml", cwd=tmp_path, timeout=300)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        counts[block] = {line.split()[0]: int(line.split()[1]) for line in out.stdout.splitlines()
                         if line.startswith("depth_") and len(line.split()) == 2}
    assert counts[1]["depth_probes"] == 4 and counts[1]["depth_run_table"] == 4
    assert counts[3]["depth_probes_split_block0"] == counts[3]["depth_probes_split_block1"] == 1
    assert counts[3]["depth_run_tables_split_block0"] == 1 and "depth_probes" not in counts[3]
    assert counts[1]["depth_probes_kmax"] == counts[3]["depth_probes_kmax"] == 1


def test_paper_scale_plan_probes_split_and_full_runs():
    """configs/paper.yaml: every run of the 12 SPLIT ensembles (250), the 12 FULL ensembles (25)
    and the 5 NOISE40 VGG16 runs is probed, one job each; the 12 FULL models get their tables and
    C.28-C.31 figures."""
    import re

    out = snakemake("-n", "results/paper/claims/depth.csv",
                    "results/paper/figures/depth/depth_full_cifar10/vgg16_nobn/figC28_margins.pdf",
                    "--configfile", str(ROOT / "configs" / "paper.yaml"), cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", out.stdout + out.stderr, flags=re.M))
    assert int(jobs["depth_probes"]) == 12 * 250 + 12 * 25 + 5
    assert int(jobs["depth_full_aggregate"]) == 12
