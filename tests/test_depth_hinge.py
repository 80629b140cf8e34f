"""Paper 002 HINGE (0-Hinge + full-batch GD; §3.3, A.7): the measures on hand-made inputs, the
tables from hand-written run files, the C9 claims, the figures, and the test-scale DAG."""
import shutil

import h5py
import numpy as np
import pandas as pd
import pytest

from pointwise.depth.hinge import (ROLES, accuracy_curves, clustering_depth, combinations, final_metrics,
                                   hinge_claims, hinge_claims_from, hinge_tables, knn_accuracy,
                                   label_margin)
from pointwise.io import read_csv, read_csv_provenance, write_csv

from conftest import ROOT


# ----------------------------------------------------------------------------- measures

def test_label_margin_and_final_metrics():
    z = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 1.5, 1.25], [5.0, 5.0, 0.0]])
    y = np.array([0, 0, 1, 2])
    np.testing.assert_allclose(label_margin(z, y), [1.0, -3.0, 0.25, -5.0])
    m = final_metrics(z, y, np.array([0, 0, 2, 2], dtype=np.uint8))
    # output margin (top1 - top2): 1, 2, 0.25, 0; train = rows 0, 1; test = rows 2, 3
    assert m["train_accuracy"] == 0.5 and m["test_accuracy"] == 0.5
    assert m["train_output_margin"] == pytest.approx(1.5) and m["test_output_margin"] == pytest.approx(0.125)
    assert m["train_label_margin"] == pytest.approx(-1.0) and m["test_label_margin"] == pytest.approx(-2.375)
    assert m["train_n"] == 2 and "held_out_accuracy" not in m


def test_knn_accuracy_by_layer():
    knn_pred = np.array([[0, 0, 1, 1], [0, 1, 1, 0], [0, 1, 2, 2]])
    labels = np.array([0, 1, 2, 2])
    split = np.array([0, 0, 1, 2])
    t = knn_accuracy(knn_pred, labels, split)
    tr = t[t["split"] == "train"]
    np.testing.assert_allclose(tr["knn_accuracy"], [0.5, 1.0, 1.0])
    assert list(tr["layer"]) == [0, 1, 2] and (tr["n"] == 2).all()
    np.testing.assert_allclose(t[t["split"] == "held_out"]["knn_accuracy"], [0, 0, 1])
    np.testing.assert_allclose(t[t["split"] == "test"]["knn_accuracy"], [0, 0, 1])


def test_accuracy_curves_skip_examples_not_evaluated():
    preds = np.array([[0, 0, 1, -1], [1, 1, 1, -1], [1, 1, 0, -1]])
    c = accuracy_curves([0, 5, 10], preds, np.array([1, 0, 1, 1]), np.array([0, 0, 2, 2]))
    tr = c[c["split"] == "train"]
    np.testing.assert_allclose(tr["accuracy"], [0.5, 0.5, 0.5])
    te = c[c["split"] == "test"]
    np.testing.assert_allclose(te["accuracy"], [1, 1, 0])
    assert (te["n"] == 1).all() and list(te["step"]) == [0, 5, 10]


def test_clustering_depth():
    assert clustering_depth([0.5, 0.6, 0.7, 1.0]) == 3            # half-rise level 0.75
    assert clustering_depth([0.5, 0.8, 0.9, 1.0]) == 1
    assert clustering_depth([0.5, 0.75, 0.9, 1.0]) == 1           # reaching the level counts
    assert clustering_depth([0.5, 0.6, 0.7, 1.0], fraction=0.3) == 2
    assert np.isnan(clustering_depth([0.8, 0.9, 0.8]))             # no rise
    assert np.isnan(clustering_depth([0.1, np.nan, 0.9]))


def test_combinations_checks_names():
    cfg = {"experiments": {"h": {"archs": {"a": "r", "b": "r"}}}}
    sec = {r: {"experiment": "h", "arch": "a"} for r in ROLES}
    assert combinations(cfg, {"hinge": sec}) == {r: ("h", "a") for r in ROLES}
    assert combinations(cfg, {"hinge": None}) == {} and combinations(cfg, None) == {}
    with pytest.raises(ValueError, match="unknown experiment"):
        combinations(cfg, {"hinge": {**sec, "zh_gd": {"experiment": "x", "arch": "a"}}})
    with pytest.raises(ValueError, match="has no arch"):
        combinations(cfg, {"hinge": {**sec, "ce_gd": {"experiment": "h", "arch": "c"}}})
    with pytest.raises(ValueError, match="missing"):
        combinations(cfg, {"hinge": {r: v for r, v in sec.items() if r != "untrained"}})


