"""Paper 001 end to end at the test scale: every figure, table and the claims are file targets of
the DAG, carry provenance and sane contents; published predictions in JSON / .npy files are
imported and analysed like the workflow's own testbed; one figure regenerates alone; the
paper-scale plan includes the paper-001 rules."""
import json
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

import pointwise.config as pwconfig
import pointwise.robustness.settings as rbsettings
from pointwise.io import read_csv, read_csv_provenance

from conftest import ROOT

pytestmark = pytest.mark.workflow

N, C = 40, 4
LABELS = np.arange(N) % C
TESTBED_ID_K = [4 + 6 * m for m in range(5)]        # model m is right on the first k ID examples
TESTBED_REP_K = [2 + 5 * m for m in range(5)]


def snakemake(*args, cwd, timeout=1500):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(cwd),
           "--cores", "2", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _wrong(labels, right):
    return np.where(right, labels, (labels + 1) % C)


def write_published(root):
    """Published predictions: JSON label lists and .npy logits, five testbed models and one
    model right exactly on examples 30..39, which no testbed model gets right."""
    (root / "labels").mkdir(parents=True)
    (root / "labels" / "id.json").write_text(json.dumps(LABELS.tolist()))
    np.save(root / "labels" / "rep.npy", LABELS)
    idx = np.arange(N)
    models = {f"pub_{m}": (idx < TESTBED_ID_K[m], idx < TESTBED_REP_K[m]) for m in range(5)}
    models["robust"] = (idx >= 30, idx >= 20)
    for name, (rid, rrep) in models.items():
        (root / name).mkdir()
        (root / name / "id.json").write_text(json.dumps(_wrong(LABELS, rid).tolist()))
        logits = np.eye(C, dtype=np.float32)[_wrong(LABELS, rrep)] * 3.0
        np.save(root / name / "rep.npy", logits)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The test-scale paper-001 targets plus two imported predictions sets, built once."""
    wd = tmp_path_factory.mktemp("rb")
    shutil.copy(ROOT / "configs" / "test.yaml", wd / "test.yaml")
    write_published(wd / "published")
    (wd / "imported.yaml").write_text(
        "papers:\n  robustness:\n    imported:\n"
        f"      pub: {{path: {wd / 'published'}, id: id, ood: [rep], others: [robust], num_classes: 4}}\n"
        f"      bare: {wd / 'published'}\n")
    cfg = pwconfig.load(ROOT / "configs" / "test.yaml")
    cfg["papers"]["robustness"]["imported"] = {"pub": {"path": str(wd / "published")}, "bare": str(wd / "published")}
    s = rbsettings.settings(cfg)
    res = "results/test"
    targets = rbsettings.targets(s, f"{res}/tables/robustness", f"{res}/figures/robustness", f"{res}/claims")
    out = snakemake(*targets, "--configfile", "test.yaml", "imported.yaml", cwd=wd)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    return wd, s, targets


def test_every_target_exists_with_provenance(run):
    wd, s, targets = run
    assert any(t.endswith("fig03a_er_full_ft.pdf") for t in targets)
    assert any("imported_pub/fig05abc_dominance_unique.png" in t for t in targets)
    for t in targets:
        p = wd / t
        assert p.exists() and p.stat().st_size > 200, t
        if p.suffix == ".csv":
            prov = read_csv_provenance(p)
            assert prov["code_version"] and prov["config_hash"] and prov["inputs_sha256"], t
        if p.suffix in (".pdf", ".png"):
            assert p.stat().st_size > 1000, t
    figs = {p.stem for p in (wd / "results/test/figures/robustness").glob("*.pdf")}
    assert figs == set(rbsettings.figures(s))
    for name in rbsettings.figures(s) | rbsettings.PSET_FIGURES:
        assert (ROOT / "report" / "captions" / "robustness" / f"{name}.rst").exists(), name
    with h5py.File(wd / "results/test/tables/robustness/testbed/predictions.h5") as f:
        assert "config_hash" in f.attrs and len(json.loads(f.attrs["inputs_sha256"])) == 8
        assert set(f) == {"id", "rep", "style"}


def test_tables_two_and_three(run):
    wd = run[0]
    t = wd / "results/test/tables/robustness/testbed"
    t2 = read_csv(t / "table2_scaling_r2.csv")
    assert list(t2["scaling"]) == ["linear", "probit", "logit"]
    assert t2[["rep", "style"]].apply(lambda c: c.between(0, 1)).all().all()
    t3 = read_csv(t / "table3_fit_params.csv")
    meas = t3[t3["source"] == "measured"]
    assert list(meas["ood_set"]) == ["rep", "style"] and (meas["n_models"] == 8).all()
    assert (meas["scaling"] == "logit").all() and np.isfinite(meas[["A", "B"]]).all().all()
    paper = t3[t3["source"] == "paper"].set_index("ood_set")
    assert paper.loc["cifar10_cifar10.1", "A"] == 0.8318 and paper.loc["cifar10_cifar10.1", "B"] == -0.4736
    acc = read_csv(t / "testbed_acc.csv")
    assert len(acc) == 8 and set(acc["experiment"]) == {"rb_tb_a", "rb_tb_b"}
    assert (acc["id_n"] == 80).all() and (acc["id_lo"] <= acc["id_acc"]).all() and (acc["id_acc"] <= acc["id_hi"]).all()
    me = read_csv(t / "model_er.csv")
    A, B = meas.iloc[0]["A"], meas.iloc[0]["B"]
    rep = me[me["ood_set"] == "rep"]
    x = rep["acc_id"].clip(1e-9, 1 - 1e-9)
    beta = 1 / (1 + np.exp(-(A * np.log(x / (1 - x)) + B)))
    np.testing.assert_allclose(rep["er"], rep["acc_ood"] - beta, atol=1e-9)


def test_er_tables(run):
    wd, s = run[0], run[1]
    e = wd / "results/test/tables/robustness/er"
    acc = read_csv(wd / "results/test/tables/robustness/runs/accuracies.csv")
    assert set(acc["run"]) == set(s["runs"]) and acc["acc"].between(0, 1).all()
    pts = read_csv(e / "points.csv")
    assert set(pts["ood_set"]) == {"rep", "style"}
    assert (pts.loc[pts["epoch"] == 0, "used"] == False).all()          # noqa: E712 - epoch 0 excluded
    np.testing.assert_allclose(pts["er"], pts["acc_ood"] - pts["beta"], atol=1e-9)
    m = read_csv(e / "max_er.csv")
    assert set(m[m["ood_set"] == "style"]["run"]) == {"pre_head", "pre_full", "rand_full"}   # who evaluates it
    assert (m["n_runs"] == 2).all() and m["max_binned"].notna().all()
    assert (m["max_std_all_bins"] >= m["std_at_max_bin"].fillna(0) - 1e-12).all()
    b = read_csv(e / "binned.csv")
    assert set(b["metric"]) == {"er", "acc_ood", "er_frac_gap"} and (b["count"] > 0).all()
    sw = read_csv(e / "sweeps.csv")
    assert set(sw["sweep"]) == {"size", "loss", "mode", "difficulty", "replay", "classmap", "l2_init", "phaseout",
                                "phaseout_random"}
    g = read_csv(e / "gap_reference.csv")
    assert np.allclose(g["nogap_er"], g["acc_id"] - g["beta"])
    sp = read_csv(wd / "results/test/tables/robustness/special/special_models.csv")
    assert list(sp["model"]) == ["pre_full@max_er", "pre_full@converged"] and (sp.loc[0, "epoch"] > 0)


def test_difficulty_designs_follow_the_cscore(run):
    wd = run[0]
    d = wd / "results/test/tables/robustness/difficulty"
    cs = read_csv(d / "cscore.csv")
    assert len(cs) == 200 and (cs["n_heldout"] == 4).all() and cs["cscore"].between(0, 1).all()
    sub = read_csv(d / "subsets.csv")
    assert sub.groupby("subset").size().to_dict() == {"easy": 40, "hard": 40, "random": 40}
    assert sub[sub["subset"] == "hard"]["cscore"].max() <= sub[sub["subset"] == "easy"]["cscore"].min()
    from pointwise.designs import read_design
    des = read_design(wd / "results/test/designs/rb_ft_hard.h5")
    assert sorted(des["pool_ids"][des["train_mask"][0]]) == sorted(sub[sub["subset"] == "hard"]["id"])
    with h5py.File(wd / "results/test/runs/rb_ft_hard/cnn/block0/member1/logits.h5") as f:
        assert sorted(f["train_ids"][()]) == sorted(sub[sub["subset"] == "hard"]["id"])


def test_per_example_tables_and_zeroshot(run):
    wd = run[0]
    t = wd / "results/test/tables/robustness/testbed"
    uc = read_csv(t / "unique_correct.csv")
    assert set(uc["role"]) == {"testbed", "special", "zeroshot"}
    assert (uc["chance"] == 0.25).all() and uc["set_frac"].between(0, 1).all()
    pairs = read_csv(t / "dominance_pairs.csv")
    assert len(pairs) == 11 * 10 // 2 and pairs["dp"].between(0, 1).all()
    mat = read_csv(t / "dominance_matrix.csv")
    assert len(mat) == 11 and mat["acc_id"].is_monotonic_increasing
    trip = read_csv(t / "triplets.csv")
    assert trip["reading"].iloc[0].startswith("uncertain") and 0 <= trip["frac_inside"].iloc[0] <= 1
    zs = read_csv(wd / "results/test/tables/robustness/zeroshot/zeroshot.csv")
    assert list(zs["agg"]) == ["max", "mean", "sum"] and zs[["acc_id", "acc_rep"]].apply(lambda c: c.between(0, 1)).all().all()
    # mean and sum aggregation rank classes identically when every target has 2 source classes
    assert zs.loc[1, "acc_id"] == zs.loc[2, "acc_id"]


def test_per_example_testbed_table(run):
    """tables/robustness/testbed/per_example.csv: one row per ID test example, the testbed models only."""
    wd = run[0]
    t = wd / "results/test/tables/robustness/testbed"
    pe = read_csv(t / "per_example.csv")
    assert list(pe.columns[:8]) == ["example_id", "label", "testbed_acc", "n_correct", "any_correct",
                                    "none_correct", "unique_correct", "unique_model"]
    with h5py.File(t / "predictions.h5") as f:
        ids, labels = f["id"]["ids"][()], f["id"]["labels"][()]
    assert pe["example_id"].tolist() == ids.tolist() and pe["label"].tolist() == labels.tolist()
    assert pe["n_correct"].between(0, 8).all() and np.allclose(pe["testbed_acc"], pe["n_correct"] / 8)
    assert (pe["none_correct"] == (pe["n_correct"] == 0)).all() and (pe["unique_correct"] == (pe["n_correct"] == 1)).all()
    uc = read_csv(t / "unique_correct.csv").set_index("model")
    for m, n in pe[pe["unique_correct"]].groupby("unique_model").size().items():   # S_-t of model m
        assert uc.loc[m, "n_correct"] == n
    # the OOD sets are corruptions of the ID test images: same ids, so columns per OOD set
    acc = read_csv(t / "testbed_acc.csv")
    for role in ("rep", "style"):
        assert pe[f"n_correct_{role}"].sum() == acc[f"{role}_k"].sum()


def test_imported_predictions_are_analysed_like_the_testbed(run):
    wd = run[0]
    t = wd / "results/test/tables/robustness/imported_pub"
    acc = read_csv(t / "testbed_acc.csv").set_index("model")
    assert list(acc.loc[[f"pub_{m}" for m in range(5)], "id_k"]) == TESTBED_ID_K
    assert list(acc.loc[[f"pub_{m}" for m in range(5)], "rep_k"]) == TESTBED_REP_K
    assert acc.loc["robust", "role"] == "other"
    t3 = read_csv(t / "table3_fit_params.csv")
    assert int(t3[t3["source"] == "measured"]["n_models"].iloc[0]) == 5
    uc = read_csv(t / "unique_correct.csv").set_index("model")
    assert uc.loc["robust", "set_size"] == N - max(TESTBED_ID_K) and uc.loc["robust", "n_correct"] == 10
    ex = read_csv(t / "unique_correct_examples.csv")
    assert list(ex["index"]) == list(range(30, 40)) and list(ex["label"]) == list(LABELS[30:40])
    # leave-one-out for the best testbed model: the examples only it gets right
    assert uc.loc["pub_4", "set_size"] == N - TESTBED_ID_K[3] and uc.loc["pub_4", "n_correct"] == 6
    pe = read_csv(t / "per_example.csv")                   # the 5 testbed models, not 'robust'
    assert pe["n_correct"].tolist() == [sum(i < k for k in TESTBED_ID_K) for i in range(N)]
    assert pe["n_correct_rep"].tolist() == [sum(i < k for k in TESTBED_REP_K) for i in range(N)]
    assert pe["none_correct"].sum() == N - max(TESTBED_ID_K)
    assert pe.loc[pe["unique_correct"], "unique_model"].unique().tolist() == ["pub_4"]
    bare = read_csv(wd / "results/test/tables/robustness/imported_bare/testbed_acc.csv")
    assert len(bare) == 6 and set(bare["role"]) == {"testbed"}


def test_claims_file(run):
    wd = run[0]
    c = read_csv(wd / "results/test/claims/robustness.csv")
    ids = set(c["claim"])
    assert {"C1a", "C1b", "C2", "C3a", "C3b", "C3c", "C3d", "C4a", "C4b", "C5a", "C7a", "C8b", "C8d", "C9a", "C9b",
            "C10a", "C11a", "C12", "C13"} <= ids
    assert set(c["result"]) <= {"PASS", "FAIL", "NO DATA"}
    assert list(c.columns) == ["claim", "description", "statistic", "threshold", "measured", "result", "note"]
    measured = c.dropna(subset=["measured"])
    for _, r in measured.iterrows():
        op, val = r["threshold"].split()
        ok = {"<": r["measured"] < float(val), "<=": r["measured"] <= float(val),
              ">": r["measured"] > float(val), ">=": r["measured"] >= float(val)}[op]
        assert r["result"] == ("PASS" if ok else "FAIL"), r["claim"]
    assert (c[c["measured"].isna()]["result"] == "NO DATA").all()
    c12 = c.set_index("claim").loc[["C12", "C12a", "C12b", "C12c", "C12d", "C12e"]]
    assert c12["measured"].notna().all(), c12                     # every intervention configured at test scale
    assert c12.loc["C12", "measured"] == c12.loc[["C12a", "C12b", "C12c", "C12d"], "measured"].max()


def test_fine_tuning_variants(run):
    """Replay keeps the source head and tracks the source; the phase-out design carries the
    schedule the C-score tables describe and its runs follow it."""
    import torch
    wd = run[0]
    res = wd / "results/test"
    ck = torch.load(res / "runs/rb_ft_variants/rb_cnn_rep/block0/member0/model.pt", weights_only=False)
    assert set(ck["source_head"]) == {"weight", "bias"} and ck["source_head"]["weight"].shape[0] == 8
    assert ck["recipe"]["replay"]["ratio"] == 1
    cm = torch.load(res / "runs/rb_ft_variants/rb_cnn_cm/block0/member1/model.pt", weights_only=False)
    assert cm["num_classes"] == 8 and cm["class_map"] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    with h5py.File(res / "runs/rb_ft_variants/rb_cnn_cm/block0/member1/logits.h5") as f:
        assert f["test"]["logits"].shape[-1] == 4 and f["source"]["logits"].shape[-1] == 8
    acc = read_csv(res / "tables/robustness/runs/accuracies.csv")
    src = acc[acc["set"] == "source"]
    assert set(src["run"]) == {"pre_full", "pre_replay", "cm_head", "cm_replay"} and src["acc"].between(0, 1).all()
    d = res / "tables/robustness/difficulty"
    ex, ph = read_csv(d / "phaseout_examples.csv"), read_csv(d / "phaseout.csv")
    sizes = ph[ph["n_final"] == 20].sort_values("epoch")["size"].tolist()
    assert sizes[0] == 200 and sizes[-1] == 20
    with h5py.File(res / "designs/rb_ft_po.h5") as f:
        mask, ids = f["epoch_mask"][()], f["pool_ids"][()]
        assert f["train_mask"][()].all()
    assert mask.sum(1).tolist() == sizes
    last = ex[ex["n_final"] == 20].set_index("id")["last_epoch"]
    assert (mask[-1] == (last.loc[ids].to_numpy() == len(sizes) - 1)).all()
    with h5py.File(res / "runs/rb_ft_po/cnn/block0/member0/logits.h5") as f:
        assert json.loads(f.attrs["variants"])["epoch_schedule_sizes"] == sizes
        assert f["steps"][-1] == int(np.ceil(sum(sizes) / 32))


def test_one_figure_regenerates_alone(run):
    wd = run[0]
    fig = wd / "results/test/figures/robustness/fig07_std_variants.pdf"
    table = wd / "results/test/tables/robustness/er/max_er.csv"
    before = table.stat().st_mtime_ns
    fig.unlink()
    out = snakemake(str(fig.relative_to(wd)), "--configfile", "test.yaml", "imported.yaml", cwd=wd)
    assert out.returncode == 0, out.stderr[-3000:]
    assert fig.exists() and table.stat().st_mtime_ns == before
    jobs = re.findall(r"^(\w+)\s+(\d+)$", out.stdout + out.stderr, flags=re.M)
    ran = {rule for rule, n in jobs if rule not in ("total", "count", "job")}
    assert ran == {"robustness_fig07_std_variants"}, out.stdout + out.stderr


def test_paper_scale_plan_includes_paper_001():
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "results/paper/claims/robustness.csv",
                          "--configfile", "configs/paper.yaml"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout + out.stderr
    for rule in ("robustness_testbed", "robustness_fit", "robustness_er", "robustness_special",
                 "robustness_per_example", "robustness_claims", "train_robust_ft_pretrained_cifar10"):
        assert re.search(rf"^{rule}\s+\d+$", text, flags=re.M), rule