@pytest.mark.parametrize("path", ["config.yaml", "configs/test.yaml", "configs/paper.yaml"])
def test_each_scale_maps_the_roles_to_matching_recipes(path):
    """Every scale configures HINGE; each role's recipe has its loss and optimiser (Table 3), no
    weight decay, and all roles train the same network."""
    import pointwise.config as pwconfig
    from pointwise.depth.pipeline import settings

    cfg = pwconfig.load(ROOT / path)
    roles = combinations(cfg, settings(cfg))
    assert set(roles) == set(ROLES)
    for role, (exp, arch) in roles.items():
        r = pwconfig.recipe(cfg, exp, arch)
        if role == "untrained":
            assert r["steps"] == 0
            continue
        assert r["loss"] == ("zero_hinge" if role.startswith("zh") else "cross_entropy"), role
        assert r["full_batch"] == role.endswith("_gd"), role
        assert r["optimizer"]["weight_decay"] == 0.0
    assert len({repr(sorted(cfg["archs"][a].items())) for _, a in roles.values()}) == 1


# ----------------------------------------------------------------------------- claims

def _knn_table(curves: dict) -> pd.DataFrame:
    rows = [{"role": r, "split": "train", "layer": l, "knn_accuracy_mean": a}
            for r, acc in curves.items() for l, a in enumerate(acc)]
    return pd.DataFrame(rows)


def test_hinge_claims_measure_the_tables():
    t4 = pd.DataFrame({"role": ["ce_sgd", "ce_gd", "zh_sgd", "zh_gd", "untrained"],
                       "train_output_margin_mean": [10.0, 5.0, 0.1, 0.001, 0.3]})
    knn = _knn_table({"ce_sgd": [0.5, 0.7, 0.8, 0.9, 1.0],
                      "zh_gd": [0.5, 0.52, 0.54, 0.6, 0.9],
                      "untrained": [0.5, 0.5, 0.5, 0.5, 0.2]})
    c = {x.claim: x for x in hinge_claims(t4, knn)}
    assert c["C9_margin"].measured == pytest.approx(4.0) and c["C9_margin"].result == "PASS"
    assert c["C9_smallest"].measured == pytest.approx(2.0) and c["C9_smallest"].result == "PASS"
    # CE+SGD: level 0.75 first reached at l = 2; 0-Hinge+GD at l = 4 (L = 4)
    assert c["C9_late"].measured == 2 and c["C9_late"].result == "PASS"
    assert c["C9_last"].measured == pytest.approx(1.0) and c["C9_last"].result == "PASS"
    # probes 1..2: gains 0-Hinge+GD (0.02 + 0.04)/2 = 0.03, CE+SGD (0.2 + 0.3)/2 = 0.25
    assert c["C9_untrained"].measured == pytest.approx(0.12) and c["C9_untrained"].result == "PASS"


def test_hinge_claims_fail_and_no_data():
    t4 = pd.DataFrame({"role": ["ce_sgd", "ce_gd", "zh_sgd", "zh_gd"],
                       "train_output_margin_mean": [1.0, 1.0, 0.05, 0.2]})
    knn = _knn_table({"ce_sgd": [0.5, 0.6, 0.7, 1.0], "zh_gd": [0.5, 0.9, 0.95, 1.0],
                      "untrained": [0.5, 0.5, 0.5, 0.5]})
    c = {x.claim: x for x in hinge_claims(t4, knn)}
    assert c["C9_margin"].result == "FAIL" and c["C9_smallest"].result == "FAIL"
    assert c["C9_late"].measured == -2 and c["C9_late"].result == "FAIL"
    assert c["C9_last"].result == "FAIL"
    assert c["C9_untrained"].measured == pytest.approx(0.4 / 0.1) and c["C9_untrained"].result == "FAIL"
    empty = hinge_claims()
    assert [x.claim for x in empty] == ["C9_margin", "C9_smallest", "C9_late", "C9_last", "C9_untrained"]
    assert {x.result for x in empty} == {"NO DATA"}
    assert {x.result for x in hinge_claims_from({"correlation": "x.csv"})} == {"NO DATA"}


def test_hinge_claims_from_csv(tmp_path):
    t4 = pd.DataFrame({"role": ["ce_sgd", "zh_gd"], "train_output_margin_mean": [20.0, 0.002]})
    knn = _knn_table({"ce_sgd": [0.5, 1.0, 1.0, 1.0], "zh_gd": [0.5, 0.5, 0.5, 1.0],
                      "untrained": [0.5, 0.5, 0.5, 0.5]})
    write_csv(t4, tmp_path / "t4.csv")
    write_csv(knn, tmp_path / "knn.csv")
    c = {x.claim: x for x in hinge_claims_from({"hinge:table4": tmp_path / "t4.csv",
                                                "hinge:knn_by_layer": tmp_path / "knn.csv"})}
    assert c["C9_margin"].measured == pytest.approx(4.0)
    assert c["C9_last"].measured == pytest.approx(1.0) and c["C9_untrained"].measured == pytest.approx(0.0)


# ----------------------------------------------------------------------------- tables from run files

def _write_knn(path, seed, logits, labels, split, knn_pred, ids):
    with h5py.File(path, "w") as f:
        f["logits"] = np.asarray(logits, np.float32)
        f["labels"] = np.asarray(labels)
        f["query_split"] = np.asarray(split, np.uint8)
        f["query_ids"] = np.asarray(ids)
        f["knn_pred"] = np.asarray(knn_pred, np.int16)
        f["net_pred"] = np.asarray(logits).argmax(1).astype(np.int16)
        f.attrs["seed_index"] = seed
        f.attrs["dataset"] = "toy"
        f.attrs["probe_names"] = '["input", "h1", "softmax"]'


def _write_logits(path, ids, steps, logits):
    with h5py.File(path, "w") as f:
        f["steps"] = np.asarray(steps)
        g = f.create_group("all")
        g.attrs["dataset"], g.attrs["split"] = "toy", "train"
        g["ids"] = np.asarray(ids)
        g["logits"] = np.asarray(logits, np.float16)


def test_hinge_tables_from_run_files(tmp_path):
    ids = np.array([10, 11, 12, 13])
    labels = np.array([0, 1, 0, 1])
    split = np.array([0, 0, 2, 2])
    runs = {}
    for role, margin in (("ce_sgd", 4.0), ("zh_gd", 0.5)):
        runs[role] = {"experiment": "e", "arch": role, "knn": [], "logits": []}
        for seed, shift in ((0, 0.0), (1, 2.0)):
            z = np.zeros((4, 2))
            z[np.arange(4), labels] = margin + shift        # all correct, output margin = margin + shift
            z[3] = [margin, 0.0]                            # test example 13 wrong, margin = margin
            kp = np.array([[0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]])
            _write_knn(tmp_path / f"{role}{seed}.h5", seed, z, labels, split, kp, ids)
            curve = np.zeros((2, 4, 2))
            curve[0, :, 0] = 1.0                            # step 0: predicts class 0 everywhere
            curve[1] = z
            _write_logits(tmp_path / f"{role}{seed}_logits.h5", ids, [0, 7], curve)
            runs[role]["knn"].append(tmp_path / f"{role}{seed}.h5")
            runs[role]["logits"].append(tmp_path / f"{role}{seed}_logits.h5")
    t = hinge_tables(runs)
    t4 = t["table4"].set_index("role")
    assert t4.loc["ce_sgd", "combination"] == "CE, SGD" and t4.loc["zh_gd", "n_seeds"] == 2
    assert t4.loc["ce_sgd", "train_accuracy_mean"] == 1.0 and t4.loc["ce_sgd", "test_accuracy_mean"] == 0.5
    assert t4.loc["ce_sgd", "train_output_margin_mean"] == pytest.approx(5.0)       # (4 + 6) / 2
    assert t4.loc["ce_sgd", "train_output_margin_sd"] == pytest.approx(np.sqrt(2.0))
    assert t4.loc["zh_gd", "test_output_margin_mean"] == pytest.approx(1.0)         # (0.5 + 2.5 + 0.5 + 0.5)/4
    assert t4.loc["zh_gd", "test_label_margin_mean"] == pytest.approx(0.5)          # (0.5 - 0.5)/2, (2.5 - 0.5)/2
    kbl = t["knn_by_layer"]
    tr = kbl[(kbl["role"] == "ce_sgd") & (kbl["split"] == "train")]
    np.testing.assert_allclose(tr["knn_accuracy_mean"], [0.5, 1.0, 1.0])
    assert list(tr["probe"]) == ["input", "h1", "softmax"] and (tr["knn_accuracy_sd"] == 0).all()
    cur = t["curves"]
    assert set(cur["seed_index"]) == {0, 1} and set(cur["split"]) == {"train", "test"}
    first = cur[(cur["role"] == "zh_gd") & (cur["seed_index"] == 1) & (cur["split"] == "train")]
    np.testing.assert_allclose(first["accuracy"], [0.5, 1.0])
    assert list(first["step"]) == [0, 7]


# ----------------------------------------------------------------------------- figures

def test_figures_draw_from_tables(tmp_path):
    from pointwise.figures.depth_hinge import draw

    layers = np.arange(4)
    knn = pd.concat([pd.DataFrame({"role": r, "combination": ROLES[r], "split": s, "layer": layers,
                                   "probe": list("abcd"),
                                   "knn_accuracy_mean": np.linspace(0.4, 1.0, 4), "knn_accuracy_sd": 0.05,
                                   "n_seeds": 2, "n": 10}) for r in ROLES for s in ("train", "test")])
    curves = pd.concat([pd.DataFrame({"role": r, "combination": ROLES[r], "seed_index": sd, "split": s,
                                      "step": [0, 5, 10],
                                      "accuracy": [0.1, 0.5, 0.9], "n": 10})
                        for r in ROLES for sd in (0, 1) for s in ("train", "test")])
    write_csv(knn, tmp_path / "knn.csv")
    write_csv(curves, tmp_path / "curves.csv")
    for fig, table in (("fig6_right", "knn"), ("figA11_hinge_curves", "curves"), ("figA12_hinge_knn", "knn")):
        draw(fig, tmp_path / f"{table}.csv", tmp_path / f"{fig}.pdf", tmp_path / f"{fig}.png")
        assert (tmp_path / f"{fig}.pdf").stat().st_size > 1000 and (tmp_path / f"{fig}.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="unknown HINGE figure"):
        draw("fig99", tmp_path / "knn.csv", tmp_path / "x.pdf", tmp_path / "x.png")


# ----------------------------------------------------------------------------- the test-scale DAG

@pytest.mark.workflow
def test_hinge_targets_build_at_test_scale(tmp_path):
    from test_workflow import snakemake

    shutil.copy(ROOT / "configs" / "test.yaml", tmp_path / "test.yaml")
    tables = [f"results/test/tables/depth/hinge/{t}.csv" for t in ("table4", "knn_by_layer", "curves")]
    figs = [f"results/test/figures/depth/hinge/{f}.{x}" for f in ("fig6_right", "figA11_hinge_curves",
                                                                  "figA12_hinge_knn") for x in ("pdf", "png")]
    out = snakemake(*tables, *figs, "--configfile", "test.yaml", cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    res = tmp_path / "results" / "test"
    for f in figs:
        assert (tmp_path / f).stat().st_size > 1000, f
    t4 = read_csv(tmp_path / tables[0]).set_index("role")
    assert list(t4.index) == list(ROLES) and (t4["n_seeds"] == 2).all()
    assert t4.filter(like="accuracy_mean").stack().between(0, 1).all()
    assert (t4.filter(like="output_margin_mean") >= 0).all().all()
    assert read_csv_provenance(tmp_path / tables[0])["config_hash"]
    kbl = read_csv(tmp_path / tables[1])
    assert set(kbl["split"]) == {"train", "held_out", "test"} and kbl["knn_accuracy_mean"].between(0, 1).all()
    # one design, same run seeds and arch spec: every role starts from the same network, so the
    # input probe agrees across roles and step 0 of every curve equals the untrained network
    inp = kbl[kbl["layer"] == 0].groupby(["split"])["knn_accuracy_mean"].nunique()
    assert (inp == 1).all()
    cur = read_csv(tmp_path / tables[2])
    step0 = cur[cur["step"] == 0].groupby(["seed_index", "split"])["accuracy"].nunique()
    assert (step0 == 1).all() and set(cur["role"]) == set(ROLES)
    with h5py.File(res / "probes_hinge" / "zh_gd" / "seed1" / "knn.h5") as f:
        assert int(f.attrs["seed_index"]) == 1 and int(f.attrs["k"]) == 5
    claims = hinge_claims_from({"hinge:table4": tmp_path / tables[0], "hinge:knn_by_layer": tmp_path / tables[1]})
    assert len(claims) == 5 and {c.result for c in claims} <= {"PASS", "FAIL", "NO DATA"}
    assert np.isfinite(claims[0].measured)
